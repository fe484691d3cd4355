"""Refusals of the evaluation session and the venue catalogue: each names the field and the rule."""

from __future__ import annotations

from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class SessionRefused(ValidationFailed):
    code = "session_refused"
    title = "Evaluation session: refused"


class SessionStateConflict(Conflict):
    """The session's state (or pause) does not allow this now."""

    code = "session_state_conflict"
    title = "Evaluation session: not now"


class NotSessionParty(PermissionDenied):
    """The caller is not the member, the chair or the host this needs."""

    code = "not_session_party"
    title = "Evaluation session: not yours"


class EvaluationMissing(NotFound):
    code = "evaluation_missing"
    title = "No such evaluation"


class VenueRefused(ValidationFailed):
    code = "venue_refused"
    title = "Venue: refused"


class VenueMissing(NotFound):
    code = "venue_missing"
    title = "No such venue"
