"""The session's server-sent events over HTTP, the way the opening hall's are tested
(`tests/bidding/opening/test_live.py`): the real server (``ggzy serve``, a process of its own) on a
database of the test's own with Redis pub/sub as its live broker, and the test as the browsers.

A member, the host and a supervisor each follow their stream (``/session/events``, ``/host/events``,
``/live/events``); the chair moves the session on, the host pauses and resumes, all over HTTP; then
the servers' clock passes the state's end and the sweep runs twice at once in this process, as two
workers would (publishing to Redis after commit): every stream gets each change once, with the
fresh progress and no names. A committee outsider's and the host's attempts at streams not theirs
are refused (403) and recorded as ``evaluation.access_refused``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bidding.evaluation.models import Evaluation, Member, MemberStatus, SessionState
from bidding.evaluation.session import events as session_events
from bidding.evaluation.session.timelimit import HANDLER, TimeLimitDue
from tests.bidding import harness
from tests.bidding.evaluation.session.support import build_committee, seat_everyone
from tests.trading.parties.factories import Account, create_account, csrf_token, ledger_entries
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.live import RedisBroker
from trading.kernel.sweep import run_sweep
from trading.server.live import session_sink

REDIS_URL = os.environ.get("GGZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
WAIT = 15.0


@dataclass
class Stream:
    """One browser's ``EventSource``: the ``state`` messages it got (``{"event", "view"}``)."""

    url: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    retry_ms: int | None = None
    task: asyncio.Task[None] | None = None

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["event"] is not None and (kind is None or m["event"]["type"] == kind)]


async def _read(http: httpx.AsyncClient, stream: Stream) -> None:
    async with http.stream("GET", stream.url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        name, data = "", []
        async for line in response.aiter_lines():
            if line == "":
                if data and name == "state":
                    text = "\n".join(data)
                    stream.raw.append(text)
                    stream.messages.append(json.loads(text))
                name, data = "", []
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("retry:"):
                stream.retry_ms = int(line[6:])


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _browser(base_url: str, account: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30, read=None)) as http:
        form = await http.get("/login")
        response = await http.post(
            "/login",
            data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": account.password},
        )
        assert response.status_code == 303, response.text
        yield http


async def _post(http: httpx.AsyncClient, page: str, url: str, data: dict[str, str]) -> None:
    form = await http.get(page)
    assert form.status_code == 200, form.text
    response = await http.post(url, data={"_csrf_token": csrf_token(form.text), **data})
    assert response.status_code == 303, response.text


async def test_the_session_streams_over_http_with_redis(  # noqa: C901, PLR0915 - one story
    fresh_db: str, tmp_path: Path
) -> None:
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=1)
    settings = harness.harness_settings(fresh_db, setup.var)
    engine = create_engine(fresh_db)
    maker = create_session_maker(engine)
    server = harness.ServerProcess(setup, tmp_path / "server.log", setup.env_with(GGZY_REDIS_URL=REDIS_URL))
    streams: list[Stream] = []
    worker = RedisBroker(REDIS_URL)  # a worker's broker: not started, publishes synchronously
    sink = session_sink(worker)
    try:
        committee = await build_committee(maker, settings, setup.pki, size=3, reserves=0)
        await seat_everyone(maker, settings, committee)
        # Signed in and the chair elected, as rows: the certificate sign-in and the election are
        # tested in test_session_machine.py; here the point is what the streams carry.
        async with maker() as session:
            now = await clock.now(session)
            members = list(
                await session.scalars(sa.select(Member).where(Member.evaluation_id == committee.evaluation_id))
            )
            for member in members:
                member.status = MemberStatus.SIGNED_IN
                member.signed_in_at = now
            evaluation = await session.get(Evaluation, committee.evaluation_id)
            assert evaluation is not None
            evaluation.chair_member_id = committee.members[0]
            await session.commit()
        supervisor = await create_account(maker, settings, Role.SUPERVISOR)
        outsider = await create_account(maker, settings, Role.EXPERT)
        await asyncio.to_thread(server.start)

        base = f"/evaluation/e/{committee.evaluation_id}"
        chair_account = committee.experts[0].account
        member_account = committee.experts[1].account
        async with (
            _browser(server.base_url, chair_account) as chair,
            _browser(server.base_url, member_account) as member,
            _browser(server.base_url, committee.host) as host,
            _browser(server.base_url, supervisor) as watcher,
            _browser(server.base_url, outsider) as stranger,
        ):
            # Refused before any stream starts, and recorded.
            refused = await stranger.get(f"{base}/session/events", headers={"Accept": "text/event-stream"})
            assert refused.status_code == 403, refused.text
            not_host_stream = await host.get(f"{base}/live/events", headers={"Accept": "text/event-stream"})
            assert not_host_stream.status_code == 403, not_host_stream.text
            records = await ledger_entries(
                maker, action="evaluation.access_refused", subject_id=committee.evaluation_id
            )
            assert len(records) == 2, records
            assert {(r.actor_user_id, r.summary["rule"]) for r in records} == {
                (outsider.user_id, "session_party"),  # an expert, but not on this committee
                (committee.host.user_id, "permission"),  # the supervisors' stream
            }

            for http, url in (
                (member, f"{base}/session/events"),
                (host, f"{base}/host/events"),
                (watcher, f"{base}/live/events"),
            ):
                stream = Stream(url)
                stream.task = asyncio.create_task(_read(http, stream))
                streams.append(stream)
            await _until(lambda: all(s.messages for s in streams), "the first snapshot on every stream")
            for stream in streams:
                first = stream.messages[0]
                assert first["event"] is None
                assert first["view"]["state"] == SessionState.PREPARING.value
                assert first["view"]["signedIn"] == 3
                assert stream.retry_ms == 2000

            async def each(kind: str, count: int = 1) -> list[dict[str, Any]]:
                await _until(lambda: all(len(s.events(kind)) >= count for s in streams), f"{kind} on every stream")
                got = [s.events(kind)[-1] for s in streams]
                assert len({m["event"]["eventId"] for m in got}) == 1  # one change, one event everywhere
                return got

            # A state change: the chair moves the session on.
            await _post(chair, f"{base}/session", f"{base}/session/advance", {"target": "signed-in"})
            for message in await each("transition"):
                assert message["event"]["state"] == "signed-in"
                assert message["view"]["state"] == "signed-in", streams[0].messages
                assert message["view"]["stateEndsAt"] is not None
                assert message["view"]["overrunSeconds"] == 0

            # Pause and resume by the host.
            await _post(host, f"{base}/host", f"{base}/host/pause", {"note": "网络中断"})
            for message in await each("pause"):
                assert message["view"]["paused"] is True, message
                assert message["view"]["overrunSeconds"] is None
                assert 0 < message["view"]["remainingSeconds"] <= 30 * 60
            await _post(host, f"{base}/host", f"{base}/host/resume", {})
            for message in await each("resume"):
                assert message["view"]["paused"] is False

            # The state's time runs out (the servers' clock is moved, not waited for); two sweeps
            # at once, as two workers: one records, the other finds nothing due.
            setup.clock.advance(timedelta(minutes=32))
            session_events.add_sink(sink)
            with clock.use_clock(setup.clock):
                reports = await asyncio.gather(run_sweep(maker, [TimeLimitDue()]), run_sweep(maker, [TimeLimitDue()]))
            assert sum(r.changed.get(HANDLER, 0) for r in reports) == 1, reports
            assert all(r.failed == {} for r in reports)
            for message in await each("time-exceeded"):
                assert message["event"]["state"] == "signed-in"
                assert message["view"]["state"] == "signed-in"  # the clock never moves the state
                assert message["view"]["overrunSeconds"] >= 60
                assert message["view"]["remainingSeconds"] == 0
            await asyncio.sleep(1)
            assert all(len(s.events("time-exceeded")) == 1 for s in streams)
            assert all(len(s.events()) == 4 for s in streams)  # transition, pause, resume, overrun

            texts = "\n".join(text for s in streams for text in s.raw)
            assert all(expert.name not in texts for expert in committee.experts)
            page = await watcher.get(f"{base}/live")
            assert 'id="time-exceeded"' in page.text
    finally:
        session_events.remove_sink(sink)
        for stream in streams:
            if stream.task is not None:
                stream.task.cancel()
        await asyncio.gather(*(s.task for s in streams if s.task is not None), return_exceptions=True)
        server.stop()
        await worker.close()
        await engine.dispose()
