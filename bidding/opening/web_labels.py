"""The opening hall's words for its pages: stage, outcome and part labels, the script's labels, and
the label table (`trading.kernel.web.forms.Labels`) through which the kernel's one translator
(`field_errors`) names the hall's fields and explains its rules. The hall is a sub-domain with
its own vocabulary (stages, outcomes, key holders), so it has its own table beside bidding's
(``bidding/web/labels.py``), as each domain does.
"""

from __future__ import annotations

from typing import Any, Final

from bidding.opening.models import Stage
from bidding.visibility import Page
from trading.kernel.web import i18n, money
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

STAGE_LABELS: Final[dict[str, str]] = {
    Stage.SIGN_IN.value: N_("Sign-in"),
    Stage.DECRYPTION.value: N_("Decryption"),
    Stage.PRICE_READING.value: N_("Price reading"),
    Stage.COEFFICIENT_DRAW.value: N_("Coefficient draw"),
    Stage.CONFIRMATION.value: N_("Confirmation and objections"),
    Stage.CLOSED.value: N_("Closed"),
}
OUTCOME_LABELS: Final[dict[str, str]] = {
    "pending": N_("Pending"),
    "decrypted": N_("Decrypted"),
    "escrow-pending": N_("Waiting for the key holders"),
    "escrow": N_("Opened by the key holders"),
    "revoked": N_("Revoked (bidder's fault)"),
    "withdrawn": N_("Withdrawn (platform-side cause)"),
}
PART_LABELS: Final[dict[str, str]] = {"sealed": N_("Sealed"), "opened": N_("Opened")}
YES, NO = N_("Yes"), N_("No")
CAUSES: Final = (N_("opened from the bidder's backup file (digests match the signed manifest)"),)
"""The platform's fixed outcome causes (`bidding.opening.services`); the others carry the host's words."""
WAITING_HOST = N_("Waiting for the host")
CONNECTED, RECONNECTING = N_("Live"), N_("Reconnecting…")
NONE_YET, NO_ANSWER = N_("None yet."), N_("awaiting an answer")
NOT_DRAWN = N_("not drawn yet")
FIELD_LABELS: Final[dict[str, str]] = {
    "stage": N_("Stage"),
    "actor": N_("Account"),
    "action": N_("Action"),
    "reason": N_("Reason"),
    "lot": N_("Lot"),
    "bidder": N_("Bidder"),
    "cause": N_("Cause"),
    "text": N_("Objection"),
    "answer": N_("Answer"),
    "signature": N_("Signature (base64)"),
    "objection": N_("Objection"),
    "tender": N_("Tender"),
    "bid": N_("Bid"),
}
RULE_TEXT: Final[dict[str, str]] = {
    "host-only": N_(
        "Only the opening's host (the tender's agency, else the tenderee) may do this; the attempt is recorded."
    ),
    "next-stage": N_("The opening can only move to its next stage."),
    "paused": N_("The opening is paused."),
    "pausable": N_("The opening cannot be paused or resumed now."),
    "decryption-window": N_("Decryption is possible only inside the decryption window."),
    "decryption-window-running": N_("The decryption window runs until its end or until every bid is decrypted."),
    "objections-unanswered": N_("Answer every objection before closing the opening."),
    "objection-window": N_("Objections are accepted only until the confirmation stage ends."),
    "confirmation-window": N_("Confirmations are accepted only during the confirmation stage."),
    "confirmed-once": N_("Your organisation has already confirmed."),
    "answered-once": N_("This objection has already been answered."),
    "not-a-bidder": N_("Your organisation has no bid at this opening."),
    "signer-not-bidder": N_("The signature is not made with your organisation's certificate."),
    "base64": N_("Paste the signature as base64 text."),
    "length": N_("The text is empty or too long."),
    "sign-in": N_("Sign in to the hall first."),
    "signed-in": N_("Sign in to the hall, signed with your certificate, before decrypting."),
    "coefficients-drawn": N_("Draw every coefficient before moving on to the confirmation."),
    "coefficient-stage": N_("Coefficients are drawn in the coefficient-draw stage, after the price reading."),
    "drawn-once": N_("Every coefficient is already drawn."),
    "minimum-windows": N_("The opening cannot close before the minimum objection and confirmation windows have run."),
    "opening-exists": N_("This tender has no opening yet: the bid deadline has not passed."),
    "outcome-final": N_("The bid's outcome is already decided."),
    "no-remedy": N_("This tender names no key-holder remedy."),
    "escrow-not-applicable": N_("The key holders' escrow does not apply to this bid."),
    "enum": N_("Choose an option from the list."),
    "exists": N_("Not found."),
}
LABELS: Final = Labels(fields=FIELD_LABELS, rules=RULE_TEXT)
"""The hall's label table for `field_errors`: a refusal shows the field's label, the rule's
meaning in the reader's language (its code is a ``data-rule`` attribute)."""


def hall_labels() -> dict[str, Any]:
    """The words the page's script needs, in the reader's language."""
    return {
        "stages": {key: i18n.gettext(text) for key, text in STAGE_LABELS.items()},
        "outcomes": {key: i18n.gettext(text) for key, text in OUTCOME_LABELS.items()},
        "parts": {key: i18n.gettext(text) for key, text in PART_LABELS.items()},
        "yes": i18n.gettext(YES),
        "no": i18n.gettext(NO),
        "waitingHost": i18n.gettext(WAITING_HOST),
        "connected": i18n.gettext(CONNECTED),
        "reconnecting": i18n.gettext(RECONNECTING),
        "none": i18n.gettext(NONE_YET),
        "notDrawn": i18n.gettext(NOT_DRAWN),
        "noAnswer": i18n.gettext(NO_ANSWER),
        "currencies": {"CNY": money.currency("CNY")},
        "causes": {text: i18n.gettext(text) for text in CAUSES},
    }


PAGE_REFUSALS: Final[dict[str, str]] = {
    Page.HOST.value: N_("The host's desk is for the tender's own tenderee and agency."),
    Page.BIDDER.value: N_("The bidder's seat is for the organisations with a bid at this opening."),
    Page.SUPERVISOR.value: N_("The supervision view is for the tender's own and the supervisors."),
}
"""Why a hall page is refused (`bidding.visibility.PAGE_AUDIENCES`); the public hall is open to all."""
