"""The working-day calendar with the 2025 and 2026 national schedules (国务院办公厅 notices)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from trading.kernel.calendar import (
    CHINA,
    CalendarError,
    CalendarYearMissing,
    StoredVersion,
    UnreadableVersion,
    in_force_sha256,
    load_calendar,
    read_schedule,
    shipped_schedules,
    store_schedule,
    stored_versions,
    versions_dir,
)
from trading.kernel.db.engine import create_engine, create_session_maker

CALENDAR = load_calendar(None)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025: New Year on a Wednesday, no 调休.
        (date(2025, 1, 1), False),
        (date(2025, 1, 2), True),
        # Spring Festival Jan 28 – Feb 4; Sunday Jan 26 and Saturday Feb 8 are worked.
        (date(2025, 1, 26), True),
        (date(2025, 1, 27), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),
        (date(2025, 2, 9), False),
        (date(2025, 4, 4), False),
        (date(2025, 4, 7), True),
        # Labour Day May 1–5, Sunday Apr 27 worked.
        (date(2025, 4, 27), True),
        (date(2025, 5, 5), False),
        (date(2025, 6, 2), False),
        # National Day and Mid-Autumn Oct 1–8; Sunday Sep 28 and Saturday Oct 11 worked.
        (date(2025, 9, 28), True),
        (date(2025, 10, 8), False),
        (date(2025, 10, 11), True),
        (date(2025, 10, 12), False),
        # 2026: New Year Jan 1–3, Sunday Jan 4 worked.
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),
        # Spring Festival Feb 15–23; Saturdays Feb 14 and Feb 28 worked.
        (date(2026, 2, 14), True),
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),
        (date(2026, 4, 6), False),
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),
        (date(2026, 6, 19), False),
        (date(2026, 9, 25), False),
        (date(2026, 9, 20), True),
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),
        # An ordinary Saturday and Monday.
        (date(2026, 12, 5), False),
        (date(2026, 12, 7), True),
    ],
)
def test_national_schedules_with_adjusted_working_days(day: date, working: bool) -> None:  # noqa: FBT001
    assert CALENDAR.is_working_day(day) is working


def test_shipped_years_name_their_notice() -> None:
    schedules = shipped_schedules()
    assert sorted(schedules) == [2025, 2026]
    assert "国办发明电〔2024〕12号" in schedules[2025].version
    assert len(schedules[2025].holidays) == 1 + 8 + 3 + 5 + 3 + 8
    assert len(schedules[2026].workdays) == 6


def test_add_working_days_skips_holidays_and_counts_tiaoxiu_saturdays() -> None:
    # Published Friday 2026-02-13: Sat 14 (调休) is the 1st, then the festival; Tue 24 … Fri 27, Sat 28 (调休).
    assert CALENDAR.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)
    # Over National Day 2025 (Sep 30 → Oct 9 is the 1st working day, Oct 11 the 3rd).
    assert CALENDAR.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # Across the year boundary: Dec 31 2025 → Jan 4 2026 (a worked Sunday).
    assert CALENDAR.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert CALENDAR.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    assert CALENDAR.working_days_between(date(2026, 2, 28), date(2026, 2, 13)) == 0


def test_a_period_ends_at_the_end_of_the_nth_working_day_in_shanghai() -> None:
    # 2026-09-30 17:00 UTC is already Oct 1 in Shanghai: counting starts Oct 2 (holiday) … Oct 8 is the 1st.
    end = CALENDAR.end_of_working_days(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), 5)
    assert end == datetime(2026, 10, 14, 0, 0, tzinfo=CHINA)  # Oct 8, 9, 10 (Sat, worked), 12, 13
    with pytest.raises(CalendarError, match="zone"):
        CALENDAR.end_of_working_days(datetime(2026, 9, 30, 9, 0), 5)  # noqa: DTZ001


def test_a_year_without_a_schedule_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarYearMissing, match="2027"):
        CALENDAR.add_working_days(date(2026, 12, 30), 5)


def _schedule_2027() -> dict[str, object]:
    return {
        "year": 2027,
        "version": "test edition",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        "workdays": [{"name": "元旦调休", "date": "2027-01-09"}],
    }


def test_an_administrator_loads_a_new_year(tmp_path: Path) -> None:
    stored = store_schedule(tmp_path, json.dumps(_schedule_2027()).encode())
    assert stored.year == 2027
    calendar = load_calendar(tmp_path)
    assert calendar.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 4)
    assert calendar.is_working_day(date(2027, 1, 9))
    assert calendar.schedule(2026).version == CALENDAR.schedule(2026).version


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": 1999}, "year"),
        ({"version": ""}, "version"),
        ({"holidays": []}, "holidays"),
        ({"holidays": [{"name": "元旦", "from": "2027-01-03", "to": "2027-01-01"}]}, "holidays\\[0\\]"),
        ({"holidays": [{"name": "元旦", "from": "2028-01-01", "to": "2028-01-01"}]}, "not in 2027"),
        ({"workdays": [{"name": "x", "date": "2027-01-04"}]}, "weekday already"),
        ({"workdays": [{"name": "x", "date": "2027-01-02"}]}, "also a holiday"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_field(change: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=message):
        store_schedule(tmp_path, json.dumps(_schedule_2027() | change).encode())
    assert not (tmp_path / "calendar" / "2027.json").exists()
    with pytest.raises(CalendarError, match="not JSON"):
        read_schedule(b"{")


GGZY = str(Path(sys.executable).parent / "ggzy")


async def test_ggzy_calendar_load_stores_the_year_and_records_it(
    pg_databases: None, fresh_db: str, tmp_path: Path
) -> None:
    schedule = tmp_path / "2027.json"
    schedule.write_text(json.dumps(_schedule_2027(), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "GGZY_DB_URL": fresh_db, "GGZY_STORAGE_DIR": str(tmp_path / "files")}

    def ggzy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GGZY, "calendar", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    loaded = await asyncio.to_thread(ggzy, "load", str(schedule))
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 2027: test edition" in loaded.stdout
    assert load_calendar(tmp_path / "files").is_working_day(date(2027, 1, 9))
    engine = create_engine(fresh_db)
    try:
        async with create_session_maker(engine)() as session:
            actions = (
                (
                    await session.execute(
                        text("SELECT summary FROM ledger_entries WHERE action = 'kernel.calendar_loaded'")
                    )
                )
                .scalars()
                .all()
            )
        assert len(actions) == 1
        assert json.loads(actions[0])["version"] == 1  # the CLI records a version like the page does
    finally:
        await engine.dispose()
    assert [version.number for version in stored_versions(tmp_path / "files", 2027)] == [1]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_schedule_2027() | {"workdays": [{"name": "x", "date": "2027-01-04"}]}), encoding="utf-8")
    refused = await asyncio.to_thread(ggzy, "load", str(bad))
    assert refused.returncode == 1
    assert "workdays[0]" in refused.stderr


def test_each_load_is_a_new_version_and_the_earlier_ones_are_kept(tmp_path: Path) -> None:
    first = json.dumps(_schedule_2027()).encode()
    second = json.dumps(_schedule_2027() | {"version": "corrected edition"}).encode()
    store_schedule(tmp_path, first)
    store_schedule(tmp_path, second)
    versions = stored_versions(tmp_path, 2027)
    assert len(versions) == 2
    shown = [(v.number, v.schedule.version) for v in versions if isinstance(v, StoredVersion)]
    assert shown == [(1, "test edition"), (2, "corrected edition")]
    assert in_force_sha256(tmp_path, 2027) == hashlib.sha256(second).hexdigest() == versions[1].sha256
    assert load_calendar(tmp_path).schedule(2027).version == "corrected edition"
    assert in_force_sha256(tmp_path, 2026) is None  # the shipped schedule is in force
    assert stored_versions(tmp_path, 2026) == []


def test_a_refusal_names_its_place_and_rule_apart_for_translation() -> None:
    with pytest.raises(CalendarError) as refused:
        read_schedule(json.dumps(_schedule_2027() | {"workdays": [{"name": "x", "date": "2027-01-04"}]}).encode())
    assert (refused.value.where, refused.value.rule) == ("workdays[0]", "weekend")
    assert str(refused.value).startswith("workdays[0]: 2027-01-04 is a weekday already")


def test_json_nested_too_deeply_is_a_refusal_not_a_crash() -> None:
    with pytest.raises(CalendarError, match="nested too deeply") as refused:
        read_schedule(b"[" * 100_000)
    assert refused.value.rule == "json"


def test_an_unreadable_version_file_is_listed_as_unreadable_beside_the_others(tmp_path: Path) -> None:
    store_schedule(tmp_path, json.dumps(_schedule_2027()).encode())
    store_schedule(tmp_path, json.dumps(_schedule_2027() | {"version": "corrected edition"}).encode())
    (versions_dir(tmp_path, 2027) / "1.json").write_bytes(b"{damaged")
    first, second = stored_versions(tmp_path, 2027)
    assert isinstance(first, UnreadableVersion)
    assert (first.number, first.problem.rule) == (1, "json")
    assert isinstance(second, StoredVersion)
    assert second.schedule.version == "corrected edition"
