"""Loading a year's schedule: a new version, kept beside the earlier ones, recorded on the ledger.

A load writes the year's next row of ``calendar_versions`` (`trading.kernel.calendar.add_version`,
the exact bytes and their SHA-256) and its ledger entry (year, version number, SHA-256, who) in the
caller's transaction: both stay or neither does, and the version is in force for every process
from the commit on. The page reads who loaded a version from those entries.

Years loaded before the calendar moved into the database sit as files under a node's storage
directory (``<storage>/calendar/versions/<year>/<n>.json`` and the one in force,
``<storage>/calendar/<year>.json``); `import_files` (``ggzy calendar import-files``) brings them in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import calendar as working_calendar
from trading.kernel import calendar_versions, clock
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
    session: AsyncSession, actor: Actor, raw: bytes, *, source: str | None = None
) -> calendar_versions.StoredVersion:
    """Check ``raw``, keep it as its year's next version (in force) and record the load; only flushes.

    Raises `ValidationFailed` (field ``schedule``, the parser's rule) for a malformed file, before
    anything is written. ``source`` names where an imported file came from.
    """
    try:
        version = await calendar_versions.add_version(session, raw)
    except working_calendar.CalendarError as exc:
        raise refusal(exc) from exc
    schedule = version.schedule
    summary: dict[str, object] = {
        "year": schedule.year,
        "version": version.number,
        "sha256": version.sha256,
        "notice": schedule.version,
        "holidays": len(schedule.holidays),
        "workdays": len(schedule.workdays),
    }
    if source is not None:
        summary["source"] = source
    await append_entry(
        session,
        actor=actor,
        action=CALENDAR_LOADED,
        subject_type=SUBJECT_TYPE,
        subject_id=str(schedule.year),
        summary=summary,
    )
    return version


# The State Council publishes the next year's schedule between October and December (the 2025
# schedule on 12 November 2024). From 1 October the administrators are told while it is missing:
# a period in working days that reaches into a year without its schedule cannot be counted, so from
# mid-December publishing a tender or a result is refused (409) until the year is loaded.
NEXT_YEAR_WARNING_FROM: Final = (10, 1)


def missing_years(loaded: Iterable[int], today: date) -> tuple[int, ...]:
    """The years an administrator must load now: this year when it is missing, and the next year
    from `NEXT_YEAR_WARNING_FROM` on when it is missing.
    """
    have = set(loaded)
    wanted = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_WARNING_FROM:
        wanted.append(today.year + 1)
    return tuple(year for year in wanted if year not in have)


async def calendar_gaps(session: AsyncSession) -> tuple[int, ...]:
    """`missing_years` on the database's calendar and clock (today in China)."""
    years = (await calendar_versions.load_calendar(session)).years
    today = (await clock.now(session)).astimezone(working_calendar.CHINA).date()
    return missing_years(years, today)


@dataclass(frozen=True, slots=True)
class ImportedFile:
    source: str
    """The file, relative to the storage directory."""
    version: calendar_versions.StoredVersion | None
    """``None``: its bytes were already a version of its year (nothing written)."""


def _file_versions(storage_dir: Path) -> list[tuple[str, bytes, bool]]:
    """The files the file-based calendar kept, in the order they were loaded: each year's versions
    by number, then the year's file in force (normally the same bytes as its newest version), each
    with its path relative to ``storage_dir`` and whether it is a file in force.
    """
    root = storage_dir / "calendar"
    found: list[tuple[str, bytes, bool]] = []
    for year_dir in sorted((root / "versions").glob("[0-9][0-9][0-9][0-9]")):
        numbered = sorted((path for path in year_dir.glob("*.json") if path.stem.isdigit()), key=lambda p: int(p.stem))
        found.extend((str(path.relative_to(storage_dir)), path.read_bytes(), False) for path in numbered)
    in_force = sorted(root.glob("[0-9][0-9][0-9][0-9].json"))
    found.extend((str(path.relative_to(storage_dir)), path.read_bytes(), True) for path in in_force)
    return found


async def import_files(session: AsyncSession, storage_dir: Path, actor: Actor) -> list[ImportedFile]:
    """Bring a node's calendar files (the layout before the table) into ``calendar_versions``.

    A version file whose bytes are already a version of its year is skipped; a year's file in force
    is added again when the year's newest version holds other bytes, so what was in force on the
    node is in force afterwards. Running it twice, or on a second node with the same files, adds
    nothing. A file that does not read as a schedule is refused (`ValidationFailed`) and nothing is
    written: the caller's transaction rolls back.
    """
    imported: list[ImportedFile] = []
    for source, raw, in_force_file in _file_versions(storage_dir):
        try:
            year = working_calendar.read_schedule(raw).year
        except working_calendar.CalendarError as exc:
            raise ValidationFailed(f"{source}: {exc}", field=source, rule=exc.rule) from exc
        digest = hashlib.sha256(raw).hexdigest()
        versions = await calendar_versions.stored_versions(session, year)
        if in_force_file:
            present = bool(versions) and versions[-1].sha256 == digest
        else:
            present = any(version.sha256 == digest for version in versions)
        added = None if present else await load_year(session, actor, raw, source=source)
        imported.append(ImportedFile(source, added))
    return imported


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    sha256: str
    notice: str | None
    """``None``: the file no longer reads as a schedule (``problem`` says why)."""
    in_force: bool
    loaded_at: datetime
    loaded_by: str | None
    """``None`` when no ledger entry the viewer may read records this version. Read with the
    viewer's ledger rights: whoever holds ``calendar:schedule:manage`` must also hold
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
    """The platform's own file is in force (no version loaded)."""
    versions: tuple[VersionView, ...]
    holidays: tuple[HolidayRange, ...]
    workdays: tuple[tuple[date, str], ...]
    """The 调休 working days (weekend days worked) with the holiday each makes up for."""


async def year_view(session: AsyncSession, actor: Actor, year: int) -> YearView | None:
    """``year``'s schedule in force with every loaded version and who loaded it (from the ledger)."""
    calendar = await calendar_versions.load_calendar(session)
    schedule = calendar.years.get(year)
    if schedule is None:
        return None
    entries = await LedgerRepository(session).list_entries(
        actor,
        EntryFilter(action=CALENDAR_LOADED, subject_type=SUBJECT_TYPE, subject_id=str(year)),
        limit=MAX_VERSIONS_SHOWN,
    )
    recorded = {(entry.summary.get("version"), entry.summary.get("sha256")): entry for entry in entries}
    stored = await calendar_versions.stored_versions(session, year)
    newest = stored[-1].number if stored else None
    versions = []
    for version in reversed(stored):
        entry = recorded.get((version.number, version.sha256))
        versions.append(
            VersionView(
                number=version.number,
                sha256=version.sha256,
                notice=version.schedule.version if isinstance(version, calendar_versions.StoredVersion) else None,
                in_force=version.number == newest,
                loaded_at=version.loaded_at,
                loaded_by=entry.actor_label if entry else None,
                problem=str(version.problem) if isinstance(version, calendar_versions.UnreadableVersion) else None,
            )
        )
    return YearView(
        year,
        schedule,
        shipped=newest is None,
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
