"""The platform clock is the database's, and tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import clock
from trading.kernel.clock import ShiftedClock, use_clock


async def test_database_clock_is_aware_utc_and_close_to_host_time(session: AsyncSession) -> None:
    now = await clock.now(session)
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)


async def test_shifted_clock_moves_time_and_restores(session: AsyncSession) -> None:
    real = await clock.now(session)
    with use_clock(ShiftedClock(timedelta(days=3))) as shifted:
        assert await clock.now(session) - real >= timedelta(days=3)
        assert isinstance(shifted, ShiftedClock)
        shifted.advance(timedelta(days=1))
        assert await clock.now(session) - real >= timedelta(days=4)
    assert await clock.now(session) - real < timedelta(days=1)
