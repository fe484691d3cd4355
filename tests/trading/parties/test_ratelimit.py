"""Login throttling counters: in memory (embedded) and in Redis (several processes)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from trading.kernel.ratelimit import Limit, MemoryRateLimiter, RateLimiter, RedisRateLimiter, build_rate_limiter
from trading.kernel.settings import Settings

REDIS_URL = os.environ.get("GGZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMIT = Limit(attempts=3, window_seconds=60)


async def _exercise(limiter: RateLimiter, key: str) -> None:
    assert await limiter.retry_after(key, LIMIT) is None
    for expected in (1, 2, 3):
        assert await limiter.hit(key, LIMIT) == expected
    wait = await limiter.retry_after(key, LIMIT)
    assert wait is not None
    assert 0 < wait <= LIMIT.window_seconds
    assert await limiter.retry_after(key + ":other", LIMIT) is None
    await limiter.reset(key)
    assert await limiter.retry_after(key, LIMIT) is None


async def test_memory_limiter_counts_and_resets() -> None:
    await _exercise(MemoryRateLimiter(), "login:user:alice")


async def test_memory_window_ends() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(monotonic=lambda: now[0])
    for _ in range(3):
        await limiter.hit("k", LIMIT)
    assert await limiter.retry_after("k", LIMIT) == 60
    now[0] += 45
    assert await limiter.retry_after("k", LIMIT) == 15
    now[0] += 15
    assert await limiter.retry_after("k", LIMIT) is None
    assert await limiter.hit("k", LIMIT) == 1


@pytest.fixture
async def redis_limiter() -> AsyncIterator[RedisRateLimiter]:
    limiter = RedisRateLimiter(Redis.from_url(REDIS_URL), prefix=f"ggzy-test:{uuid.uuid4().hex}:")
    yield limiter
    await limiter.close()


async def test_redis_limiter_counts_expires_and_resets(redis_limiter: RedisRateLimiter) -> None:
    await _exercise(redis_limiter, "login:ip:10.0.0.1")
    await redis_limiter.hit("ttl", LIMIT)
    ttl = await redis_limiter._redis.ttl(redis_limiter._prefix + "ttl")
    assert 0 < ttl <= LIMIT.window_seconds  # a counter never outlives its window
    await redis_limiter.reset("ttl")


def test_limiter_follows_settings(tmp_path) -> None:
    assert isinstance(build_rate_limiter(Settings(var_dir=tmp_path)), MemoryRateLimiter)
    assert isinstance(build_rate_limiter(Settings(var_dir=tmp_path, redis_url=REDIS_URL)), RedisRateLimiter)
