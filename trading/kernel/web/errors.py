"""HTML error pages (and HTMX fragments) for the web surface.

* A browser navigation gets a full page, ``errors/<status>.html`` (``errors/error.html`` for a
  status without its own page), in the request's locale and with the usual layout.
* An HTMX request gets ``_toast.html`` with ``HX-Retarget``/``HX-Reswap``, so the message lands in
  the layout's toast region instead of replacing whatever the request targeted.
* 401 sends the user to ``/login?next=<where they were>`` (``HX-Redirect`` for HTMX).
* A :class:`~trading.kernel.errors.DomainError` shows its own message (services write it for
  people); other errors show a fixed explanation per status, and a 5xx never shows internals.

Error pages must render when nothing else works: the actor may be unresolvable (the database is
down, or resolving it is what failed) and the locale may be garbage. Every input therefore has a
fallback, the template is rendered here (not lazily after this handler returns) and a template
failure falls back to a static bilingual page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import structlog
from jinja2 import TemplateNotFound
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, TemplateNotFoundException, ValidationException
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import TimeoutError as PoolTimeout

from trading.kernel.api.errors import RETRY_AFTER_BUSY, is_api_path
from trading.kernel.auth.guards import ACTOR_STATE_KEY, current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError
from trading.kernel.web import i18n, refusals
from trading.kernel.web.htmx import HX_REDIRECT, current_page_path, is_htmx, toast_headers
from trading.kernel.web.i18n import N_

if TYPE_CHECKING:
    from litestar.types import Scope

log = structlog.get_logger(__name__)

LOGIN_PATH = "/login"
HTTP_UNAUTHORIZED = 401
HTTP_SERVER_ERROR = 500
HTTP_SERVICE_UNAVAILABLE = 503
TOAST_TEMPLATE = "_toast.html"
GENERIC_TEMPLATE = "errors/error.html"

# Title and explanation per status. English source strings, translated when rendered.
_EXPLANATIONS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be understood. Check what you entered and try again.")),
    403: (N_("Access denied"), N_("Your account does not have permission to do this.")),
    404: (N_("Page not found"), N_("The page you asked for does not exist or has moved.")),
    405: (N_("Not allowed"), N_("This page does not accept that kind of request.")),
    409: (N_("Conflict"), N_("This conflicts with the current state of the record. Reload the page and try again.")),
    413: (N_("Too large"), N_("What you sent is larger than the platform accepts.")),
    422: (N_("Please check your input"), N_("Some of what you entered is not valid.")),
    429: (N_("Too many requests"), N_("Too many requests in a short time. Wait a moment and try again.")),
    500: (
        N_("Something went wrong"),
        N_("The platform could not complete this request. The error has been recorded; please try again later."),
    ),
    503: (N_("Service unavailable"), N_("The platform is temporarily unavailable. Please try again later.")),
}
# What the user can do about it, where there is more to say than the explanation.
_HINTS: dict[int, str] = {
    403: N_(
        "If you believe you should have access, ask your organisation's administrator or the trading centre"
        " to grant the role you need."
    ),
    404: N_("Check the address, or start again from the home page."),
}
_OTHER_CLIENT_ERROR = (N_("Request failed"), N_("The request could not be completed."))
_CSRF_EXPIRED = N_("This form has expired. Reload the page and submit it again.")

_FALLBACK_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{status}</title></head>
<body><h1>{status}</h1><p>请求未能完成，请稍后再试。</p><p lang="en">The request could not be completed.
Please try again later.</p><p><a href="/">返回首页 / Home</a></p></body></html>"""


@dataclass(frozen=True, slots=True)
class ErrorView:
    """What an error page or toast shows. Strings are already translated."""

    status: int
    title: str
    explanation: str
    detail: str | None = None
    field: str | None = None
    rule: str | None = None
    hint: str | None = None
    request_id: str | None = None


def status_of(exc: Exception) -> int:
    if isinstance(exc, PoolTimeout):  # every database connection busy: overload, nothing was done
        return HTTP_SERVICE_UNAVAILABLE
    if isinstance(exc, DomainError):
        return exc.status_code
    if isinstance(exc, HTTPException):
        return exc.status_code
    return HTTP_SERVER_ERROR


_MALFORMED_FORM = N_("The form was sent in a shape this page does not produce: reload the page and send it again.")


def _first_field(exc: ValidationException) -> str | None:
    items = exc.extra if isinstance(exc.extra, list) else []
    return next((str(item["key"]) for item in items if isinstance(item, dict) and item.get("key")), None)


def describe(exc: Exception, status: int) -> ErrorView:
    """The translated view of an error; reads the current locale, so set it first."""
    title, explanation = _EXPLANATIONS.get(
        status, _EXPLANATIONS[HTTP_SERVER_ERROR] if status >= HTTP_SERVER_ERROR else _OTHER_CLIENT_ERROR
    )
    detail: str | None = None
    field: str | None = None
    rule: str | None = None
    if status < HTTP_SERVER_ERROR:
        if isinstance(exc, DomainError):
            # Services write these messages in English for people; a catalogue entry translates
            # them, else the rule's (or the error's) words in the reader's language stand in.
            detail, field, rule = refusals.explain(exc.message, exc.rule, exc.field, exc.code), exc.field, exc.rule
        elif isinstance(exc, ValidationException) and (named := _first_field(exc)):
            # A page form decodes whatever a browser sends; this is a request no page produces
            # (one field sent twice, a tampered body): name the field, say what to do.
            detail, field, rule = i18n.gettext(_MALFORMED_FORM), named, "shape"
        elif isinstance(exc, HTTPException) and "csrf" in str(exc.detail).lower():
            detail = i18n.gettext(_CSRF_EXPIRED)
    return ErrorView(
        status=status,
        title=i18n.gettext(title),
        explanation=i18n.gettext(explanation),
        detail=detail,
        field=field,
        rule=rule,
        hint=i18n.gettext(_HINTS[status]) if status in _HINTS else None,
        request_id=_request_id(),
    )


def web_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = status_of(exc)
    if status == HTTP_SERVICE_UNAVAILABLE:
        log.warning("web.database_busy", path=request.url.path)
    elif status >= HTTP_SERVER_ERROR:
        log.error("web.unhandled_error", path=request.url.path, status=status, exc_info=exc)
    if status == HTTP_UNAUTHORIZED:
        return login_redirect(request)

    locale = i18n.locale_of(request)
    i18n.set_locale(locale)
    view = describe(exc, status)
    headers = _passthrough_headers(exc)
    if status == HTTP_SERVICE_UNAVAILABLE:
        headers["Retry-After"] = RETRY_AFTER_BUSY
    if is_htmx(request):
        headers.update(toast_headers())
        body = render(request, [TOAST_TEMPLATE], {"error": view, "toast_kind": "error"}, status=status)
    else:
        body = render(request, [f"errors/{status}.html", GENERIC_TEMPLATE], {"error": view}, status=status)
    return Response(content=body, status_code=status, media_type=MediaType.HTML, headers=headers)


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """To the login page, remembering where the user was going.

    For an HTMX request that is the page it was made from (``HX-Current-URL``), not the fragment
    URL; for a form post it is the page the form was on, because ``next`` is followed with a GET.
    """
    if is_htmx(request):
        target = current_page_path(request) or "/"
    elif request.method in {"GET", "HEAD"}:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = _same_site_referer(request) or "/"
    location = f"{LOGIN_PATH}?{urlencode({'next': target})}"
    if is_htmx(request):
        return Response(content=b"", status_code=HTTP_UNAUTHORIZED, headers={HX_REDIRECT: location})
    return Response(content=b"", status_code=303, headers={"Location": location})


def render(
    request: Request[Any, Any, Any],
    candidates: list[str],
    context: dict[str, Any],
    *,
    status: int,
) -> str:
    """Render the first template of ``candidates`` that exists, never raising."""
    try:
        engine = request.app.template_engine
        if engine is None:
            return _FALLBACK_PAGE.format(status=status)
        for name in candidates:
            try:
                template = engine.get_template(name)
            except (TemplateNotFound, TemplateNotFoundException):
                # Litestar's engine wraps Jinja's TemplateNotFound in its own exception; either
                # means "no page of its own for this status", so the generic page answers.
                continue
            return str(template.render(**_base_context(request), **context))
    except Exception:  # an error page that fails must still answer
        log.exception("web.error_page_failed", path=request.url.path, status=status)
    return _FALLBACK_PAGE.format(status=status)


def _base_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What ``page()`` and Litestar would have put in the context, each with a fallback."""
    state = request.scope.get("state", {})
    actor = state.get(ACTOR_STATE_KEY)
    if not isinstance(actor, Actor):
        actor = Actor.anonymous()
    token = _csrf_token(request)
    return {
        "request": request,
        "actor": actor,
        "locale": i18n.get_locale(),
        "is_htmx": is_htmx(request),
        "csrf_input": f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}" />',
    }


def _csrf_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token for forms on an error page (the layout's logout form).

    A route's CSRF middleware puts it in the scope; a 404 has no route, so none ran. The cookie
    holds the very token the middleware compares forms against, so it serves as well.
    """
    scope_state = ScopeState.from_scope(request.scope)
    token = scope_state.csrf_token
    if isinstance(token, str) and token:
        return token
    config = request.app.csrf_config
    cookie = request.cookies.get(config.cookie_name) if config is not None else None
    if cookie:
        # csrf_token() in templates reads the scope; give it the same value.
        scope_state.csrf_token = cookie
        return cookie
    return ""


def _passthrough_headers(exc: Exception) -> dict[str, str]:
    """Headers the client needs to act on an error (``Retry-After`` on 429, ``Allow`` on 405)."""
    source: Any = None
    if isinstance(exc, HTTPException):
        source = exc.headers
    elif isinstance(exc, DomainError):
        source = exc.extra.get("headers")
    if not isinstance(source, dict):
        return {}
    return {name: str(value) for name, value in source.items() if name.lower() in {"retry-after", "allow"}}


def _same_site_referer(request: Request[Any, Any, Any]) -> str | None:
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


async def prepare_error_page(exc: Exception, scope: Scope) -> None:
    """``after_exception`` hook: resolve the actor before the (synchronous) error handler runs.

    Exception handlers cannot await, and a request that failed before the guard ran (a 404 has no
    route, so no guard) has no actor yet; without this the error page would show a logged-in user
    as logged out. Failure here only means the page shows the anonymous header.
    """
    del exc
    if scope.get("type") != ScopeType.HTTP or is_api_path(scope.get("path", "")):
        return
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    if connection.state.get(ACTOR_STATE_KEY) is not None:
        return
    try:
        await current_actor(connection)
    except Exception:  # noqa: BLE001 - the error page falls back to an anonymous header
        log.warning("web.error_page_actor_unresolved", path=scope.get("path"))
