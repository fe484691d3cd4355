"""Who sees what of the bids (issue 11): every bidding route declares what it exposes
(`bidding.visibility.Exposure`); the stage walk calls every GET route under ``/bidding`` and
``/api/v1/bidding`` as each role at each opening stage and searches the bodies for planted prices,
bidder USCCs and an objection's text; the ownership walk calls every tender-scoped route as
unrelated organisations of each role and fails on any success.

One tender (an agency acting for a tenderee), three real sealed bids (A, B, C) and an outsider
bidder. At the opening, A and B have "decrypted" (distinctive prices planted on their rows), C has
not; A has filed an objection. The stage is then set directly, one stage after another.
"""

from __future__ import annotations

import asyncio
import base64
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
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.routes import HTTPRoute
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import BidUpload, BidVersion, Tender, TenderDocument
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import Objection, OpeningBid, OpeningSession, Outcome, PartStatus, Stage
from bidding.policies import BiddingPermission
from bidding.visibility import READ_OUT_STAGES, VISIBILITY_OPT, Exposure, OpeningPolicy, Relation
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import Party, agency_party, bidder_party, published_tender, tenderee_party
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, create_account, csrf_token
from trading.kernel import clock
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.kernel.live import InProcessBroker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry
from trading.server.routing import PUBLIC_ROUTES

pytestmark = pytest.mark.usefixtures("dev_lists")

BIDDING_PREFIXES = ("/bidding", "/api/v1/bidding")
PRICES = {"A": "7310001.23", "B": "8420002.34"}
"""Planted on A's and B's rows as their decrypted price summaries: found nowhere they may not be."""
OBJECTION = "A公司异议：签到时间的记录不完整 OBJ-7e3f"
OWNERS = frozenset({"tenderee", "agency"})
OVERSEERS = frozenset({"supervisor", "admin"})
UNRELATED = ("outsider-bidder", "other-tenderee", "other-agency", "expert")
"""Organisations of each role with nothing to do with the tender."""


# --- the declarations ------------------------------------------------------------------------------


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


def undeclared(app: Litestar) -> list[str]:
    return sorted(
        f"{sorted(handler.http_methods)} {route.path_format} ({handler.handler_name})"
        for route, handler in bidding_handlers(app)
        if exposure_of(handler) is None
    )


def test_every_bidding_route_declares_what_it_exposes(app: Litestar) -> None:
    """A new bidding route without a visibility declaration fails here (and then needs a sample
    URL in the walks below, which fail on a declared route they cannot call).
    """
    assert undeclared(app) == [], "bidding routes that do not declare what they expose (bidding.visibility.Exposure)"
    assert len(list(bidding_handlers(app))) > 60  # the walk sees the real application


@get("/api/v1/bidding/_probe/{code:str}/prices", include_in_schema=False, opt=requires(BiddingPermission.OPENING_READ))
async def undeclared_prices_probe(code: FromPath[str]) -> dict[str, str]:
    return {"tender": code, "totalPrice": "1.00"}


@pytest.mark.parametrize("relation", list(Relation))
def test_the_opening_record_pdf_is_public_once_the_platform_signed_it(relation: Relation) -> None:
    """Issue 21 item 5: after the platform's signature an anonymous ``record.pdf`` was 404 until the
    host countersigned. Order 20 Art. 32 has the platform generate and publish the record: everyone
    may read it once the platform signed it, nobody before (there is nothing to serve).
    """
    policy = OpeningPolicy(relation, Stage.CLOSED, None)
    assert policy.may_read_record_pdf(platform_signed=True) is True
    assert policy.may_read_record_pdf(platform_signed=False) is False


def test_a_new_bidding_route_without_a_declaration_is_caught(app: Litestar) -> None:
    app.register(undeclared_prices_probe)
    assert undeclared(app) == ["['GET'] /api/v1/bidding/_probe/{code}/prices (undeclared_prices_probe)"]


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
        "number": "1",
        "part": "price-summary",
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


# --- the stage walk --------------------------------------------------------------------------------


def allowed_to_see(caller: str, stage: Stage) -> dict[str, set[str]]:
    """What each caller may find in any body at ``stage`` (`bidding.visibility`'s rules)."""
    published = stage in READ_OUT_STAGES
    bidder = caller.removeprefix("bidder-") if caller.startswith("bidder-") else None
    participant = bidder is not None or caller in OWNERS | OVERSEERS
    return {
        "price": set(PRICES) if published else ({bidder} & set(PRICES) if bidder else set()),
        "uscc": set("ABC") if published or caller in OWNERS | OVERSEERS else ({bidder} if bidder else set()),
        "objection": {"A"} if caller in OWNERS | OVERSEERS or bidder == "A" or (published and participant) else set(),
    }


def leaks(body: str, w: World, allowed: Mapping[str, set[str]]) -> list[str]:
    found = []
    for name, price in PRICES.items():
        grouped = f"{int(float(price)):,}"  # pages may format 7310001.23 as 7,310,001.23
        if name not in allowed["price"] and (price in body or grouped in body):
            found.append(f"price of {name}")
    found += [f"USCC of {name}" for name in "ABC" if name not in allowed["uscc"] and w.uscc(name) in body]
    found += [
        f"name of {name}"
        for name in "ABC"
        if name not in allowed["uscc"] and re.search(re.escape(w.bidders[name].name) + r"(?!\d)", body)
    ]
    if "A" not in allowed["objection"] and "OBJ-7e3f" in body:
        found.append("A's objection")
    return found


async def test_no_price_or_bidder_reaches_anyone_the_stage_does_not_allow(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Every GET route under bidding, as each role at each stage: before 唱标 a bidder finds only
    its own row and price, nobody another's price; from 唱标 on the price table is public.
    """
    routes = sorted({route.path_format for route, handler in bidding_handlers(app) if "GET" in handler.http_methods})
    found: list[str] = []
    seen: dict[tuple[str, str, str], str] = {}
    for stage in (Stage.SIGN_IN, Stage.DECRYPTION, Stage.PRICE_READING, Stage.CONFIRMATION, Stage.CLOSED):
        await set_stage(session_maker, w.code, stage)
        for name, caller in w.callers.items():
            allowed = allowed_to_see(name, stage)
            for path in routes:
                status, body = await get_as(app, client, caller, path, w)
                assert status < 500, f"{path} as {name} at {stage}: {status} {body[:300]}"
                seen[stage.value, name, path] = body
                found += [f"{leak} in {path} as {name} at {stage}" for leak in leaks(body, w, allowed)]
    assert found == [], "\n".join(found)

    # The walk reaches the data (it would see a leak): the host's record lists every bidder
    # during decryption; A's own record has its price; at 唱标 a visitor sees the table.
    decrypting = Stage.DECRYPTION.value
    record = "/api/v1/bidding/opening/{code}/record"
    assert w.uscc("C") in seen[decrypting, "agency", record]
    assert PRICES["A"] in seen[decrypting, "bidder-A", record]
    assert PRICES["B"] in seen[Stage.PRICE_READING.value, "visitor", "/api/v1/bidding/opening/{code}"]
    assert PRICES["B"] in seen[Stage.PRICE_READING.value, "visitor", "/api/v1/bidding/opening/{code}/events"]
    assert w.uscc("B") in seen[decrypting, "supervisor", "/api/v1/bidding/tenders/{code}/bids"]
    assert w.uscc("B") in seen[decrypting, "tenderee", "/api/v1/bidding/tenders/{code}/downloads"]


async def test_a_bidder_reads_no_rival_price_from_the_record_during_decryption(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Issue 11 finding 1: ``GET …/record`` during decryption gave any bidder account every
    bidder's name and every price already decrypted.
    """
    await set_stage(session_maker, w.code, Stage.DECRYPTION)
    url = f"/api/v1/bidding/opening/{w.code}/record"
    # C has not decrypted yet: it must not learn A's or B's price, nor who they are.
    as_c = await client.get(url, headers=w.callers["bidder-C"].headers)
    assert as_c.status_code == 200, as_c.text
    assert [bid["bidder"] for bid in as_c.json()["bids"]] == [w.uscc("C")]
    assert PRICES["A"] not in as_c.text
    assert PRICES["B"] not in as_c.text
    # A decrypted: its own price, nobody else's.
    as_a = (await client.get(url, headers=w.callers["bidder-A"].headers)).json()
    assert [(bid["bidder"], bid.get("totalPrice")) for bid in as_a["bids"]] == [(w.uscc("A"), PRICES["A"])]
    # The host runs the decryption: every row, no price.
    as_host = (await client.get(url, headers=w.callers["agency"].headers)).json()
    assert {bid["bidder"] for bid in as_host["bids"]} == {w.uscc(name) for name in "ABC"}
    assert all("totalPrice" not in bid for bid in as_host["bids"])
    # A bidder that did not bid gets nothing, and the attempt is recorded.
    outsider = await client.get(url, headers=w.callers["outsider-bidder"].headers)
    assert outsider.status_code == 403
    assert outsider.json()["errors"][0]["rule"] == "participants-only"
    async with session_maker() as session:
        refused = await session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.action == "bidding.opening_record_refused", LedgerEntry.chain == f"project:{w.code}"
            )
        )
    assert refused is not None
    assert refused.summary["rule"] == "participants-only"


async def test_only_the_tenders_own_and_the_supervisors_list_its_bids(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Issue 11 finding 2: after the deadline ``GET /tenders/{code}/bids`` answered any tenderee or
    agency, not only the tender's own.
    """
    url = f"/api/v1/bidding/tenders/{w.code}/bids"
    for name in ("tenderee", "agency", "supervisor", "admin"):
        listing = await client.get(url, headers=w.callers[name].headers)
        assert listing.status_code == 200, (name, listing.text)
        assert {row["uscc"] for row in listing.json()} == {w.uscc(n) for n in "ABC"}
    for name in ("other-tenderee", "other-agency"):
        refused = await client.get(url, headers=w.callers[name].headers)
        assert refused.status_code == 403, (name, refused.text)
        assert refused.json()["errors"][0]["rule"] == "owner"
        assert w.uscc("A") not in refused.text
    async with session_maker() as session:
        recorded = list(
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.action == "bidding.bids_list_refused", LedgerEntry.chain == f"project:{w.code}"
                )
            )
        )
    assert [entry.summary["rule"] for entry in recorded] == ["owner-or-overseer", "owner-or-overseer"]


# --- the ownership walk ----------------------------------------------------------------------------

SCOPED = frozenset(
    {
        Exposure.OWNER,
        Exposure.OWNER_OR_OVERSEER,
        Exposure.HOST,
        Exposure.OPENING_BIDDER,
        Exposure.OWN,
        Exposure.OPENING_STAGE,
    }
)
"""Exposures that belong to particular organisations. The rest is public or open to every
organisation of the role (published tenders, downloads, questions, bidding), or, for key holders,
tied to a certificate rather than an organisation: a release is refused unless signed by a listed
holder, and only for a bid with a recorded incident (tests/bidding/opening/test_opening_story.py).
"""
ACTING = frozenset({Exposure.OWNER, Exposure.HOST, Exposure.OPENING_BIDDER, Exposure.OWN})
"""Exposures where overseers, who only read, are refused as well."""
REFUSED = frozenset({401, 403, 404})


def request_for(path_format: str, w: World, caller: Caller) -> dict[str, Any]:
    """A well-formed request, so that what refuses it is the ownership check, not the body's shape."""
    signature = base64.b64encode(b"\x30\x03\x02\x01\x00").decode()
    pdf = ("file", ("x.pdf", b"%PDF-1.7\n% walk\n", "application/pdf"))
    p7s = ("signature", ("x.pdf.p7s", b"\x30\x03\x02\x01\x00", "application/pkcs7-signature"))
    api_bodies: dict[str, dict[str, Any]] = {
        "/api/v1/bidding/tenders/{code}": {"json": {"title": "改名"}},
        "/api/v1/bidding/tenders/{code}/documents": {"files": [pdf, p7s], "data": {"title": "补充"}},
        "/api/v1/bidding/tenders/{code}/clarifications": {"files": [pdf, p7s], "data": {"title": "澄清"}},
        "/api/v1/bidding/tenders/{code}/extension": {
            "json": {"deadline": "2099-01-01T00:00:00+08:00", "reason": "walk"}
        },
        "/api/v1/bidding/tenders/{code}/cancellation": {"json": {"reason": "walk"}},
        "/api/v1/bidding/uploads/{upload_id}": {"content": b"x", "headers": {"Upload-Offset": "0"}},
        "/api/v1/bidding/opening/{code}/transitions": {"json": {"action": "pause", "reason": "walk"}},
        "/api/v1/bidding/opening/{code}/incidents": {"json": {"lot": "L1", "bidder": w.uscc("A"), "cause": "walk"}},
        "/api/v1/bidding/opening/{code}/objections/{objection_id}/answer": {"json": {"answer": "walk"}},
        "/api/v1/bidding/tenders/{code}/document-objections": {"json": {"text": "walk", "signature": signature}},
        "/api/v1/bidding/tenders/{code}/document-objections/{objection_id}/answer": {"json": {"answer": "walk"}},
        "/api/v1/bidding/opening/{code}/record/host-signature": {
            "content": b"%PDF-1.7\n% walk\n",
            "headers": {"Content-Type": "application/pdf"},
        },
        "/api/v1/bidding/opening/{code}/decryption": {
            "json": {"lot": "L1", "part": "price-summary", "contentKey": base64.b64encode(bytes(32)).decode()}
        },
        "/api/v1/bidding/opening/{code}/objections": {"json": {"text": "walk", "signature": signature}},
        "/api/v1/bidding/opening/{code}/confirmation": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/sign-in": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/backups/{lot}/{part}": {
            "content": b"{}",
            "headers": {"Content-Type": "application/octet-stream"},
        },
        "/api/v1/bidding/tenders/{code}/lots/{lot}/withdrawal": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/shares": {
            "json": {"lot": "L1", "bidder": w.uscc("A"), "shares": {}, "signature": signature}
        },
    }
    page_forms: dict[str, dict[str, Any]] = {
        "/bidding/manage/tenders/{code}/documents": {"files": [pdf, p7s], "data": {"title": "补充"}},
        "/bidding/manage/tenders/{code}/clarifications": {"files": [pdf, p7s], "data": {"title": "澄清"}},
        "/bidding/manage/tenders/{code}/extension": {"data": {"deadline": "2099-01-01T00:00", "reason": "walk"}},
        "/bidding/opening/{code}/host/transitions": {"data": {"action": "pause", "reason": "walk"}},
        "/bidding/opening/{code}/host/incidents": {"data": {"lot": "L1", "bidder": w.uscc("A"), "cause": "walk"}},
        "/bidding/opening/{code}/host/objections/{objection_id}/answer": {"data": {"answer": "walk"}},
        "/bidding/opening/{code}/bidder/objections": {"data": {"text": "walk", "signature": signature}},
        "/bidding/opening/{code}/bidder/confirmation": {"data": {"signature": signature}},
        "/bidding/opening/{code}/bidder/sign-in": {"data": {"signature": signature}},
        "/bidding/tenders/{code}/lots/{lot}/withdrawal": {"data": {"signature": signature}},
        "/bidding/uploads/{upload_id}": {"content": b"x", "headers": {"Upload-Offset": "0"}},
    }
    if is_page(path_format):
        spec = dict(page_forms.get(path_format, {}))
        headers = {**spec.pop("headers", {}), "x-csrftoken": caller.csrf}
        return {**spec, "headers": headers}
    spec = dict(api_bodies.get(path_format, {}))
    return {**spec, "headers": {**spec.pop("headers", {}), **caller.headers}}


def _rule(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        errors = response.json().get("errors") or [{}]
        return f"{errors[0].get('field')}/{errors[0].get('rule')}"
    return str(response.headers.get("location", ""))


async def test_no_unrelated_organisation_succeeds_on_any_tender_scoped_route(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Every ``{code}`` and ``{id}`` route under bidding (API and pages) whose exposure belongs to
    particular organisations, as an unrelated organisation of each role: refused, never answered
    with data. Overseers read (listings, the hall) but do not act for the tender's own.
    """
    scoped = sorted(
        (route.path_format, method, exposure)
        for route, handler in bidding_handlers(app)
        if "{" in route.path_format and (exposure := exposure_of(handler)) in SCOPED
        for method in handler.http_methods
        # Public hall views: walked for leaks above, open to visitors by design.
        if not (exposure is Exposure.OPENING_STAGE and route.path_format in PUBLIC_ROUTES)
    )
    assert len(scoped) > 40
    successes: list[str] = []
    for stage in (Stage.DECRYPTION, Stage.CONFIRMATION):
        await set_stage(session_maker, w.code, stage)
        for path, method, exposure in scoped:
            callers = UNRELATED + (tuple(OVERSEERS) if exposure in ACTING else ())
            for name in callers:
                caller = w.callers[name]
                http = caller.browser if is_page(path) else client
                response = await http.request(method, concrete(path, w), **request_for(path, w, caller))
                if response.status_code not in REFUSED:
                    successes.append(f"{method} {path} as {name} at {stage}: {response.status_code} {_rule(response)}")
    assert successes == [], "\n".join(successes)


def test_evaluators_hold_no_opening_key_share() -> None:
    """Issue 21 item 10 (87号令 Art. 40: evaluators stay out of the opening): no escrow share grant."""
    from bidding.policies import ROLE_GRANTS, BiddingPermission

    assert BiddingPermission.OPENING_SHARE not in ROLE_GRANTS.get(Role.EXPERT, frozenset())
    assert not any(str(grant).startswith("bidding:opening") for grant in ROLE_GRANTS.get(Role.EXPERT, frozenset()))
    # Custodians that may hold keys keep the grant.
    assert BiddingPermission.OPENING_SHARE in ROLE_GRANTS[Role.AGENCY]


async def test_reading_the_record_before_the_opening_appends_nothing_to_the_ledger(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    """Only the participants-only refusal is an attempt worth recording; "no opening yet" on a
    read used to append a ledger entry (under the ledger's write lock) for every poll."""
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    agency = await agency_party(session_maker, settings, dev_pki)
    tender = await published_tender(
        session_maker, settings, store, agency, lots=1, tenderee_organisation_id=tenderee.organisation_id
    )
    chain = f"project:{tender.project_code}"

    async def entries() -> int | None:
        async with session_maker() as session:
            return await session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.chain == chain))

    before = await entries()
    response = await client.get(
        f"/api/v1/bidding/opening/{tender.project_code}/record", headers=await agency.headers(client)
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["rule"] == "opening-exists"
    assert await entries() == before
