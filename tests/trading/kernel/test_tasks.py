"""Tasks leave only after commit and are dropped on rollback."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel.tasks import RecordingPublisher, TaskMessage, enqueue, pending


async def test_enqueued_task_is_published_only_after_commit(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        enqueue(session, "ledger.checkpoint_chains", reason="test")
        assert publisher.published == []
        assert pending(session) == [TaskMessage("ledger.checkpoint_chains", {"reason": "test"})]
        await session.commit()
    assert publisher.published == [TaskMessage("ledger.checkpoint_chains", {"reason": "test"})]


async def test_enqueued_task_is_dropped_on_rollback(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        enqueue(session, "ledger.checkpoint_chains")
        await session.rollback()
        assert pending(session) == []
        await session.commit()
    assert publisher.published == []
