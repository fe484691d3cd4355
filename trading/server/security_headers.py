"""Security headers on every response, set in one place (a ``before_send`` hook of the app).

A ``before_send`` hook sees every response the application sends, including the router's own
404 and 405 pages that no route middleware ever wraps.

* ``Content-Security-Policy``: scripts, styles, images, fonts and connections from this origin
  only (connections also to the local certificate agent, ``GGZY_WEB_AGENT_URL``, which the pages'
  ``pki/agent.js`` calls for USB keys); no inline scripts, no ``eval`` (htmx runs with
  ``allowEval: false``), no plugins, forms post only here, and no framing by anyone
  (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for browsers that predate it).
  The pages need nothing else: every script is a static file (``static/js``, ``static/vendor``),
  data for scripts travels in ``data-`` attributes or ``<script type="application/json">`` blocks
  (never executed), and htmx's indicator styles come from the stylesheet, not an injected
  ``<style>``.
* The Swagger UI pages under ``/api/v1/docs`` are rendered by Litestar with an inline script and
  inline styles; they get their own policy that allows those, and only those pages do. They show
  the public API description, no user data. PDFs shown inline get no policy (see `PDF_TYPE`).
* ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (the login redirect
  reads a same-site Referer; other sites learn nothing of our URLs, which name tenders).
* ``Cache-Control: no-store`` on any response to a request that carries credentials (a session
  cookie or an ``Authorization`` header), to a resolved logged-in actor, or that sets a cookie:
  no shared cache or browser history keeps a page with personal or confidential data. Static
  files keep their own caching.
* ``Strict-Transport-Security`` when secure cookies are on (the site is served over TLS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType

from trading.kernel.auth.guards import ACTOR_STATE_KEY
from trading.kernel.auth.identity import Actor
from trading.parties.credentials import SESSION_COOKIE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.types import Message, Scope

    from trading.kernel.settings import Settings

_PAGE_DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Swagger UI: Litestar renders its start-up script and styles inline, and it shows data: images.
_DOCS_DIRECTIVES: dict[str, str] = {
    **_PAGE_DIRECTIVES,
    "script-src": "'self' 'unsafe-inline'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
}


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_policies(settings: Settings) -> tuple[str, str]:
    """The page and Swagger policies; pages may also connect to the local certificate agent."""
    connect = " ".join(filter(None, ("'self'", settings.web.agent_url)))
    return (
        _policy({**_PAGE_DIRECTIVES, "connect-src": connect}),
        _policy({**_DOCS_DIRECTIVES, "connect-src": connect}),
    )


DOCS_PATH = "/api/v1/docs"
# A PDF shown inline (the opening record) is drawn by the browser's own viewer, which a page
# policy (object-src 'none') could block; it runs no script of ours, so it goes without one.
PDF_TYPE = "application/pdf"
STATIC_PATH = "/static/"
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """The ``before_send`` hook that adds the headers above to each response start."""
    page_policy, docs_policy = page_policies(settings)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("type") != ScopeType.HTTP:
            return
        headers = MutableScopeHeaders.from_message(message)
        path: str = scope.get("path", "")
        if not headers.get("content-type", "").startswith(PDF_TYPE):
            headers["Content-Security-Policy"] = docs_policy if _is_docs_page(path) else page_policy
        # A PDF its route lets the same origin frame (the evaluation workspace shows a bid's PDF
        # beside the scoring sheet) keeps SAMEORIGIN; everything else is never framed.
        framed = headers.get("content-type", "").startswith(PDF_TYPE) and headers.get("x-frame-options") == "SAMEORIGIN"
        headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if settings.web.secure_cookies:
            headers["Strict-Transport-Security"] = HSTS
        if not path.startswith(STATIC_PATH) and (_personal(scope) or "set-cookie" in headers):
            headers["Cache-Control"] = "no-store"

    return add_headers


def _is_docs_page(path: str) -> bool:
    return (path == DOCS_PATH or path.startswith(DOCS_PATH + "/")) and not path.endswith(".json")


def _personal(scope: Scope) -> bool:
    """The response may hold someone's own data: the request carried credentials or its actor
    is logged in.
    """
    state = scope.get("state", {})
    actor = state.get(ACTOR_STATE_KEY)
    if isinstance(actor, Actor) and actor.is_authenticated:
        return True
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return True
        if name == b"cookie" and SESSION_COOKIE.encode() + b"=" in value:
            return True
    return False
