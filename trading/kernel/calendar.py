"""The working-day calendar (工作日): China's public holidays and adjusted working days (调休).

The State Council publishes each year's schedule in November of the year before (国务院办公厅关于
X年部分节假日安排的通知). A schedule is data, not code: one JSON file per year with the notice it
comes from (``version``) and its holidays and 调休 working days. 2025 and 2026 ship in
``calendar_data/``; an administrator loads a new year (or a corrected edition) on the page
``/admin/calendar`` or with ``ggzy calendar load FILE``. A load is checked and kept, byte for byte,
as the year's next version in the table ``calendar_versions`` (earlier versions stay); the newest
version of a year is in force and takes precedence over the shipped file of the same year. The
table, not a node's disk, holds them, so every web and worker process counts on the same calendar
(`trading.kernel.calendar_versions.load_calendar` reads it in the caller's session; this module
stays pure, for the award's rules). Recording the load on the ledger is the caller's part, in the
same transaction (`trading.server.workdays.service`): the kernel may not import the ledger.

A day is a working day when the schedule lists it as a 调休 working day, or when it is a Monday to
Friday that is not a holiday. Days are civil dates in Asia/Shanghai. Periods follow the Civil Code
(民法典 Art. 201): the day an event happens is not counted, counting starts the next day, and a
period of N working days ends at the end (24:00) of the N-th working day.

A year without a schedule is refused (`CalendarYearMissing`) rather than guessed: guessing weekends
only would shorten legal minimum periods over an unannounced holiday.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from trading.kernel.errors import Conflict

CHINA: Final = ZoneInfo("Asia/Shanghai")
SHIPPED_PACKAGE: Final = "trading.kernel.calendar_data"
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100
"""The platform's years: a schedule, and a date the pages count from, lies in between."""
MAX_SPAN_DAYS: Final = 3660
"""Counting stops after ten years: a longer walk means a wrong argument, not a real period."""


class CalendarError(ValueError):
    """A schedule that cannot be used; the message names the field and what is wrong.

    ``where`` is the place in the file (``holidays[0].to``) and ``rule`` a stable code for the
    problem, so a page can say it in the reader's language (a label table keyed by ``rule``) and
    still point at the place; ``str()`` stays the English sentence the CLI prints.
    """

    def __init__(self, message: str, *, where: str = "", rule: str = "schedule") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.rule = rule
        self.problem = message


class CalendarYearMissing(Conflict, LookupError):
    """No schedule is loaded for the year a computation reaches.

    A `Conflict` (409, rule ``calendar_year_loaded``): an act whose period reaches an unloaded
    year is refused with that reason on every surface, never a 500, until an administrator loads
    the year; acts that must not wait (the award stage starting when the experts sign) catch it
    and count the period once the year is loaded.
    """

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the working-day calendar for {year} is not loaded (ggzy calendar load FILE)",
            field="calendar",
            rule="calendar_year_loaded",
        )
        self.year = year


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's national schedule: holidays (放假) and the weekend days worked instead (调休上班)."""

    year: int
    version: str
    """The notice the schedule comes from (e.g. 国办发明电〔2024〕12号)."""
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    source: str = ""

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5  # noqa: PLR2004 - Monday..Friday


def _date(value: Any, where: str, year: int) -> date:
    if not isinstance(value, str):
        raise CalendarError("a date is a string YYYY-MM-DD", where=where, rule="date_format")
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise CalendarError(f"{value!r} is not a date YYYY-MM-DD", where=where, rule="date_format") from exc
    if parsed.year != year:
        raise CalendarError(f"{value} is not in {year}", where=where, rule="date_year")
    return parsed


def _name(item: Mapping[str, Any], where: str) -> str:
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CalendarError("every entry names its holiday", where=f"{where}.name", rule="name")
    return name.strip()


def parse_schedule(data: Any) -> YearSchedule:  # noqa: C901, PLR0912 - one check per field, each with its message
    """Check a year's schedule (the JSON layout of ``calendar_data/2025.json``) and read it."""
    if not isinstance(data, Mapping):
        raise CalendarError("the schedule is a JSON object", rule="json")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(f"a year between {FIRST_YEAR} and {LAST_YEAR}", where="year", rule="year")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise CalendarError("name the notice the schedule comes from", where="version", rule="version")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise CalendarError("text", where="source", rule="source")
    raw_holidays, raw_workdays = data.get("holidays"), data.get("workdays", [])
    if not isinstance(raw_holidays, list) or not raw_holidays:
        raise CalendarError("a list of {name, from, to}", where="holidays", rule="holidays")
    if not isinstance(raw_workdays, list):
        raise CalendarError("a list of {name, date}", where="workdays", rule="workdays")
    holidays: dict[date, str] = {}
    for index, item in enumerate(raw_holidays):
        where = f"holidays[{index}]"
        if not isinstance(item, Mapping):
            raise CalendarError("an object {name, from, to}", where=where, rule="entry")
        name = _name(item, where)
        first, last = _date(item.get("from"), f"{where}.from", year), _date(item.get("to"), f"{where}.to", year)
        if last < first:
            raise CalendarError("'to' is before 'from'", where=where, rule="order")
        day = first
        while day <= last:
            if day in holidays:
                raise CalendarError(f"{day} is already a holiday", where=where, rule="duplicate")
            holidays[day] = name
            day += timedelta(days=1)
    workdays: dict[date, str] = {}
    for index, item in enumerate(raw_workdays):
        where = f"workdays[{index}]"
        if not isinstance(item, Mapping):
            raise CalendarError("an object {name, date}", where=where, rule="entry")
        day = _date(item.get("date"), f"{where}.date", year)
        if day in holidays:
            raise CalendarError(f"{day} is also a holiday", where=where, rule="both")
        if day.weekday() < 5:  # noqa: PLR2004
            raise CalendarError(
                f"{day} is a weekday already; 调休 working days fall on weekends", where=where, rule="weekend"
            )
        workdays[day] = _name(item, where)
    return YearSchedule(year, version.strip(), holidays, workdays, source)


def read_schedule(raw: bytes) -> YearSchedule:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalendarError(f"not JSON: {exc}", rule="json") from exc
    except RecursionError as exc:
        # Arrays or objects nested thousands deep (``[[[[…``) exhaust the parser's stack: a wrong
        # file like any other, not a crash of the page that loads it.
        raise CalendarError("not JSON: nested too deeply", rule="json") from exc
    return parse_schedule(data)


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days over the known years (pure; build one with `shipped_calendar` or, with the years
    loaded, `trading.kernel.calendar_versions.load_calendar`).
    """

    years: Mapping[int, YearSchedule]

    def schedule(self, year: int) -> YearSchedule:
        found = self.years.get(year)
        if found is None:
            raise CalendarYearMissing(year)
        return found

    def is_working_day(self, day: date) -> bool:
        return self.schedule(day.year).is_working_day(day)

    def working_days_after(self, start: date) -> Iterable[date]:
        """The working days after ``start`` (not counting ``start``), in order."""
        day = start
        for _ in range(MAX_SPAN_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                yield day
        raise CalendarError(f"no end within {MAX_SPAN_DAYS} days of {start}", rule="span")

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted); ``count`` ≥ 1."""
        if count < 1:
            raise CalendarError("at least 1 working day", where="count", rule="count")
        for index, day in enumerate(self.working_days_after(start), start=1):
            if index == count:
                return day
        raise AssertionError  # pragma: no cover - working_days_after raises first

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
        if end <= start:
            return 0
        if (end - start).days > MAX_SPAN_DAYS:
            raise CalendarError(f"no more than {MAX_SPAN_DAYS} days apart", rule="span")
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )

    def end_of_working_days(self, moment: datetime, count: int) -> datetime:
        """When a period of ``count`` working days that starts at ``moment`` ends: 24:00 (Asia/Shanghai)
        of the ``count``-th working day after the day of ``moment`` (民法典 Art. 201).
        """
        if moment.tzinfo is None:
            raise CalendarError("a time with a zone", where="moment", rule="zone")
        last = self.add_working_days(moment.astimezone(CHINA).date(), count)
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=CHINA)


@functools.cache
def shipped_schedules() -> Mapping[int, YearSchedule]:
    # Package data: the same in every process for the life of the process, so reading it once is safe.
    found = {}
    for entry in resources.files(SHIPPED_PACKAGE).iterdir():
        if entry.name.endswith(".json"):
            schedule = read_schedule(entry.read_bytes())
            found[schedule.year] = schedule
    return MappingProxyType(found)


def shipped_calendar() -> WorkingCalendar:
    """The years the platform ships (``calendar_data/``), without any the administrator loaded."""
    return WorkingCalendar(shipped_schedules())


def check_schedule_file(raw: bytes) -> tuple[YearSchedule, str]:
    """``raw`` read as a schedule, and as the text kept for it (UTF-8, byte for byte)."""
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalendarError(f"not UTF-8: {exc}", rule="json") from exc
    return read_schedule(raw), content
