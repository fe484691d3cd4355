"""Refusals of the evaluation session and the venue catalogue: each names the field and the rule.

They keep the kernel's codes and titles (422, 409, 403, 404): what differs is the rule they name.
"""

from __future__ import annotations

from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class SessionRefused(ValidationFailed):
    """A session request with a bad value or an unmet precondition (422)."""


class SessionStateConflict(Conflict):
    """The session's state (or pause) does not allow this now (409)."""


class NotSessionParty(PermissionDenied):
    """The caller is not the member, the chair or the host this needs (403)."""


class EvaluationMissing(NotFound):
    """No such evaluation (404)."""


class VenueRefused(ValidationFailed):
    """A venue or seat with a bad value (422)."""


class VenueMissing(NotFound):
    """No such venue or seat (404)."""
