"""The world of the visibility walks (`test_visibility`, `test_visibility_ownership`): one tender
(an agency acting for a tenderee), three real sealed bids (A, B, C), an outsider bidder, a logged-in
caller of every audience, and the concrete URL of every route for it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import BidUpload, BidVersion, Tender, TenderDocument
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import Objection, OpeningBid, OpeningSession, Outcome, PartStatus, Stage
from bidding.visibility import VISIBILITY_OPT, Exposure
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import Party, agency_party, bidder_party, mandate, published_tender, tenderee_party
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, create_account, csrf_token
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.live import InProcessBroker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

BIDDING_PREFIXES = ("/bidding", "/api/v1/bidding")
PRICES = {"A": "7310001.23", "B": "8420002.34"}
"""Planted on A's and B's rows as their decrypted price summaries: found nowhere they may not be."""
OBJECTION = "A公司异议：签到时间的记录不完整 OBJ-7e3f"
OWNERS = frozenset({"tenderee", "agency"})
OVERSEERS = frozenset({"supervisor", "admin"})
UNRELATED = ("outsider-bidder", "other-tenderee", "other-agency", "expert")
"""Organisations of each role with nothing to do with the tender."""

# --- the routes ---------------------------------------------------------------------------------


def bidding_handlers(app: Litestar) -> Iterator[tuple[HTTPRoute, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(BIDDING_PREFIXES):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                continue
            yield route, handler


def exposure_of(handler: HTTPRouteHandler) -> Exposure | None:
    value = handler.opt.get(VISIBILITY_OPT)
    return Exposure(value) if value is not None else None


# --- the world -------------------------------------------------------------------------------------


@dataclass
class Caller:
    """One audience: its bearer headers for the API and a logged-in browser for the pages."""

    name: str
    headers: dict[str, str]
    browser: httpx.AsyncClient
    csrf: str = ""


@dataclass
class World:
    code: str
    bidders: dict[str, Party]
    document_id: uuid.UUID
    upload_id: uuid.UUID
    receipt_no: str
    objection_id: uuid.UUID
    callers: dict[str, Caller] = field(default_factory=dict)

    def uscc(self, name: str) -> str:
        return self.bidders[name].uscc


def _browser(app: Litestar) -> httpx.AsyncClient:
    # httpx types the ASGI app more narrowly than Litestar declares its __call__ (as tests/conftest.py).
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def _log_in(browser: httpx.AsyncClient, account: Account) -> str:
    form = await browser.get("/login")
    response = await browser.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    return str(browser.cookies["ggzy_csrf"])


@pytest.fixture
async def w(
    *,
    app: Litestar,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> AsyncIterator[World]:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    agency = await agency_party(session_maker, settings, dev_pki)
    await mandate(session_maker, tenderee, agency)
    tender = await published_tender(
        session_maker, settings, store, agency, lots=1, tenderee_organisation_id=tenderee.organisation_id
    )
    assert tender.deadline is not None
    assert tender.agency_organisation_id == agency.organisation_id
    code = tender.project_code
    async with session_maker() as session:
        document_id = await session.scalar(select(TenderDocument.id).where(TenderDocument.tender_id == tender.id))
    assert document_id is not None
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    for name, bidder in bidders.items():
        downloaded = await client.get(
            f"/api/v1/bidding/tenders/{code}/documents/{document_id}", headers=await bidder.headers(client)
        )
        assert downloaded.status_code == 200, downloaded.text
        built = await build(tmp_path / name, bidder, tender=code, lot="L1", deadline=tender.deadline)
        await (await bid_client(client, bidder)).upload(code, "L1", built.path)

    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        report = await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
    assert report.changed == {"bidding.tender_deadline": 1}

    async with session_maker() as session:
        # The deadline has passed for the rest of the test too (the shifted clock was the sweep's).
        await session.execute(
            update(Tender)
            .where(Tender.id == tender.id)
            .values(deadline=await clock.now(session) - timedelta(seconds=1))
        )
        opening = await session.scalar(select(OpeningSession).where(OpeningSession.tender_id == tender.id))
        assert opening is not None
        for name, price in PRICES.items():
            await session.execute(
                update(OpeningBid)
                .where(OpeningBid.session_id == opening.id, OpeningBid.organisation_id == bidders[name].organisation_id)
                .values(
                    price_status=PartStatus.OPENED,
                    price_summary={"currency": "CNY", "totalPrice": price, "durationDays": 180, "items": []},
                    outcome=Outcome.DECRYPTED,
                )
            )
        objection = Objection(
            id=uuid.uuid4(),
            session_id=opening.id,
            organisation_id=bidders["A"].organisation_id,
            filed_by=bidders["A"].account.user_id,
            text=OBJECTION,
            signature=b"planted",
            signer_sha256="0" * 64,
            filed_at=await clock.now(session),
        )
        session.add(objection)
        upload_id = await session.scalar(
            select(BidUpload.id).where(BidUpload.organisation_id == bidders["A"].organisation_id)
        )
        receipt_no = await session.scalar(
            select(BidVersion.receipt_no)
            .join(BidUpload, BidUpload.id == BidVersion.upload_id)
            .where(BidUpload.organisation_id == bidders["A"].organisation_id)
        )
        await session.commit()
    assert upload_id is not None
    assert receipt_no is not None

    accounts: dict[str, Account] = {
        "tenderee": tenderee.account,
        "agency": agency.account,
        "supervisor": await create_account(session_maker, settings, Role.SUPERVISOR),
        "admin": await create_account(session_maker, settings, Role.ADMIN),
        **{f"bidder-{name}": bidder.account for name, bidder in bidders.items()},
        "outsider-bidder": (await bidder_party(session_maker, settings, dev_pki)).account,
        "other-tenderee": (await tenderee_party(session_maker, settings, dev_pki)).account,
        "other-agency": (await agency_party(session_maker, settings, dev_pki)).account,
        "expert": await create_account(session_maker, settings, Role.EXPERT),
    }
    the_world = World(code, bidders, document_id, upload_id, receipt_no, objection.id)
    the_world.callers["visitor"] = Caller("visitor", {}, _browser(app))
    for name, account in accounts.items():
        browser = _browser(app)
        csrf = await _log_in(browser, account)
        the_world.callers[name] = Caller(name, bearer(await api_token(client, account)), browser, csrf)
    # The live hall's broker (the app's lifespan, which starts it, does not run in tests).
    app.state["live"] = InProcessBroker()
    try:
        yield the_world
    finally:
        for caller in the_world.callers.values():
            await caller.browser.aclose()


async def set_stage(session_maker: async_sessionmaker[AsyncSession], code: str, stage: Stage) -> None:
    async with session_maker() as session:
        tender_id = await session.scalar(select(Tender.id).where(Tender.project_code == code))
        await session.execute(update(OpeningSession).where(OpeningSession.tender_id == tender_id).values(stage=stage))
        await session.commit()


# --- concrete URLs ---------------------------------------------------------------------------------


def concrete(path_format: str, w: World) -> str:
    """The route's path with this world's values: a tender-scoped route names the tender, an
    ``{id}`` route something of A's (its upload, receipt, objection).
    """
    values = {
        "code": w.code,
        "lot": "L1",
        "bidder": w.uscc("A"),
        "document_id": str(w.document_id),
        "upload_id": str(w.upload_id),
        "receipt_no": w.receipt_no,
        "objection_id": str(w.objection_id),
        "draft_id": "00000000-0000-0000-0000-000000000000",  # an award notice draft: none in this world
        "notice_id": "00000000-0000-0000-0000-000000000000",  # an award notice: none in this world
        "number": "1",
        "part": "price-summary",
        "file_path": "js/bidding.js",
        "file": "0" * 64 + ".zip",  # an archive by its digest (none: the tender is not closed)
        "application_no": "GA20261206NONE000000",  # a guarantee application: none in this world
        "guarantee_no": "NO-SUCH-GUARANTEE",  # a guarantee: none in this world
        "claim_id": "00000000-0000-0000-0000-000000000000",  # the guarantor API (signed requests only)
        "supplier_id": "00000000-0000-0000-0000-000000000000",  # the procurement supplier library: none here
        "item_code": "A02010104",  # the procurement item catalogue (edition 1, shipped)
        "alert_id": "00000000-0000-0000-0000-000000000000",  # an integrity alert: none in this world
    }
    names = re.findall(r"{(\w+)}", path_format)
    unknown = [name for name in names if name not in values]
    assert unknown == [], f"{path_format}: add a value for {unknown} to the walk"
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path_format)


def is_page(path_format: str) -> bool:
    return not path_format.startswith("/api/")


async def first_event(app: Litestar, path: str, headers: Mapping[str, str]) -> tuple[int, str]:
    """A server-sent-events route's status and first message (the stream is then disconnected)."""
    status = 0
    body = bytearray()
    got = asyncio.Event()
    gone = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if b"data:" in body or not message.get("more_body", False):
                got.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver.local")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver.local", 80),
    }
    task = asyncio.ensure_future(app(scope, receive, send))  # type: ignore[arg-type]
    await asyncio.wait({task, asyncio.ensure_future(got.wait())}, return_when=asyncio.FIRST_COMPLETED)
    gone.set()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return status, body.decode()


async def get_as(
    app: Litestar, client: httpx.AsyncClient, caller: Caller, path_format: str, w: World
) -> tuple[int, str]:
    """Pages with the caller's browser (cookie session), the API with its bearer token."""
    url = concrete(path_format, w)
    if path_format.endswith("/events"):
        if is_page(path_format):
            cookies = "; ".join(f"{k}={v}" for k, v in caller.browser.cookies.items())
            return await first_event(app, url, {"cookie": cookies} if cookies else {})
        return await first_event(app, url, caller.headers)
    response = await (caller.browser.get(url) if is_page(path_format) else client.get(url, headers=caller.headers))
    return response.status_code, response.content.decode("utf-8", "replace")
