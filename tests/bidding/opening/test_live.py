"""The live broker (`trading.kernel.live`), both implementations, and the hall's view cache
(`bidding.opening.live`). The two-process acceptance is in ``test_live_processes.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis.asyncio as redis_asyncio

from bidding.opening.live import Hall, audience_of, channel_of
from tests.bidding import harness
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.live import EVENT_ID, QUEUE_SIZE, RESYNC, InProcessBroker, RedisBroker, create_broker

REDIS_URL = os.environ.get("GGZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _channel() -> str:
    return f"test:{uuid.uuid4().hex}"


# --- in-process ----------------------------------------------------------------------------------


async def test_in_process_delivers_to_every_subscriber_of_the_channel_only() -> None:
    broker = InProcessBroker()
    channel = _channel()
    async with (
        broker.subscribe(channel) as first,
        broker.subscribe(channel) as second,
        broker.subscribe(_channel()) as other,
    ):
        broker.publish(channel, {"type": "stage", "state": "decryption"})
        a, b = await first.get(1), await second.get(1)
        assert a is not None
        assert b is not None
        assert a["type"] == b["type"] == "stage"
        assert a[EVENT_ID] == b[EVENT_ID]  # one event, one id everywhere
        assert await other.get(0.05) is None
    assert broker.subscribers == {}  # leaving unsubscribes


async def test_in_process_publish_is_synchronous_and_safe_from_another_thread() -> None:
    broker = InProcessBroker()
    channel = _channel()
    async with broker.subscribe(channel) as sub:
        thread = threading.Thread(target=broker.publish, args=(channel, {"type": "from-thread"}))
        thread.start()
        thread.join()
        message = await sub.get(1)
        assert message is not None
        assert message["type"] == "from-thread"


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    broker = InProcessBroker()
    channel = _channel()
    seen: list[dict[str, Any]] = []
    async with broker.subscribe(channel, on_message=seen.append) as sub:
        for number in range(QUEUE_SIZE + 10):
            broker.publish(channel, {"type": "n", "n": number})
        first = await sub.get(1)
        assert first == {"type": RESYNC, "channel": channel}
        assert await sub.get(0.05) is None  # the backlog was dropped: re-read the state instead
        broker.publish(channel, {"type": "after"})
        after = await sub.get(1)
        assert after is not None
        assert after["type"] == "after"
    assert len(seen) == QUEUE_SIZE + 11  # the hook sees every message as it arrives


def test_create_broker_picks_redis_only_with_a_url() -> None:
    assert isinstance(create_broker(None), InProcessBroker)
    assert isinstance(create_broker(""), InProcessBroker)
    assert isinstance(create_broker(REDIS_URL), RedisBroker)


# --- Redis ---------------------------------------------------------------------------------------


async def test_redis_fans_out_across_brokers_as_across_processes() -> None:
    one, two = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    await one.start()
    await two.start()
    channel = _channel()
    try:
        async with one.subscribe(channel) as here, two.subscribe(channel) as there, two.subscribe(channel) as also:
            # Entering returned after Redis confirmed: nothing published from now on is lost.
            for number in range(20):
                one.publish(channel, {"type": "n", "n": number})
            for sub in (here, there, also):
                got = [await sub.get(2) for _ in range(20)]
                assert [m["n"] for m in got if m is not None] == list(range(20))
            assert len({m[EVENT_ID] for m in got if m}) == 20
        assert one.subscribers == two.subscribers == {}
    finally:
        await one.close()
        await two.close()


async def test_an_unstarted_redis_broker_publishes_synchronously() -> None:
    """A Celery worker has no broker loop: its after-commit events still reach the web processes."""
    listener = RedisBroker(REDIS_URL)
    await listener.start()
    worker = RedisBroker(REDIS_URL)
    channel = _channel()
    try:
        async with listener.subscribe(channel) as sub:
            await asyncio.to_thread(worker.publish, channel, {"type": "window-closed"})
            message = await sub.get(2)
            assert message is not None
            assert message["type"] == "window-closed"
    finally:
        await listener.close()
        await worker.close()


async def test_redis_subscribers_resync_after_the_connection_is_killed() -> None:
    broker = RedisBroker(REDIS_URL, reconnect_seconds=0.1)
    await broker.start()
    channel = _channel()
    admin = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        async with broker.subscribe(channel) as sub:
            # Only this broker's connection (others share the Redis server): by its address.
            host, port = broker._pubsub.connection._writer.get_extra_info("sockname")[:2]
            await admin.client_kill_filter(_id=None, addr=f"{host}:{port}")
            message = await sub.get(5)
            assert message == {"type": RESYNC, "channel": channel}
            for _ in range(50):  # resubscribed: publishing works again
                broker.publish(channel, {"type": "again"})
                message = await sub.get(0.2)
                if message is not None:
                    break
            assert message is not None
            assert message["type"] == "again"
    finally:
        await admin.aclose()
        await broker.close()


# --- the hall's cache ----------------------------------------------------------------------------


def _actor(role: Role, organisation: uuid.UUID | None, permissions: frozenset[str]) -> Actor:
    return Actor(kind=ActorKind.USER, organisation_id=organisation, roles=frozenset({role}), permissions=permissions)


async def test_one_read_per_audience_per_event_however_many_streams() -> None:
    hall = Hall()
    code = "E0000000000000000001"
    reads: list[str] = []

    def reader(name: str) -> Any:
        async def read() -> dict[str, Any]:
            reads.append(name)
            await asyncio.sleep(0.01)
            return {"stage": "decryption", "who": name}

        return read

    visitor = Actor.anonymous()
    org = uuid.uuid4()
    bidder = _actor(Role.BIDDER, org, frozenset({"bidding:opening:read", "bidding:opening:attend"}))
    colleague = _actor(Role.BIDDER, org, frozenset({"bidding:opening:read", "bidding:opening:attend"}))
    assert audience_of(bidder) == audience_of(colleague) != audience_of(visitor)
    for _ in range(3):
        hall.opened(code)
    hall.seen(code, {"type": "stage", EVENT_ID: "a:1"})
    views = await asyncio.gather(
        *[hall.view_json(code, visitor, reader("visitor")) for _ in range(100)],
        *[hall.view_json(code, bidder if n % 2 else colleague, reader("bidder")) for n in range(100)],
    )
    assert sorted(reads) == ["bidder", "visitor"]
    assert len({v.json for v in views}) == 2
    hall.seen(code, {"type": "decryption-progress", EVENT_ID: "a:2"})
    await hall.view_json(code, visitor, reader("visitor"))
    assert reads.count("visitor") == 2  # a new event, a new read
    for _ in range(3):
        hall.closed(code)
    assert hall.cache == {}  # nobody follows the tender here any more: nothing may go stale
    await hall.view_json(code, visitor, reader("visitor"))
    await hall.view_json(code, visitor, reader("visitor"))
    assert reads.count("visitor") == 4  # no stream, no cache


def test_channel_names() -> None:
    assert channel_of("E1") == "opening:E1"


# --- acceptance: 200 clients over two web processes, one of them killed mid-hall -------------------

CLIENTS = 200
SUBMISSION_SECONDS = 60
"""From moving the deadline (both servers up) to the deadline: three tiny bids are built and sent.
Nothing waits for it: `harness.open_at_deadline` then moves both servers' clock past it."""
HOST_ACTIONS_BEFORE_KILL = ({"action": "decryption"}, {"action": "pause", "reason": "网络波动"})
HOST_ACTIONS_AFTER_RECONNECT = (
    {"action": "pause", "reason": "主持人离席"},
    {"action": "resume"},
)


@dataclass
class Follower:
    """One SSE client: the messages it got, per connection."""

    index: int
    url: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    retry_ms: int | None = None
    dropped_at: float | None = None
    caught_up_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def events(self) -> list[str]:
        """The ids of the events (not the snapshots sent on connecting) this client received."""
        return [m["id"] for m in self.messages if m["event"] is not None]

    @property
    def view(self) -> dict[str, Any]:
        return dict(self.messages[-1]["view"])


async def _follow(http: httpx.AsyncClient, follower: Follower, stop: asyncio.Event) -> None:
    async with http.stream("GET", follower.url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        follower.connections += 1
        fields: dict[str, str] = {}
        data: list[str] = []
        async for line in response.aiter_lines():
            if stop.is_set():
                return
            if line == "":
                if data:
                    body = json.loads("\n".join(data))
                    follower.messages.append({"id": fields.get("id"), "event": body["event"], "view": body["view"]})
                    if follower.dropped_at is not None and follower.caught_up_at is None:
                        follower.caught_up_at = time.monotonic()
                fields, data = {}, []
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line.startswith("retry:"):
                follower.retry_ms = int(line[6:])
            elif ":" in line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.lstrip()


def _abort_transports_to(ports: set[int | None]) -> None:
    """Close what httpcore leaves behind of streams whose server was SIGKILLed: their transports
    are dropped from the pool without being closed, and would otherwise be reported (unclosed
    socket) against whichever test runs next."""
    for candidate in gc.get_objects():
        if isinstance(candidate, asyncio.Transport) and not candidate.is_closing():
            peer = candidate.get_extra_info("peername")
            if peer and peer[1] in ports:
                candidate.abort()


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_two_hundred_clients_over_two_processes_and_one_process_killed(  # noqa: C901, PLR0915 - one story
    fresh_db: str, tmp_path: Path
) -> None:
    redis_env = {"GGZY_REDIS_URL": REDIS_URL}
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=3)
    code = setup.tender.code
    servers = [harness.ServerProcess(setup, tmp_path / f"server-{n}.log", setup.env_with(**redis_env)) for n in "ab"]
    await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))
    first, second = servers
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        # Three sealed bids, then the deadline (both servers' clock is moved to it, not waited for).
        setup = await harness.deadline_soon(setup, SUBMISSION_SECONDS)
        async with httpx.AsyncClient(timeout=60) as http:
            for bidder in setup.bidders:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, "001", tmp_path / "bids", size_bytes=2048
                )
                attempt = await harness.submit_bid(http, first.base_url, harness.Attempt(bidder, "001", built))
                assert attempt.receipt is not None, attempt.error
        await harness.open_at_deadline(setup)
        host = {"Authorization": f"Bearer {await harness.host_token(setup)}"}

        # 200 clients, half on each process.
        limits = httpx.Limits(max_connections=CLIENTS + 20, max_keepalive_connections=0)
        http = httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), limits=limits)
        api = httpx.AsyncClient(timeout=30)
        followers = [
            Follower(n, f"{servers[n % 2].base_url}/api/v1/bidding/opening/{code}/events") for n in range(CLIENTS)
        ]
        tasks = [asyncio.create_task(_follow(http, f, stop)) for f in followers]
        await _until(lambda: all(f.messages for f in followers), 30, "every client's first snapshot")
        assert {f.view["stage"] for f in followers} == {"sign-in"}
        assert {f.retry_ms for f in followers} == {2000}
        assert all("decryption" not in f.view for f in followers)  # visitors: masked

        published: list[str] = []

        async def act(url: str, body: dict[str, Any] | None, headers: dict[str, str], alive: list[Follower]) -> None:
            had = {f.index: len(f.events()) for f in alive}
            response = await api.post(url, json=body, headers=headers)
            assert response.status_code in {200, 201}, response.text
            expected = len(published) + 1
            try:
                await _until(lambda: all(len(f.events()) > had[f.index] for f in alive), 15, f"event {expected}")
            except AssertionError:
                counts = sorted({(f.url[:30], len(f.events()), f.connections) for f in alive})
                raise AssertionError(f"event {expected}: {counts}") from None
            assert all(len(f.events()) == had[f.index] + 1 for f in alive)  # one change, one event
            ids = {f.events()[-1] for f in alive}
            assert len(ids) == 1, ids  # every client got the same event
            published.append(ids.pop())

        # State changes through both processes: sign-ins (bidders), then the host's moves.
        for number, bidder in enumerate(setup.bidders):
            server = servers[number % 2]
            await act(
                f"{server.base_url}/api/v1/bidding/opening/{code}/sign-in",
                {"signature": await harness.sign_in_signature(bidder, code)},
                {"Authorization": f"Bearer {bidder.token}"},
                followers,
            )
        for number, body in enumerate(HOST_ACTIONS_BEFORE_KILL):
            server = servers[number % 2]
            await act(f"{server.base_url}/api/v1/bidding/opening/{code}/transitions", body, host, followers)
        before_kill = list(published)
        for f in followers:
            assert f.events() == before_kill
            assert f.view["stage"] == "decryption"
            assert f.view["paused"] is True
            assert f.view["bids"]["signedIn"] == 3

        # SIGKILL the second process mid-hall; a change happens while its clients are away.
        killed_at = time.monotonic()
        second.kill()
        orphans = [f for f in followers if f.url.startswith(second.base_url)]
        survivors = [f for f in followers if f.url.startswith(first.base_url)]
        await asyncio.gather(*(tasks[f.index] for f in orphans), return_exceptions=True)
        resume = await api.post(
            f"{first.base_url}/api/v1/bidding/opening/{code}/transitions", json={"action": "resume"}, headers=host
        )
        assert resume.status_code == 200, resume.text
        await _until(lambda: all(len(f.events()) > len(before_kill) for f in survivors), 15, "the resume")
        published.append(survivors[0].events()[-1])

        # The orphans reconnect to the surviving process and catch up from its snapshot.
        for f in orphans:
            f.dropped_at = killed_at
            f.url = f.url.replace(second.base_url, first.base_url)
            tasks[f.index] = asyncio.create_task(_follow(http, f, stop))
        await _until(lambda: all(f.connections == 2 and f.caught_up_at for f in orphans), 30, "reconnections")
        for f in orphans:
            assert f.events() == before_kill  # nothing replayed: the snapshot carries the state
            assert f.view["stage"] == "decryption"
            assert f.view["paused"] is False  # the resume they missed
        reconnect_seconds = max(f.caught_up_at or 0 for f in orphans) - killed_at

        # And from then on everyone sees every change.
        for body in HOST_ACTIONS_AFTER_RECONNECT:
            await act(f"{first.base_url}/api/v1/bidding/opening/{code}/transitions", body, host, followers)
        after = published[len(before_kill) + 1 :]
        for f in survivors:
            assert f.events() == published
        for f in orphans:
            assert f.events() == before_kill + after
        assert {f.view["paused"] for f in followers} == {False}
        delivered = sum(len(f.events()) for f in followers)
        print(  # noqa: T201 - the figures of the run (pytest -s)
            f"\n{CLIENTS} clients, {len(published)} state changes, {delivered} events delivered;"
            f" {len(orphans)} clients reconnected and caught up {reconnect_seconds:.2f} s after the kill"
        )
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in servers:
            server.stop()
        _abort_transports_to({urlsplit(server.base_url).port for server in servers})
