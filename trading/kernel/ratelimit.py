"""Fixed-window counters for throttling: login attempts, and public endpoints that write or sign.

A :class:`RateLimiter` counts events per key inside a window and says how long a key that has
reached its limit must wait. Two implementations behind one protocol:

* :class:`MemoryRateLimiter` for the embedded default: one process, nothing to install.
* :class:`RedisRateLimiter` when ``settings.redis_url`` is set: counters shared by every web
  process (``INCR`` and ``EXPIRE … NX`` in one transaction, so a counter never outlives its
  window even if the client dies between the two).

Callers decide what counts: the login service counts failed attempts and asks before checking a
password, so a locked key is refused without spending an argon2 verification. Public endpoints
that store a row or spend a signature for anyone who asks (certificate challenges, QR login, the
TSA, registration) count every request per client address with the :func:`throttle` guard.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from litestar.exceptions import TooManyRequestsException

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from redis.asyncio import Redis

    from trading.kernel.settings import Settings


_PURGE_AT = 10_000


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window_seconds: int


class RateLimiter(Protocol):
    async def retry_after(self, key: str, limit: Limit) -> int | None:
        """Seconds to wait when ``key`` has used up ``limit`` in its window, else ``None``."""
        ...

    async def hit(self, key: str, limit: Limit) -> int:
        """Count one event for ``key``; returns the count in the current window."""
        ...

    async def reset(self, key: str) -> None:
        """Forget ``key``'s count (e.g. after a successful login)."""
        ...


class MemoryRateLimiter:
    """Per-process counters. Right for one process; several processes need :class:`RedisRateLimiter`."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        # Injectable so tests can end a window without sleeping.
        self._monotonic = monotonic
        self._windows: dict[str, tuple[int, float]] = {}

    def _current(self, key: str) -> tuple[int, float] | None:
        entry = self._windows.get(key)
        if entry is not None and entry[1] <= self._monotonic():
            del self._windows[key]
            return None
        return entry

    async def retry_after(self, key: str, limit: Limit) -> int | None:
        entry = self._current(key)
        if entry is None or entry[0] < limit.attempts:
            return None
        return max(1, math.ceil(entry[1] - self._monotonic()))

    async def hit(self, key: str, limit: Limit) -> int:
        if len(self._windows) >= _PURGE_AT:
            # Random usernames must not grow the table without bound: drop the ended windows.
            now = self._monotonic()
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        entry = self._current(key)
        if entry is None:
            entry = (0, self._monotonic() + limit.window_seconds)
        count = entry[0] + 1
        self._windows[key] = (count, entry[1])
        return count

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisRateLimiter:
    """Counters in Redis, shared by every process; keys expire with their window."""

    def __init__(self, redis: Redis, *, prefix: str = "ggzy:ratelimit:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def retry_after(self, key: str, limit: Limit) -> int | None:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            raw, ttl = await pipe.execute()
        if raw is None or int(raw) < limit.attempts:
            return None
        # TTL is -1 only for a key someone created without expiry; wait a whole window then.
        return int(ttl) if int(ttl) > 0 else limit.window_seconds

    async def hit(self, key: str, limit: Limit) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, limit.window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis when ``settings.redis_url`` is set (several processes), memory otherwise."""
    if settings.redis_url:
        # Imported here: the embedded default never needs a Redis client.
        from redis.asyncio import Redis  # noqa: PLC0415

        return RedisRateLimiter(Redis.from_url(settings.redis_url))
    return MemoryRateLimiter()


_STATE_KEY = "rate_limiter"


def limiter_for(state: Any) -> RateLimiter:
    """The application's limiter, built on first use from ``state.settings`` and kept on the
    app's state: one per app (so tests get a fresh one with each app), shared by its requests.
    """
    limiter: RateLimiter | None = state.get(_STATE_KEY)
    if limiter is None:
        limiter = build_rate_limiter(state.settings)
        state[_STATE_KEY] = limiter
    return limiter


UNIX_SOCKET_PEER = "unix"
"""How a peer on a Unix socket (no address) is named in ``web.trusted_proxies``."""


def client_address(connection: ASGIConnection[Any, Any, Any, Any], trusted_proxies: list[str]) -> str | None:
    """The client's address; ``X-Forwarded-For`` is believed only from a trusted proxy.

    The header is read from the right: a proxy appends the address it saw to whatever the client
    sent (nginx ``$proxy_add_x_forwarded_for``), so every entry left of the last trusted hop is
    the client's own claim. The first entry that is not a trusted proxy is the client; the
    leftmost would let anybody claim 127.0.0.1 (the metrics allow list) or a fresh address per
    login attempt (the throttling). A peer on a Unix socket is trusted when ``"unix"`` is listed.
    """
    peer = connection.client.host if connection.client else None
    if (peer or UNIX_SOCKET_PEER) not in trusted_proxies:
        return peer
    hops = [hop.strip() for hop in ",".join(connection.headers.getall("x-forwarded-for", [])).split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return hops[0] if hops else peer


def throttle(scope: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A route guard that allows each client address ``settings.auth.public_requests_per_window``
    requests per window to the routes sharing ``scope``, then answers 429 with ``Retry-After``.
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        settings = connection.app.state.settings
        limit = Limit(settings.auth.public_requests_per_window, settings.auth.public_window_seconds)
        address = client_address(connection, settings.web.trusted_proxies) or "unknown"
        limiter = limiter_for(connection.app.state)
        key = f"public:{scope}:{address}"
        if await limiter.hit(key, limit) > limit.attempts:
            wait = await limiter.retry_after(key, limit) or limit.window_seconds
            raise TooManyRequestsException(
                detail=f"too many requests to {scope} from this address; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    return guard
