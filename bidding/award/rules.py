"""The award stage's periods and limits: versioned defaults shipped as data (``rules.json``), each with
its legal source, never constants (domain-rules: every threshold is a configurable default).

The file names its ``version``; an award records the version (and `AwardRules.to_dict`) it runs
under, so a later change of the defaults never changes a running tender. A deployment overrides
single values with `AwardRules.with_overrides` (a document in the file's layout, merged key by key).
Pure: reading the shipped file is the only I/O; the calendar is an argument.

**Counting (民法典 Art. 201, like `trading.kernel.calendar`).** The day of the event (in
Asia/Shanghai) is not counted; a period of N days ends at 24:00 of the N-th day after it, returned
as the instant 00:00 of the next day (a deadline is exclusive: ``at < due`` is in time). A period of
N working days ends at 24:00 of the N-th working day (`WorkingCalendar.end_of_working_days`). A
calendar-day period marked ``extend`` whose last day is a rest day (a holiday or a weekend that is
not a 调休 working day) ends on the first working day after it (民法典 Art. 203), so a deadline never
falls inside 国庆 or 春节; that needs the calendar of the year the period reaches, and a year not
loaded is refused (`CalendarYearMissing`), never guessed. Years (the archive) count to the
corresponding day (民法典 Art. 202), no calendar needed.

**Kinds.** ``within``: the act is due before the instant (the latest moment). ``at_least``: the
period may not end before the instant (the earliest close of the publicity).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from bidding.award.errors import AwardRefused
from trading.kernel.calendar import CHINA, MAX_SPAN_DAYS, CalendarError, WorkingCalendar

RULES_FILE: Final = "rules.json"


class AwardRulesError(ValueError):
    """A rules file or override that cannot be used; the message names the key."""


class Sector(StrEnum):
    """Which body of law a tender's award follows."""

    ENGINEERING = "engineering"  # 招标投标法 and its 实施条例
    GOVERNMENT_PROCUREMENT = "government_procurement"  # 政府采购法, 87号令, 94号令

    @classmethod
    def of_category(cls, category: str) -> Sector:
        """A tender's category (`bidding.models.TenderCategory` value): works are engineering, goods
        and services government procurement.
        """
        return cls.ENGINEERING if category == "engineering" else cls.GOVERNMENT_PROCUREMENT


class Unit(StrEnum):
    DAYS = "days"  # calendar days (日)
    WORKING_DAYS = "working_days"  # 工作日, on the holiday calendar


class Kind(StrEnum):
    WITHIN = "within"  # due by the instant
    AT_LEAST = "at_least"  # lasts until at least the instant


class PeriodKey(StrEnum):
    """Every period of the award stage (``rules.json`` says what each is and where it comes from)."""

    PUBLICITY_PUBLISH = "publicity_publish"
    PUBLICITY_DURATION = "publicity_duration"
    AWARD_CONFIRMATION = "award_confirmation"
    RESULT_ANNOUNCEMENT = "result_announcement"
    RESULT_ANNOUNCEMENT_DURATION = "result_announcement_duration"
    OBJECTION_WINDOW = "objection_window"
    OBJECTION_ANSWER = "objection_answer"
    COMPLAINT_FILING = "complaint_filing"
    COMPLAINT_ACCEPTANCE = "complaint_acceptance"
    COMPLAINT_DECISION = "complaint_decision"
    SUPERVISOR_SUSPENSION = "supervisor_suspension"
    AWARD_REPORT = "award_report"
    CONTRACT_SIGNING = "contract_signing"
    CONTRACT_PUBLICATION = "contract_publication"
    CONTRACT_FILING = "contract_filing"
    SECURITY_REFUND = "security_refund"
    SECURITY_REFUND_UNSUCCESSFUL = "security_refund_unsuccessful"


def _zoned(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise CalendarError("a time with a zone", where=name, rule="zone")
    return moment


def end_of_days(moment: datetime, count: int, calendar: WorkingCalendar, *, extend: bool) -> datetime:
    """When a period of ``count`` calendar days that starts at ``moment`` ends (module docstring):
    00:00 Asia/Shanghai after its last day, moved past rest days when ``extend`` (民法典 Art. 203).
    """
    last = _zoned(moment, "moment").astimezone(CHINA).date() + timedelta(days=count)
    if extend:
        for _ in range(MAX_SPAN_DAYS):
            if calendar.is_working_day(last):
                break
            last += timedelta(days=1)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=CHINA)


def years_later(moment: datetime, years: int) -> datetime:
    """The end of a period of ``years`` years from ``moment`` (民法典 Art. 201/202): 24:00 of the
    corresponding day, or of the month's last day when it has none (29 February).
    """
    start = _zoned(moment, "moment").astimezone(CHINA).date()
    year = start.year + years
    try:
        last = start.replace(year=year)
    except ValueError:  # 29 February in a common year
        last = date(year, start.month, 28)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=CHINA)


@dataclass(frozen=True, slots=True)
class Period:
    """One period for one sector: how long, in what unit, which kind, and its legal source."""

    key: PeriodKey
    sector: Sector
    count: int
    unit: Unit
    kind: Kind
    extend: bool
    """Whether a calendar-day period's end moves past rest days (民法典 Art. 203)."""
    source: str

    def due(self, event_at: datetime, calendar: WorkingCalendar) -> datetime:
        """The instant the period ends for an event at ``event_at`` (exclusive)."""
        if self.unit is Unit.WORKING_DAYS:
            return calendar.end_of_working_days(_zoned(event_at, "event_at"), self.count)
        return end_of_days(event_at, self.count, calendar, extend=self.extend)


@dataclass(frozen=True, slots=True)
class AwardRules:
    version: str
    periods: Mapping[tuple[PeriodKey, Sector], Period]
    reminder_days_before: tuple[int, ...]
    """Reminders to sign the contract this many days before its deadline, latest first."""
    warning_days_after: int
    """The supervisor is warned this many days after the signing deadline passed (0: at once)."""
    objection_suspends: Mapping[Sector, bool]
    performance_security_max_ratio: Mapping[Sector, Decimal]
    archive_retention_years: Mapping[Sector, int]
    document: Mapping[str, Any]
    """The document these rules were read from (``rules.json``'s layout): what an award stores."""

    def period(self, key: PeriodKey, sector: Sector) -> Period:
        """The period ``key`` for ``sector``; `AwardRulesError` where that sector has none."""
        found = self.periods.get((key, sector))
        if found is None:
            raise AwardRulesError(f"{key.value}: no period for {sector.value}")
        return found

    def applies(self, key: PeriodKey, sector: Sector) -> bool:
        return (key, sector) in self.periods

    def due(self, key: PeriodKey, sector: Sector, event_at: datetime, calendar: WorkingCalendar) -> datetime:
        """The instant period ``key`` ends for an event at ``event_at`` (`Period.due`)."""
        return self.period(key, sector).due(event_at, calendar)

    def is_late(
        self,
        key: PeriodKey,
        sector: Sector,
        event_at: datetime,
        calendar: WorkingCalendar,
        *,
        done_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Whether the act period ``key`` asks for is late: done at or after the due instant, or
        not done and ``now`` has reached it (an objection answered late warns the supervisor).
        Meaningful for ``within`` periods.
        """
        due = self.due(key, sector, event_at, calendar)
        return done_at >= due if done_at is not None else now >= due

    def to_dict(self) -> dict[str, Any]:
        """The rules as a JSON document (`parse_rules` reads it back)."""
        return copy.deepcopy(dict(self.document))

    def with_overrides(self, overrides: Mapping[str, Any]) -> AwardRules:
        """These rules with values replaced by ``overrides``, a document in ``rules.json``'s layout
        merged key by key (``{"version": …, "periods": {"contract_signing": {"engineering":
        {"count": 20}}}}``); ``version`` should change with them. Unknown keys are refused.
        """
        merged = _merge(self.to_dict(), overrides, "")
        return parse_rules(merged)


def _merge(base: dict[str, Any], overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    for key, value in overrides.items():
        path = f"{where}{key}"
        if key not in base:
            raise AwardRulesError(f"{path}: unknown award rule")
        if isinstance(value, Mapping) and isinstance(base[key], dict):
            base[key] = _merge(base[key], value, f"{path}.")
        else:
            base[key] = copy.deepcopy(value)
    return base


def _whole(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AwardRulesError(f"{where}: a whole number ≥ {minimum}, got {value!r}")
    return value


def _period(key: PeriodKey, sector: Sector, raw: Any) -> Period:
    where = f"periods.{key.value}.{sector.value}"
    if not isinstance(raw, Mapping):
        raise AwardRulesError(f"{where}: an object {{count, unit, kind, extend, source}} or null")
    try:
        unit, kind = Unit(raw["unit"]), Kind(raw["kind"])
        extend, source = raw["extend"], raw["source"]
    except (KeyError, ValueError) as exc:
        raise AwardRulesError(f"{where}: unit (days|working_days), kind (within|at_least): {exc}") from exc
    if not isinstance(extend, bool):
        raise AwardRulesError(f"{where}.extend: true or false")
    if not isinstance(source, str) or not source.strip():
        raise AwardRulesError(f"{where}.source: name the legal source")
    return Period(key, sector, _whole(raw.get("count"), f"{where}.count", 1), unit, kind, extend, source)


def _per_sector(data: Mapping[str, Any], name: str) -> Mapping[Sector, Any]:
    section = data.get(name)
    if not isinstance(section, Mapping) or not isinstance(section.get("source"), str):
        raise AwardRulesError(f"{name}: an object with a value per sector and its source")
    try:
        return {sector: section[sector.value] for sector in Sector}
    except KeyError as exc:
        raise AwardRulesError(f"{name}: no value for {exc}") from exc


def _ratio(value: Any, where: str) -> Decimal:
    try:
        ratio = Decimal(str(value)) if isinstance(value, str) else None
    except InvalidOperation:
        ratio = None
    if ratio is None or not ratio.is_finite() or not Decimal(0) < ratio <= Decimal(1):
        raise AwardRulesError(f"{where}: a decimal string in (0, 1], got {value!r}")
    return ratio


def _periods(raw_periods: Any) -> dict[tuple[PeriodKey, Sector], Period]:
    if not isinstance(raw_periods, Mapping):
        raise AwardRulesError("periods: an object of periods")
    unknown = sorted(set(raw_periods) - {key.value for key in PeriodKey})
    if unknown:
        raise AwardRulesError(f"periods: unknown period(s) {', '.join(unknown)}")
    periods: dict[tuple[PeriodKey, Sector], Period] = {}
    for key in PeriodKey:
        entry = raw_periods.get(key.value)
        if not isinstance(entry, Mapping):
            raise AwardRulesError(f"periods.{key.value}: missing")
        for sector in Sector:
            if sector.value not in entry:
                raise AwardRulesError(f"periods.{key.value}.{sector.value}: missing (null where none applies)")
            if entry[sector.value] is not None:
                periods[key, sector] = _period(key, sector, entry[sector.value])
    return periods


def parse_rules(data: Any) -> AwardRules:
    """Read and check a rules document (the layout of ``rules.json``)."""
    if not isinstance(data, Mapping):
        raise AwardRulesError("the award rules are a JSON object")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise AwardRulesError("version: name the edition of the rules")
    periods = _periods(data.get("periods"))
    reminders = data.get("contract_reminders")
    if not isinstance(reminders, Mapping) or not isinstance(reminders.get("days_before"), list):
        raise AwardRulesError("contract_reminders: {days_before: [...], warning_days_after, source}")
    before = tuple(
        sorted(
            {_whole(v, "contract_reminders.days_before", 1) for v in reminders["days_before"]},
            reverse=True,
        )
    )
    after = _whole(reminders.get("warning_days_after"), "contract_reminders.warning_days_after", 0)
    suspends = _per_sector(data, "objection_suspends")
    if not all(isinstance(v, bool) for v in suspends.values()):
        raise AwardRulesError("objection_suspends: true or false per sector")
    ratios = {
        s: _ratio(v, f"performance_security_max_ratio.{s.value}")
        for s, v in _per_sector(data, "performance_security_max_ratio").items()
    }
    retention = {
        s: _whole(v, f"archive_retention_years.{s.value}", 15)
        for s, v in _per_sector(data, "archive_retention_years").items()
    }
    for sector in Sector:
        contract = periods.get((PeriodKey.CONTRACT_SIGNING, sector))
        if contract is not None and before and before[0] >= contract.count:
            raise AwardRulesError(
                f"contract_reminders.days_before: each reminder falls within the {sector.value} signing period"
            )
    try:
        document = json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise AwardRulesError(f"the award rules are plain JSON values: {exc}") from exc
    return AwardRules(
        version=version.strip(),
        periods=MappingProxyType(periods),
        reminder_days_before=before,
        warning_days_after=after,
        objection_suspends=MappingProxyType(dict(suspends)),
        performance_security_max_ratio=MappingProxyType(ratios),
        archive_retention_years=MappingProxyType(retention),
        document=MappingProxyType(document),
    )


@functools.cache
def shipped_rules() -> AwardRules:
    """The defaults shipped with the platform (read once; `AwardRules.to_dict` hands out copies)."""
    raw = resources.files(__package__ or "bidding.award").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(json.loads(raw))


# --- the dates the award stage asks for ---------------------------------------------------------


def publicity_window(published_at: datetime, calendar: WorkingCalendar, rules: AwardRules) -> tuple[datetime, datetime]:
    """Engineering: from the publicity's publication to its earliest close (objections run in it)."""
    return published_at, rules.due(PeriodKey.PUBLICITY_DURATION, Sector.ENGINEERING, published_at, calendar)


def objection_deadline(sector: Sector, opened_at: datetime, calendar: WorkingCalendar, rules: AwardRules) -> datetime:
    """Until when an objection to the result may be filed. ``opened_at``: engineering, the
    publicity's publication (objections during the publicity, 实施条例 Art. 54); GP, the result
    announcement's publication (7 working days from the end of its 1-working-day term).
    """
    if sector is Sector.ENGINEERING:
        return publicity_window(opened_at, calendar, rules)[1]
    announcement_ends = rules.due(PeriodKey.RESULT_ANNOUNCEMENT_DURATION, sector, opened_at, calendar)
    # The announcement ends at 24:00 of its working day; the window counts from that day on.
    return rules.due(PeriodKey.OBJECTION_WINDOW, sector, announcement_ends - timedelta(microseconds=1), calendar)


def require_objection_in_time(
    sector: Sector, opened_at: datetime, at: datetime, calendar: WorkingCalendar, rules: AwardRules
) -> None:
    """Refuse (``objection_period``) an objection filed before the result is public or after its window."""
    deadline = objection_deadline(sector, opened_at, calendar, rules)
    if not opened_at <= at < deadline:
        raise AwardRefused(
            f"objections to the result are filed from {opened_at.isoformat()} until {deadline.isoformat()}",
            field="at",
            rule="objection_period",
        )


def complaint_deadline(
    sector: Sector,
    objection_filed_at: datetime,
    answered_at: datetime | None,
    calendar: WorkingCalendar,
    rules: AwardRules,
) -> datetime:
    """Until when a complaint may follow an objection. Engineering: 10 days from the answer, or from
    the answer's deadline when none came (实施条例 Art. 60: the answer's time is not counted). GP: 15
    working days from the end of the answer period, whenever the answer came (政府采购法 Art. 55).
    """
    answer_due = rules.due(PeriodKey.OBJECTION_ANSWER, sector, objection_filed_at, calendar)
    last_answer_moment = answer_due - timedelta(microseconds=1)
    if sector is Sector.ENGINEERING and answered_at is not None and answered_at < answer_due:
        anchor = answered_at
    else:
        anchor = last_answer_moment
    return rules.due(PeriodKey.COMPLAINT_FILING, sector, anchor, calendar)


def retained_until(closed_at: datetime, sector: Sector, rules: AwardRules) -> datetime:
    """The end of an archive's retention: ``archive_retention_years`` from the tender's close."""
    return years_later(closed_at, rules.archive_retention_years[sector])
