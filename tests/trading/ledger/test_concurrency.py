"""Concurrent writers and checkpointers on a database of their own, with real commits."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tests.trading.ledger.factories import new_key, new_project_code, user_actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.ledger import jobs
from trading.ledger.models import LedgerCheckpoint, LedgerEntry
from trading.ledger.service import append_entry, verify_ledger

WRITERS = 16
APPENDS_PER_WRITER = 12


async def test_sixteen_writers_on_one_chain_leave_a_gap_free_chain(pg_databases: None, fresh_db: str) -> None:
    code = new_project_code()  # a new chain: the head row itself is created under contention
    start = asyncio.Event()

    async def writer(number: int) -> list[int]:
        engine = create_engine(fresh_db, pool_size=1)
        maker = create_session_maker(engine)
        actor = user_actor(f"writer{number}")
        seqs = []
        try:
            await start.wait()
            for index in range(APPENDS_PER_WRITER):
                async with transaction(maker, lock=True) as session:
                    entry = await append_entry(
                        session,
                        actor=actor,
                        action="tests.concurrent_append",
                        subject_type="writer",
                        subject_id=f"{number}-{index}",
                        summary={"writer": number},
                        project_code=code,
                    )
                    seqs.append(entry.seq)
        finally:
            await engine.dispose()
        return seqs

    tasks = [asyncio.create_task(writer(number)) for number in range(WRITERS)]
    await asyncio.sleep(0.05)
    start.set()
    results = await asyncio.gather(*tasks)

    total = WRITERS * APPENDS_PER_WRITER
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, total + 1))
    engine = create_engine(fresh_db)
    try:
        maker = create_session_maker(engine)
        async with maker() as session:
            count = await session.scalar(select(func.count()).where(LedgerEntry.chain == f"project:{code}"))
            report = await verify_ledger(session, public_keys=[])
        assert count == total
        assert report.ok, report.summary()
        assert report.chains[f"project:{code}"] == total
    finally:
        await engine.dispose()


async def test_concurrent_checkpoint_runs_sign_each_change_once(pg_databases: None, fresh_db: str) -> None:
    key = new_key()
    engine = create_engine(fresh_db, pool_size=4)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker) as session:
            for _ in range(3):
                code = new_project_code()
                await append_entry(
                    session, actor=user_actor(), action="tests.x_y", subject_type="x", subject_id="1", project_code=code
                )
        results = await asyncio.gather(*(jobs.checkpoint_chains(maker, private_key=key) for _ in range(4)))
        numbers = [result["checkpoint"] for result in results]
        assert sorted(numbers, key=lambda n: n or 0) == [None, None, None, 1]
        async with maker() as session:
            assert await session.scalar(select(func.count()).select_from(LedgerCheckpoint)) == 1
            report = await verify_ledger(session, public_keys=[key.public_key()])
        assert report.ok, report.summary()
    finally:
        await engine.dispose()
