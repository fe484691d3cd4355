"""The clarifications' words: statuses, field labels and the rules' meanings for `field_errors`."""

from __future__ import annotations

from typing import Final

from bidding.evaluation.models import ClarificationStatus
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

STATUS_LABELS: Final[dict[str, str]] = {
    ClarificationStatus.OPEN.value: N_("Awaiting the answer"),
    ClarificationStatus.ANSWERED.value: N_("Answered (signed)"),
    ClarificationStatus.OVERDUE.value: N_("Not answered in time"),
}
FIELD_LABELS: Final[dict[str, str]] = {
    "question": N_("Question"),
    "answer": N_("Answer"),
    "minutes": N_("Time to answer (minutes)"),
    "openingBidId": N_("Bidder"),
    "opening_bid_id": N_("Bidder"),
    "signature": N_("Signature (base64)"),
    "clarification": N_("Clarification request"),
    "state": N_("Evaluation state"),
    "evaluation": N_("Evaluation"),
    "actor": N_("Account"),
}
RULE_TEXT: Final[dict[str, str]] = {
    "committee-member": N_("Only a current member of the evaluation committee may ask for a clarification."),
    "clarification-state": N_(
        "Clarifications are asked during the qualification review, the detailed review or the scoring."
    ),
    "answer-minutes": N_("The time to answer is outside the allowed range."),
    "bid-of-evaluation": N_("Choose one of the tender's opened bids."),
    "addressee": N_("This clarification request is addressed to another organisation."),
    "answer-due": N_("The time to answer this clarification request is over."),
    "answered-once": N_("This clarification request is already answered."),
    "signer-not-bidder": N_("The signature is not made with the certificate of the organisation asked."),
    "committee-or-host": N_("The clarifications are for the committee, the host and the supervisors."),
    "length": N_("The text is empty or too long."),
    "base64": N_("Paste the signature as base64 text."),
    "paused": N_("The evaluation is paused."),
    "integer": N_("Enter a whole number."),
}
LABELS: Final = Labels(fields=FIELD_LABELS, rules=RULE_TEXT)
