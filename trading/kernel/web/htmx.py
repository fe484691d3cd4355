"""HTMX request detection and response headers.

A web handler serves the same URL as a full page to a browser navigation and as a fragment to an
HTMX request. History restoration (the user pressing Back when htmx has no cached snapshot, which
is always: the layout sets ``historyCacheSize`` to 0) asks for the full page again even though it
carries ``HX-Request``, so it counts as a page request here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar_htmx import HTMXDetails

# Response headers htmx acts on.
HX_REDIRECT = "HX-Redirect"
HX_RETARGET = "HX-Retarget"
HX_RESWAP = "HX-Reswap"

TOAST_REGION = "#toasts"
"""The element in ``layouts/base.html`` that error and notice toasts are appended to."""


def is_htmx(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """True when htmx made the request and wants a fragment (not a history restore)."""
    details = HTMXDetails(connection)  # type: ignore[arg-type]  # reads headers only
    return bool(details) and not details.history_restore_request


def current_page_path(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Path and query of the page an HTMX request was made from (``HX-Current-URL``), same site only.

    A fragment endpoint is not where the user should land after logging in; the page that made
    the request is.
    """
    # Not HTMXDetails.current_url_abs_path: it also compares the scheme, which differs behind a
    # TLS-terminating proxy; the host is what says "same site" here.
    raw = HTMXDetails(connection).current_url  # type: ignore[arg-type]
    if not raw:
        return None
    parts = urlsplit(raw)
    host = connection.headers.get("host")
    if parts.netloc and host and parts.netloc != host:
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def toast_headers() -> dict[str, str]:
    """Headers that send a fragment into the toast region instead of the request's own target."""
    return {HX_RETARGET: TOAST_REGION, HX_RESWAP: "beforeend"}
