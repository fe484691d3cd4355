"""Confidentiality before the deadline (issue 4 acceptance; Order 20 Art. 21, 26, 27).

With every bid submitted, a marker string from the bids' plaintext appears nowhere: not in a dump
of the database, not in the file store, not in the logs. And every role's attempt to learn who
bid or downloaded is refused and recorded.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.bidding.containers import MARKER, bid_client, build
from tests.bidding.factories import agency_party, bidder_party, published_tender, tenderee_party
from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def session_maker(fresh_db: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real commits in a database of this test's own, so a dump sees what the platform stored."""
    engine = create_engine(fresh_db)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def _dump(url: str) -> bytes:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    result = subprocess.run(["pg_dump", "--data-only", plain], capture_output=True, check=True)
    return result.stdout


async def test_nothing_of_a_bid_leaks_and_nobody_lists_bidders_before_the_deadline(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    fresh_db: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    code = tender.project_code
    for index, ca in enumerate(("jiangsu", "jiangsu", "anhui")):
        bidder = await bidder_party(session_maker, settings, dev_pki, ca=ca)  # type: ignore[arg-type]
        built = await build(tmp_path / str(index), bidder, tender=code, lot="L1", deadline=tender.deadline)
        assert MARKER.encode() in (tmp_path / str(index) / "bid.zip.files" / "technical-proposal.txt").read_bytes()
        receipt = await (await bid_client(client, bidder)).upload(code, "L1", built.path)
        assert receipt.receipt_no

    # Every role that could want to know is refused, and each attempt is in the ledger.
    agency = await agency_party(session_maker, settings, dev_pki)
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    admin = await create_account(session_maker, settings, Role.ADMIN)
    headers = [
        await tenderee.headers(client),
        await agency.headers(client),
        bearer(await api_token(client, supervisor)),
        bearer(await api_token(client, admin)),
    ]
    for who in headers:
        bids = await client.get(f"/api/v1/bidding/tenders/{code}/bids", headers=who)
        assert bids.status_code == 403, bids.text
        downloads = await client.get(f"/api/v1/bidding/tenders/{code}/downloads", headers=who)
        assert downloads.status_code == 403, downloads.text
    async with session_maker() as session:
        recorded = await session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.action == "bidding.bids_list_refused")
        )
    assert recorded == len(headers)

    # The database: the dump holds the tender, but nothing of the bids' plaintext.
    dump = _dump(fresh_db)
    assert code.encode() in dump
    assert MARKER.encode() not in dump

    # The file store: sealed containers only.
    stored = [path for path in settings.storage_dir.rglob("*") if path.is_file()]
    assert any("bids" in path.parts for path in stored)
    for path in stored:
        assert MARKER.encode() not in path.read_bytes(), path

    # The logs, at DEBUG, of everything above.
    output = capfd.readouterr()
    assert MARKER not in output.out
    assert MARKER not in output.err
    assert MARKER not in caplog.text
