"""The opening's stages on PostgreSQL: 唱标 starts once every price summary is open while packages
follow, fewer than three bids → 流标, and the window's end happens once under repeated and
concurrent sweeps.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import (
    content_keys,
)
from bidding.models import Tender, TenderStatus
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import OpeningBid, OpeningSession, Outcome, Stage
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.factories import bidder_party, draft_tender, published_tender, tenderee_party
from tests.bidding.opening.hall_support import PRICES, ledger_actions, refused_with, seal_bid, sign_in_hall
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_price_reading_starts_when_every_price_summary_is_open_packages_follow(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """唱标 does not wait for the packages: once every price summary is open the table is read out,
    packages are still accepted during 唱标 until the decryption window's end, and a package not sent
    by then revokes its bid (the price it read out stays in the table with the outcome).
    """
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await seal_bid(
            tmp_path / name, bidder, code=code, deadline=tender.deadline, price=PRICES[name], holders=[]
        )
        await clients[name].upload(code, "L1", built.path)
    host = await tenderee.headers(client)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        for name in "ABC":
            await sign_in_hall(clients[name], code, bidders[name])
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "decryption"}, headers=host
        )
        assert moved.status_code == 200, moved.text
        window_end = moved.json()["stageEndsAt"]
        keys = {}
        for name, bidder in bidders.items():
            [envelope] = await clients[name].envelopes(code)
            assert bidder.encrypt is not None
            keys[name] = content_keys(envelope, bidder.encrypt.key, tender=code, lot="L1", bidder=bidder.uscc)  # type: ignore[arg-type]
        # A opens both parts; B and C their price summaries: the last one starts 唱标.
        await clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["A"][fmt.PRICE_SUMMARY])
        await clients["A"].send_content_key(code, "L1", fmt.PACKAGE, keys["A"][fmt.PACKAGE])
        for name in "BC":
            await clients[name].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys[name][fmt.PRICE_SUMMARY])
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert hall["stage"] == "price-reading"
        assert hall["decryptionWindowOpen"] is True
        assert hall["stageEndsAt"] == window_end  # the window's end carried over as 唱标's clock
        lines = {line["bidder"]: line for line in hall["priceTable"]}
        assert [lines[bidders[n].uscc]["totalPrice"] for n in "ABC"] == [PRICES[n] for n in "ABC"]
        assert [lines[bidders[n].uscc]["outcome"] for n in "ABC"] == ["decrypted", "pending", "pending"]
        assert hall["bids"] == {"total": 3, "signedIn": 3, "opened": 1, "pricesOpened": 3, "packagesOpened": 1}
        # The host cannot move on to confirmation while packages may still come.
        early = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert early.status_code == 409
        assert early.json()["errors"][0]["rule"] == "decryption-window-running"
        # A price summary cannot be sent during 唱标 (there is none left); B's package can.
        await refused_with(
            clients["B"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["B"][fmt.PRICE_SUMMARY]),
            "decryption-window",
        )
        answer = await clients["B"].send_content_key(code, "L1", fmt.PACKAGE, keys["B"][fmt.PACKAGE])
        assert answer["outcome"] == "decrypted"
        # The window ends in 唱标: C, who never sent its package, is revoked; its price stays read out.
        shifted.advance(timedelta(seconds=hall["remainingSeconds"] + 1))
        await refused_with(
            clients["C"].send_content_key(code, "L1", fmt.PACKAGE, keys["C"][fmt.PACKAGE]), "decryption-window"
        )
        swept = await run_sweep(session_maker, [OpeningClock()])
        assert swept.changed == {"bidding.opening_clock": 1}
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert hall["stage"] == "price-reading"
        assert hall["decryptionWindowOpen"] is False
        assert hall["remainingSeconds"] is None  # now 唱标 waits for the host
        line_c = next(line for line in hall["priceTable"] if line["bidder"] == bidders["C"].uscc)
        assert line_c["outcome"] == "revoked"
        assert line_c["totalPrice"] == PRICES["C"]
        assert "the package" in line_c["cause"]
        assert "bidder's fault" in line_c["cause"]
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert moved.status_code == 200, moved.text
    async with session_maker() as session:
        changes = await ledger_actions(session, code, "bidding.opening_stage_changed")
        assert [summary["to"] for _action, summary in changes] == ["decryption", "price-reading", "confirmation"]
        # The table hashed at 唱标 is the one read out then: three prices, two packages pending.
        read_out = next(summary for _action, summary in changes if summary["to"] == "price-reading")
        assert read_out["priceTableSha256"] != hall["priceTableSha256"]


async def test_fewer_than_three_bids_fail_the_tender(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    for index in range(2):
        bidder = await bidder_party(session_maker, settings, dev_pki)
        built = await seal_bid(
            tmp_path / str(index),
            bidder,
            code=tender.project_code,
            deadline=tender.deadline,
            price="100.00",
            holders=[],
        )
        await (await bid_client(client, bidder)).upload(tender.project_code, "L1", built.path)
    async with session_maker() as session:
        shift = tender.deadline - await clock.now(session) + timedelta(seconds=1)
    with clock.use_clock(clock.ShiftedClock(shift)):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        view = (await client.get(f"/api/v1/bidding/opening/{tender.project_code}")).json()
    assert view["stage"] == "closed"
    assert "流标" in view["failedReason"]
    assert view["lots"]["L1"] == {"bids": 2, "status": "failed", "reason": view["lots"]["L1"]["reason"]}
    async with session_maker() as session:
        row = await session.get_one(Tender, tender.id)
        assert row.status is TenderStatus.FAILED
        [(_action, summary)] = await ledger_actions(session, tender.project_code, "bidding.tender_failed")
        assert summary["rule"] == "min-bidders"
        assert summary["minBidders"] == 3


async def test_the_window_end_happens_once_under_repeated_and_concurrent_sweeps(
    *, fresh_db: str, settings: Settings, store: FileStore, dev_pki: DevPki
) -> None:
    engine = create_engine(fresh_db, pool_size=5)
    session_maker = create_session_maker(engine)
    try:
        tenderee = await tenderee_party(session_maker, settings, dev_pki)
        tender = await draft_tender(session_maker, settings, store, tenderee, signed=False, lots=1)
        async with session_maker() as session:
            now = await clock.now(session)
            row = await session.get_one(Tender, tender.id)
            row.status = TenderStatus.OPENING
            opening = OpeningSession(
                tender_id=tender.id,
                host_organisation_id=tenderee.organisation_id,
                stage=Stage.DECRYPTION,
                stage_started_at=now - timedelta(hours=1),
                stage_ends_at=now - timedelta(seconds=1),
                next_check=now - timedelta(seconds=1),
                lots={"L1": {"bids": 0, "status": "opening"}},
                timeline={"events": []},
                created_at=now,
                updated_at=now,
            )
            session.add(opening)
            await session.commit()
        reports = await asyncio.gather(*(run_sweep(session_maker, [OpeningClock()]) for _ in range(4)))
        assert sum(r.total_changed for r in reports) == 1
        assert all(not r.failed for r in reports)
        # A restarted worker running the handler again finds nothing due.
        handler = OpeningClock()
        async with session_maker() as session:
            assert await handler.run(session, opening.id, await clock.now(session)) is False
        async with session_maker() as session:
            stored = await session.get_one(OpeningSession, opening.id)
            assert stored.stage is Stage.PRICE_READING
            assert stored.decryption_closed_at is not None
            changes = await session.scalar(
                select(func.count(LedgerEntry.id)).where(
                    LedgerEntry.action == "bidding.opening_stage_changed", LedgerEntry.subject_id == str(opening.id)
                )
            )
            assert changes == 1
            assert (await session.scalar(select(func.count(OpeningBid.id)))) == 0
            assert Outcome.PENDING.value == "pending"
    finally:
        await engine.dispose()
