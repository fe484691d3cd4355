"""Two transactions publishing the same new reference at once: the second updates the first's
record instead of failing on the unique reference (a 500 before).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.credit.factories import organisation
from trading.credit.models import Activity, CreditKind, CreditRecord
from trading.credit.service import CreditService, Publication
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings


def _publication(organisation_id: uuid.UUID, ref: str, start: object, reason: str) -> Publication:
    return Publication(
        source="test",
        source_ref=ref,
        organisation_id=organisation_id,
        kind=CreditKind.BLACKLIST,
        scope=(Activity.BIDDING,),
        valid_from=start,  # type: ignore[arg-type]
        valid_until=None,
        issuing_body="南京市住房和城乡建设局",
        decision_no="宁建罚〔2026〕18号",
        reason=reason,
    )


async def test_two_sessions_publishing_one_new_reference(fresh_db: str, settings: Settings) -> None:
    engine = create_engine(fresh_db, pool_size=3)
    try:
        await _race(create_session_maker(engine), settings)
    finally:
        await engine.dispose()


async def _race(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with session_maker() as setup:
        org = await organisation(setup, settings)
        start = await clock.now(setup) - timedelta(days=1)
        await setup.commit()
    ref = f"test:{uuid.uuid4()}"
    async with session_maker() as first, session_maker() as second:
        _, outcome = await CreditService(first).publish_outcome(
            _publication(org.id, ref, start, "串通投标"), actor=Actor.system()
        )
        assert outcome == "published"
        # The second insert waits on the first's uncommitted row, then meets its unique reference.
        racing = asyncio.create_task(
            CreditService(second).publish_outcome(
                _publication(org.id, ref, start, "串通投标，情节严重"), actor=Actor.system()
            )
        )
        await asyncio.sleep(0.5)
        assert not racing.done()
        await first.commit()
        row, later = await asyncio.wait_for(racing, timeout=10)
        await second.commit()
        assert later == "updated"
        assert row.reason == "串通投标，情节严重"
    async with session_maker() as check:
        count = await check.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.source_ref == ref))
    assert count == 1
