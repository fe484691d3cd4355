"""The receipt transaction with fewer round trips (issue 20, "a cheaper bid"), on PostgreSQL with
real commits: a first bid row made by ``INSERT … ON CONFLICT DO NOTHING`` still serialises two
first submissions of one bidder (the second waits, then gets the first's row); the receipt's TSA
token takes its serial from the sequence, its time from the receipt's own clock reading, and its
log row is written with the receipt, not before it in a savepoint.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import Bid, BidStatus, Lot
from bidding.receipts import sign_receipt
from bidding.repository.bids import BidRepository
from certs.sign.cades import verify_detached
from tests.bidding.harness import SubmissionSetup, harness_settings, prepare
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.parties.models import TimestampToken


async def _first_bid(session: AsyncSession, setup: SubmissionSetup, lot_id: object) -> Bid:
    now = await clock.now(session)
    new = Bid(
        tender_id=setup.tender.id,
        lot_id=lot_id,
        organisation_id=setup.bidders[0].organisation_id,
        status=BidStatus.SUBMITTED,
        versions=0,
        created_at=now,
        updated_at=now,
    )
    return await BidRepository(session).bid_locked_or_new(new)


async def test_two_first_submissions_of_one_bidder_share_one_bid_row(fresh_db: str, tmp_path: Path) -> None:
    setup = await prepare(fresh_db, tmp_path / "var", bidders=1, lots=("001",))
    engine = create_engine(fresh_db)
    session_maker: async_sessionmaker[AsyncSession] = create_session_maker(engine)
    try:
        async with session_maker() as session:
            lot_id = await session.scalar(sa.select(Lot.id).where(Lot.tender_id == setup.tender.id))

        async def second() -> tuple[object, int]:
            async with session_maker() as session, session.begin():
                bid = await _first_bid(session, setup, lot_id)
                return bid.id, bid.versions

        async with session_maker() as first_session:
            async with first_session.begin():
                first = await _first_bid(first_session, setup, lot_id)
                first.versions = 1  # what the first acceptance writes before it commits
                await first_session.flush()
                waiting = asyncio.create_task(second())
                await asyncio.sleep(0.5)
                assert not waiting.done()  # its INSERT waits for our uncommitted row
            other_id, other_versions = await asyncio.wait_for(waiting, 30)
        assert other_id == first.id  # no second row, no error: it read and locked ours
        assert other_versions == 1  # as committed by the first
        async with session_maker() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(Bid)) == 1
    finally:
        await engine.dispose()


async def test_the_receipts_token_row_is_written_with_it_at_its_time(fresh_db: str, tmp_path: Path) -> None:
    setup = await prepare(fresh_db, tmp_path / "var", bidders=1, lots=("001",))
    settings = harness_settings(setup.db_url, setup.var)
    engine = create_engine(fresh_db)
    session_maker = create_session_maker(engine)
    record = {"receiptNo": "BR-TEST", "tender": setup.tender.code, "parts": {}}
    try:
        async with session_maker() as session:
            before = await session.scalar(sa.select(sa.func.count()).select_from(TimestampToken))
        async with session_maker() as session:  # rolled back: no row survives it
            await sign_receipt(session, settings, record, client_ip=None, at=await clock.now(session))
            await session.rollback()
        signed = []
        for _ in range(2):
            async with session_maker() as session, session.begin():
                at = await clock.now(session)
                signed.append((at, await sign_receipt(session, settings, record, client_ip="192.0.2.7", at=at)))
        async with session_maker() as session:
            rows = (await session.scalars(sa.select(TimestampToken).order_by(TimestampToken.serial))).all()
        assert len(rows) == (before or 0) + 2
        for (at, receipt), row in zip(signed, rows[-2:], strict=True):
            stamp = verify_detached(receipt.data, receipt.signature, require_timestamp=True).timestamp
            assert stamp is not None
            assert stamp.gen_time == at.replace(microsecond=0) == row.issued_at  # the receipt's own reading
            assert stamp.serial_number == row.serial
            assert row.token_sha256 == hashlib.sha256(stamp.token).hexdigest()
            assert row.client_ip == "192.0.2.7"
        assert rows[-1].serial > rows[-2].serial
    finally:
        await engine.dispose()
