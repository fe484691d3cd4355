"""Rendering pages and fragments with the context every template may rely on.

Every web handler returns ``await page(request, "pkg/noun_view.html", {...})``. The shared context
is: ``actor`` (the resolved :class:`Actor`), ``locale`` (``zh_CN`` or ``en``), ``is_htmx``,
``request`` and ``csrf_input`` (added by Litestar), plus whatever the handler passes. Templates
also have the globals installed by :mod:`trading.kernel.web.templating` (``_``, ``viewer()``,
``nav_items()``, ``static_url()``, ``csrf_token()``).

Pages extend ``layouts/base.html``; fragments (templates whose file name starts with ``_``) do
not. A handler that serves both picks with :func:`trading.kernel.web.htmx.is_htmx`::

    name = "bidding/_bid_list.html" if is_htmx(request) else "bidding/bid_list.html"
    return await page(request, name, {"bids": bids})

A form that fails validation is re-rendered with ``status_code=422``; the layout configures htmx to
swap 422 responses, so the errors replace the form in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.web import i18n
from trading.kernel.web.htmx import is_htmx

ContextHook = Callable[[Request[Any, Any, Any], Actor], Awaitable[Mapping[str, Any]]]
_context_hooks: list[ContextHook] = []


def add_context_hook(hook: ContextHook) -> None:
    """Add to every page's context (the composition root installs these: the kernel names no
    domain). Used for the unread-notice count in the header.
    """
    if hook not in _context_hooks:
        _context_hooks.append(hook)


async def page(
    request: Request[Any, Any, Any],
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    actor = await current_actor(request)
    locale = i18n.locale_of(request)
    # The middleware already did this; setting it here too keeps pages right in apps (tests,
    # tools) assembled without the middleware.
    i18n.set_locale(locale)
    base = {"actor": actor, "locale": locale, "is_htmx": is_htmx(request)}
    for hook in _context_hooks:
        base.update(await hook(request, actor))
    return Template(
        template_name=template_name,
        context={**base, **(context or {})},
        status_code=status_code,
        # The same URL answers with a page or a fragment depending on this header; caches must
        # not hand one to the other.
        headers={"Vary": "HX-Request"},
    )
