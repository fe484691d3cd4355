"""Domain errors that carry their HTTP meaning.

Services raise these; each surface renders them once (problem+json on the API, a page or an HTMX
fragment on the web). ``code`` is a stable machine-readable name, ``field`` names the input at
fault, and ``rule`` says which rule it broke, so a client can show the reason next to the field.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule
        self.extra = extra or {}

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body for this error (``type`` is a stable URN, not a web page)."""
        body: dict[str, Any] = {
            "type": f"urn:ggzy:error:{self.code}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.message,
        }
        if self.field or self.rule:
            body["errors"] = [{"field": self.field, "rule": self.rule, "message": self.message}]
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"
    title = "Validation failed"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"
    title = "Authentication required"


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"
    title = "Permission denied"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"
    title = "Too many requests"
