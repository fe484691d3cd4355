"""The Jinja environment, assembled from template folders that packages hand in.

The kernel never names a domain: `trading.server` passes the packages whose ``templates/`` folder
joins the environment (and the menu and dashboards, as data). This module builds one environment
with a ``ChoiceLoader`` over them, the kernel's own shared layouts last, and installs what every
template may rely on: gettext (``_``), the current actor (``viewer()``), the menu
(``nav_items()``) and cache-busted static URLs (``static_url()``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    Undefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from trading.kernel.auth.identity import Actor
from trading.kernel.web import i18n, money, refusals
from trading.kernel.web.navigation import Navigation, NavItem

STATIC_DIR = Path(__file__).parent / "static"
"""Assets served under ``/static`` (vendored libraries, the stylesheet, scripts)."""

STATIC_PREFIX = "/static/"

DISPLAY_TZ = timezone(timedelta(hours=8), "UTC+08:00")
"""Pages show times in China Standard Time, as the trading centre works."""


def build_environment(
    packages: Iterable[str],
    *,
    strict: bool = True,
    navigation: Navigation | None = None,
) -> Environment:
    loaders = [PackageLoader(package, "templates") for package in packages]
    loaders.append(PackageLoader("trading.kernel.web", "templates"))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined if strict else Undefined,
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n.load_catalogues()
    i18n.install(environment)
    menu = navigation or Navigation()

    @pass_context
    def nav_items(context: Context) -> list[NavItem]:
        request = context.get("request")
        if request is None:
            return []
        return menu.menu(viewer(context), request.app)

    environment.filters.update(FILTERS)
    environment.globals.update(
        viewer=viewer,
        nav_items=nav_items,
        static_url=static_url,
        site_navigation=menu,
    )
    return environment


def local_time(value: object, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``{{ when|local_time("%Y-%m-%d") }}``: a time in UTC+08:00, never raising.

    A page must render whatever is stored: a time too close to the ends of the calendar to move
    into UTC+08:00 (9999-12-31 23:00 UTC overflowed and took the tender list down, issue 11) is
    shown in its own zone with that zone named, and anything else as text.
    """
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    try:
        return value.astimezone(DISPLAY_TZ).strftime(fmt) if value.tzinfo else value.strftime(fmt)
    except (OverflowError, ValueError):
        pass
    try:
        return f"{value.strftime(fmt)} {value.tzname() or ''}".rstrip()
    except (OverflowError, ValueError):
        return value.isoformat()


FILTERS = {
    "local_time": local_time,
    "amount": money.amount,
    "amount_in_words": money.amount_in_words,
    "currency": money.currency,
    "readable": refusals.readable,
    "rule_sentence": refusals.rule_or_code,
}
"""Filters every template may use (also registered by tests that compile templates alone)."""


@pass_context
def viewer(context: Context) -> Actor:
    """The actor a template renders for, also when a handler forgot to pass ``actor``.

    Order: the ``actor`` in the context, the one the guard cached on the request, anonymous.
    """
    actor = context.get("actor")
    if isinstance(actor, Actor):
        return actor
    request = context.get("request")
    cached = request.scope.get("state", {}).get("actor") if request is not None else None
    return cached if isinstance(cached, Actor) else Actor.anonymous()


def static_url(path: str) -> str:
    """``/static/<path>?v=<digest>``: a new release's assets are never served from a stale cache."""
    return f"{STATIC_PREFIX}{path}?v={_digest(path)}"


@lru_cache(maxsize=256)
def _digest(path: str) -> str:
    file = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in file.parents or not file.is_file():
        return "0"
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10]
