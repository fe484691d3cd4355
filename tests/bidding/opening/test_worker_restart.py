"""A worker killed in the middle of the decryption window's end neither skips nor repeats it.

A separate process (the "worker") runs the window-end handler and is killed with SIGKILL after
the handler has made its changes but before its transaction commits. PostgreSQL rolls the
transaction back; the next sweep (the restarted worker) performs the transition exactly once,
and a further sweep finds nothing due.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

from sqlalchemy import func, select

from bidding.models import Tender, TenderStatus
from bidding.opening.jobs import OpeningClock
from bidding.opening.models import OpeningSession, Stage
from certs.devpki.pki import DevPki
from tests.bidding.factories import draft_tender, tenderee_party
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry

# The worker: runs the handler in a transaction, says so, and waits to be killed before committing.
_WORKER = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from bidding.opening.jobs import OpeningClock
    from trading.kernel import clock
    from trading.kernel.db.engine import create_engine, create_session_maker

    async def main(url, opening_id):
        session_maker = create_session_maker(create_engine(url))
        async with session_maker() as session:
            changed = await OpeningClock().run(session, uuid.UUID(opening_id), await clock.now(session))
            await session.flush()
            print("changed" if changed else "unchanged", flush=True)
            await asyncio.sleep(3600)  # killed here: the transaction never commits

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_a_worker_killed_before_commit_neither_skips_nor_repeats_the_window_end(
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

        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, fresh_db, str(opening.id)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "GGZY_LOG_LEVEL": "WARNING"},
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "changed"  # the handler acted, uncommitted
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        worker.stdout.close()

        async with session_maker() as session:
            still = await session.get_one(OpeningSession, opening.id)
            assert still.stage is Stage.DECRYPTION  # the killed worker's work is gone, not half-kept

        first = await run_sweep(session_maker, [OpeningClock()])  # the restarted worker
        second = await run_sweep(session_maker, [OpeningClock()])
        assert first.total_changed == 1
        assert second.total_changed == 0
        async with session_maker() as session:
            stored = await session.get_one(OpeningSession, opening.id)
            assert stored.stage is Stage.PRICE_READING
            changes = await session.scalar(
                select(func.count(LedgerEntry.id)).where(
                    LedgerEntry.action == "bidding.opening_stage_changed", LedgerEntry.subject_id == str(opening.id)
                )
            )
            assert changes == 1
    finally:
        await engine.dispose()
