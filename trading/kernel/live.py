"""Live fan-out for pages that follow a state (the opening hall): publish after commit, subscribe per page.

Two brokers behind one small interface:

* `InProcessBroker` — the embedded default (one web process): asyncio queues, nothing to run.
* `RedisBroker` — production (several web processes): Redis pub/sub. Each process keeps one
  pub/sub connection and one Redis subscription per channel, shared by all of its local
  subscribers; a message a process publishes comes back to it through Redis like everyone's.

`publish(channel, message)` is synchronous and never blocks the caller (it is called from
SQLAlchemy's ``after_commit`` hook): in-process it puts the message on the subscribers' queues;
on a started `RedisBroker` it queues it for a publisher task on the broker's loop; on a Redis
broker that was never started (a Celery worker, a CLI) it publishes synchronously.

Every published message gets an ``eventId`` (``"<node>:<n>"``, unique across processes) unless it
has one, so that subscribers in every process can name the same event.

`subscribe(channel)` returns a `Subscription`: ``async with broker.subscribe(ch) as sub`` returns
only once the subscription is live (for Redis: the server confirmed it), so a caller may read the
current state *after* entering and lose nothing committed later. Iterate it, or ``await
sub.get(timeout)``. When a subscriber falls too far behind, or the Redis connection was lost and
re-established, it receives ``{"type": RESYNC}``: messages may have been missed, re-read the state.
Messages are small JSON objects; the state itself lives in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol, Self

import redis
import redis.asyncio as redis_asyncio
import structlog

log = structlog.get_logger(__name__)

RESYNC = "resync"
"""The type of the message a subscriber gets when it may have missed messages."""
QUEUE_SIZE = 256
"""Messages a subscriber may lag behind before it is told to resync instead."""
EVENT_ID = "eventId"


class Subscription:
    """One subscriber's queue on one channel (see the module docstring)."""

    def __init__(
        self, broker: _FanOut, channel: str, on_message: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.channel = channel
        self.on_message = on_message
        """Called on the loop as each message is queued (before any consumer runs)."""
        self._broker = broker
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lagging = False

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        await self._broker.attach(self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._broker.detach(self)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self._next()

    async def get(self, wait: float | None = None) -> dict[str, Any] | None:
        """The next message, or None when ``wait`` seconds pass first."""
        try:
            return await asyncio.wait_for(self._next(), wait)
        except TimeoutError:
            return None

    async def _next(self) -> dict[str, Any]:
        message = await self._queue.get()
        if message.get("type") == RESYNC:
            self._lagging = False
        return message

    def deliver(self, message: dict[str, Any]) -> None:
        """Called on the subscriber's loop: queue ``message``, or a resync marker when full."""
        if self.on_message is not None:
            self.on_message(message)
        if self._lagging:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._lagging = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait({"type": RESYNC, "channel": self.channel})

    def deliver_threadsafe(self, message: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.deliver(message)
        else:
            loop.call_soon_threadsafe(self.deliver, message)


class Broker(Protocol):
    """What the composition root and the live pages use."""

    def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str, on_message: Callable[[dict[str, Any]], None] | None = None) -> Subscription: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class _FanOut:
    """Local subscribers per channel, shared by both brokers."""

    def __init__(self) -> None:
        self.node = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)
        self._counter_lock = threading.Lock()
        self.subscribers: dict[str, set[Subscription]] = {}

    def stamp(self, message: dict[str, Any]) -> dict[str, Any]:
        if EVENT_ID in message:
            return message
        with self._counter_lock:
            number = next(self._counter)
        return {**message, EVENT_ID: f"{self.node}-{os.getpid()}:{number}"}

    def subscribe(self, channel: str, on_message: Callable[[dict[str, Any]], None] | None = None) -> Subscription:
        return Subscription(self, channel, on_message)

    def fan_out(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self.subscribers.get(channel, ())):
            subscription.deliver_threadsafe(message)

    async def attach(self, subscription: Subscription) -> None:
        self.subscribers.setdefault(subscription.channel, set()).add(subscription)

    async def detach(self, subscription: Subscription) -> None:
        members = self.subscribers.get(subscription.channel)
        if members is not None:
            members.discard(subscription)
            if not members:
                del self.subscribers[subscription.channel]


class InProcessBroker(_FanOut):
    """One process: a published message goes straight to this process's subscribers."""

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.fan_out(channel, self.stamp(message))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.subscribers.clear()


class RedisBroker(_FanOut):
    """Several processes: Redis pub/sub, one connection and one subscription per channel per process."""

    def __init__(self, url: str, *, reconnect_seconds: float = 0.5) -> None:
        super().__init__()
        self.url = url
        self.reconnect_seconds = reconnect_seconds
        self._client: redis_asyncio.Redis | None = None
        self._pubsub: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[tuple[str, str]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ready: dict[str, asyncio.Event] = {}
        self._wake = asyncio.Event()
        self._sync_client: redis.Redis | None = None
        self._sync_lock = threading.Lock()

    # --- lifecycle ---

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = redis_asyncio.Redis.from_url(self.url)
        self._pubsub = self._client.pubsub()
        self._outbox = asyncio.Queue()
        self._wake = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._read(), name="live-redis-reader"),
            asyncio.create_task(self._send(), name="live-redis-publisher"),
        ]

    async def close(self) -> None:
        outbox = self._outbox
        if outbox is not None:  # let queued messages leave (briefly) before stopping
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(outbox.join(), 2.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
        self._client = self._pubsub = self._outbox = self._loop = None
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None
        self.subscribers.clear()
        self._ready.clear()

    # --- publishing ---

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        data = json.dumps(self.stamp(message), ensure_ascii=False, separators=(",", ":"))
        loop, outbox = self._loop, self._outbox
        if loop is None or outbox is None or loop.is_closed():
            self._publish_now(channel, data)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            outbox.put_nowait((channel, data))
        else:
            loop.call_soon_threadsafe(outbox.put_nowait, (channel, data))

    def _publish_now(self, channel: str, data: str) -> None:
        """Not started (a worker, a CLI): a short synchronous publish."""
        with self._sync_lock:
            if self._sync_client is None:
                self._sync_client = redis.Redis.from_url(self.url, socket_timeout=5)
            try:
                self._sync_client.publish(channel, data)
            except redis.RedisError:
                log.exception("live.publish_failed", channel=channel)

    async def _send(self) -> None:
        assert self._outbox is not None  # noqa: S101 - started
        assert self._client is not None  # noqa: S101
        while True:
            channel, data = await self._outbox.get()
            try:
                for attempt in range(3):
                    try:
                        await self._client.publish(channel, data)
                        break
                    except (redis.ConnectionError, redis.TimeoutError, OSError):
                        if attempt == 2:  # noqa: PLR2004
                            log.exception("live.publish_failed", channel=channel)
                        else:
                            await asyncio.sleep(self.reconnect_seconds)
            finally:
                self._outbox.task_done()

    # --- subscribing ---

    async def attach(self, subscription: Subscription) -> None:
        channel = subscription.channel
        first = channel not in self.subscribers
        await super().attach(subscription)
        if self._pubsub is None:
            msg = "RedisBroker.subscribe needs a started broker (await broker.start())"
            raise RuntimeError(msg)
        if first:
            self._ready[channel] = asyncio.Event()
            try:
                await self._pubsub.subscribe(channel)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                log.warning("live.subscribe_deferred", channel=channel)  # the reader resubscribes
            self._wake.set()
        ready = self._ready.get(channel)
        if ready is not None:
            await ready.wait()

    async def detach(self, subscription: Subscription) -> None:
        await super().detach(subscription)
        channel = subscription.channel
        if channel not in self.subscribers and self._pubsub is not None:
            self._ready.pop(channel, None)
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, OSError):
                await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while True:
            try:
                await self._read_until_lost()
            except asyncio.CancelledError:
                raise
            except (redis.ConnectionError, redis.TimeoutError, OSError, RuntimeError) as error:
                log.warning("live.redis_lost", error=str(error))
            await asyncio.sleep(self.reconnect_seconds)
            await self._resubscribe()

    async def _read_until_lost(self) -> None:
        while True:
            if not self.subscribers or self._pubsub.connection is None:  # nothing subscribed (yet)
                self._wake.clear()
                await self._wake.wait()
                continue
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            kind = message.get("type")
            channel = message.get("channel")
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            if kind == "subscribe":
                ready = self._ready.get(channel)
                if ready is not None:
                    ready.set()
            elif kind == "message":
                try:
                    payload = json.loads(message["data"])
                except (ValueError, TypeError):
                    log.warning("live.bad_message", channel=channel)
                    continue
                if isinstance(payload, dict):
                    self.fan_out(channel, payload)

    async def _resubscribe(self) -> None:
        """After a lost connection: a new pub/sub, every channel again, and a resync for everyone."""
        assert self._client is not None  # noqa: S101 - started
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        self._pubsub = self._client.pubsub()
        channels = list(self.subscribers)
        if channels:
            try:
                await self._pubsub.subscribe(*channels)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return  # the reader fails again and retries
        for channel in channels:
            self.fan_out(channel, {"type": RESYNC, "channel": channel})


def create_broker(redis_url: str | None) -> RedisBroker | InProcessBroker:
    """Redis when a URL is configured (production), in-process otherwise (the embedded default)."""
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
