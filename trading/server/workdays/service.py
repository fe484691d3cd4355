"""Loading a year's schedule: a new version, kept beside the earlier ones, recorded on the ledger.

Versions are files (``<storage>/calendar/versions/<year>/<n>.json``, `trading.kernel.calendar`)
because the calendar is read from files everywhere already (`load_calendar`); the ledger entry of
each load (year, version number, SHA-256 of the exact bytes, who and when) is the trace that ties a
file to the administrator who loaded it. The page reads who/when from those entries.

Order of work in the caller's transaction: the version file is claimed first (its number goes into
the entry), then the entry is appended, then the file is put in force. A refusal before that leaves
nothing; a failure while appending removes the claimed file. Only a failed commit after the file is
in force could leave a version without its entry; the page shows such a version as "not recorded".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import calendar as working_calendar
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import ValidationFailed
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.service import append_entry

CALENDAR_LOADED: Final = "kernel.calendar_loaded"
SUBJECT_TYPE: Final = "calendar_year"
SCHEDULE_FIELD: Final = "schedule"
MAX_VERSIONS_SHOWN: Final = 200


def refusal(exc: working_calendar.CalendarError) -> ValidationFailed:
    """A schedule's problem as a form refusal: the rule code for the label table (its sentence in the
    reader's language), the place in the file (``holidays[0].to``) as the field, so the page names
    where the problem is even though the sentence is generic.
    """
    place = exc.where or SCHEDULE_FIELD
    item = {"field": place, "rule": exc.rule, "message": str(exc)}
    return ValidationFailed(str(exc), field=place, rule=exc.rule, extra={"errors": [item]})


async def load_year(
    session: AsyncSession, storage_dir: Path, actor: Actor, raw: bytes
) -> working_calendar.StoredVersion:
    """Check ``raw``, keep it as its year's next version, record the load and put it in force.

    Raises `ValidationFailed` (field ``schedule``, the parser's rule) for a malformed file.
    """
    try:
        version = working_calendar.archive_version(storage_dir, raw)
    except working_calendar.CalendarError as exc:
        raise refusal(exc) from exc
    schedule = version.schedule
    try:
        await append_entry(
            session,
            actor=actor,
            action=CALENDAR_LOADED,
            subject_type=SUBJECT_TYPE,
            subject_id=str(schedule.year),
            summary={
                "year": schedule.year,
                "version": version.number,
                "sha256": version.sha256,
                "notice": schedule.version,
                "holidays": len(schedule.holidays),
                "workdays": len(schedule.workdays),
            },
        )
    except BaseException:
        working_calendar.discard_version(storage_dir, version)
        raise
    working_calendar.put_in_force(storage_dir, raw)
    return version


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    sha256: str
    notice: str | None
    """``None``: the file no longer reads as a schedule (``problem`` says why)."""
    in_force: bool
    loaded_at: datetime | None
    loaded_by: str | None
    """``None`` (with ``loaded_at``) when no ledger entry records this file: see the module docstring.
    Read with the viewer's ledger rights: whoever holds ``calendar:schedule:manage`` must also hold
    ``ledger:entry:read`` (the administrator holds both) or every version reads as not recorded.
    """
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class HolidayRange:
    name: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class YearView:
    year: int
    schedule: working_calendar.YearSchedule
    """The schedule in force."""
    shipped: bool
    """The platform's own file is in force (no version loaded, or the loaded file is missing)."""
    versions: tuple[VersionView, ...]
    holidays: tuple[HolidayRange, ...]
    workdays: tuple[tuple[date, str], ...]
    """The 调休 working days (weekend days worked) with the holiday each makes up for."""


def known_years(storage_dir: Path | None) -> list[int]:
    """Every year with a schedule, shipped or loaded, newest first."""
    return sorted(working_calendar.load_calendar(storage_dir).years, reverse=True)


async def year_view(session: AsyncSession, storage_dir: Path | None, actor: Actor, year: int) -> YearView | None:
    """``year``'s schedule in force with every loaded version and who loaded it when (from the ledger)."""
    calendar = working_calendar.load_calendar(storage_dir)
    schedule = calendar.years.get(year)
    if schedule is None:
        return None
    entries = await LedgerRepository(session).list_entries(
        actor,
        EntryFilter(action=CALENDAR_LOADED, subject_type=SUBJECT_TYPE, subject_id=str(year)),
        limit=MAX_VERSIONS_SHOWN,
    )
    recorded = {(entry.summary.get("version"), entry.summary.get("sha256")): entry for entry in entries}
    in_force = working_calendar.in_force_sha256(storage_dir, year)
    versions, shown_in_force = [], False
    for version in reversed(working_calendar.stored_versions(storage_dir, year)):
        entry = recorded.get((version.number, version.sha256))
        # The newest version with the bytes in force is the one in force (a file loaded twice).
        current = not shown_in_force and version.sha256 == in_force
        shown_in_force = shown_in_force or current
        versions.append(
            VersionView(
                number=version.number,
                sha256=version.sha256,
                notice=version.schedule.version if isinstance(version, working_calendar.StoredVersion) else None,
                in_force=current,
                loaded_at=entry.occurred_at if entry else None,
                loaded_by=entry.actor_label if entry else None,
                problem=str(version.problem) if isinstance(version, working_calendar.UnreadableVersion) else None,
            )
        )
    return YearView(
        year,
        schedule,
        shipped=in_force is None,
        versions=tuple(versions),
        holidays=holiday_ranges(schedule),
        workdays=tuple(sorted(schedule.workdays.items())),
    )


def holiday_ranges(schedule: working_calendar.YearSchedule) -> tuple[HolidayRange, ...]:
    """The holidays as the notice lists them: consecutive days of one name as one range."""
    ranges: list[HolidayRange] = []
    for day, name in sorted(schedule.holidays.items()):
        last = ranges[-1] if ranges else None
        if last is not None and last.name == name and (day - last.last).days == 1:
            ranges[-1] = HolidayRange(name, last.first, day)
        else:
            ranges.append(HolidayRange(name, day, day))
    return tuple(ranges)
