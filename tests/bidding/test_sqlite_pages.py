"""The bidder's page routes on the embedded SQLite default (``make run``: ``ggzy demo`` + uvicorn), with
the application bound to a real SQLite file, not the suite's one-connection PostgreSQL savepoints.

Bid intake and the opening hall open their own units of work (``bidding/AGENTS.md``), each on a
connection of its own. On SQLite there is one write lock per file: a route that also holds the
request's ``BEGIN IMMEDIATE`` (every unsafe request that depends on ``db_session``) while intake or the
hall asks for the lock waits for itself until the busy timeout, then fails with "database is locked".
The suite's PostgreSQL fixture cannot show this (its "own" units of work are savepoints on the
request's connection), hence these tests. The busy timeout is cut to two seconds so a regression
fails fast instead of hanging for thirty.
"""

from __future__ import annotations

import asyncio
import base64
import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import PriceSummary, build_container_async, content_keys, sign_statement_async
from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender, VersionKind
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import Confirmation, Objection, OpeningBid, OpeningSession, PartStatus, Stage
from certs.cms import SigningIdentity
from tests.bidding.test_web import upload_in_pages
from tests.trading.parties.factories import csrf_token
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.ledger.models import LedgerEntry
from trading.parties.models import Organisation
from trading.server.cli import alembic_config
from trading.server.demo import DEMO_PASSWORD, seed_demo_data
from trading.server.demo_opening import DEMO_BIDDERS, DEMO_LOT, DEMO_OPENING_CODE
from trading.server.demo_pki import ensure_dev_ca

pytestmark = pytest.mark.sqlite

BUSY_TIMEOUT_MS = 2_000


@dataclass(frozen=True)
class Embedded:
    settings: Settings
    session_maker: async_sessionmaker[AsyncSession]
    app: Litestar
    manifest: dict[str, Any]


@pytest.fixture
async def embedded(tmp_path: Path, publisher: RecordingPublisher) -> AsyncIterator[Embedded]:
    """What ``make run`` serves: a migrated SQLite file with the demo data, and the app on it."""
    from trading.server.app import create_app

    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(db={"url": url}, var_dir=tmp_path)  # type: ignore[arg-type]
    await asyncio.to_thread(seed_demo_data, settings)
    manifest = await asyncio.to_thread(ensure_dev_ca, settings)
    engine = create_engine(url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    try:
        maker = create_session_maker(engine)
        yield Embedded(settings, maker, create_app(settings, session_maker=maker, publisher=publisher), manifest)
    finally:
        await engine.dispose()


async def log_in(browser: httpx.AsyncClient, username: str) -> None:
    form = await browser.get("/login")
    response = await browser.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, response.text


def identity(embedded: Embedded, leaf: str) -> SigningIdentity:
    out = embedded.settings.certs.dev_ca_dir
    assert out is not None
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (out / embedded.manifest["leaves"][leaf]["p12"]).read_bytes(), str(embedded.manifest["password"]).encode()
    )
    assert key is not None
    assert certificate is not None
    return SigningIdentity.from_key(key, certificate, chain)  # type: ignore[arg-type]


async def demo_bid(maker: async_sessionmaker[AsyncSession], uscc: str) -> tuple[Bid, BidVersion]:
    """The demo bidder's bid on the five-minute demo tender and its current version."""
    async with maker() as session:
        bid = (
            await session.scalars(
                sa.select(Bid)
                .join(Lot, Lot.id == Bid.lot_id)
                .join(Tender, Tender.id == Lot.tender_id)
                .join(Organisation, Organisation.id == Bid.organisation_id)
                .where(Tender.project_code == DEMO_OPENING_CODE, Lot.code == DEMO_LOT, Organisation.uscc == uscc)
            )
        ).one()
        assert bid.current_version_id is not None
        return bid, await session.get_one(BidVersion, bid.current_version_id)


async def test_withdrawal_page_on_sqlite(embedded: Embedded) -> None:
    """我的投标 → 撤回 with the bidder's signature: 303 at once, the bid withdrawn with its receipt and
    ledger entry (it was a 30 s hang and a 500 "database is locked [SQL: BEGIN IMMEDIATE]")."""
    demo = DEMO_BIDDERS[0]
    uscc = embedded.manifest["identifiers"][demo.identifier]
    bid, submitted = await demo_bid(embedded.session_maker, uscc)
    assert bid.status is BidStatus.SUBMITTED
    transport = httpx.ASGITransport(app=embedded.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, demo.username)
        mine = await browser.get("/bidding/bids")
        assert mine.status_code == 200
        statement = fmt.withdrawal_statement(DEMO_OPENING_CODE, DEMO_LOT, uscc, submitted.receipt_no)
        assert html.escape(statement.decode(), quote=False) in mine.text or statement.decode() in html.unescape(
            mine.text
        )
        signature = await sign_statement_async(statement, identity(embedded, demo.sign_leaf))
        started = asyncio.get_running_loop().time()
        withdrawn = await browser.post(
            f"/bidding/tenders/{DEMO_OPENING_CODE}/lots/{DEMO_LOT}/withdrawal",
            data={"_csrf_token": csrf_token(mine.text), "signature": base64.b64encode(signature).decode()},
        )
        elapsed = asyncio.get_running_loop().time() - started
        assert withdrawn.status_code == 303, withdrawn.text[:2000]
        assert elapsed < BUSY_TIMEOUT_MS / 1000, f"the withdrawal waited {elapsed:.1f} s for the write lock"
        after = await browser.get(withdrawn.headers["location"])
        assert after.status_code == 200
        assert "已撤回" in after.text

    bid, current = await demo_bid(embedded.session_maker, uscc)
    assert bid.status is BidStatus.WITHDRAWN
    assert current.kind is VersionKind.WITHDRAWAL
    assert current.manifest_signature == signature
    assert current.receipt_no in withdrawn.headers["location"]
    async with embedded.session_maker() as session:
        entries = await session.scalar(
            sa.select(sa.func.count()).where(
                LedgerEntry.action == "bidding.bid_withdrawn", LedgerEntry.subject_id == str(bid.id)
            )
        )
    assert entries == 1


async def test_refused_withdrawal_page_on_sqlite(embedded: Embedded) -> None:
    """A withdrawal the platform refuses (a signature that does not verify) answers the page with the
    refusal (422, field named), not a lock timeout; the bid stays submitted, nothing half-written."""
    demo = DEMO_BIDDERS[0]
    uscc = embedded.manifest["identifiers"][demo.identifier]
    bid, submitted = await demo_bid(embedded.session_maker, uscc)
    transport = httpx.ASGITransport(app=embedded.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, demo.username)
        mine = await browser.get("/bidding/bids")
        wrong = await sign_statement_async(b"not the withdrawal statement", identity(embedded, demo.sign_leaf))
        refused = await browser.post(
            f"/bidding/tenders/{DEMO_OPENING_CODE}/lots/{DEMO_LOT}/withdrawal",
            data={"_csrf_token": csrf_token(mine.text), "signature": base64.b64encode(wrong).decode()},
        )
        assert refused.status_code == 422, refused.text[:2000]
    again, current = await demo_bid(embedded.session_maker, uscc)
    assert again.status is BidStatus.SUBMITTED
    assert current.id == submitted.id
    assert again.versions == bid.versions


async def test_revocation_page_on_sqlite(embedded: Embedded) -> None:
    """我的投标 → 撤销 after the deadline with the bidder's signature over the statement the page shows
    (it names the consequence, 实施条例第三十五条): refused before the deadline (撤回 then), 303 after
    it without waiting for the write lock; the bid revoked with its receipt and ledger entry."""
    demo = DEMO_BIDDERS[0]
    uscc = embedded.manifest["identifiers"][demo.identifier]
    bid, submitted = await demo_bid(embedded.session_maker, uscc)
    statement = fmt.revocation_statement(DEMO_OPENING_CODE, DEMO_LOT, uscc, submitted.receipt_no)
    signature = await sign_statement_async(statement, identity(embedded, demo.sign_leaf))
    path = f"/bidding/tenders/{DEMO_OPENING_CODE}/lots/{DEMO_LOT}/revocation"
    transport = httpx.ASGITransport(app=embedded.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, demo.username)
        mine = await browser.get("/bidding/bids")
        form = f'data-pki-holder="revoke-{DEMO_OPENING_CODE}-{DEMO_LOT}"'  # this bid's revocation form
        assert form not in mine.text  # before the deadline: the withdrawal is offered
        data = {"_csrf_token": csrf_token(mine.text), "signature": base64.b64encode(signature).decode()}
        early = await browser.post(path, data=data)
        assert early.status_code == 422, early.text[:2000]
        assert 'data-rule="after-deadline"' in early.text
        async with embedded.session_maker() as session:
            tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == DEMO_OPENING_CODE))).one()
            assert tender.deadline is not None
            shift = tender.deadline - await clock.now(session) + timedelta(minutes=1)
        with clock.use_clock(clock.ShiftedClock(shift)):
            mine = await browser.get("/bidding/bids")
            assert form in mine.text
            assert "第三十五条" in mine.text
            assert statement.decode() in html.unescape(mine.text)
            started = asyncio.get_running_loop().time()
            revoked = await browser.post(path, data={**data, "_csrf_token": csrf_token(mine.text)})
            elapsed = asyncio.get_running_loop().time() - started
            assert revoked.status_code == 303, revoked.text[:2000]
            assert elapsed < BUSY_TIMEOUT_MS / 1000, f"the revocation waited {elapsed:.1f} s for the write lock"
            after = await browser.get(revoked.headers["location"])
            assert "data-revoked" in after.text
            assert "已撤销" in after.text
            assert form not in after.text

    bid, current = await demo_bid(embedded.session_maker, uscc)
    assert bid.status is BidStatus.REVOKED
    assert current.kind is VersionKind.REVOCATION
    assert current.manifest == statement
    assert current.receipt_no in revoked.headers["location"]
    async with embedded.session_maker() as session:
        entries = await session.scalar(
            sa.select(sa.func.count()).where(
                LedgerEntry.action == "bidding.bid_revoked", LedgerEntry.subject_id == str(bid.id)
            )
        )
    assert entries == 1


class Seat:
    """A browser logged in to the app on SQLite; every unsafe call is timed against the busy timeout."""

    def __init__(self, browser: httpx.AsyncClient) -> None:
        self.browser = browser

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-csrftoken": str(self.browser.cookies["ggzy_csrf"]), **kwargs.pop("headers", {})}
        started = asyncio.get_running_loop().time()
        response = await self.browser.post(path, headers=headers, **kwargs)
        elapsed = asyncio.get_running_loop().time() - started
        assert response.status_code < 500, f"{path}: {response.status_code} {response.text[:2000]}"
        assert elapsed < BUSY_TIMEOUT_MS / 1000, f"{path} waited {elapsed:.1f} s for the write lock"
        return response


async def test_hall_pages_on_sqlite(embedded: Embedded) -> None:
    """Every kind of hall form that runs the opening's own units of work, from the pages, on SQLite:
    签到, decryption in the bidder's seat, the host's transition, 异议 and its answer, confirmation."""
    maker, code = embedded.session_maker, DEMO_OPENING_CODE
    async with maker() as session:
        now = await clock.now(session)
        deadline = await session.scalar(sa.select(Tender.deadline).where(Tender.project_code == code))
    assert deadline is not None
    at_deadline = clock.ShiftedClock(deadline - now + timedelta(seconds=1))
    with clock.use_clock(at_deadline):
        await run_sweep(maker, [TenderDeadline(FileStore(embedded.settings.storage_dir)), OpeningClock()])
    assert await hall_stage(maker) is Stage.SIGN_IN
    transport = httpx.ASGITransport(app=embedded.app)  # type: ignore[arg-type]
    browsers = [httpx.AsyncClient(transport=transport, base_url="http://testserver.local") for _ in range(3)]
    try:
        seats: dict[str, Seat] = {}
        for browser, username in zip(browsers, [*(b.username for b in DEMO_BIDDERS), "tenderee"], strict=True):
            await log_in(browser, username)
            seats[username] = Seat(browser)
        with clock.use_clock(at_deadline):
            await sign_in(embedded, seats)
        with clock.use_clock(clock.ShiftedClock(deadline - now + timedelta(minutes=2))):
            await run_sweep(maker, [OpeningClock()])
            assert await hall_stage(maker) is Stage.DECRYPTION
            await decrypt(embedded, seats)
            assert await hall_stage(maker) is Stage.PRICE_READING
            moved = await seats["tenderee"].post(
                f"{HALL}/host/transitions", data={"action": Stage.CONFIRMATION.value, "reason": ""}
            )
            assert moved.status_code == 303, moved.text[:2000]
            assert await hall_stage(maker) is Stage.CONFIRMATION
            await object_and_confirm(embedded, seats)
    finally:
        for browser in browsers:
            await browser.aclose()


HALL = f"/bidding/opening/{DEMO_OPENING_CODE}"


async def hall_stage(maker: async_sessionmaker[AsyncSession]) -> Stage:
    async with maker() as session:
        value = await session.scalar(
            sa.select(OpeningSession.stage)
            .join(Tender, Tender.id == OpeningSession.tender_id)
            .where(Tender.project_code == DEMO_OPENING_CODE)
        )
    assert value is not None
    return value


def _hall_bids() -> sa.Select[OpeningBid]:
    """The five-minute demo hall's bids (the evaluation demo's opened tender has its own)."""
    return (
        sa.select(OpeningBid)
        .join(OpeningSession, OpeningSession.id == OpeningBid.session_id)
        .join(Tender, Tender.id == OpeningSession.tender_id)
        .where(Tender.project_code == DEMO_OPENING_CODE)
    )


async def sign_in(embedded: Embedded, seats: dict[str, Seat]) -> None:
    """签到 from each demo bidder's seat with its signature over the statement."""
    for demo in DEMO_BIDDERS:
        uscc = embedded.manifest["identifiers"][demo.identifier]
        statement = fmt.sign_in_statement(DEMO_OPENING_CODE, uscc)
        signature = await sign_statement_async(statement, identity(embedded, demo.sign_leaf))
        signed_in = await seats[demo.username].post(
            f"{HALL}/bidder/sign-in", data={"signature": base64.b64encode(signature).decode()}
        )
        assert signed_in.status_code == 303, signed_in.text[:2000]
    async with embedded.session_maker() as session:
        rows = (await session.scalars(_hall_bids())).all()
    assert len(rows) == len(DEMO_BIDDERS)
    assert all(row.signed_in_at is not None for row in rows)


async def decrypt(embedded: Embedded, seats: dict[str, Seat]) -> None:
    """What the seat's script does: fetch the envelopes, unwrap each part's key, post it."""
    for demo in DEMO_BIDDERS:
        uscc = embedded.manifest["identifiers"][demo.identifier]
        seat = seats[demo.username]
        [envelope] = (await seat.browser.get(f"{HALL}/bidder/envelopes")).json()
        key = private_key(embedded, demo.enc_leaf)
        keys = content_keys(envelope, key, tender=DEMO_OPENING_CODE, lot=DEMO_LOT, bidder=uscc)
        for part in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
            opened = await seat.post(
                f"{HALL}/bidder/decryption",
                json={"lot": DEMO_LOT, "part": part, "contentKey": base64.b64encode(keys[part]).decode()},
            )
            assert opened.status_code == 200, opened.text[:2000]
    async with embedded.session_maker() as session:
        rows = (await session.scalars(_hall_bids())).all()
    assert all(row.price_status is PartStatus.OPENED for row in rows)
    assert all(row.package_status is PartStatus.OPENED for row in rows)


async def object_and_confirm(embedded: Embedded, seats: dict[str, Seat]) -> None:
    """异议 from a bidder's seat, the host's answer, and the bidder's signed confirmation."""
    demo = DEMO_BIDDERS[0]
    uscc = embedded.manifest["identifiers"][demo.identifier]
    seat, signer = seats[demo.username], identity(embedded, demo.sign_leaf)
    text = "唱标价格与投标文件一致, 请核对 (SQLite)"
    signature = await sign_statement_async(fmt.objection_statement(DEMO_OPENING_CODE, uscc, text), signer)
    objected = await seat.post(
        f"{HALL}/bidder/objections", data={"text": text, "signature": base64.b64encode(signature).decode()}
    )
    assert objected.status_code == 303, objected.text[:2000]
    async with embedded.session_maker() as session:
        objection = (await session.scalars(sa.select(Objection))).one()
    answered = await seats["tenderee"].post(
        f"{HALL}/host/objections/{objection.id}/answer", data={"answer": "已核对, 一致。"}
    )
    assert answered.status_code == 303, answered.text[:2000]
    statement = (await seat.browser.get(f"{HALL}/bidder/confirmation-statement")).content
    confirmation = await sign_statement_async(statement, signer)
    confirmed = await seat.post(
        f"{HALL}/bidder/confirmation", data={"signature": base64.b64encode(confirmation).decode()}
    )
    assert confirmed.status_code == 303, confirmed.text[:2000]
    async with embedded.session_maker() as session:
        objection = (await session.scalars(sa.select(Objection))).one()
        confirmations = (await session.scalars(sa.select(Confirmation))).all()
    assert objection.answer == "已核对, 一致。"
    assert [row.signature for row in confirmations] == [confirmation]


def private_key(embedded: Embedded, leaf: str) -> Any:
    out = embedded.settings.certs.dev_ca_dir
    assert out is not None
    key, _, _ = pkcs12.load_key_and_certificates(
        (out / embedded.manifest["leaves"][leaf]["p12"]).read_bytes(), str(embedded.manifest["password"]).encode()
    )
    return key


async def test_upload_pages_on_sqlite(embedded: Embedded, tmp_path: Path) -> None:
    """The browser's resumable upload (start, PATCH chunks, submission), each step intake's own unit
    of work, from the pages on SQLite: a new version with its receipt, the earlier one kept."""
    demo = DEMO_BIDDERS[1]
    uscc = embedded.manifest["identifiers"][demo.identifier]
    bid, before = await demo_bid(embedded.session_maker, uscc)
    out = embedded.settings.certs.dev_ca_dir
    assert out is not None
    async with embedded.session_maker() as session:
        deadline = await session.scalar(sa.select(Tender.deadline).where(Tender.project_code == DEMO_OPENING_CODE))
    assert deadline is not None
    proposal = tmp_path / "投标文件.txt"
    proposal.write_text("修正后的投标文件 (SQLite)\n" * 400, encoding="utf-8")
    built = await build_container_async(
        tmp_path / "bid.zip",
        tender=DEMO_OPENING_CODE,
        lot=DEMO_LOT,
        bidder_uscc=uscc,
        deadline=deadline,
        files=[proposal],
        price_summary=PriceSummary(
            tender=DEMO_OPENING_CODE, lot=DEMO_LOT, bidder=uscc, total_price=demo.total_price, duration_days=100
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=identity(embedded, demo.sign_leaf),
        bidder_encryption=x509.load_pem_x509_certificates(
            (out / embedded.manifest["leaves"][demo.enc_leaf]["pem"]).read_bytes()
        )[0],
    )
    transport = httpx.ASGITransport(app=embedded.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, demo.username)
        started = asyncio.get_running_loop().time()
        submitted = await upload_in_pages(
            browser, str(browser.cookies["ggzy_csrf"]), DEMO_OPENING_CODE, DEMO_LOT, built.path.read_bytes()
        )
        elapsed = asyncio.get_running_loop().time() - started
    assert submitted.status_code == 201, submitted.text[:2000]
    assert elapsed < 4 * BUSY_TIMEOUT_MS / 1000  # several requests, none of them waiting out a timeout
    after, current = await demo_bid(embedded.session_maker, uscc)
    assert current.receipt_no == submitted.json()["receiptNo"]
    assert current.id != before.id
    assert after.versions == bid.versions + 1
    assert after.status is BidStatus.SUBMITTED


def test_no_unsafe_route_holds_the_request_unit_of_work_around_an_own_one(settings: Settings) -> None:
    """Every POST/PUT/PATCH/DELETE route whose services open their own units of work (intake, the
    opening hall, the opening record) depends on no ``db_session``, directly or through another
    dependency: on SQLite that session's ``BEGIN IMMEDIATE`` is the write lock they would wait for."""
    from bidding.deps import provide_intake
    from bidding.opening.deps import provide_opening, provide_records
    from trading.server.app import create_app

    app = create_app(settings)  # the routes only: nothing here connects to a database
    own_units_of_work = {provide_intake, provide_opening, provide_records}
    checked, offending = [], []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", ()))
            if not methods - {"GET", "HEAD", "OPTIONS"}:
                continue
            dependencies = handler.resolve_dependencies()
            needed: set[str] = set()
            todo = [name for name in handler.parsed_fn_signature.parameters if name in dependencies]
            while todo:
                name = todo.pop()
                if name in needed:
                    continue
                needed.add(name)
                model = dependencies[name].signature_model
                todo.extend(field for field in (model.__struct_fields__ if model else ()) if field in dependencies)
            if not any(dependencies[name].dependency in own_units_of_work for name in needed):
                continue
            checked.append(route.path)
            if "db_session" in needed:
                offending.append(f"{sorted(methods)} {route.path}")
    assert len(checked) >= 20  # intake's and the hall's routes, API and pages: the walk found them
    assert offending == []
