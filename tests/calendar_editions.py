"""Test editions of the working-day calendar for the years after the shipped ones.

The suite runs on the wall clock's date. A tender a test publishes "now" in December has periods
that end in the next year, and from 1 January every period starts there. The platform never guesses
a year's schedule (the State Council publishes it in November or December, and the administrator
loads it), so without a schedule for those years the suite would fail on dates that have nothing to
do with what it tests.

The template database every PostgreSQL test starts from (``tests/conftest.py``) therefore holds one
edition for each of the three years after the last shipped one: weekends and 1 January off, no 调休.
Each says in its version that it is a test edition, not the State Council's notice. Nothing outside
``tests/`` ever loads them.

Tests about a year that is not loaded either use a year after these (`UNLOADED_YEAR`) or remove
them first (`without_test_editions`, `remove_test_editions_from`).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Final

import pytest
from sqlalchemy import delete

from trading.kernel.calendar import shipped_schedules
from trading.kernel.calendar_versions import CalendarVersion, add_version
from trading.kernel.db.engine import create_engine, create_session_maker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

LAST_SHIPPED: Final = max(shipped_schedules())
EDITION_YEARS: Final = tuple(range(LAST_SHIPPED + 1, LAST_SHIPPED + 4))
UNLOADED_YEAR: Final = EDITION_YEARS[-1] + 1
"""A year neither shipped nor given a test edition: what a test of "the year is not loaded" uses."""


def edition(year: int) -> bytes:
    """The test edition of ``year``, as the file an administrator would load."""
    schedule = {
        "year": year,
        "version": f"测试用日历 {year}（非国务院通知）: test edition, weekends and 1 January only",
        "source": "tests/calendar_editions.py: loaded into the test databases only",
        "holidays": [{"name": "元旦", "from": f"{year}-01-01", "to": f"{year}-01-01"}],
        "workdays": [],
    }
    return json.dumps(schedule, ensure_ascii=False).encode()


EDITION_DIGESTS: Final = frozenset(hashlib.sha256(edition(year)).hexdigest() for year in EDITION_YEARS)


async def add_test_editions(session: AsyncSession) -> None:
    for year in EDITION_YEARS:
        await add_version(session, edition(year))


async def _in_database(url: str, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run ``work`` in one committed transaction on the database at ``url``, with an engine of its own."""
    engine = create_engine(url)
    try:
        async with create_session_maker(engine)() as session:
            await work(session)
            await session.commit()
    finally:
        await engine.dispose()


async def install_test_editions(url: str) -> None:
    """Load the test editions into the database at ``url`` (the template, once per run)."""
    await _in_database(url, add_test_editions)


async def remove_test_editions(session: AsyncSession) -> None:
    await session.execute(delete(CalendarVersion).where(CalendarVersion.sha256.in_(EDITION_DIGESTS)))


async def remove_test_editions_from(url: str) -> None:
    """Remove the test editions from a database of the test's own (``fresh_db``)."""
    await _in_database(url, remove_test_editions)


@pytest.fixture
async def without_test_editions(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """Only the shipped years, in this test's transaction (rolled back after it): for tests of
    loading a year and of a year that is not loaded.
    """
    async with session_maker() as session:
        await remove_test_editions(session)
        await session.commit()
