"""Live updates of the session over real Redis pub/sub: an event reaches subscribers only after
the change committed (never after a rollback), and the session's stream sends the progress now,
then the fresh progress with the event that caused it — no names, no scores.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, SessionState
from bidding.evaluation.session import events as session_events
from bidding.evaluation.session.conduct import Conduct
from bidding.evaluation.session.events import channel_of
from bidding.evaluation.session.views import SessionViews
from bidding.evaluation.session.web import follow
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.session.support import Committee, build_committee
from trading.kernel.auth.identity import Actor
from trading.kernel.live import RedisBroker
from trading.kernel.settings import Settings
from trading.server.live import session_sink

REDIS_URL = os.environ.get("GGZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
Maker = async_sessionmaker[AsyncSession]


@pytest.fixture
async def broker() -> AsyncIterator[RedisBroker]:
    broker = RedisBroker(REDIS_URL)
    await broker.start()
    sink = session_sink(broker)
    session_events.add_sink(sink)
    try:
        yield broker
    finally:
        session_events.remove_sink(sink)
        await broker.close()


async def _running(maker: Maker, settings: Settings, pki: DevPki) -> Committee:
    committee = await build_committee(maker, settings, pki, size=3, reserves=0)
    async with maker() as session:
        evaluation = await session.get(Evaluation, committee.evaluation_id)
        assert evaluation is not None
        evaluation.state = SessionState.QUALIFICATION  # a running state (the walk is tested elsewhere)
        await session.commit()
    return committee


async def test_an_event_is_published_to_redis_after_commit_and_never_after_a_rollback(
    session_maker: Maker, settings: Settings, dev_pki: DevPki, broker: RedisBroker
) -> None:
    committee = await _running(session_maker, settings, dev_pki)
    async with broker.subscribe(channel_of(committee.evaluation_id)) as sub:
        async with session_maker() as session:
            await Conduct(session).incident(committee.host_actor, committee.evaluation_id, "视频中断")
            await session.rollback()
        async with session_maker() as session:
            await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "网络中断")
            assert await sub.get(0.5) is None  # flushed, not committed: nothing published yet
            await session.commit()
        event = await sub.get(5)
        assert event is not None
        assert event["type"] == "pause"
        assert event["evaluation"] == str(committee.evaluation_id)
        assert event["paused"] is True
        assert "eventId" in event
        assert await sub.get(0.5) is None  # the rolled-back incident never arrived


async def test_the_stream_sends_the_progress_then_each_committed_change(
    session_maker: Maker, settings: Settings, dev_pki: DevPki, broker: RedisBroker
) -> None:
    committee = await _running(session_maker, settings, dev_pki)
    watcher = Actor.system()

    async def read() -> dict[str, object]:
        async with session_maker() as session:
            return await SessionViews(session).progress_for(watcher, committee.evaluation_id)

    stream = follow(broker, committee.evaluation_id, read)
    try:
        first = await anext(stream)
        assert '"event":null' in str(first.data)
        assert '"paused":false' in str(first.data)
        async with session_maker() as session:
            await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "")
            await session.commit()
        second = await anext(stream)
        text = str(second.data)
        assert '"type":"pause"' in text
        assert '"paused":true' in text
        assert all(expert.name not in text for expert in committee.experts)
    finally:
        await stream.aclose()


async def test_an_event_of_a_released_savepoint_waits_for_the_outer_commit(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    """The pages run each action in a savepoint (`forms.submit`); SQLAlchemy fires ``after_commit``
    when it is released, before the request commits: a live page re-reading the state then would
    see the old one. The event leaves with the outer commit, and never with an outer rollback.
    """
    committee = await _running(session_maker, settings, dev_pki)
    seen: list[tuple[str, dict[str, object]]] = []

    def sink(evaluation_id: str, event: dict[str, object]) -> None:
        seen.append((evaluation_id, event))

    session_events.add_sink(sink)
    try:
        async with session_maker() as session:
            async with session.begin_nested():
                await Conduct(session).incident(committee.host_actor, committee.evaluation_id, "投影故障")
            assert seen == []  # released, not committed
            await session.rollback()
        assert seen == []
        async with session_maker() as session:
            async with session.begin_nested():
                await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "")
            assert seen == []
            await session.commit()
        assert [event["type"] for _, event in seen] == ["pause"]
    finally:
        session_events.remove_sink(sink)
