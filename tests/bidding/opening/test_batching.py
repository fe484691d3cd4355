"""Group commit (`bidding.opening.batching.GroupCommit`): requests that arrive while a batch is being
recorded share the next transaction; each gets its own answer; a failed batch answers everyone.
The first tests are pure asyncio (the recorder stands for a transaction and counts what it is
given); the last drives the opening's decryptions through it on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Hashable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bidding.client import format as fmt
from bidding.client.sdk import content_keys
from bidding.intake.service import IntakeService
from bidding.opening.batching import GroupCommit, Waiting
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import Stage
from bidding.opening.service import OpeningService
from certs.devpki.pki import DevPki
from tests.bidding import harness
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.errors import Conflict
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry
from trading.ledger.service import verify_ledger

LOT = "001"


class Recorder:
    def __init__(self, *, fail_on: str | None = None, refuse: frozenset[str] = frozenset()) -> None:
        self.batches: list[tuple[Hashable, list[str]]] = []
        self.fail_on = fail_on
        self.refuse = refuse
        self.release = asyncio.Event()

    async def record(self, key: Hashable, batch: list[Waiting[str]]) -> None:
        payloads = [w.payload for w in batch]
        self.batches.append((key, payloads))
        await self.release.wait()  # the transaction takes a while: newcomers queue meanwhile
        if self.fail_on in payloads:
            raise RuntimeError("database went away")
        for waiting in batch:
            if waiting.payload in self.refuse:
                waiting.refuse(ValueError(f"refused {waiting.payload}"))
            else:
                waiting.resolve(f"recorded {waiting.payload}")


async def test_a_lone_request_is_recorded_at_once_and_latecomers_share_the_next_batch() -> None:
    recorder = Recorder()
    group: GroupCommit[str] = GroupCommit(recorder.record)
    first = asyncio.create_task(group.submit("opening-1", "a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert recorder.batches == [("opening-1", ["a"])]  # not held back waiting for company
    later = [asyncio.create_task(group.submit("opening-1", p)) for p in "bcd"]
    other = asyncio.create_task(group.submit("opening-2", "x"))  # another opening: its own flusher
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == "recorded a"
    assert await asyncio.gather(*later) == ["recorded b", "recorded c", "recorded d"]
    assert await other == "recorded x"
    assert ("opening-1", ["b", "c", "d"]) in recorder.batches
    assert len([k for k, _ in recorder.batches if k == "opening-1"]) == 2


async def test_each_request_gets_its_own_refusal_and_the_others_their_results() -> None:
    recorder = Recorder(refuse=frozenset({"b"}))
    recorder.release.set()
    group: GroupCommit[str] = GroupCommit(recorder.record)
    results = await asyncio.gather(*(group.submit("k", p) for p in "abc"), return_exceptions=True)
    assert results[0] == "recorded a"
    assert isinstance(results[1], ValueError)
    assert str(results[1]) == "refused b"
    assert results[2] == "recorded c"


async def test_a_failed_transaction_answers_every_request_of_its_batch_and_the_next_batch_goes_on() -> None:
    recorder = Recorder(fail_on="b")
    group: GroupCommit[str] = GroupCommit(recorder.record)
    first = asyncio.create_task(group.submit("k", "a"))
    await asyncio.sleep(0)
    failing = [asyncio.create_task(group.submit("k", p)) for p in "bc"]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == "recorded a"
    for task in failing:
        with pytest.raises(RuntimeError, match="database went away"):
            await task
    assert await group.submit("k", "d") == "recorded d"  # a fresh flusher after the failure


async def test_a_caller_that_goes_away_does_not_withdraw_its_request() -> None:
    recorder = Recorder()
    group: GroupCommit[str] = GroupCommit(recorder.record)
    impatient = asyncio.create_task(group.submit("k", "a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    recorder.release.set()
    await asyncio.sleep(0.01)
    assert recorder.batches == [("k", ["a"])]  # still recorded: nothing accepted is lost


# --- on PostgreSQL: the opening's decryptions through the group commit ---------------------------


async def test_concurrent_decryptions_share_transactions_and_each_is_recorded_once(
    fresh_db: str, dev_pki: DevPki, tmp_path: Path
) -> None:
    """Six bidders send each key at the same moment, one of them twice, through one `OpeningService`
    on its own connection pool: every part is recorded once with its own ledger entry, the duplicate
    is refused by name, 唱标 starts once, and the ledger verifies.
    """
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=6, deadline_in=timedelta(hours=1), pki=dev_pki)
    code = setup.tender.code
    built = [
        await asyncio.to_thread(harness.build_bid, setup, b, LOT, tmp_path / "bids", size_bytes=4096)
        for b in setup.bidders
    ]
    settings = harness.harness_settings(fresh_db, setup.var)
    store = FileStore(setup.storage_dir)
    engine = create_engine(fresh_db, pool_size=10)
    session_maker = create_session_maker(engine)
    actors = [harness.bidder_actor(b) for b in setup.bidders]
    try:
        intake = IntakeService(session_maker, settings, store)
        for actor, container in zip(actors, built, strict=True):
            await harness.submit_in_process(intake, actor, code, LOT, container)
        async with session_maker() as session:
            shift = setup.tender.deadline - await clock.now(session) + timedelta(seconds=1)
        with clock.use_clock(clock.ShiftedClock(shift)):
            await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
            opening = OpeningService(session_maker, settings, store)
            host = await harness.host_actor(session_maker, setup)
            for actor, bidder in zip(actors, setup.bidders, strict=True):  # only a signed-in bidder decrypts
                await opening.attendance.sign_in(actor, code, await harness.sign_in_signature(bidder, code))
            await opening.host.advance(host, code, Stage.DECRYPTION)
            keys = []
            for actor, bidder in zip(actors, setup.bidders, strict=True):
                [envelope] = await opening.decryption.envelopes(actor, code)
                keys.append(content_keys(envelope, bidder.enc.key, tender=code, lot=LOT, bidder=bidder.uscc))  # type: ignore[arg-type]
            for part in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
                calls = [
                    opening.decryption.decrypt(actor, code, LOT, part, base64.b64encode(k[part]).decode())
                    for actor, k in zip(actors, keys, strict=True)
                ]
                calls.append(
                    opening.decryption.decrypt(actors[0], code, LOT, part, base64.b64encode(keys[0][part]).decode())
                )
                answers = await asyncio.gather(*calls, return_exceptions=True)
                refusals = [a for a in answers if isinstance(a, BaseException)]
                assert [(type(r), getattr(r, "rule", None)) for r in refusals] == [(Conflict, "already-opened")]
            view = await opening.hall.view(host, code)
        assert view["stage"] == "price-reading"
        assert view["decryptionWindowOpen"] is False
        assert {line["outcome"] for line in view["priceTable"]} == {"decrypted"}
        async with session_maker() as session:
            decrypted = (
                await session.scalars(
                    select(LedgerEntry).where(
                        LedgerEntry.chain == f"project:{code}", LedgerEntry.action == "bidding.opening_part_decrypted"
                    )
                )
            ).all()
            assert sorted((e.summary["bidder"], e.summary["part"]) for e in decrypted) == sorted(
                (b.uscc, part) for b in setup.bidders for part in (fmt.PRICE_SUMMARY, fmt.PACKAGE)
            )
            stages = (
                await session.scalars(
                    select(LedgerEntry)
                    .where(LedgerEntry.action == "bidding.opening_stage_changed")
                    .order_by(LedgerEntry.seq)
                )
            ).all()
            assert [e.summary["to"] for e in stages] == ["decryption", "price-reading"]
            report = await verify_ledger(session, public_keys=[])
            assert report.ok, report.problems
    finally:
        await engine.dispose()
