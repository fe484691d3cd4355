"""The scoring pages' words: field labels, rule sentences, stages, findings and resolutions."""

from __future__ import annotations

from bidding.evaluation.models import Resolution, SessionState
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

FIELD_LABELS = {
    "points": N_("Points"),
    "criterion": N_("Criterion"),
    "comment": N_("Comment"),
    "opening_bid_id": N_("Bid"),
    "reason": N_("Reason"),
    "passed": N_("Decision"),
    "stage": N_("Sheet"),
    "justification": N_("Justification in writing"),
    "finding_id": N_("Finding"),
    "state": N_("Evaluation stage"),
}
RULE_MESSAGES = {
    "score_range": N_("The score lies outside the criterion's range (87号令 Art. 64(2))."),
    "score_places": N_("A score has at most two decimals."),
    "conflict": N_("You declared a relation with this bidder: you may not evaluate its bid (回避)."),
    "bid_rejected": N_("This bid was rejected at the review: it is not scored."),
    "sheet_submitted": N_("You submitted this sheet: a score changes only to correct an Art. 64 finding."),
    "sheet_incomplete": N_("The sheet is incomplete: score or decide every bid first."),
    "criterion_unknown": N_("No such criterion."),
    "criterion_objective": N_("This criterion is objective: the committee decides it by vote."),
    "criterion_subjective": N_("This criterion is subjective: each member scores it alone."),
    "criterion_price": N_("The price score is computed by the method."),
    "reason_required": N_("A fail needs its reason in writing."),
    "package_not_opened": N_("This bid's package was not opened."),
    "bid_revoked": N_("The bidder revoked this bid after the deadline: it is not evaluated."),
    "justification_required": N_("Correct the score or justify it in writing."),
    "finding_resolved": N_("This finding is resolved already."),
    "not_correctable": N_("This finding has no score to correct: justify it in writing."),
    "member": N_("Only the committee's current members work here."),
    "chair": N_("Only the committee's chair sees the progress."),
    "own": N_("Only the member concerned resolves this finding."),
    "manifest_mismatch": N_("The file's SHA-256 differs from the bid's signed manifest: it is not shown."),
    "art64_unresolved": N_("Art. 64 findings are neither corrected nor justified yet."),
    "objective_undecided": N_("An objective criterion has no majority of the members' votes yet."),
    "member_conflicted": N_("A member is conflicted with a valid bid: replace the member first."),
    "sheet_missing": N_("Not every member submitted the scoring sheet."),
    "method_supported": N_("This method is not finalised by the platform yet."),
    "state_scoring": N_("Scores and votes are given in the scoring stage."),
    "state_qualification-review": N_("This is done in the review stages or the scoring stage."),
    "listed": N_("This file is not listed in the bid's manifest."),
    "configured": N_("The platform cannot read opened bids here: ask the centre."),
}
CHOOSE_PASS = N_("Choose pass or fail.")
LABELS = Labels(fields=FIELD_LABELS, rules=RULE_MESSAGES, messages=frozenset({CHOOSE_PASS}))

STATE_LABELS = {
    SessionState.PREPARING.value: N_("Preparing"),
    SessionState.SIGNED_IN.value: N_("Signed in"),
    SessionState.QUALIFICATION.value: N_("Qualification review"),
    SessionState.DETAILED.value: N_("Detailed review"),
    SessionState.SCORING.value: N_("Scoring"),
    SessionState.REPORT_SIGNING.value: N_("Report signing"),
    SessionState.COMPLETED.value: N_("Completed"),
}
RESOLUTION_LABELS = {
    Resolution.CORRECTED.value: N_("Corrected"),
    Resolution.JUSTIFIED.value: N_("Justified in writing"),
    Resolution.ACKNOWLEDGED.value: N_("Acknowledged"),
}
FINDING_LABELS = {
    "sum_error": N_("The sheet's total is not the sum of its weighted scores (Art. 64(1))."),
    "out_of_range": N_("A score outside the criterion's range (Art. 64(2))."),
    "score_missing": N_("A criterion the sheet does not score (Art. 64(2))."),
    "criterion_unknown": N_("A score for no criterion of the tender (Art. 64(2))."),
    "objective_inconsistent": N_(
        "Your value on an objective criterion differs from the committee's majority (Art. 64(3))."
    ),
    "outlier_high": N_("Your score is abnormally high against the other members' (畸高, Art. 64(4))."),
    "outlier_low": N_("Your score is abnormally low against the other members' (畸低, Art. 64(4))."),
}
