"""Issue 16: the award stage's periods — versioned defaults with their sources, counted per 民法典
Art. 201/203 on the shipped 2026 holiday calendar (国庆 1–7 October with 调休 on Sunday 20 September
and Saturday 10 October; 春节 15–23 February with 调休 on Saturdays 14 and 28 February).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bidding.award.errors import AwardRefused
from bidding.award.rules import (
    AwardRulesError,
    Kind,
    PeriodKey,
    Sector,
    Unit,
    complaint_deadline,
    end_of_days,
    objection_deadline,
    parse_rules,
    require_objection_in_time,
    retained_until,
    shipped_rules,
)
from trading.kernel.calendar import CHINA, CalendarYearMissing, WorkingCalendar, shipped_schedules

CALENDAR = WorkingCalendar(shipped_schedules())
RULES = shipped_rules()
ENG, GP = Sector.ENGINEERING, Sector.GOVERNMENT_PROCUREMENT
P = PeriodKey


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


def midnight(year: int, month: int, day: int) -> datetime:
    """The instant a period ends: 24:00 of the day before, written as 00:00 of this one."""
    return datetime(year, month, day, tzinfo=CHINA)


def test_every_period_is_versioned_with_its_source_and_unit() -> None:
    assert RULES.version == "2026-12-1"
    for (key, sector), period in RULES.periods.items():
        assert period.key is key
        assert period.sector is sector
        assert period.source.strip(), key
        assert period.count >= 1
    table = {(k.value, s.value): (p.count, p.unit, p.kind) for (k, s), p in RULES.periods.items()}
    assert table[P.PUBLICITY_PUBLISH, ENG] == (3, Unit.DAYS, Kind.WITHIN)
    assert table[P.PUBLICITY_DURATION, ENG] == (3, Unit.DAYS, Kind.AT_LEAST)
    assert table[P.RESULT_ANNOUNCEMENT, GP] == (2, Unit.WORKING_DAYS, Kind.WITHIN)
    assert table[P.OBJECTION_ANSWER, ENG] == (3, Unit.DAYS, Kind.WITHIN)
    assert table[P.COMPLAINT_FILING, ENG] == (10, Unit.DAYS, Kind.WITHIN)
    assert table[P.COMPLAINT_FILING, GP] == (15, Unit.WORKING_DAYS, Kind.WITHIN)
    assert table[P.CONTRACT_SIGNING, ENG] == table[P.CONTRACT_SIGNING, GP] == (30, Unit.DAYS, Kind.WITHIN)
    assert "实施条例 Art. 54" in RULES.period(P.PUBLICITY_PUBLISH, ENG).source
    assert "Art. 60" in RULES.period(P.COMPLAINT_FILING, ENG).source
    assert "Art. 55" in RULES.period(P.COMPLAINT_FILING, GP).source
    assert "财政部令第87号 Art. 69" in RULES.period(P.RESULT_ANNOUNCEMENT, GP).source
    assert RULES.archive_retention_years == {ENG: 15, GP: 15}
    assert RULES.reminder_days_before == (7, 3, 1)
    assert RULES.objection_suspends == {ENG: True, GP: False}
    # No publicity in government procurement; no statutory award report there.
    assert not RULES.applies(P.PUBLICITY_PUBLISH, GP)
    with pytest.raises(AwardRulesError, match="publicity_publish: no period for government_procurement"):
        RULES.period(P.PUBLICITY_PUBLISH, GP)


@pytest.mark.parametrize(
    ("key", "sector", "event", "due", "why"),
    [
        # Calendar days, last day in 国庆 → the first working day after it (民法典 Art. 203).
        (P.PUBLICITY_PUBLISH, ENG, at(2026, 9, 28, 15), midnight(2026, 10, 9), "3rd day 1 Oct → 8 Oct"),
        (P.PUBLICITY_DURATION, ENG, at(2026, 9, 29), midnight(2026, 10, 9), "3rd day 2 Oct → 8 Oct"),
        (P.PUBLICITY_DURATION, ENG, at(2026, 9, 24), midnight(2026, 9, 29), "3rd day Sunday 27 Sep (中秋) → 28 Sep"),
        (P.PUBLICITY_DURATION, ENG, at(2026, 9, 22), midnight(2026, 9, 29), "3rd day Friday 25 Sep (中秋) → Monday 28"),
        (P.CONTRACT_SIGNING, ENG, at(2026, 9, 5), midnight(2026, 10, 9), "30th day 5 Oct → 8 Oct"),
        (P.CONTRACT_SIGNING, GP, at(2026, 9, 10), midnight(2026, 10, 11), "30th day Saturday 10 Oct is 调休 work"),
        (P.CONTRACT_SIGNING, ENG, at(2026, 9, 11), midnight(2026, 10, 13), "30th day Sunday 11 Oct → Monday 12"),
        (P.CONTRACT_SIGNING, ENG, at(2026, 9, 11, 23, 59), midnight(2026, 10, 13), "the hour does not count"),
        (P.OBJECTION_ANSWER, ENG, at(2026, 2, 12, 11), midnight(2026, 2, 25), "3rd day 15 Feb (春节) → 24 Feb"),
        (P.OBJECTION_ANSWER, ENG, at(2026, 3, 2), midnight(2026, 3, 6), "no rest day: 3 days"),
        # Working days through trading.kernel.calendar.
        (P.RESULT_ANNOUNCEMENT, GP, at(2026, 9, 30, 16), midnight(2026, 10, 10), "8 and 9 Oct"),
        (P.OBJECTION_ANSWER, GP, at(2026, 9, 29), midnight(2026, 10, 15), "30 Sep, 8, 9, 10 (调休), 12, 13, 14 Oct"),
        (P.OBJECTION_ANSWER, GP, at(2026, 2, 12, 11), midnight(2026, 3, 1), "13, 14 (调休), 24–27, 28 (调休) Feb"),
        (P.AWARD_CONFIRMATION, GP, at(2026, 2, 13), midnight(2026, 2, 28), "14 (调休), 24–27 Feb"),
        (P.COMPLAINT_ACCEPTANCE, ENG, at(2026, 10, 1), midnight(2026, 10, 11), "8, 9, 10 (调休) Oct"),
        (P.RESULT_ANNOUNCEMENT_DURATION, GP, at(2026, 9, 30), midnight(2026, 10, 9), "8 Oct"),
        (P.SUPERVISOR_SUSPENSION, GP, at(2026, 9, 1), midnight(2026, 10, 2), "30 calendar days, not extended"),
        (P.COMPLAINT_DECISION, ENG, at(2026, 9, 1), midnight(2026, 10, 20), "30 working days over 中秋 and 国庆"),
        (P.AWARD_REPORT, ENG, at(2026, 9, 20), midnight(2026, 10, 9), "15th day 5 Oct → 8 Oct"),
        (P.CONTRACT_PUBLICATION, GP, at(2026, 9, 30), midnight(2026, 10, 10), "8 and 9 Oct"),
        (P.CONTRACT_FILING, GP, at(2026, 9, 29), midnight(2026, 10, 15), "7 working days"),
        (P.SECURITY_REFUND, ENG, at(2026, 9, 28), midnight(2026, 10, 9), "5th day 3 Oct → 8 Oct"),
        (P.SECURITY_REFUND, GP, at(2026, 9, 28), midnight(2026, 10, 11), "29, 30 Sep, 8, 9, 10 (调休) Oct"),
        (P.SECURITY_REFUND_UNSUCCESSFUL, GP, at(2026, 2, 12), midnight(2026, 2, 27), "13, 14 (调休), 24–26 Feb"),
    ],
)
def test_due_instants_across_the_2026_holidays(
    key: PeriodKey, sector: Sector, event: datetime, due: datetime, why: str
) -> None:
    assert RULES.due(key, sector, event, CALENDAR) == due, why
    # The same instant whatever zone the event is given in.
    assert RULES.due(key, sector, event.astimezone(UTC), CALENDAR) == due, why


def test_sector_of_a_tender_category() -> None:
    assert Sector.of_category("engineering") is ENG
    assert Sector.of_category("goods") is Sector.of_category("services") is GP


def test_art_203_extension_is_a_setting_per_period() -> None:
    plain = RULES.with_overrides(
        {"version": "test-1", "periods": {"contract_signing": {"engineering": {"extend": False}}}}
    )
    assert plain.version == "test-1"
    assert plain.due(P.CONTRACT_SIGNING, ENG, at(2026, 9, 5), CALENDAR) == midnight(2026, 10, 6)
    assert plain.due(P.CONTRACT_SIGNING, GP, at(2026, 9, 5), CALENDAR) == midnight(2026, 10, 9)
    assert end_of_days(at(2026, 9, 5), 30, CALENDAR, extend=False) == midnight(2026, 10, 6)


def test_overrides_replace_values_and_refuse_unknown_keys() -> None:
    shorter = RULES.with_overrides(
        {"version": "local-2027", "periods": {"contract_signing": {"engineering": {"count": 20}}}}
    )
    assert shorter.period(P.CONTRACT_SIGNING, ENG).count == 20
    assert shorter.period(P.CONTRACT_SIGNING, GP).count == 30
    assert shorter.to_dict()["periods"]["contract_signing"]["engineering"]["count"] == 20
    assert RULES.period(P.CONTRACT_SIGNING, ENG).count == 30  # the shipped rules are untouched
    assert parse_rules(shorter.to_dict()) == shorter
    with pytest.raises(AwardRulesError, match=r"periods\.contract_signin: unknown"):
        RULES.with_overrides({"periods": {"contract_signin": {}}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": " "}, "version"),
        ({"periods": {"contract_signing": {"engineering": {"count": 0}}}}, "count: a whole number ≥ 1"),
        ({"periods": {"contract_signing": {"engineering": {"unit": "weeks"}}}}, "unit"),
        ({"periods": {"contract_signing": {"engineering": {"source": ""}}}}, "source"),
        ({"periods": {"contract_signing": {"engineering": {"extend": "yes"}}}}, "extend"),
        ({"archive_retention_years": {"engineering": 10}}, "archive_retention_years.engineering"),
        ({"performance_security_max_ratio": {"engineering": "0.2x"}}, "performance_security_max_ratio"),
        ({"performance_security_max_ratio": {"engineering": 0.1}}, "performance_security_max_ratio"),
        ({"contract_reminders": {"days_before": [30]}}, "within the engineering signing period"),
        ({"objection_suspends": {"engineering": "true"}}, "objection_suspends"),
        ({"contract_reminders": {"source": Decimal(1)}}, "plain JSON values"),
    ],
)
def test_a_bad_rules_document_is_refused_with_the_key_named(change: dict, message: str) -> None:
    with pytest.raises(AwardRulesError, match=message):
        RULES.with_overrides(change)


def test_the_shipped_file_lists_every_period_with_both_sectors() -> None:
    document = RULES.to_dict()
    assert set(document["periods"]) == {key.value for key in PeriodKey}
    broken = json.loads(json.dumps(document))
    del broken["periods"]["award_report"]["government_procurement"]
    with pytest.raises(AwardRulesError, match=r"award_report\.government_procurement: missing"):
        parse_rules(broken)


def test_objection_windows() -> None:
    # Engineering: during the publicity (published Tuesday 29 Sep, closes with 8 Oct).
    assert objection_deadline(ENG, at(2026, 9, 29), CALENDAR, RULES) == midnight(2026, 10, 9)
    require_objection_in_time(ENG, at(2026, 9, 29), at(2026, 10, 8, 23, 59), CALENDAR, RULES)
    for late in (midnight(2026, 10, 9), at(2026, 10, 9)):
        with pytest.raises(AwardRefused) as refused:
            require_objection_in_time(ENG, at(2026, 9, 29), late, CALENDAR, RULES)
        assert (refused.value.field, refused.value.rule) == ("at", "objection_period")
    with pytest.raises(AwardRefused, match="filed from") as early:
        require_objection_in_time(ENG, at(2026, 9, 29), at(2026, 9, 29, 9), CALENDAR, RULES)
    assert early.value.rule == "objection_period"
    # GP: the result announcement of Wednesday 30 Sep runs its working day (8 Oct); then 7 working days.
    assert objection_deadline(GP, at(2026, 9, 30), CALENDAR, RULES) == midnight(2026, 10, 17)


def test_complaint_windows() -> None:
    filed = at(2026, 2, 12, 11)
    # Engineering: 10 days from the answer (13 Feb → 23 Feb, a 春节 day → 24 Feb) …
    assert complaint_deadline(ENG, filed, at(2026, 2, 13), CALENDAR, RULES) == midnight(2026, 2, 25)
    # … or from the answer's deadline (24 Feb) when none came, or came late.
    assert complaint_deadline(ENG, filed, None, CALENDAR, RULES) == midnight(2026, 3, 7)
    assert complaint_deadline(ENG, filed, at(2026, 3, 2), CALENDAR, RULES) == midnight(2026, 3, 7)
    # GP: 15 working days after the answer period (ending with 28 Feb), whenever the answer came.
    assert complaint_deadline(GP, filed, at(2026, 2, 13), CALENDAR, RULES) == midnight(2026, 3, 21)
    assert complaint_deadline(GP, filed, None, CALENDAR, RULES) == midnight(2026, 3, 21)


def test_archive_retention_counts_years_to_the_corresponding_day() -> None:
    assert retained_until(at(2026, 10, 9), GP, RULES) == midnight(2041, 10, 10)
    assert retained_until(at(2028, 2, 29), ENG, RULES) == midnight(2043, 3, 1)  # no 29 Feb: the 28th


def test_an_unloaded_year_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarYearMissing):
        RULES.due(P.CONTRACT_SIGNING, ENG, at(2026, 12, 20), CALENDAR)  # ends in 2027
    with pytest.raises(CalendarYearMissing):
        RULES.due(P.OBJECTION_ANSWER, GP, at(2026, 12, 28), CALENDAR)


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="a time with a zone"):
        RULES.due(P.CONTRACT_SIGNING, ENG, datetime(2026, 9, 5, 10), CALENDAR)  # noqa: DTZ001
    with pytest.raises(ValueError, match="a time with a zone"):
        RULES.due(P.OBJECTION_ANSWER, GP, datetime(2026, 9, 5, 10), CALENDAR)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("done_at", "now", "late"),
    [
        (at(2026, 2, 24, 23, 59), at(2026, 3, 2), False),  # answered on the moved last day
        (midnight(2026, 2, 25), at(2026, 3, 2), True),  # answered at 24:00: late
        (None, at(2026, 2, 24, 23, 59), False),  # not answered yet, still in time
        (None, midnight(2026, 2, 25), True),  # not answered and the deadline passed: warn
    ],
)
def test_an_objection_answered_late(done_at: datetime | None, now: datetime, *, late: bool) -> None:
    filed = at(2026, 2, 12, 11)  # the 3rd day is 15 Feb (春节): due with 24 Feb
    assert RULES.is_late(P.OBJECTION_ANSWER, ENG, filed, CALENDAR, done_at=done_at, now=now) is late
