"""The committee part's refusals: each names the field and the rule (4xx, nothing stored)."""

from __future__ import annotations

from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class SetupRefused(ValidationFailed):
    """The evaluation's setup breaks a rule (method, settings, committee, venues, schedule)."""


class DrawStateConflict(Conflict):
    """The draw is not in the state the request needs (already prepared, not prepared, already run)."""


class NotTheHost(PermissionDenied):
    """Only the organisation running the tender (its agency, else the tenderee) may do this."""


class NotAMember(PermissionDenied):
    """The caller holds no membership of this evaluation that could answer."""


class EvaluationNotFound(NotFound):
    """No such evaluation (or tender, or draw)."""
