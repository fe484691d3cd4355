"""One clock for the whole platform: the database's.

Deadlines are decided by the database's ``now()`` (PostgreSQL) or SQLite's own clock, never by a
web node's wall clock, so several web and worker processes agree on what time it is. Tests move
time with :class:`ShiftedClock`; nothing sleeps.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.ext.asyncio import AsyncSession


class Clock(Protocol):
    async def now(self, session: AsyncSession) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class DatabaseClock:
    """``now()`` on PostgreSQL (the transaction's start, so one transaction sees one time);
    the current UTC time on SQLite, whose clock is the host's.
    """

    async def now(self, session: AsyncSession) -> datetime:
        if session.get_bind().dialect.name == "postgresql":
            value: datetime = (await session.execute(text("SELECT now()"))).scalar_one()
            return value.astimezone(UTC)
        raw = (await session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))).scalar_one()
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)


class ShiftedClock:
    """The database clock moved by an offset: how tests reach a deadline without waiting."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset
        self._source = DatabaseClock()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    async def now(self, session: AsyncSession) -> datetime:
        return await self._source.now(session) + self.offset


_clock: Clock = DatabaseClock()


def get_clock() -> Clock:
    return _clock


async def now(session: AsyncSession) -> datetime:
    """The platform time as seen by ``session``'s database."""
    return await _clock.now(session)


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Swap the process clock for the duration of a block (tests, benchmarks)."""
    global _clock  # noqa: PLW0603 - the clock is deliberately process-wide
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous
