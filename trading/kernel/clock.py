"""One clock for the whole platform: the database's.

Deadlines are decided by the database's ``now()`` (PostgreSQL) or SQLite's own clock, never by a
web node's wall clock, so several web and worker processes agree on what time it is. Tests move
time with :class:`ShiftedClock`; nothing sleeps. A live server that a test starts in another process
takes its shift from a file (:class:`OffsetFileClock`, installed only in test mode by
`install_test_clock`), so the test moves that server's time too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession

    from trading.kernel.settings import Settings


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
        self._offset = offset
        self._source = DatabaseClock()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    async def now(self, session: AsyncSession) -> datetime:
        return await self._source.now(session) + self.offset


class OffsetFileClock(ShiftedClock):
    """The database clock moved by the seconds written in a file, read again at every reading.

    A test that runs the real server in another process (uvicorn, ``ggzy serve``) cannot hand it a
    `ShiftedClock`; both processes read this file instead, so `advance` in the test moves the
    server's time as well. A missing file means no shift.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    @property
    def offset(self) -> timedelta:
        try:
            return timedelta(seconds=float(self.path.read_text()))
        except FileNotFoundError:
            return timedelta(0)

    def advance(self, delta: timedelta) -> None:
        # Written aside and renamed, so a reader never sees a half-written number.
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(repr((self.offset + delta).total_seconds()))
        partial.replace(self.path)


_clock: Clock = DatabaseClock()


def get_clock() -> Clock:
    return _clock


async def now(session: AsyncSession) -> datetime:
    """The platform time as seen by ``session``'s database."""
    return await _clock.now(session)


def install_test_clock(settings: Settings) -> None:
    """Install the file-shifted clock when the settings name one (test mode only: `Settings`
    refuses ``GGZY_TESTING_CLOCK_OFFSET_FILE`` anywhere else); otherwise leave the clock alone.
    """
    global _clock  # noqa: PLW0603 - the clock is deliberately process-wide
    if settings.testing.clock_offset_file is not None:
        _clock = OffsetFileClock(settings.testing.clock_offset_file)


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Swap the process clock for the duration of a block (tests, benchmarks)."""
    global _clock  # noqa: PLW0603 - the clock is deliberately process-wide
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous
