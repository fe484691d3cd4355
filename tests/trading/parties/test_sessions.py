"""Actor resolution: the per-process cache never serves what this process has changed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.parties.models import SessionKind
from trading.parties.sessions import ActorCache

KEY = ("hash", SessionKind.API)


def _actor(user_id: uuid.UUID | None = None) -> Actor:
    return Actor(kind=ActorKind.USER, user_id=user_id or uuid.uuid4(), username="someone")


def test_cache_entries_end_with_their_ttl_or_validity() -> None:
    now = [100.0]
    cache = ActorCache(ttl=2.0, monotonic=lambda: now[0])
    cache.put(KEY, _actor(), 10.0, generation=cache.generation)
    assert cache.get(KEY) is not None
    now[0] += 2.0
    assert cache.get(KEY) is None  # the TTL bounds what other processes may miss
    cache.put(KEY, _actor(), 0.5, generation=cache.generation)
    now[0] += 0.5
    assert cache.get(KEY) is None  # the session expired, or a membership started or ended


def test_forgetting_a_user_drops_entries_and_refuses_racing_puts() -> None:
    cache = ActorCache()
    user = uuid.uuid4()
    cache.put(KEY, _actor(user), 10.0, generation=cache.generation)
    cache.put(("other", SessionKind.WEB), _actor(), 10.0, generation=cache.generation)
    started = cache.generation
    cache.forget_user(user)
    assert cache.get(KEY) is None
    assert len(cache) == 1
    # A resolution that began before the change must not store what it read.
    cache.put(KEY, _actor(user), 10.0, generation=started)
    assert cache.get(KEY) is None


def test_a_moved_clock_invalidates_entries() -> None:
    cache = ActorCache()
    cache.put(KEY, _actor(), 10.0, generation=cache.generation)
    with use_clock(ShiftedClock(timedelta(hours=9))):
        assert cache.get(KEY) is None


async def test_revoked_membership_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    token = await api_token(client, bidder)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).json()["roles"] == ["bidder"]
    revoked = await client.post(
        f"/api/v1/parties/memberships/{bidder.membership_id}/revoke",
        json={"reason": "debarred"},
        headers=bearer(await api_token(client, admin)),
    )
    assert revoked.status_code == 200
    me = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200  # still a user, with no role left
    assert me.json()["roles"] == []
    assert "parties:organisation:read" not in me.json()["permissions"]


async def test_session_expiry_is_exact_despite_the_cache(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    token = await api_token(client, bidder)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    with use_clock(ShiftedClock(timedelta(seconds=settings.auth.api_token_ttl_seconds + 1))):
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
