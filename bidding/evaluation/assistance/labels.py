"""The words of the assistance: one English sentence per finding code (translated in the zh_CN
catalogue), formatted with the finding's ``params``, and the severity labels; the pages use
`describe`. The checks themselves return codes and params only (pure code, no locale).
"""

from __future__ import annotations

from typing import Final

from bidding.evaluation.assistance.findings import Finding, Severity
from trading.kernel.web.i18n import N_, gettext

FINDING_TEXT: Final[dict[str, str]] = {
    "unit-price-decimal-error": N_(
        "Line %(line)s: %(quantity)s × %(unit_price)s is %(expected)s, not the line total %(line_total)s; the"
        " unit price has an obvious decimal-point error, so the line total prevails and the unit price is "
        "corrected to %(corrected)s."
    ),
    "line-total-mismatch": N_(
        "Line %(line)s: %(quantity)s × %(unit_price)s is %(expected)s, but the line total says "
        "%(line_total)s; the unit price prevails, so the line total is corrected to %(corrected)s."
    ),
    "words-figures-mismatch": N_(
        "The total in words (%(words)s, that is %(words_amount)s) differs from the total in figures "
        "%(figures)s; the amount in words prevails."
    ),
    "total-sum-mismatch": N_(
        "The total %(total)s is not the sum of the line totals (%(sum)s); the lines prevail, and with the "
        "corrected lines the price is %(corrected)s."
    ),
    "corrected-price": N_(
        "Corrected price: %(corrected)s (%(corrected_words)s) instead of %(figures)s; it binds the bidder "
        "once the bidder confirms it."
    ),
    "bill-line-missing": N_("Bill line %(line)s (%(description)s) is not priced."),
    "bill-quantity-changed": N_(
        "Bill line %(line)s: the quantity is %(quantity)s instead of the published %(required)s."
    ),
    "bill-line-unknown": N_("Line %(line)s is not in the published bill of quantities."),
    "abnormally-low-price": N_(
        "The price %(price)s is below %(share)s%% of the mean of the %(bids)s valid prices (mean %(mean)s, "
        "limit %(limit)s): ask the bidder for a written explanation."
    ),
    "star-missing": N_("★ item %(item)s (%(text)s) has no response."),
    "star-deviates": N_("★ item %(item)s (%(text)s) is answered with a deviation: %(deviation)s"),
    "star-unknown": N_("The response answers %(item)s, which is not a ★ item of the tender."),
    "qualification-missing": N_("No claim answers the qualification requirement %(requirement)s (%(name)s)."),
    "qualification-expired": N_(
        "Qualification %(requirement)s (%(name)s): certificate %(certificate)s expired on %(valid_until)s, "
        "before the bid deadline (%(deadline)s)."
    ),
    "qualification-not-yet-valid": N_(
        "Qualification %(requirement)s (%(name)s): certificate %(certificate)s is valid only from "
        "%(valid_from)s, after the bid deadline (%(deadline)s)."
    ),
    "qualification-grade-too-low": N_(
        "Qualification %(requirement)s (%(name)s): certificate %(certificate)s has grade %(grade)s; grade "
        "%(required)s or higher is required."
    ),
    "qualification-value-too-low": N_(
        "Qualification %(requirement)s (%(name)s): certificate %(certificate)s states %(value)s; at least "
        "%(required)s is required."
    ),
    "credit-blacklisted": N_(
        "A blacklist entry is in force at the bid deadline: %(reason)s (%(issuing_body)s, %(decision_no)s, "
        "%(valid_from)s to %(valid_until)s)."
    ),
    "credit-serious-violation": N_(
        "A serious dishonesty record is in force at the bid deadline: %(reason)s (%(issuing_body)s, "
        "%(decision_no)s, %(valid_from)s to %(valid_until)s)."
    ),
    "credit-administrative-penalty": N_(
        "An administrative penalty barring this activity is in force at the bid deadline: %(reason)s "
        "(%(issuing_body)s, %(decision_no)s, %(valid_from)s to %(valid_until)s)."
    ),
    "objective-score-proposed": N_(
        "Criterion %(criterion)s (%(name)s): %(points)s of %(maximum)s points, computed from %(claims)s valid"
        " claims (rule %(rule)s); the experts confirm or change it."
    ),
    "response-other-tender": N_("The response names tender %(tender)s, lot %(lot)s, not %(expected)s."),
}
SEVERITY_LABELS: Final[dict[str, str]] = {
    Severity.INFO.value: N_("For confirmation"),
    Severity.WARNING.value: N_("To review"),
    Severity.SERIOUS.value: N_("May lead to rejection"),
}


def describe(finding: Finding) -> str:
    """The finding's sentence in the current locale (its code when no sentence is known)."""
    text = FINDING_TEXT.get(finding.code)
    return gettext(text) % dict(finding.params) if text else finding.code
