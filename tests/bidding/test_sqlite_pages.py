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
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.hazmat.primitives.serialization import pkcs12
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async
from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender, VersionKind
from certs.cms import SigningIdentity
from tests.trading.parties.factories import csrf_token
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.tasks import RecordingPublisher
from trading.ledger.models import LedgerEntry
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
    from trading.parties.models import Organisation

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
