"""Error rendering, once per surface: problem+json under /api, pages and fragments elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import TimeoutError as PoolTimeout

from trading.kernel.api.errors import api_exception_handlers, is_api_path
from trading.kernel.errors import DomainError

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.types import ExceptionHandlersMap


def exception_handlers() -> ExceptionHandlersMap:
    api = api_exception_handlers()

    def dispatch(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        # Pages get HTML (web_error_handler); everything under /api gets problem+json.
        if not is_api_path(request.url.path):
            from trading.kernel.web.errors import web_error_response  # noqa: PLC0415 - web shell is optional at import

            return web_error_response(request, exc)
        for kind in (PoolTimeout, DomainError, ValidationException, HTTPException, Exception):
            if isinstance(exc, kind):
                return api[kind](request, exc)
        raise exc

    return {Exception: dispatch}
