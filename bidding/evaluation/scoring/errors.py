"""The scoring part's refusals: each names the field and the rule (422/403/409, nothing stored)."""

from __future__ import annotations

from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class ScoringRefused(ValidationFailed):
    """A score, vote, review, submission or resolution that breaks a rule (422)."""

    code = "scoring_refused"
    title = "Scoring refused"


class ScoringForbidden(PermissionDenied):
    """Not a current member of this evaluation (403); the attempt is in the ledger."""

    code = "scoring_forbidden"
    title = "Not a member of this evaluation"


class ScoringStateConflict(Conflict):
    """The evaluation is not in the state the action needs (409)."""

    code = "scoring_state"
    title = "Not in this state"


class ScoringNotFound(NotFound):
    code = "scoring_not_found"
    title = "Not found"
