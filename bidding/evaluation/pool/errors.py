"""Refusals of the expert pool: each names the field and the rule (422 unless said otherwise)."""

from __future__ import annotations

from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed


class ExpertRefused(ValidationFailed):
    code = "expert_refused"
    title = "Expert pool: refused"


class ExpertImportRefused(ValidationFailed):
    """An expert import with bad rows, refused whole; ``extra["errors"]`` names every row, field and rule."""

    code = "expert_import_refused"
    title = "Expert import refused"


class ExpertNotFound(NotFound):
    code = "expert_not_found"
    title = "No such expert"


class RatingNotAllowed(PermissionDenied):
    code = "rating_not_allowed"
    title = "Rating not allowed"
