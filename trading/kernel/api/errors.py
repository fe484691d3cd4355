"""RFC 9457 problem+json for the JSON API (``/api/v1``).

One handler per error family, attached to the API router by the composition root. A domain error
keeps its status; a request that fails to parse becomes 400/422 naming each field and the rule it
broke; every database connection in use (the pool's wait timed out) is a 503 with Retry-After,
the request not started, so the client may simply send it again; anything unexpected is a 500
that is logged with its traceback and shows no internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import TimeoutError as PoolTimeout

from trading.kernel.errors import DomainError

if TYPE_CHECKING:
    from litestar.types import ExceptionHandlersMap

PROBLEM_JSON = "application/problem+json"
# A handler's ``opt`` key listing error statuses its route cannot show by its shape alone (e.g. 404
# from an endpoint without parameters); the OpenAPI document adds them (trading.server.openapi).
PROBLEM_STATUSES_OPT = "problem_statuses"
log = structlog.get_logger(__name__)
RETRY_AFTER_BUSY = "2"
"""Seconds a client waits before sending a request again when every database connection was busy."""


def documents_problems(*statuses: int) -> dict[str, frozenset[int]]:
    """``opt`` for a handler that answers these error statuses beyond those its route implies."""
    return {PROBLEM_STATUSES_OPT: frozenset(statuses)}


@dataclass(frozen=True)
class FieldProblem:
    """One input at fault: which field, which rule it broke, and why (in words)."""

    field: str | None
    rule: str | None
    message: str | None


@dataclass(frozen=True)
class ProblemDetails:
    """The documented shape of every API error (RFC 9457). A domain error may add members of its own
    (``extra``), so the OpenAPI schema leaves additional properties open.
    """

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem_response(exc.problem())


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = [
        {"field": item.get("key"), "rule": item.get("source", "body"), "message": item.get("message")}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    return problem_response(
        {
            "type": "urn:ggzy:error:invalid_request",
            "title": "Invalid request",
            "status": exc.status_code,
            "detail": exc.detail,
            "errors": errors,
        }
    )


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}
    return problem_response(
        {
            "type": f"urn:ggzy:error:{code.get(exc.status_code, 'http_error')}",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": exc.detail,
        },
        headers=exc.headers,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("api.unhandled_error", path=request.url.path, exc_info=exc)
    return problem_response(
        {
            "type": "urn:ggzy:error:internal",
            "title": "Internal server error",
            "status": HTTP_500_INTERNAL_SERVER_ERROR,
            "detail": "The server failed to handle this request; it has been logged.",
        }
    )


def _busy(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    # Overload, not a fault: nothing was done (no connection, no transaction), so say so and when
    # to come back instead of a 500.
    log.warning("api.database_busy", path=request.url.path)
    return problem_response(
        {
            "type": "urn:ggzy:error:busy",
            "title": "Service busy",
            "status": HTTP_503_SERVICE_UNAVAILABLE,
            "detail": "Every database connection is in use; nothing was done. Send the request again shortly.",
        },
        headers={"Retry-After": RETRY_AFTER_BUSY},
    )


def api_exception_handlers() -> ExceptionHandlersMap:
    return {
        PoolTimeout: _busy,
        DomainError: _domain_error,
        ValidationException: _validation_error,
        NotAuthorizedException: _http_error,
        PermissionDeniedException: _http_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")
