"""The administrator's working-day calendar page (``/admin/calendar``): every year the platform
knows with its holidays and 调休 working days, the versions loaded and who loaded them, the upload
of a year's schedule, and a working-day calculator to check a period.

The upload takes the kernel form path (`read_form` for multipart, `submit` for the savepoint,
303 or 422 with the parser's problem in the reader's language). The calculator is a GET form: it
changes nothing, so it needs neither CSRF nor a savepoint, and a bad value answers 422 with the
field named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import calendar as working_calendar
from trading.kernel import calendar_versions, clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import ValidationFailed
from trading.kernel.web.forms import REQUIRED, FieldError, FieldParser, Labels, field_errors, read_form, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.server.workdays import service
from trading.server.workdays.policies import CalendarPermission

MAX_SCHEDULE_BYTES: Final = 256 * 1024
"""A year's schedule is a few kilobytes; the limit only stops a wrong file early."""
UNPROCESSABLE: Final = 422
BAD_DATE = N_("Enter a date (YYYY-MM-DD).")
BAD_YEAR = N_("The year must be between 2000 and 2100.")
MISSING_YEAR = N_("The working-day calendar has no schedule for this year yet.")
WEEKDAYS: Final = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)

LABELS = Labels(
    fields={
        service.SCHEDULE_FIELD: N_("Schedule file (JSON)"),
        "start": N_("Start date"),
        "days": N_("Working days"),
        "until": N_("End date"),
    },
    rules={
        "json": N_("The file is not a JSON object in the layout of the shipped schedules."),
        "year": BAD_YEAR,
        "version": N_("Name the State Council notice the schedule comes from."),
        "source": N_("The source must be text."),
        "holidays": N_("Holidays must be a non-empty list of {name, from, to}."),
        "workdays": N_("Adjusted working days must be a list of {name, date}."),
        "entry": N_("Each entry must be an object with its fields."),
        "name": N_("Every entry names its holiday."),
        "date_format": N_("A date is written YYYY-MM-DD."),
        "date_year": N_("The date is not in the schedule's year."),
        "order": N_("The last day of the holiday is before its first day."),
        "duplicate": N_("This day is already a holiday in an earlier entry."),
        "both": N_("An adjusted working day cannot also be a holiday."),
        "weekend": N_("Adjusted working days (调休) fall on Saturdays or Sundays; this day is a weekday already."),
        "span": N_("The period is longer than ten years."),
        "count": N_("Count at least 1 working day."),
        "year_missing": MISSING_YEAR,
    },
)


@dataclass(frozen=True, slots=True)
class Calculation:
    start: str = ""
    days: str = ""
    until: str = ""
    end: date | None = None
    between: int | None = None


def _date(parser: FieldParser, name: str, value: str) -> date | None:
    raw = value.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        parser.add(name, "format", BAD_DATE)
        return None
    # Counting from 9999-12-31 would overflow the date type; no schedule exists out there anyway.
    if not working_calendar.FIRST_YEAR <= day.year <= working_calendar.LAST_YEAR:
        parser.add(name, "year", BAD_YEAR)
        return None
    return day


def calculate(calendar: working_calendar.WorkingCalendar, start: str, days: str, until: str) -> Calculation:
    """The end of a period of ``days`` working days from ``start``, and the working days from
    ``start`` to ``until``; raises `ValidationFailed` naming every bad field.
    """
    parser = FieldParser()
    first = _date(parser, "start", start)
    count = parser.integer("days", days, low=1, high=working_calendar.MAX_SPAN_DAYS)
    last = _date(parser, "until", until)
    if first is None and not parser.problems:
        parser.add("start", "required", REQUIRED)
    parser.done()
    assert first is not None  # noqa: S101 - done() raised otherwise
    try:
        end = calendar.add_working_days(first, count) if count is not None else None
        between = calendar.working_days_between(first, last) if last is not None else None
    except working_calendar.CalendarYearMissing as exc:
        raise ValidationFailed(str(exc), field="start", rule="year_missing") from exc
    except working_calendar.CalendarError as exc:
        raise ValidationFailed(str(exc), field="days" if exc.rule == "count" else "start", rule=exc.rule) from exc
    return Calculation(start, days, until, end, between)


async def _schedule_bytes(form: FormMultiDict) -> bytes:
    value = form.get(service.SCHEDULE_FIELD)
    if not isinstance(value, UploadFile) or not value.filename:
        raise ValidationFailed(REQUIRED, field=service.SCHEDULE_FIELD, rule="required")
    return await value.read()


class CalendarPages(Controller):
    path = "/admin/calendar"
    include_in_schema = False

    @get("/", name="workdays.calendar", opt=requires(CalendarPermission.MANAGE))
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        *,
        year: FromQuery[int | None] = None,
        start: FromQuery[str] = "",
        days: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Response[Any]:
        """A year's schedule and versions (this year by default); with ``start``, the calculator's answer."""
        calculation, errors = Calculation(start, days, until), []
        if start or days or until:
            try:
                calculation = calculate(await calendar_versions.load_calendar(db_session), start, days, until)
            except ValidationFailed as exc:
                errors = field_errors(exc, LABELS)
        return await self._page(
            request, db_session, actor, year=year, calculation=calculation, calculator_errors=errors
        )

    @post(
        "/",
        name="workdays.load",
        request_max_body_size=MAX_SCHEDULE_BYTES,
        opt=requires(CalendarPermission.MANAGE),
    )
    async def load(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Load a year's schedule as its next version; a malformed file is refused naming the problem."""

        async def work() -> calendar_versions.StoredVersion:
            raw = await _schedule_bytes(await read_form(request))
            return await service.load_year(db_session, actor, raw)

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, actor, upload_errors=errors)

        path = request.app.route_reverse("workdays.calendar")
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda version: f"{path}?year={version.schedule.year}&loaded={version.number}",
            refusal=refused,
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        *,
        year: int | None = None,
        calculation: Calculation | None = None,
        calculator_errors: list[FieldError] | None = None,
        upload_errors: list[FieldError] | None = None,
    ) -> Response[Any]:
        years = sorted((await calendar_versions.load_calendar(db_session)).years, reverse=True)
        today = (await clock.now(db_session)).astimezone(working_calendar.CHINA).date()
        chosen = year if year in years else (today.year if today.year in years else years[0])
        calculator_errors = calculator_errors or []
        upload_errors = upload_errors or []
        return await page(
            request,
            "workdays/calendar.html",
            {
                "years": years,
                "missing": service.missing_years(years, today),
                "view": await service.year_view(db_session, actor, chosen),
                "loaded": request.query_params.get("loaded"),
                "calculation": calculation or Calculation(),
                "calculator_errors": calculator_errors,
                "upload_errors": upload_errors,
                "weekdays": WEEKDAYS,
            },
            status_code=UNPROCESSABLE if calculator_errors or upload_errors else 200,
        )


CONTROLLERS = (CalendarPages,)
