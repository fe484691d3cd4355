"""Turning a session token into an :class:`Actor`, on every authenticated request.

The session, its user and the user's memberships come from one query
(``SessionRepository.resolve``). Resolved actors are then kept for a couple of seconds in a
per-process :class:`ActorCache`, because a database round trip per request would cost several
times what the rest of the request does (bench/http_auth.py).

What the cache may get wrong, and for how long:

* In this process, nothing: every change that affects who an actor is (logout, password change,
  membership granted, revoked or expired) calls :func:`forget_actors_after_commit`, which drops
  the user's entries at once and again when the transaction commits, and bumps a generation so a
  resolution that raced with the change is not cached.
* In other processes (several web workers): with Redis configured, the committed change is
  published on ``FORGET_CHANNEL`` and every process drops the user's entries when the message
  arrives (:func:`listen_for_forgotten_actors`, started by the composition root); without Redis, or
  while Redis is unreachable, within ``ACTOR_CACHE_SECONDS``.
* Time boundaries are exact: an entry never outlives its session's expiry or the start or end of
  one of the user's memberships, and a moved clock (tests) invalidates it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import redis
import redis.asyncio as redis_asyncio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel import clock
from trading.kernel.after_commit import AfterCommit
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.permissions import Grants
from trading.kernel.auth.roles import Role
from trading.parties import credentials, policies
from trading.parties.models import SessionKind
from trading.parties.repository import SessionRepository

ACTOR_CACHE_SECONDS = 2.0
"""How long another process may keep serving an actor after a change (see the module docstring)."""
_MAX_ENTRIES = 50_000
log = structlog.get_logger(__name__)


def clock_offset() -> timedelta:
    """How far the process clock is moved from the database's (tests move time this way)."""
    current = clock.get_clock()
    return current.offset if isinstance(current, clock.ShiftedClock) else timedelta(0)


async def resolve_session(
    session: AsyncSession, hashed_token: str, kind: SessionKind, grants: Grants
) -> tuple[Actor, float] | None:
    """The actor behind a session token and for how many seconds that answer holds, or ``None``
    when the token does not (or no longer) work.

    Rules: the session must be of ``kind`` (a web cookie is not an API token and vice versa),
    not revoked, not expired, and its user active. The actor acts for one organisation: the one
    chosen for the session when the user still holds a valid membership there, otherwise the
    organisation of their oldest valid membership. Its roles are the user's memberships in that
    organisation that are active and valid now (in an active organisation), so a role held in
    one organisation is never exercised on behalf of another. Every signed-in user also holds
    ``policies.SIGNED_IN_PERMISSIONS`` (their own account).
    """
    rows = await SessionRepository(session).resolve(hashed_token, kind)
    if not rows:
        return None
    head = rows[0]
    now = head.database_now + clock_offset()
    if head.expires_at <= now:
        return None
    valid = [
        row
        for row in rows
        if row.organisation_id is not None
        and row.role is not None
        and row.valid_from is not None
        and row.valid_from <= now
        and (row.valid_until is None or row.valid_until > now)
    ]
    chosen = head.chosen_organisation_id
    if not any(row.organisation_id == chosen for row in valid):
        chosen = valid[0].organisation_id if valid else None
    acting = [row for row in valid if row.organisation_id == chosen]
    roles = frozenset(Role(row.role) for row in acting if row.role is not None)
    actor = Actor(
        kind=ActorKind.USER,
        user_id=head.user_id,
        username=head.username,
        display_name=head.display_name,
        organisation_id=chosen,
        organisation_name=acting[0].organisation_name if acting else None,
        roles=roles,
        permissions=grants.for_roles(roles) | policies.SIGNED_IN_PERMISSIONS,
        session_id=head.session_id,
    )
    # The answer changes when the session expires or a membership starts or ends.
    boundaries = [head.expires_at]
    boundaries += [row.valid_from for row in rows if row.valid_from is not None and row.valid_from > now]
    boundaries += [row.valid_until for row in valid if row.valid_until is not None]
    return actor, min(boundary - now for boundary in boundaries).total_seconds()


async def resolve_actor(
    session: AsyncSession, token: str, kind: SessionKind, *, client_ip: str | None, grants: Grants
) -> Actor | None:
    """:func:`resolve_session` for a raw token, uncached, with the request's client IP."""
    resolved = await resolve_session(session, credentials.token_hash(token), kind, grants)
    return replace(resolved[0], client_ip=client_ip) if resolved else None


@dataclass(slots=True)
class _Entry:
    actor: Actor
    until: float
    offset: timedelta


class ActorCache:
    """Resolved actors by (token hash, kind), each for at most ``ttl`` seconds."""

    def __init__(self, *, ttl: float = ACTOR_CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._monotonic = monotonic
        self._entries: dict[tuple[str, SessionKind], _Entry] = {}
        self.generation = 0
        """Bumped by every :meth:`forget_user`; a resolution that started before is not stored."""
        _caches.add(self)

    def get(self, key: tuple[str, SessionKind]) -> Actor | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.until <= self._monotonic() or entry.offset != clock_offset():
            self._entries.pop(key, None)
            return None
        return entry.actor

    def put(self, key: tuple[str, SessionKind], actor: Actor, valid_for: float, *, generation: int) -> None:
        if generation != self.generation or valid_for <= 0:
            return
        now = self._monotonic()
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries = {k: e for k, e in self._entries.items() if e.until > now}
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = _Entry(actor, now + min(self.ttl, valid_for), clock_offset())

    def forget_user(self, user_id: uuid.UUID) -> None:
        self.generation += 1
        stale = [key for key, entry in self._entries.items() if entry.actor.user_id == user_id]
        for key in stale:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


# Every cache of this process (one per application), so a change can reach them all.
_caches: weakref.WeakSet[ActorCache] = weakref.WeakSet()


def _forget(user_ids: set[uuid.UUID]) -> None:
    for cache in list(_caches):
        for user_id in user_ids:
            cache.forget_user(user_id)


def forget_actors_after_commit(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Drop the user's cached actors now, and again when ``session`` commits (so a request that
    resolved the old state in between does not keep it).
    """
    _forget({user_id})
    _forget_held.add(session, user_id)


FORGET_CHANNEL = "ggzy:parties:forget-actors"
_broadcast: Callable[[set[uuid.UUID]], None] | None = None


def broadcast_forgotten_actors(redis_url: str | None) -> None:
    """Publish committed actor changes to the other processes through Redis (``None``: stop)."""
    global _broadcast  # noqa: PLW0603 - one publisher per process, installed at start-up
    if redis_url is None:
        _broadcast = None
        return
    client = redis.Redis.from_url(redis_url, socket_timeout=1.0)

    def publish(user_ids: set[uuid.UUID]) -> None:
        try:
            client.publish(FORGET_CHANNEL, ",".join(sorted(str(user_id) for user_id in user_ids)))
        except redis.RedisError:
            # The change is committed and this process already forgot; the others fall back to
            # the cache's time limit. Losing the message must not fail the request.
            log.warning("parties.actor_forget_broadcast_failed", users=len(user_ids))

    _broadcast = publish


async def listen_for_forgotten_actors(
    redis_url: str, on_forget: Callable[[set[uuid.UUID]], None] = _forget, *, ready: asyncio.Event | None = None
) -> None:
    """Drop the actors that other processes changed, as their messages arrive (runs until cancelled).

    A lost connection is retried; while it is down the cache's time limit still bounds staleness.
    """
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        while True:
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(FORGET_CHANNEL)
                    if ready is not None:
                        ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        raw = message["data"].decode() if isinstance(message["data"], bytes) else str(message["data"])
                        on_forget({uuid.UUID(part) for part in raw.split(",") if part})
            except (redis.RedisError, OSError):
                log.warning("parties.actor_forget_listener_reconnecting")
                await asyncio.sleep(1.0)
    finally:
        await client.aclose()


def _forget_committed(user_ids: list[uuid.UUID]) -> None:
    unique = set(user_ids)
    _forget(unique)
    if _broadcast is not None:
        _broadcast(unique)


_forget_held: AfterCommit[uuid.UUID] = AfterCommit("ggzy.parties.forget_actors", _forget_committed)


class SessionActors:
    """The resolver's engine: cache first, then one query in a short session of its own."""

    def __init__(self, grants: Grants, *, ttl: float = ACTOR_CACHE_SECONDS) -> None:
        self.grants = grants
        self.cache = ActorCache(ttl=ttl)

    async def actor_for(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        token: str,
        kind: SessionKind,
        *,
        client_ip: str | None,
    ) -> Actor | None:
        key = (credentials.token_hash(token), kind)
        actor = self.cache.get(key)
        if actor is None:
            generation = self.cache.generation
            async with session_maker() as session:
                resolved = await resolve_session(session, key[0], kind, self.grants)
            if resolved is None:
                return None
            actor, valid_for = resolved
            self.cache.put(key, actor, valid_for, generation=generation)
        return actor if actor.client_ip == client_ip else replace(actor, client_ip=client_ip)
