"""Login throttling per client address and per username-address pair, with backoff: wrong
passwords from one place never lock the owner out from another (issue 11, finding 7: 50 wrong
passwords from one address gave the right password from another address 429 for 297 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import PASSWORD, create_account
from trading.kernel.auth.roles import Role
from trading.kernel.ratelimit import MemoryRateLimiter
from trading.kernel.settings import Settings

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.10"
WRONG = "not the password at all"

ClientAt = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def clock(app: Litestar) -> list[float]:
    """The limiter's clock, moved by the test instead of sleeping."""
    now = [10_000.0]
    app.state["rate_limiter"] = MemoryRateLimiter(monotonic=lambda: now[0])
    return now


@pytest.fixture
def client_at(app: Litestar) -> ClientAt:
    @asynccontextmanager
    async def at(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 50_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            yield client

    return at


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/tokens", json={"username": username, "password": password})


async def test_wrong_passwords_from_one_address_never_lock_the_owner_out_elsewhere(
    client_at: ClientAt, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    owner = await create_account(session_maker, settings, Role.BIDDER)
    async with client_at(ATTACKER) as attacker:
        statuses = {(await _login(attacker, owner.username, WRONG)).status_code for _ in range(50)}
        assert statuses == {401, 429}  # the attacker is slowed down...
        assert (await _login(attacker, owner.username, PASSWORD)).status_code == 429
    async with client_at(OWNER) as elsewhere:
        # ...the owner, from another address, is not.
        response = await _login(elsewhere, owner.username, PASSWORD)
        assert response.status_code == 201, response.text


async def test_one_username_from_one_address_backs_off_exponentially(
    client_at: ClientAt, session_maker: async_sessionmaker[AsyncSession], settings: Settings, clock: list[float]
) -> None:
    settings.auth.login_attempts_per_window = 1000  # only the pair's backoff in play
    settings.auth.login_free_failures = 3
    settings.auth.login_backoff_base_seconds = 2
    settings.auth.login_backoff_max_seconds = 10
    owner = await create_account(session_maker, settings, Role.BIDDER)
    waits: list[int] = []
    async with client_at(ATTACKER) as client:
        for _ in range(3):
            assert (await _login(client, owner.username, WRONG)).status_code == 401
        for _ in range(4):
            refused = await _login(client, owner.username, PASSWORD)  # even the right password waits
            assert refused.status_code == 429
            wait = int(refused.headers["retry-after"])
            assert refused.json()["retry_after"] == wait
            waits.append(wait)
            clock[0] += wait
            assert (await _login(client, owner.username, WRONG)).status_code == 401
        assert waits == [2, 4, 8, 10]  # doubling, up to the maximum
        clock[0] += 10
        assert (await _login(client, owner.username, PASSWORD)).status_code == 201
        # A success starts the pair afresh: its free failures again, no wait.
        for _ in range(3):
            assert (await _login(client, owner.username, WRONG)).status_code == 401
        assert (await _login(client, owner.username, WRONG)).status_code == 429


async def test_an_address_trying_many_usernames_waits_out_the_window(
    client_at: ClientAt, session_maker: async_sessionmaker[AsyncSession], settings: Settings, clock: list[float]
) -> None:
    """Credential stuffing: one failure each for many usernames still counts against the address."""
    settings.auth.login_attempts_per_window = 5
    settings.auth.login_window_seconds = 300
    owner = await create_account(session_maker, settings, Role.BIDDER)
    async with client_at(ATTACKER) as attacker:
        for n in range(5):
            assert (await _login(attacker, f"guess-{n}", WRONG)).status_code == 401
        refused = await _login(attacker, owner.username, PASSWORD)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 300
        async with client_at(OWNER) as elsewhere:
            assert (await _login(elsewhere, owner.username, PASSWORD)).status_code == 201
        clock[0] += 300
        assert (await _login(attacker, owner.username, PASSWORD)).status_code == 201


async def test_a_valid_account_does_not_clear_its_address_failures(
    client_at: ClientAt, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    settings.auth.login_attempts_per_window = 4
    own = await create_account(session_maker, settings, Role.BIDDER)
    async with client_at(ATTACKER) as attacker:
        for n in range(3):
            assert (await _login(attacker, f"victim-{n}", WRONG)).status_code == 401
        assert (await _login(attacker, own.username, PASSWORD)).status_code == 201
        assert (await _login(attacker, "victim-3", WRONG)).status_code == 401
        assert (await _login(attacker, "victim-4", WRONG)).status_code == 429


async def test_rotating_the_leftmost_forwarded_address_does_not_reset_throttling(
    client_at: ClientAt, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Behind a trusted proxy that appends, the client writes the leftmost entry itself: the
    address counted is the one the proxy saw (the rightmost untrusted hop)."""
    proxy = "10.0.0.2"
    settings.web.trusted_proxies[:] = [proxy]  # in place: the actor resolver holds this list
    settings.auth.login_attempts_per_window = 3
    async with client_at(proxy) as through_proxy:
        statuses = [
            (
                await through_proxy.post(
                    "/api/v1/auth/tokens",
                    json={"username": f"guess-{n}", "password": WRONG},
                    headers={"X-Forwarded-For": f"192.0.2.{n}, {ATTACKER}"},
                )
            ).status_code
            for n in range(5)
        ]
    assert statuses == [401, 401, 401, 429, 429]


async def test_clients_on_an_untrusted_unix_socket_are_not_one_address(
    app: Litestar, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """No address to tell them apart: a shared window would let anybody lock everybody out."""
    settings.auth.login_attempts_per_window = 3
    owner = await create_account(session_maker, settings, Role.BIDDER)
    transport = httpx.ASGITransport(app=app, client=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as socket_client:
        for n in range(5):
            assert (await _login(socket_client, f"guess-{n}", WRONG)).status_code == 401
        assert (await _login(socket_client, owner.username, PASSWORD)).status_code == 201
