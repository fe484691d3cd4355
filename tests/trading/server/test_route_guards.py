"""Every route declares a permission or is on the public list, and the guard fails closed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import api_token, bearer, create_account
from trading.guarantees import api_guarantor as guarantees_api
from trading.kernel.auth.permissions import PERMISSION_OPT, requires
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.policies import PartiesPermission
from trading.server.routing import PUBLIC_ROUTES


def handlers(app: Litestar) -> Iterator[tuple[HTTPRoute, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            # Litestar's own OPTIONS responder on every path: it serves no data, and on a
            # non-public path the guard refuses it like any other undeclared handler.
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                continue
            yield route, handler


def test_every_route_declares_a_permission_or_is_public(app: Litestar) -> None:
    undeclared = sorted(
        f"{sorted(handler.http_methods)} {route.path} ({handler.handler_name})"
        for route, handler in handlers(app)
        # The guard compares scope["path_template"], which is the route's path_format.
        if handler.opt.get(PERMISSION_OPT) is None and route.path_format not in PUBLIC_ROUTES
    )
    assert undeclared == [], "routes with neither a permission nor a place in PUBLIC_ROUTES"


def test_public_list_names_only_real_routes(app: Litestar) -> None:
    known = {route.path_format for route, _ in handlers(app)}
    assert PUBLIC_ROUTES - known == set(), "PUBLIC_ROUTES lists paths no route serves (typo or stale)"


def test_declared_permissions_are_granted_to_someone(app: Litestar) -> None:
    grants = app.state.grants
    declared = {str(handler.opt[PERMISSION_OPT]) for _, handler in handlers(app) if PERMISSION_OPT in handler.opt}
    assert declared - grants.all_permissions() == set(), "routes no role can ever reach"


def test_every_api_route_is_documented_with_an_operation_id(app: Litestar) -> None:
    missing = [
        route.path
        for route, handler in handlers(app)
        if route.path.startswith("/api/v1/")
        and not route.path.startswith("/api/v1/docs")
        and handler.include_in_schema
        and not handler.operation_id
    ]
    assert missing == []


@get("/_probe/undeclared", include_in_schema=False)
async def undeclared_probe() -> dict[str, str]:
    return {"leak": "this must never be served"}


@get("/_probe/declared", include_in_schema=False, opt=requires(PartiesPermission.PROFILE_READ))
async def declared_probe() -> dict[str, str]:
    return {"ok": "yes"}


@pytest.fixture
def probes(app: Litestar) -> None:
    """Two extra routes on the real app, registered before the client starts."""
    app.register(undeclared_probe)
    app.register(declared_probe)


async def test_undeclared_route_is_refused_even_for_an_admin(
    probes: None,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    anonymous = await client.get("/_probe/undeclared")
    assert anonymous.status_code == 403
    assert "leak" not in anonymous.text
    admin = await create_account(session_maker, settings, Role.ADMIN)
    # Pages take cookies, but a bearer token shows the guard does not even ask who is calling.
    token = await api_token(client, admin)
    assert (await client.get("/_probe/undeclared", headers=bearer(token))).status_code == 403


async def test_declared_route_needs_a_login(probes: None, client: httpx.AsyncClient) -> None:
    response = await client.get("/_probe/declared")
    assert response.status_code == 303  # a page: off to the login form
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", sorted(PUBLIC_ROUTES))
async def test_public_routes_answer_without_login(client: httpx.AsyncClient, path: str) -> None:
    concrete = {
        "/static/{file_path}": "/static/css/ggzy.css",
        "/bidding/static/{file_path}": "/bidding/static/js/bidding.js",
        "/integrity/static/{file_path}": "/integrity/static/js/charts.js",
        "/locale/{code}": "/locale/en",
        "/api/v1/docs/{path}": "/api/v1/docs/openapi.json",
        "/market/selections/{announcement_id}": "/market/selections/00000000-0000-0000-0000-000000000000",
        "/credit/organisations/{organisation_id}": "/credit/organisations/00000000-0000-0000-0000-000000000000",
        "/guarantees/verify/{code}": "/guarantees/verify/0000-0000-0000-0000",
        "/api/v1/guarantees/verify/{code}": "/api/v1/guarantees/verify/0000-0000-0000-0000",
        "/bidding/tenders/{code}": "/bidding/tenders/E0000000000000000000",
        "/api/v1/guarantor/applications/{application_no}": "/api/v1/guarantor/applications/GA-NONE",
        "/api/v1/guarantor/applications/{application_no}/decision": "/api/v1/guarantor/applications/GA-NONE/decision",
        "/api/v1/guarantor/applications/{application_no}/guarantee": "/api/v1/guarantor/applications/GA-NONE/guarantee",
        "/api/v1/guarantor/claims/{claim_id}/answer": f"/api/v1/guarantor/claims/{uuid.UUID(int=0)}/answer",
        "/api/v1/guarantor/releases/{guarantee_no}/acknowledge": "/api/v1/guarantor/releases/BH-NONE/acknowledge",
        "/api/v1/bidding/tenders/{code}": "/api/v1/bidding/tenders/NO-SUCH-TENDER",
        "/api/v1/bidding/opening/{code}/events": "/api/v1/bidding/opening/NO-SUCH-TENDER/events",
        "/bidding/opening/{code}": "/bidding/opening/NO-SUCH-TENDER",
        "/bidding/opening/{code}/events": "/bidding/opening/NO-SUCH-TENDER/events",
        "/api/v1/bidding/opening/{code}": "/api/v1/bidding/opening/NO-SUCH-TENDER",
        "/api/v1/bidding/opening/{code}/record.pdf": "/api/v1/bidding/opening/NO-SUCH-TENDER/record.pdf",
        "/api/v1/ledger/checkpoints/{number}": "/api/v1/ledger/checkpoints/1",
        "/bidding/tenders/{code}/award": "/bidding/tenders/NO-SUCH-TENDER/award",
        "/api/v1/award/tenders/{code}/rule": "/api/v1/award/tenders/NO-SUCH-TENDER/rule",
        "/api/v1/award/tenders/{code}/decisions": "/api/v1/award/tenders/NO-SUCH-TENDER/decisions",
        "/api/v1/award/tenders/{code}/result": "/api/v1/award/tenders/NO-SUCH-TENDER/result",
        "/api/v1/award/tenders/{code}/contract": "/api/v1/award/tenders/NO-SUCH-TENDER/contract",
        "/api/v1/award/tenders/{code}/contract.pdf": "/api/v1/award/tenders/NO-SUCH-TENDER/contract.pdf",
        "/bidding/tenders/{code}/archive/{file}": f"/bidding/tenders/NO-SUCH-TENDER/archive/{'0' * 64}.zip",
        **{
            f"{api}/bidding/tenders/{{code}}/{leaf}": f"{api}/bidding/tenders/NO-SUCH-TENDER/{leaf}"
            for api, leaves in (
                (
                    "",
                    (
                        "requirements",
                        "requirements.json",
                        "response-schema.json",
                        "publicity",
                        "contract",
                        "contract.pdf",
                        "archive",
                        "result",
                    ),
                ),
                ("/api/v1", ("requirements",)),
            )
            for leaf in leaves
        },
        **{
            f"{api}/evaluation/e/{{evaluation_id}}/{leaf}": f"{api}/evaluation/e/{uuid.UUID(int=0)}/{leaf}"
            for api in ("", "/api/v1")
            for leaf in ("report.pdf", "result")
        },
    }.get(path, path)
    assert not re.search(r"{\w+}", concrete)
    response = await client.get(concrete)
    if response.status_code == 405:  # POST-only (logout, token issue, registration)
        return
    if path in guarantees_api.PUBLIC_PATHS:  # no login, but the request signature is the credential
        assert response.json()["type"] == "urn:ggzy:error:request_unsigned", response.text
        return
    assert response.status_code not in {401, 403}, f"{concrete} answered {response.status_code}"
