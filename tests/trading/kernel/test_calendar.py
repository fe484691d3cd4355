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
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.calendar_editions import remove_test_editions_from
from trading.kernel.calendar import CHINA, CalendarError, CalendarYearMissing, read_schedule, shipped_calendar
from trading.kernel.calendar_versions import (
    CalendarVersion,
    StoredVersion,
    UnreadableVersion,
    add_version,
    load_calendar,
    stored_versions,
)
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction

CALENDAR = shipped_calendar()


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
    schedules = shipped_calendar().years
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


@pytest.mark.usefixtures("without_test_editions")
async def test_an_administrator_loads_a_new_year(session: AsyncSession) -> None:
    stored = await add_version(session, json.dumps(_schedule_2027()).encode())
    assert (stored.schedule.year, stored.number) == (2027, 1)
    calendar = await load_calendar(session)
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
@pytest.mark.usefixtures("without_test_editions")
async def test_a_bad_schedule_is_refused_with_its_field(
    change: dict[str, object], message: str, session: AsyncSession
) -> None:
    with pytest.raises(CalendarError, match=message):
        await add_version(session, json.dumps(_schedule_2027() | change).encode())
    assert await stored_versions(session, 2027) == []
    with pytest.raises(CalendarError, match="not JSON"):
        read_schedule(b"{")


@pytest.mark.usefixtures("without_test_editions")
async def test_a_file_that_is_not_utf8_is_refused_since_it_is_kept_as_text(session: AsyncSession) -> None:
    # JSON may come as UTF-16, which the parser reads; the table keeps the exact file as UTF-8 text.
    with pytest.raises(CalendarError, match="not UTF-8") as refused:
        await add_version(session, json.dumps(_schedule_2027(), ensure_ascii=False).encode("utf-16"))
    assert refused.value.rule == "json"
    assert await stored_versions(session, 2027) == []


GGZY = str(Path(sys.executable).parent / "ggzy")


async def test_ggzy_calendar_load_stores_the_year_and_records_it(
    pg_databases: None, fresh_db: str, tmp_path: Path
) -> None:
    await remove_test_editions_from(fresh_db)
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
    assert not (tmp_path / "files" / "calendar").exists()  # the database holds it, not the node's disk
    engine = create_engine(fresh_db)
    try:
        async with create_session_maker(engine)() as session:
            assert (await load_calendar(session)).is_working_day(date(2027, 1, 9))
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
            assert [version.number for version in await stored_versions(session, 2027)] == [1]
    finally:
        await engine.dispose()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_schedule_2027() | {"workdays": [{"name": "x", "date": "2027-01-04"}]}), encoding="utf-8")
    refused = await asyncio.to_thread(ggzy, "load", str(bad))
    assert refused.returncode == 1
    assert "workdays[0]" in refused.stderr

    # A node that loaded a year as files before the table: the import brings its edition in, once.
    older = tmp_path / "files" / "calendar" / "versions" / "2027"
    older.mkdir(parents=True)
    (older / "1.json").write_text(json.dumps(_schedule_2027() | {"version": "node edition"}), encoding="utf-8")
    (tmp_path / "files" / "calendar" / "2027.json").write_bytes((older / "1.json").read_bytes())
    imported = await asyncio.to_thread(ggzy, "import-files")
    assert imported.returncode == 0, imported.stderr
    assert "calendar/versions/2027/1.json: 2027 version 2" in imported.stdout
    assert "imported 1 of 2 files" in imported.stdout  # the file in force is the same bytes
    again = await asyncio.to_thread(ggzy, "import-files")
    assert "imported 0 of 2 files" in again.stdout
    engine = create_engine(fresh_db)
    try:
        async with create_session_maker(engine)() as session:
            assert (await load_calendar(session)).schedule(2027).version == "node edition"
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("without_test_editions")
async def test_each_load_is_a_new_version_and_the_earlier_ones_are_kept(session: AsyncSession) -> None:
    first = json.dumps(_schedule_2027()).encode()
    second = json.dumps(_schedule_2027() | {"version": "corrected edition"}).encode()
    await add_version(session, first)
    await add_version(session, second)
    versions = await stored_versions(session, 2027)
    assert len(versions) == 2
    shown = [(v.number, v.schedule.version) for v in versions if isinstance(v, StoredVersion)]
    assert shown == [(1, "test edition"), (2, "corrected edition")]
    assert [v.sha256 for v in versions] == [hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()]
    row = await session.get_one(CalendarVersion, (2027, 2))
    assert row.content.encode() == second  # kept byte for byte
    assert (await load_calendar(session)).schedule(2027).version == "corrected edition"
    assert await stored_versions(session, 2026) == []  # the shipped schedule is in force


async def test_concurrent_loads_of_one_year_never_share_a_version_number(pg_databases: None, fresh_db: str) -> None:
    """The second load reads the highest number before the first commits, so it tries the same one:
    its insert waits for the first, fails on the key and takes the next number.
    """
    del pg_databases
    await remove_test_editions_from(fresh_db)
    engine = create_engine(fresh_db)
    maker = create_session_maker(engine)
    editions = [json.dumps(_schedule_2027() | {"version": f"edition {n}"}).encode() for n in (1, 2)]
    try:
        async with transaction(maker) as first:
            one = await add_version(first, editions[0])
            second = asyncio.create_task(_load_in_own_transaction(maker, editions[1]))
            await asyncio.sleep(0.5)  # the rival is blocked on the first's uncommitted row by now
            assert not second.done()
        two = await asyncio.wait_for(second, timeout=30)
        assert (one.number, two.number) == (1, 2)
        async with maker() as session:
            versions = await stored_versions(session, 2027)
            assert [(v.number, v.sha256) for v in versions] == [(1, one.sha256), (2, two.sha256)]
            assert (await load_calendar(session)).schedule(2027).version == "edition 2"
        many = await asyncio.gather(*(_load_in_own_transaction(maker, editions[0]) for _ in range(6)))
        assert sorted(version.number for version in many) == [3, 4, 5, 6, 7, 8]
    finally:
        await engine.dispose()


async def _load_in_own_transaction(maker: async_sessionmaker[AsyncSession], raw: bytes) -> StoredVersion:
    async with transaction(maker) as session:
        return await add_version(session, raw)


def test_a_refusal_names_its_place_and_rule_apart_for_translation() -> None:
    with pytest.raises(CalendarError) as refused:
        read_schedule(json.dumps(_schedule_2027() | {"workdays": [{"name": "x", "date": "2027-01-04"}]}).encode())
    assert (refused.value.where, refused.value.rule) == ("workdays[0]", "weekend")
    assert str(refused.value).startswith("workdays[0]: 2027-01-04 is a weekday already")


def test_json_nested_too_deeply_is_a_refusal_not_a_crash() -> None:
    with pytest.raises(CalendarError, match="nested too deeply") as refused:
        read_schedule(b"[" * 100_000)
    assert refused.value.rule == "json"


@pytest.mark.usefixtures("without_test_editions")
async def test_an_unreadable_version_is_listed_as_unreadable_beside_the_others(session: AsyncSession) -> None:
    await add_version(session, json.dumps(_schedule_2027()).encode())
    await add_version(session, json.dumps(_schedule_2027() | {"version": "corrected edition"}).encode())
    damaged = update(CalendarVersion).values(content="{damaged")
    await session.execute(damaged.where(CalendarVersion.year == 2027, CalendarVersion.number == 1))
    first, second = await stored_versions(session, 2027)
    assert isinstance(first, UnreadableVersion)
    assert (first.number, first.problem.rule) == (1, "json")
    assert isinstance(second, StoredVersion)
    assert second.schedule.version == "corrected edition"
