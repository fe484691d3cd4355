"""Web processes hold no state a second process can contradict (issue 20, item 2).

Three ``ggzy serve`` nodes with separate var directories on one PostgreSQL database and one Redis
(`tests.scaleout.conftest`): a session made on one is a session on the others and its logout ends
it everywhere at once, rate limits are counted across them, the opening hall's events made through
one reach clients of another, a working-day calendar year loaded through one counts on the other,
and ``ggzy serve --workers 2`` agrees with itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.bidding import harness
from tests.bidding.harness import harness_settings
from tests.bidding.live_server import GGZY, Attempt, submit_bid
from tests.calendar_editions import remove_test_editions_from
from tests.scaleout.conftest import Cluster, ClusterFactory, Node, wait_until
from tests.trading.parties.factories import create_account
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.models import User

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def username_of(cluster: Cluster, user_id: Any) -> str:
    engine = create_engine(cluster.setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            return str(await session.scalar(select(User.username).where(User.id == user_id)))
    finally:
        await engine.dispose()


async def web_login(http: httpx.AsyncClient, cluster: Cluster, form_on: Node, post_to: Node, username: str) -> str:
    """Fetch the login form (its CSRF cookie lands in ``http``'s jar) from one node, post it to
    another; the session token (also in the jar: nodes share the host name, as behind one proxy)."""
    form = await http.get(f"{form_on.base_url}/login", headers=cluster.headers)
    assert form.status_code == 200
    match = CSRF.search(form.text)
    assert match, "the login page has no CSRF field"
    done = await http.post(
        f"{post_to.base_url}/login",
        data={"_csrf_token": match.group(1), "username": username, "password": harness.PASSWORD},
        headers=cluster.headers,
    )
    assert done.status_code == 303, done.text[:2000]
    return done.cookies[SESSION_COOKIE]


async def test_a_session_made_on_one_node_works_on_every_node_and_ends_everywhere(cluster: ClusterFactory) -> None:
    nodes = await cluster(nodes=3, bidders=1)
    a, b, c = nodes.nodes
    bidder = nodes.setup.bidders[0]
    username = await username_of(nodes, bidder.user_id)
    async with httpx.AsyncClient(timeout=30) as http:
        # Pages: the form and its CSRF cookie from A, posted to B (the CSRF secret is shared), used on C.
        session = await web_login(http, nodes, a, b, username)
        for node in (a, b, c):
            account = await http.get(f"{node.base_url}/account/", headers=nodes.headers)
            assert account.status_code == 200, (node, account.status_code)
            assert username in account.text

        # The API: a token issued by B works on A and C.
        issued = await http.post(
            f"{b.base_url}/api/v1/auth/tokens",
            json={"username": username, "password": harness.PASSWORD},
            headers=nodes.headers,
        )
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]
        for node in (a, c):
            me = await http.get(f"{node.base_url}/api/v1/auth/me", headers=nodes.bearer(token))
            assert me.status_code == 200, me.text
            assert me.json()["username"] == username

        # Revoked on C while A and B hold the actor in their caches: refused on both well before
        # the cache's own expiry (the change reaches them through Redis, not by waiting it out).
        for node in (a, b):
            assert (await http.get(f"{node.base_url}/api/v1/auth/me", headers=nodes.bearer(token))).status_code == 200
        cached_at = time.monotonic()
        revoked = await http.delete(f"{c.base_url}/api/v1/auth/tokens", headers=nodes.bearer(token))
        assert revoked.status_code == 204, revoked.text
        statuses: dict[str, int] = {}

        async def refused_everywhere() -> bool:
            for node in (a, b):
                statuses[node.name] = (
                    await http.get(f"{node.base_url}/api/v1/auth/me", headers=nodes.bearer(token))
                ).status_code
            return all(status == 401 for status in statuses.values())

        while not await refused_everywhere():
            assert time.monotonic() - cached_at < 1.5, statuses
            await asyncio.sleep(0.02)

        # And the page session logged out on A is gone on B and C.
        form = await http.get(f"{a.base_url}/account/", headers=nodes.headers)
        token_field = CSRF.search(form.text)
        assert token_field
        out = await http.post(f"{a.base_url}/logout", data={"_csrf_token": token_field.group(1)}, headers=nodes.headers)
        assert out.status_code == 303, out.text[:2000]
        for node in (b, c):
            gone = await http.get(
                f"{node.base_url}/account/", headers={**nodes.headers, "Cookie": f"{SESSION_COOKIE}={session}"}
            )
            assert gone.status_code != 200 or username not in gone.text, (node, gone.status_code)
    nodes.assert_no_local_secrets()


async def test_failed_logins_are_counted_across_nodes(cluster: ClusterFactory) -> None:
    nodes = await cluster(
        nodes=3, bidders=1, env={"GGZY_AUTH_LOGIN_ATTEMPTS_PER_WINDOW": "6", "GGZY_AUTH_LOGIN_FREE_FAILURES": "100"}
    )
    username = await username_of(nodes, nodes.setup.bidders[0].user_id)
    async with httpx.AsyncClient(timeout=30) as http:
        statuses = []
        for attempt in range(9):  # round robin: each node alone sees only three
            node = nodes[attempt % 3]
            response = await http.post(
                f"{node.base_url}/api/v1/auth/tokens",
                json={"username": username, "password": "wrong password"},
                headers=nodes.headers,
            )
            statuses.append(response.status_code)
        assert statuses[:6] == [401] * 6, statuses
        assert statuses[6:] == [429] * 3, statuses
        # Even the right password waits, on every node; another address is not affected.
        for node in nodes.nodes:
            locked = await http.post(
                f"{node.base_url}/api/v1/auth/tokens",
                json={"username": username, "password": harness.PASSWORD},
                headers=nodes.headers,
            )
            assert locked.status_code == 429
            assert int(locked.headers["Retry-After"]) > 0
        elsewhere = await http.post(
            f"{nodes[1].base_url}/api/v1/auth/tokens",
            json={"username": username, "password": harness.PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.77"},
        )
        assert elsewhere.status_code == 201, elsewhere.text


async def test_public_endpoint_throttle_is_counted_across_nodes(cluster: ClusterFactory) -> None:
    nodes = await cluster(nodes=3, bidders=1, env={"GGZY_AUTH_PUBLIC_REQUESTS_PER_WINDOW": "4"})
    async with httpx.AsyncClient(timeout=30) as http:
        statuses = []
        for attempt in range(6):
            node = nodes[attempt % 3]
            # Refused for its media type, but counted first: the guard runs before the handler.
            response = await http.post(
                f"{node.base_url}/api/v1/tsa", content=b"x", headers={**nodes.headers, "Content-Type": "text/plain"}
            )
            statuses.append(response.status_code)
    assert statuses == [415] * 4 + [429] * 2, statuses


# --- the live opening hall ------------------------------------------------------------------------


@dataclass
class Stream:
    """One SSE client of the opening hall: the messages it got (``id``, ``event``, ``view``)."""

    url: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    def events(self) -> list[str]:
        return [m["id"] for m in self.messages if m["event"] is not None]

    @property
    def view(self) -> dict[str, Any]:
        return dict(self.messages[-1]["view"])


async def follow(http: httpx.AsyncClient, stream: Stream, headers: dict[str, str]) -> None:
    async with http.stream("GET", stream.url, headers={**headers, "Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        fields: dict[str, str] = {}
        data: list[str] = []
        async for line in response.aiter_lines():
            if line == "":
                if data:
                    body = json.loads("\n".join(data))
                    stream.messages.append({"id": fields.get("id"), "event": body["event"], "view": body["view"]})
                fields, data = {}, []
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif ":" in line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.lstrip()


@contextlib.asynccontextmanager
async def following(http: httpx.AsyncClient, streams: list[Stream], headers: dict[str, str]) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(follow(http, stream, headers)) for stream in streams]
    try:
        await wait_until(lambda: all(stream.messages for stream in streams), 30, "every stream's first snapshot")
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_opening_event_made_through_one_node_reaches_clients_of_the_others(
    cluster: ClusterFactory, tmp_path: Path
) -> None:
    nodes = await cluster(nodes=3, bidders=3)
    a, b, c = nodes.nodes
    setup = await harness.deadline_soon(nodes.setup, 60)
    code = setup.tender.code
    async with httpx.AsyncClient(timeout=60) as http:
        for bidder in setup.bidders:  # tiny bids, each sent whole to one node (its own file store)
            built = await asyncio.to_thread(harness.build_bid, setup, bidder, "001", tmp_path / "bids", size_bytes=2048)
            attempt = await submit_bid(http, a.base_url, Attempt(bidder, "001", built))
            assert attempt.receipt is not None, attempt.error
    await harness.open_at_deadline(setup)
    host = nodes.bearer(await harness.host_token(setup))

    streams = [Stream(f"{node.base_url}/api/v1/bidding/opening/{code}/events") for node in (a, b, c)]
    stream_http = httpx.AsyncClient(timeout=httpx.Timeout(60, read=None))
    async with stream_http, httpx.AsyncClient(timeout=30) as api, following(stream_http, streams, nodes.headers):
        assert {stream.view["stage"] for stream in streams} == {"sign-in"}
        published: list[str] = []

        async def act(node: Node, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
            before = [len(stream.events()) for stream in streams]
            response = await api.post(
                f"{node.base_url}/api/v1/bidding/opening/{code}/{path}", json=body, headers=headers
            )
            assert response.status_code in {200, 201}, response.text
            await wait_until(
                lambda: all(len(s.events()) > n for s, n in zip(streams, before, strict=True)), 15, f"{path} on {node}"
            )
            ids = {stream.events()[-1] for stream in streams}
            assert len(ids) == 1, ids  # the same event, by its id, on every node's clients
            published.append(ids.pop())

        # Sign-ins through A, B and C in turn; the host's moves through C then A.
        for index, bidder in enumerate(setup.bidders):
            signature = await harness.sign_in_signature(bidder, code)
            await act(nodes[index % 3], "sign-in", {"signature": signature}, nodes.bearer(bidder.token))
        await act(c, "transitions", {"action": "decryption"}, host)
        await act(a, "transitions", {"action": "pause", "reason": "网络波动"}, host)
        for stream in streams:
            assert stream.events() == published
            assert stream.view["stage"] == "decryption"
            assert stream.view["paused"] is True
            assert stream.view["bids"]["signedIn"] == 3
    nodes.assert_no_local_secrets()


# --- ggzy serve --workers N ------------------------------------------------------------------------


CALENDAR_2027 = {
    "year": 2027,
    "version": "test edition (not the State Council's notice)",
    "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
    "workdays": [{"name": "元旦调休", "date": "2027-01-09"}],
}


async def test_a_calendar_year_loaded_through_one_node_counts_on_the_other(cluster: ClusterFactory) -> None:
    """The administrator loads 2027 on node A's page; node B (another var directory) counts periods
    into 2027 at once and lists the version: the calendar lives in the database, not on A's disk.
    """
    nodes = await cluster(nodes=2, bidders=1)
    a, b = nodes.nodes
    await remove_test_editions_from(nodes.setup.db_url)  # 2027 not loaded until A's page loads it
    settings = harness_settings(nodes.setup.db_url, nodes.setup.var)
    engine = create_engine(nodes.setup.db_url)
    try:
        admin = await create_account(create_session_maker(engine), settings, Role.ADMIN, password=harness.PASSWORD)
    finally:
        await engine.dispose()
    calculator = {"start": "2026-12-30", "days": "2"}
    async with httpx.AsyncClient(timeout=30) as http:
        await web_login(http, nodes, a, b, admin.username)
        missing = await http.get(f"{b.base_url}/admin/calendar", params=calculator, headers=nodes.headers)
        assert missing.status_code == 422, missing.text[:2000]

        form = await http.get(f"{a.base_url}/admin/calendar", headers=nodes.headers)
        match = CSRF.search(form.text)
        assert match, "the calendar page has no CSRF field"
        raw = json.dumps(CALENDAR_2027, ensure_ascii=False).encode()
        loaded = await http.post(
            f"{a.base_url}/admin/calendar",
            data={"_csrf_token": match.group(1)},
            files={"schedule": ("2027.json", raw, "application/json")},
            headers=nodes.headers,
        )
        assert loaded.status_code == 303, loaded.text[:2000]

        # Wed 2026-12-30 + 2 working days: Thu 12-31, then (元旦 Jan 1-3) Mon 2027-01-04.
        counted = await http.get(f"{b.base_url}/admin/calendar", params=calculator, headers=nodes.headers)
        assert counted.status_code == 200, counted.text[:2000]
        assert 'data-end="2027-01-04"' in counted.text
        listed = await http.get(f"{b.base_url}/admin/calendar", params={"year": "2027"}, headers=nodes.headers)
        assert 'data-in-force="loaded"' in listed.text
        assert 'data-version="1"' in listed.text
        assert admin.username in listed.text  # who loaded it, from the ledger entry A wrote
    for node in (a, b):
        assert not list(node.var.rglob("calendar/*.json")), f"node {node.name} keeps calendar files"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


async def test_serve_with_two_workers_agrees_with_itself_on_a_fresh_var_directory(cluster: ClusterFactory) -> None:
    """Two uvicorn workers on PostgreSQL, embedded secrets (none in the environment) on a var
    directory they both start on at once: every CSRF token issued by one is accepted by the other,
    and failed logins are counted over both."""
    env = {"GGZY_AUTH_LOGIN_ATTEMPTS_PER_WINDOW": "10", "GGZY_AUTH_LOGIN_FREE_FAILURES": "100"}
    nodes = await cluster(nodes=1, bidders=1, workers=2, env=env, start=False)
    node = nodes[0]
    for name in ("GGZY_SECRET_KEY", "GGZY_PII_HASH_KEY", "GGZY_SIGNING_KEY"):
        del node.env[name]
    await asyncio.to_thread(node.start)
    await wait_until(lambda: len(_children(node.pid)) >= 2, 30, "two workers")
    assert (node.var / "secrets.json").exists()
    username = await username_of(nodes, nodes.setup.bidders[0].user_id)

    # No keep-alive: each request may land on either worker (the kernel balances the accepts).
    limits = httpx.Limits(max_keepalive_connections=0)
    for _ in range(12):  # a browser each time: the form (and its CSRF cookie) and the post
        async with httpx.AsyncClient(timeout=30, limits=limits) as browser:
            assert await web_login(browser, nodes, node, node, username)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        statuses = []
        for _ in range(12):
            response = await http.post(
                f"{node.base_url}/api/v1/auth/tokens",
                json={"username": username, "password": "wrong"},
                headers=nodes.headers,
            )
            statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429] * 2, statuses

    # /metrics reports both workers' requests, whichever worker answers the scrape.
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        seen = [_healthz_count(await http.get(f"{node.base_url}/metrics")) for _ in range(6)]
        for _ in range(20):
            assert (await http.get(f"{node.base_url}/healthz")).status_code == 200
        seen += [_healthz_count(await http.get(f"{node.base_url}/metrics")) for _ in range(6)]
    assert seen == sorted(seen), seen  # one monotonic counter, not two workers' alternating
    assert seen[-1] - seen[5] == 20, seen


def _healthz_count(scrape: httpx.Response) -> int:
    assert scrape.status_code == 200, scrape.text
    pattern = re.compile(
        r'^ggzy_http_requests_total\{method="GET",route="/healthz",status="200"\} ([0-9.e+]+)$', re.MULTILINE
    )
    match = pattern.search(scrape.text)
    return int(float(match.group(1))) if match else 0


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
    env |= {"GGZY_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [GGZY, "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "GGZY_REDIS_URL" in done.stderr
    assert not (tmp_path / "var" / "secrets.json").exists()
