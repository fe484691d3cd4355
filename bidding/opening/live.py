"""The live hall: server-sent events of an opening's state, for pages and for the API.

``GET /bidding/opening/{code}/events`` (pages, cookie session) and
``GET /api/v1/bidding/opening/{code}/events`` (bearer) are public: each caller gets the view its
role allows (`HallView.view`: visitors masked, bidders their own rows, host and supervisors
everything). The stream:

1. subscribes to ``opening:<code>`` on the process's broker (``app.state.live``, see
   `trading.kernel.live`), then sends the current state (``event: state``, ``data: {"event": null,
   "view": {...}}``) — a browser that reconnects catches up from it, no replay needed;
2. for every event published after a committed change, sends a freshly read view with the event
   that caused it (``id:`` is the event's ``eventId``);
3. when the running stage's time is up (the sweep ends it, possibly in a worker whose events do
   not reach this process in the embedded default), re-reads the view and sends it if it changed;
4. sends a comment every `HEARTBEAT_SECONDS` and tells the browser to retry after `RETRY_MS`.

Views are read through a short per-process cache keyed by (tender, audience, the latest event this
process has seen for the tender): 200 clients of one process cost one database read per audience
per event. The audience is what `HallView.view` depends on: the opening-read permission,
the organisation and the supervisor/admin roles.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Final

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage

from bidding.opening.api import PREFIX
from bidding.opening.deps import provide_opening
from bidding.opening.service import OpeningService
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.live import EVENT_ID, RESYNC, Broker, Subscription

HEARTBEAT_SECONDS: Final = 15.0
RETRY_MS: Final = 2000
CACHE_SECONDS: Final = 3.0
CACHE_ENTRIES: Final = 4096
TICK_GRACE_SECONDS: Final = 1.0
"""After a stage's end, how long the stream waits before re-reading (the sweep acts first)."""
TICK_RETRY_SECONDS: Final = 5.0
"""While an ended stage has not moved on yet (the sweep runs periodically), re-read this often."""
EVENTS_PATH: Final = "/{code:str}/events"
PUBLIC_PATHS: Final = frozenset({f"{PREFIX}/{{code}}/events", f"/api/v1{PREFIX}/{{code}}/events"})


def channel_of(tender_code: str) -> str:
    return f"opening:{tender_code}"


def audience_of(actor: Actor) -> Hashable:
    """Everything of the actor that `HallView.view` reads (two actors alike see one view):
    `bidding.visibility.OpeningPolicy` decides by the organisation (owner, bidder) and the
    overseer roles; the stage comes from the database.
    """
    return (
        actor.has(BiddingPermission.OPENING_READ),
        actor.organisation_id,
        frozenset(actor.roles & {Role.SUPERVISOR, Role.ADMIN}),
    )


@dataclass(frozen=True)
class Snapshot:
    """A view as JSON and when (monotonic) it was read: its ``serverTime`` is that old."""

    json: str
    read_at: float


@dataclass
class _Entry:
    future: asyncio.Future[Snapshot]
    born: float


@dataclass
class Hall:
    """This process's bookkeeping of the live hall: open streams, last event seen, view cache."""

    streams: dict[str, int] = field(default_factory=dict)
    last_seen: dict[str, str] = field(default_factory=dict)
    cache: OrderedDict[tuple[Hashable, ...], _Entry] = field(default_factory=OrderedDict)
    reads: int = 0
    """Database reads of views (diagnostics, tests)."""

    def seen(self, code: str, event: dict[str, Any]) -> None:
        if event.get("type") == RESYNC:
            self.last_seen[code] = f"resync:{time.monotonic()}"
        elif EVENT_ID in event:
            self.last_seen[code] = str(event[EVENT_ID])

    def opened(self, code: str) -> None:
        self.streams[code] = self.streams.get(code, 0) + 1

    def closed(self, code: str) -> None:
        left = self.streams.get(code, 0) - 1
        if left > 0:
            self.streams[code] = left
            return
        # Nobody here follows the tender any more: what we cached may go stale unseen.
        self.streams.pop(code, None)
        self.last_seen.pop(code, None)
        for key in [key for key in self.cache if key[0] == code]:
            del self.cache[key]

    async def view_json(self, code: str, actor: Actor, read: Callable[[], Awaitable[dict[str, Any]]]) -> Snapshot:
        """The actor's view as JSON, shared with every stream of the same audience that asks for the
        same state (only while a stream of this process follows the tender, see `closed`).
        """
        if not self.streams.get(code):
            return await self._read(read)
        key = (code, audience_of(actor), self.last_seen.get(code, ""))
        now = time.monotonic()
        entry = self.cache.get(key)
        if entry is None or now - entry.born > CACHE_SECONDS or (entry.future.done() and entry.future.exception()):
            entry = _Entry(asyncio.ensure_future(self._read(read)), now)
            self.cache[key] = entry
            while len(self.cache) > CACHE_ENTRIES:
                self.cache.popitem(last=False)
        return await asyncio.shield(entry.future)

    async def _read(self, read: Callable[[], Awaitable[dict[str, Any]]]) -> Snapshot:
        self.reads += 1
        view = await read()
        return Snapshot(_dumps(view), time.monotonic())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def hall_of(request: Request[Any, Any, Any]) -> Hall:
    hall = request.app.state.get("opening_hall")
    if hall is None:
        hall = Hall()
        request.app.state["opening_hall"] = hall
    return hall


def broker_of(request: Request[Any, Any, Any]) -> Broker:
    broker: Broker | None = request.app.state.get("live")
    if broker is None:
        raise ServiceUnavailableException("the live hall is not running in this process")
    return broker


def _message(snapshot: Snapshot, event: dict[str, Any] | None) -> ServerSentEventMessage:
    """``age``: seconds since the view was read (the page adds it to ``serverTime``)."""
    age = round(max(0.0, time.monotonic() - snapshot.read_at), 3)
    data = f'{{"event":{_dumps(event)},"age":{age},"view":{snapshot.json}}}'
    event_id = str(event[EVENT_ID]) if event and EVENT_ID in event else None
    return ServerSentEventMessage(data=data, event="state", id=event_id)


def _next_tick(snapshot: Snapshot) -> float | None:
    """When (monotonic) the running stage's time is up, if it runs by the clock."""
    view = json.loads(snapshot.json)
    remaining = view.get("remainingSeconds")
    if view.get("paused") or remaining is None or view.get("stageEndsAt") is None:
        return None
    return snapshot.read_at + max(0.0, float(remaining)) + TICK_GRACE_SECONDS


async def stream_state(
    hall: Hall, broker: Broker, opening: OpeningService, actor: Actor, code: str
) -> AsyncIterator[ServerSentEventMessage]:
    """The hall's event stream for one client (see the module docstring)."""

    def read() -> Awaitable[dict[str, Any]]:
        return opening.hall.view(actor, code)

    async with broker.subscribe(channel_of(code), on_message=lambda event: hall.seen(code, event)) as sub:
        hall.opened(code)
        try:
            async for message in _follow(hall, sub, actor, code, read):
                yield message
        finally:
            hall.closed(code)


async def _follow(
    hall: Hall, sub: Subscription, actor: Actor, code: str, read: Callable[[], Awaitable[dict[str, Any]]]
) -> AsyncIterator[ServerSentEventMessage]:
    current = await hall.view_json(code, actor, read)
    yield _message(current, None)
    beat = time.monotonic() + HEARTBEAT_SECONDS
    tick = _next_tick(current)
    while True:
        now = time.monotonic()
        wake = min(beat, tick) if tick is not None else beat
        event = await sub.get(max(0.0, wake - now))
        now = time.monotonic()
        if event is not None:
            current = await hall.view_json(code, actor, read)
            yield _message(current, event)
            tick = _next_tick(current)
        elif tick is not None and now >= tick:
            fresh = await hall.view_json(code, actor, read)
            if _state_of(fresh) != _state_of(current):
                current = fresh
                yield _message(current, {"type": "clock"})
                tick = _next_tick(current)
            else:
                tick = now + TICK_RETRY_SECONDS
        if now >= beat:
            yield ServerSentEventMessage(data=None, comment="heartbeat")
            beat = now + HEARTBEAT_SECONDS


def _state_of(snapshot: Snapshot) -> tuple[Any, ...]:
    view = json.loads(snapshot.json)
    return (view.get("stage"), view.get("paused"), view.get("stageEndsAt"), view.get("decryptionClosedAt"))


async def _events(request: Request[Any, Any, Any], code: str, opening: OpeningService, actor: Actor) -> ServerSentEvent:
    hall = hall_of(request)
    # Refusals (no such tender, no opening yet) answer as errors before the stream starts.
    await hall.view_json(code, actor, lambda: opening.hall.view(actor, code))
    broker = broker_of(request)
    return ServerSentEvent(stream_state(hall, broker, opening, actor, code), retry_duration=RETRY_MS)


class HallEvents(Controller):
    """The stream for pages (cookie session)."""

    path = PREFIX
    include_in_schema = False
    dependencies = {"opening": Provide(provide_opening)}

    @get(EVENTS_PATH, name="bidding.opening_events", opt=exposes(Exposure.OPENING_STAGE))
    async def events(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> ServerSentEvent:
        """The hall's state, live (public; masked for visitors)."""
        return await _events(request, code, opening, actor)


class HallEventsApi(Controller):
    """The same stream for API clients (bearer token)."""

    path = PREFIX
    tags = ["bidding"]
    dependencies = {"opening": Provide(provide_opening)}

    @get(EVENTS_PATH, operation_id="bidding_opening_events", opt=exposes(Exposure.OPENING_STAGE))
    async def events(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> ServerSentEvent:
        """Server-sent events: the hall's state now, then after every change (``event: state``)."""
        return await _events(request, code, opening, actor)
