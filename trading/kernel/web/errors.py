"""HTML error pages (and HTMX fragments) for the web surface."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect

from trading.kernel.errors import DomainError

log = structlog.get_logger(__name__)


def web_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, DomainError):
        status, detail = exc.status_code, exc.message
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
    else:
        log.error("web.unhandled_error", path=request.url.path, exc_info=exc)
        status, detail = 500, "Internal server error"
    if isinstance(exc, NotAuthorizedException) or status == 401:  # noqa: PLR2004
        return Redirect(f"/login?next={request.url.path}")
    return Response(content=f"{status} {detail}", status_code=status, media_type=MediaType.TEXT)
