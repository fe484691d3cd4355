"""Other web processes forget a changed actor through Redis, after commit and only then."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.parties.sessions import broadcast_forgotten_actors, forget_actors_after_commit, listen_for_forgotten_actors

REDIS_URL = os.environ.get("GGZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
async def heard() -> AsyncIterator[asyncio.Queue[set[uuid.UUID]]]:
    """A listener as another process runs it, recording what it is told to forget."""
    queue: asyncio.Queue[set[uuid.UUID]] = asyncio.Queue()
    ready = asyncio.Event()
    listener = asyncio.create_task(listen_for_forgotten_actors(REDIS_URL, queue.put_nowait, ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    broadcast_forgotten_actors(REDIS_URL)
    yield queue
    broadcast_forgotten_actors(None)
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


async def test_committed_change_reaches_the_other_processes(
    session_maker: async_sessionmaker[AsyncSession], heard: asyncio.Queue[set[uuid.UUID]]
) -> None:
    user_id = uuid.uuid4()
    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        forget_actors_after_commit(session, user_id)
        await asyncio.sleep(0.2)
        assert heard.empty()  # nothing leaves before the commit
        await session.commit()
    assert await asyncio.wait_for(heard.get(), timeout=10) == {user_id}


async def test_rolled_back_change_is_not_broadcast(
    session_maker: async_sessionmaker[AsyncSession], heard: asyncio.Queue[set[uuid.UUID]]
) -> None:
    async with session_maker() as session:
        await session.execute(text("SELECT 1"))
        forget_actors_after_commit(session, uuid.uuid4())
        await session.rollback()
        await session.commit()
    marker = uuid.uuid4()
    async with session_maker() as session:  # a later committed change proves the channel works
        await session.execute(text("SELECT 1"))
        forget_actors_after_commit(session, marker)
        await session.commit()
    assert await asyncio.wait_for(heard.get(), timeout=10) == {marker}
