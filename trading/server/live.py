"""The live broker of a process, and who publishes into it.

Web processes: `live_lifespan` creates the broker (`trading.kernel.live.create_broker`: Redis
pub/sub when ``settings.redis_url`` is set, in-process otherwise), keeps it on ``app.state.live``
for the live pages, and plugs the opening hall's after-commit events into it
(``opening:<tender code>``). Workers: `plug_worker` publishes the events their jobs commit (the
sweep ends the hall's timed stages) straight to Redis; without Redis a worker's events reach no
page, and the hall's stream re-reads the state when a stage's time runs out instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar

from bidding.evaluation.session import events as session_events
from bidding.opening import events as opening_events
from bidding.opening.live import channel_of
from trading.kernel.live import Broker, RedisBroker, create_broker
from trading.kernel.settings import Settings

STATE_KEY = "live"


def opening_sink(broker: Broker) -> Callable[[str, dict[str, Any]], None]:
    def sink(tender_code: str, event: dict[str, Any]) -> None:
        broker.publish(channel_of(tender_code), event)

    return sink


def session_sink(broker: Broker) -> Callable[[str, dict[str, Any]], None]:
    """The evaluation session's events (``evaluation:<id>``) into the same broker."""

    def sink(evaluation_id: str, event: dict[str, Any]) -> None:
        broker.publish(session_events.channel_of(evaluation_id), event)

    return sink


def live_lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        broker = create_broker(settings.redis_url or None)
        await broker.start()
        sink = opening_sink(broker)
        evaluation_sink = session_sink(broker)
        app.state[STATE_KEY] = broker
        opening_events.add_sink(sink)
        session_events.add_sink(evaluation_sink)
        try:
            yield
        finally:
            session_events.remove_sink(evaluation_sink)
            opening_events.remove_sink(sink)
            await broker.close()

    return lifespan


_worker_sink: list[Callable[[str, dict[str, Any]], None]] = []


def plug_worker(settings: Settings) -> None:
    """In a worker process: publish the opening's events to Redis (synchronously, after commit)."""
    if not settings.redis_url or _worker_sink:
        return
    broker = RedisBroker(settings.redis_url)
    sink = opening_sink(broker)
    _worker_sink.append(sink)
    opening_events.add_sink(sink)
    session_events.add_sink(session_sink(broker))
