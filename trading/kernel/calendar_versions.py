"""The loaded years of the working-day calendar, in the database (table ``calendar_versions``).

An administrator's load (`add_version`) keeps the file byte for byte as its year's next version;
the newest version of a year is in force over the shipped schedule of that year (`load_calendar`).
The database, not a node's disk, holds them: every web and worker process counts periods on the
same calendar from the load's commit on. The schedules themselves and the counting are pure
(`trading.kernel.calendar`), for the rules that must not touch a database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import Integer, Select, String, Text, and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel import clock
from trading.kernel.calendar import (
    CalendarError,
    WorkingCalendar,
    YearSchedule,
    check_schedule_file,
    read_schedule,
    shipped_schedules,
)
from trading.kernel.db.base import Base

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class CalendarVersion(Base):
    """One loaded edition of a year's schedule, kept byte for byte as the administrator gave it.

    Versions are numbered per year from 1 and never change; the highest number is in force. The
    primary key (year, number) is what keeps two concurrent loads from sharing a number
    (`add_version` retries on the next one).
    """

    __tablename__ = "calendar_versions"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[str] = mapped_column(Text)
    """The file as loaded (UTF-8): its SHA-256 is ``sha256``."""
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One loaded edition of a year's schedule (a row of ``calendar_versions``), read."""

    number: int
    sha256: str
    schedule: YearSchedule
    loaded_at: datetime


@dataclass(frozen=True, slots=True)
class UnreadableVersion:
    """A stored version that no longer reads as a schedule (a parser grown stricter, or a row edited
    by hand): listed with its problem, so one bad row does not hide the year's other versions.
    """

    number: int
    sha256: str
    problem: CalendarError
    loaded_at: datetime


def _read_row(row: CalendarVersion) -> StoredVersion | UnreadableVersion:
    try:
        return StoredVersion(row.number, row.sha256, read_schedule(row.content.encode()), row.loaded_at)
    except CalendarError as exc:
        return UnreadableVersion(row.number, row.sha256, exc, row.loaded_at)


def _in_force() -> Select[CalendarVersion]:
    newest = (
        select(CalendarVersion.year, func.max(CalendarVersion.number).label("number"))
        .group_by(CalendarVersion.year)
        .subquery()
    )
    return select(CalendarVersion).join(
        newest, and_(CalendarVersion.year == newest.c.year, CalendarVersion.number == newest.c.number)
    )


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    """The shipped years with each loaded year's newest version over them, as the database says:
    every web and worker process sees the same calendar (no file on a node's disk decides it).

    A version in force that no longer reads raises `CalendarError`: a period is not counted on a
    schedule the platform cannot read.
    """
    years = dict(shipped_schedules())
    for row in (await session.scalars(_in_force())).all():
        years[row.year] = read_schedule(row.content.encode())
    return WorkingCalendar(years)


async def stored_versions(session: AsyncSession, year: int) -> list[StoredVersion | UnreadableVersion]:
    """Every edition loaded for ``year``, oldest first (none for a year only shipped)."""
    rows = await session.scalars(
        select(CalendarVersion).where(CalendarVersion.year == year).order_by(CalendarVersion.number)
    )
    return [_read_row(row) for row in rows.all()]


MAX_NUMBER_ATTEMPTS: Final = 50
"""Concurrent loads of one year each lose the race at most once per rival; this bound only stops a
loop on a constraint that fails for another reason.
"""


async def add_version(session: AsyncSession, raw: bytes) -> StoredVersion:
    """Check ``raw`` and keep it as its year's next version, in force from the caller's commit.

    The number is the year's highest plus one; when a concurrent load took it first, the insert
    fails on the primary key inside a savepoint and the next number is tried (on PostgreSQL the
    insert waits for the rival's transaction, so the retry reads its row). Only flushes.
    """
    schedule, content = check_schedule_file(raw)
    digest = hashlib.sha256(raw).hexdigest()
    loaded_at = await clock.now(session)
    highest = select(func.max(CalendarVersion.number)).where(CalendarVersion.year == schedule.year)
    for _ in range(MAX_NUMBER_ATTEMPTS):
        number = (await session.scalar(highest) or 0) + 1
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(CalendarVersion).values(
                        year=schedule.year, number=number, content=content, sha256=digest, loaded_at=loaded_at
                    )
                )
        except IntegrityError:
            continue
        return StoredVersion(number, digest, schedule, loaded_at)
    msg = f"no free version number for {schedule.year} after {MAX_NUMBER_ATTEMPTS} attempts"
    raise RuntimeError(msg)
