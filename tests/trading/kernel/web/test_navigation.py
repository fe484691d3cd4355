"""Menus and dashboard links follow the registered routes and their guards (no database needed)."""

from __future__ import annotations

from litestar import Controller, Litestar, get, post

from tests.trading.kernel.web.conftest import make_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Permission, requires
from trading.kernel.auth.roles import Role
from trading.kernel.web.navigation import Audience, Link, Navigation, NavItem, Panel, RoleDashboard


class NavPermission(Permission):
    LEDGER_READ = "navtest:ledger:read"
    REPORT_WRITE = "navtest:report:write"


@get("/", name="nav.home", sync_to_thread=False)
def home() -> str:
    return "home"


@get("/login", sync_to_thread=False)
def login() -> str:
    return "login"


@get("/ledger", opt=requires(NavPermission.LEDGER_READ), sync_to_thread=False)
def ledger() -> str:
    return "ledger"


@post("/reports", opt=requires(NavPermission.REPORT_WRITE), sync_to_thread=False)
def post_only() -> str:
    return "created"


class Account(Controller):
    path = "/account"

    @get("/", opt=requires(NavPermission.LEDGER_READ), sync_to_thread=False)
    def show(self) -> str:
        return "account"


APP = Litestar([home, login, ledger, post_only, Account])

NAV = Navigation(
    items=(
        NavItem("Home", "/", Audience.EVERYONE),
        NavItem("Ledger", "/ledger"),
        NavItem("Account", "/account"),
        NavItem("Tenders", "/tenders"),  # not shipped yet
        NavItem("Reports", "/reports"),  # POST only: not a page
        NavItem("Log in", "/login", Audience.ANONYMOUS),
        NavItem("Bids", "/", roles=frozenset({Role.BIDDER})),
    ),
    dashboards=(
        RoleDashboard(
            Role.SUPERVISOR,
            "Supervisor",
            "intro",
            (
                Panel(
                    "Ledger", "summary", (Link("Ledger", "/ledger"), Link("Later", "/later"), Link("Named", "named"))
                ),
                Panel("Alerts", "summary", (Link("Alerts", "/alerts"),)),
            ),
        ),
        RoleDashboard(Role.BIDDER, "Bidder", "intro"),
    ),
)


def labels(actor: Actor) -> list[str]:
    return [item.label for item in NAV.menu(actor, APP)]


def test_anonymous_menu() -> None:
    assert labels(Actor.anonymous()) == ["Home", "Log in"]


def test_menu_follows_the_route_guards() -> None:
    supervisor = make_actor(Role.SUPERVISOR, permissions=frozenset({NavPermission.LEDGER_READ}))
    assert labels(supervisor) == ["Home", "Ledger", "Account"]
    without_permission = make_actor(Role.SUPERVISOR, permissions=frozenset())
    assert labels(without_permission) == ["Home"]


def test_menu_items_limited_to_roles() -> None:
    bidder = make_actor(Role.BIDDER, permissions=frozenset())
    assert labels(bidder) == ["Home", "Bids"]


def test_dashboard_links_lead_to_pages_or_are_left_out() -> None:
    supervisor = make_actor(Role.SUPERVISOR, permissions=frozenset({NavPermission.LEDGER_READ}))
    [board] = NAV.dashboard_views(supervisor, APP)
    # Pages not shipped (a path or a route name that is not registered) are not linked at all,
    # and a panel left with no link is not shown: no card leads nowhere.
    [panel] = board.panels
    assert panel.title == "Ledger"
    assert [(link.label, link.href) for link in panel.links] == [("Ledger", "/ledger")]
    # The page exists but is not theirs: not shown at all (rather than a link into a 403).
    denied = make_actor(Role.SUPERVISOR, permissions=frozenset())
    [board] = NAV.dashboard_views(denied, APP)
    assert board.panels == ()


def test_dashboard_links_may_name_routes() -> None:
    nav = Navigation(
        dashboards=(RoleDashboard(Role.BIDDER, "Bidder", "intro", (Panel("Home", "s", (Link("Home", "nav.home"),)),)),)
    )
    [board] = nav.dashboard_views(make_actor(Role.BIDDER, permissions=frozenset()), APP)
    assert [link.href for link in board.panels[0].links] == ["/"]


def test_dashboards_follow_role_order() -> None:
    both = make_actor(Role.SUPERVISOR, Role.BIDDER, permissions=frozenset())
    assert [board.role for board in NAV.dashboards_for(both)] == [Role.BIDDER, Role.SUPERVISOR]
    assert NAV.dashboards_for(make_actor(Role.EXPERT)) == []
