"""Navigation and dashboards built from what the actor may do and which pages exist.

The kernel knows no domain: the composition root hands in the menu (:class:`NavItem`) and the
dashboards per role (:class:`RoleDashboard`). What a given actor sees is decided here, from two
facts only:

* the page must be registered in the running app (links to pages a package has not shipped yet
  are hidden, and a dashboard panel left with no link is not shown: no card leads nowhere), and
* the actor must pass the permission the page's own ``GET`` handler declares, so a menu can never
  drift from the guard that protects the page.

Labels are English source strings marked with ``N_``; templates translate them when rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from litestar.exceptions import NoRouteMatchFoundException

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import PERMISSION_OPT
from trading.kernel.auth.roles import Role
from trading.kernel.web.i18n import N_

_ROUTE_INDEX_KEY = "_web_route_permissions"
_NO_PERMISSION = ""


ROLE_LABELS: dict[Role, str] = {
    Role.BIDDER: N_("Bidder / supplier"),
    Role.TENDEREE: N_("Tenderee / purchaser"),
    Role.AGENCY: N_("Tendering agency"),
    Role.EXPERT: N_("Evaluation expert"),
    Role.INTERMEDIARY: N_("Intermediary service provider"),
    Role.GUARANTOR: N_("Guarantor"),
    Role.SUPERVISOR: N_("Supervisory authority"),
    Role.ADMIN: N_("Trading centre administrator"),
}
"""How each role is named to people (English source; the catalogues translate)."""


class Audience(StrEnum):
    EVERYONE = "everyone"
    ANONYMOUS = "anonymous"  # log in, register: pointless once logged in
    AUTHENTICATED = "authenticated"


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    audience: Audience = Audience.AUTHENTICATED
    roles: frozenset[Role] = frozenset()
    """When set, only actors holding one of these roles see the item."""

    def shown_to(self, actor: Actor) -> bool:
        if self.audience is Audience.ANONYMOUS and actor.is_authenticated:
            return False
        if self.audience is Audience.AUTHENTICATED and not actor.is_authenticated:
            return False
        return not self.roles or bool(self.roles & actor.roles)


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    target: str
    """A route name (``"bidding.tenders"``, resolved with the app's ``route_reverse``) or a path."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    summary: str
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleDashboard:
    role: Role
    title: str
    intro: str
    panels: tuple[Panel, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkView:
    """A link as one actor sees it: only pages that exist and are open to them become one."""

    label: str
    description: str
    href: str


@dataclass(frozen=True, slots=True)
class PanelView:
    title: str
    summary: str
    links: tuple[LinkView, ...]


@dataclass(frozen=True, slots=True)
class DashboardView:
    role: Role
    title: str
    intro: str
    panels: tuple[PanelView, ...]


@dataclass(frozen=True, slots=True)
class Navigation:
    items: tuple[NavItem, ...] = ()
    dashboards: tuple[RoleDashboard, ...] = ()
    common_panels: tuple[Panel, ...] = ()
    """Shown on every signed-in user's dashboard after the role dashboards (account, security)."""
    _by_role: dict[Role, RoleDashboard] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for dashboard in self.dashboards:
            self._by_role[dashboard.role] = dashboard

    def menu(self, actor: Actor, app: Any) -> list[NavItem]:
        return [item for item in self.items if item.shown_to(actor) and can_visit(actor, app, item.href)]

    def dashboards_for(self, actor: Actor) -> list[RoleDashboard]:
        """The actor's dashboards in the order roles are declared (a user may hold several)."""
        return [self._by_role[role] for role in Role if role in actor.roles and role in self._by_role]

    def dashboard_views(self, actor: Actor, app: Any) -> list[DashboardView]:
        return [
            DashboardView(board.role, board.title, board.intro, tuple(view_panels(actor, app, board.panels)))
            for board in self.dashboards_for(actor)
        ]

    def common_panel_views(self, actor: Actor, app: Any) -> list[PanelView]:
        return view_panels(actor, app, self.common_panels)


def route_permissions(app: Any) -> dict[str, str]:
    """``path template → permission`` of every ``GET`` page in ``app`` ("" when none is declared).

    Built once per app and cached on its state: routes do not change after start-up.
    """
    state = app.state
    index: dict[str, str] | None = state.get(_ROUTE_INDEX_KEY)
    if index is None:
        index = {}
        for route in app.routes:
            for handler in getattr(route, "route_handlers", ()):
                if "GET" in getattr(handler, "http_methods", ()):
                    index[route.path] = str(handler.opt.get(PERMISSION_OPT) or _NO_PERMISSION)
        state[_ROUTE_INDEX_KEY] = index
    return index


def can_visit(actor: Actor, app: Any, href: str) -> bool:
    """True when ``href`` is a registered page whose guard would let ``actor`` through.

    A page without a declared permission is public (the global guard refuses undeclared routes
    that are not on the public list, and those are not worth linking to anyway).
    """
    permission = route_permissions(app).get(_path_of(href))
    if permission is None:
        return False
    return permission == _NO_PERMISSION or actor.has(permission)


def resolve(app: Any, target: str) -> str | None:
    """The path of ``target`` (a path, or a route name), ``None`` when no such route is registered."""
    if target.startswith("/"):
        return target
    try:
        return str(app.route_reverse(target))
    except NoRouteMatchFoundException:
        return None


def view_link(actor: Actor, app: Any, link: Link) -> LinkView | None:
    """``link`` as ``actor`` sees it, or ``None``: the page is not shipped, or not theirs (no 403s)."""
    href = resolve(app, link.target)
    if href is None or not can_visit(actor, app, href):
        return None
    return LinkView(link.label, link.description, href)


def view_panels(actor: Actor, app: Any, panels: tuple[Panel, ...]) -> list[PanelView]:
    """The panels with at least one link ``actor`` can follow; a card that leads nowhere is left out."""
    views = []
    for panel in panels:
        links = tuple(view for link in panel.links if (view := view_link(actor, app, link)) is not None)
        if links:
            views.append(PanelView(panel.title, panel.summary, links))
    return views


def _path_of(href: str) -> str:
    return href.split("?", 1)[0].split("#", 1)[0] or "/"
