"""Tasks leave only after commit and are dropped on rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel.db.uow import transaction
from trading.kernel.tasks import DroppingPublisher, RecordingPublisher, TaskMessage, enqueue, pending, set_publisher


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


async def test_a_publisher_failure_after_commit_surfaces_as_itself_from_a_unit_of_work(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """The work is committed; the caller sees the publisher's own error, not a failed rollback of
    a transaction that already ended (which hid the cause in the deadline sweep's log)."""

    async def work() -> None:
        async with transaction(session_maker) as session:
            await session.execute(text("SELECT 1"))
            enqueue(session, "ledger.checkpoint_chains")

    previous = set_publisher(DroppingPublisher())
    try:
        with pytest.raises(RuntimeError, match="no task publisher installed"):
            await work()
    finally:
        set_publisher(previous)


async def test_a_released_savepoint_keeps_its_tasks_for_the_outer_commit(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    """SQLAlchemy fires ``after_commit`` when a savepoint is released; the pages' form actions run
    in one, so a task sent then could reach a worker before the request's own commit."""
    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        async with session.begin_nested():
            enqueue(session, "ledger.checkpoint_chains", reason="inside")
        assert publisher.published == []
        assert pending(session) == [TaskMessage("ledger.checkpoint_chains", {"reason": "inside"})]
        await session.commit()
    assert publisher.published == [TaskMessage("ledger.checkpoint_chains", {"reason": "inside"})]


async def test_a_rolled_back_savepoint_drops_only_the_tasks_sent_inside_it(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    """A refused page action rolls back its savepoint while the request commits: its tasks go,
    the tasks sent before it (and after it) stay."""

    async def refused_action(session: AsyncSession) -> None:
        async with session.begin_nested():
            enqueue(session, "ledger.checkpoint_chains", reason="refused action")
            async with session.begin_nested():
                enqueue(session, "ledger.checkpoint_chains", reason="deeper")
            raise ValueError("refused")

    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        enqueue(session, "ledger.checkpoint_chains", reason="before")
        with pytest.raises(ValueError, match="refused"):
            await refused_action(session)
        enqueue(session, "ledger.checkpoint_chains", reason="after")
        await session.commit()
    assert [message.kwargs["reason"] for message in publisher.published] == ["before", "after"]
