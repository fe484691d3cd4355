"""The administrator's working-day calendar page: the shipped years in Chinese, a new year loaded
from the page as a recorded version the calculator then uses, a bad file refused naming the problem
with nothing stored, and the page closed to everyone else.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.calendar_editions import edition
from tests.trading.parties.factories import Account, create_account, csrf_token, ledger_entries
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import CHINA
from trading.kernel.calendar_versions import CalendarVersion, load_calendar, stored_versions
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.clock import now as platform_now
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.errors import ValidationFailed
from trading.kernel.settings import Settings
from trading.server.cli import alembic_config
from trading.server.workdays.service import CALENDAR_LOADED, import_files, load_year, missing_years, year_view

PAGE = "/admin/calendar"


def schedule_2027(**change: object) -> bytes:
    data: dict[str, object] = {
        "year": 2027,
        "version": "国务院办公厅关于2027年部分节假日安排的通知 (test edition)",
        "holidays": [
            {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
            {"name": "春节", "from": "2027-02-05", "to": "2027-02-13"},
        ],
        "workdays": [{"name": "元旦调休", "date": "2027-01-09"}, {"name": "春节调休", "date": "2027-02-14"}],
    }
    return json.dumps(data | change, ensure_ascii=False).encode()


async def sign_in(client: httpx.AsyncClient, account: Account) -> None:
    login = await client.get("/login")
    response = await client.post(
        "/login",
        data={"_csrf_token": csrf_token(login.text), "username": account.username, "password": account.password},
    )
    assert response.status_code == 303, response.text


async def upload(client: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    token = csrf_token((await client.get(PAGE)).text)
    return await client.post(
        PAGE, data={"_csrf_token": token}, files={"schedule": ("2027.json", raw, "application/json")}
    )


# Loading a year and refusing an unloaded one are what these tests are about: only the shipped years.
pytestmark = pytest.mark.usefixtures("without_test_editions")


@pytest.fixture
async def admin(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> Account:
    account = await create_account(session_maker, settings, Role.ADMIN)
    await sign_in(client, account)
    return account


async def test_the_page_lists_the_shipped_years_with_their_holidays_in_chinese(
    client: httpx.AsyncClient, admin: Account
) -> None:
    del admin
    page = await client.get(PAGE, params={"year": 2026})
    assert page.status_code == 200, page.text
    assert 'data-year="2025"' in page.text
    assert 'data-year="2026"' in page.text
    assert "2026 年节假日安排" in page.text
    assert "<td>春节</td><td>2026-02-15</td><td>2026-02-23</td><td>9</td>" in page.text
    # 调休: Saturday 2026-02-14 and Saturday 2026-02-28 are worked for the Spring Festival.
    assert "<td>2026-02-14</td><td>星期六</td><td>春节调休</td>" in page.text
    assert "<td>2026-09-20</td><td>星期日</td><td>国庆节调休</td>" in page.text
    assert 'data-in-force="shipped"' in page.text
    assert "平台内置的安排" in page.text
    older = await client.get(PAGE, params={"year": 2025})
    assert "<td>春节</td><td>2025-01-28</td><td>2025-02-04</td><td>8</td>" in older.text
    assert "<td>2025-01-26</td><td>星期日</td><td>春节调休</td>" in older.text
    dashboard = await client.get("/dashboard")
    assert f'href="{PAGE}"' in dashboard.text
    assert "工作日历" in dashboard.text


async def test_a_year_loaded_from_the_page_is_a_recorded_version_the_calculator_uses(
    client: httpx.AsyncClient, admin: Account, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    missing = await client.get(PAGE, params={"start": "2026-12-30", "days": "2"})
    assert missing.status_code == 422
    assert "工作日历尚无该年度的节假日安排" in missing.text

    raw = schedule_2027()
    loaded = await upload(client, raw)
    assert loaded.status_code == 303, loaded.text
    assert loaded.headers["location"] == f"{PAGE}?year=2027&loaded=1"
    page = await client.get(loaded.headers["location"])
    assert 'data-year="2027"' in page.text
    assert "节假日安排已载入为第 1 版" in page.text
    assert "<td>元旦</td><td>2027-01-01</td><td>2027-01-03</td><td>3</td>" in page.text
    assert 'data-in-force="loaded"' in page.text
    assert admin.username in page.text  # who loaded it, read back from the ledger

    entries = await ledger_entries(session_maker, action=CALENDAR_LOADED, subject_id=2027)
    assert [entry.summary["version"] for entry in entries] == [1]
    assert entries[0].summary["sha256"] == hashlib.sha256(raw).hexdigest()
    assert entries[0].actor_label == admin.username
    async with session_maker() as session:
        assert (await load_calendar(session)).is_working_day(date(2027, 1, 9))

    # Wed 2026-12-30 + 2 working days: Thu 12-31, then (元旦 Jan 1-3) Mon 2027-01-04.
    end = await client.get(PAGE, params={"start": "2026-12-30", "days": "2", "until": "2027-01-09"})
    assert end.status_code == 200, end.text
    assert 'data-end="2027-01-04"' in end.text
    assert 'data-between="7"' in end.text  # Dec 31, Jan 4-8, and Saturday Jan 9 (调休)

    corrected = schedule_2027(version="corrected edition")
    again = await upload(client, corrected)
    assert again.headers["location"] == f"{PAGE}?year=2027&loaded=2"
    page = await client.get(PAGE, params={"year": 2027})
    assert "corrected edition" in page.text
    assert "已被替换" in page.text  # version 1 kept, no longer in force
    async with session_maker() as session:
        assert [version.number for version in await stored_versions(session, 2027)] == [1, 2]
    entries = await ledger_entries(session_maker, action=CALENDAR_LOADED, subject_id=2027)
    assert [entry.summary["version"] for entry in entries] == [1, 2]


@pytest.mark.parametrize(
    ("raw", "place", "sentence"),
    [
        (
            schedule_2027(workdays=[{"name": "x", "date": "2027-01-04"}]),
            "workdays[0]",
            "调休上班日应在星期六或星期日；该日本就是工作日。",
        ),
        (
            schedule_2027(holidays=[{"name": "元旦", "from": "2027-1-1", "to": "2027-01-03"}]),
            "holidays[0].from",
            "日期应写作 YYYY-MM-DD",
        ),
        (b"{not json", "节假日安排文件（JSON）", "文件不是与内置节假日安排格式相同的 JSON 对象。"),
    ],
)
async def test_a_malformed_file_is_refused_naming_the_problem_and_nothing_is_stored(
    client: httpx.AsyncClient,
    admin: Account,
    session_maker: async_sessionmaker[AsyncSession],
    *,
    raw: bytes,
    place: str,
    sentence: str,
) -> None:
    del admin
    refused = await upload(client, raw)
    assert refused.status_code == 422, refused.text
    assert f"<code>{place}</code>" in refused.text
    assert sentence in refused.text
    async with session_maker() as session:
        assert await stored_versions(session, 2027) == []
    assert await ledger_entries(session_maker, action=CALENDAR_LOADED, subject_id=2027) == []


async def test_the_page_is_for_the_centre_administrator_only(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    await sign_in(client, supervisor)
    assert (await client.get(PAGE)).status_code == 403
    token = csrf_token((await client.get("/dashboard")).text)
    # URL-encoded: the guard refuses before the body is read (a refused multipart body's spooled
    # file is left for the garbage collector by Litestar, which pytest reports as a warning).
    posted = await client.post(PAGE, data={"_csrf_token": token, "schedule": schedule_2027().decode()})
    assert posted.status_code == 403
    async with session_maker() as session:
        assert await stored_versions(session, 2027) == []
    assert f'href="{PAGE}"' not in (await client.get("/dashboard")).text


@pytest.mark.parametrize(
    ("loaded", "today", "missing"),
    [
        ({2025, 2026}, date(2026, 9, 30), ()),  # before October: next year's schedule is not due yet
        ({2025, 2026}, date(2026, 10, 1), (2027,)),
        ({2025, 2026}, date(2026, 12, 31), (2027,)),
        ({2025, 2026, 2027}, date(2026, 12, 31), ()),
        ({2025, 2026}, date(2027, 1, 1), (2027,)),  # this year's is missing: named whatever the month
        ({2025, 2026}, date(2027, 10, 1), (2027, 2028)),
        ({2026, 2028}, date(2027, 11, 1), (2027,)),
        (set(), date(2026, 3, 1), (2026,)),
    ],
)
def test_the_years_to_load_are_this_year_and_from_october_the_next(
    loaded: set[int], today: date, missing: tuple[int, ...]
) -> None:
    assert missing_years(loaded, today) == missing


def shifted_to(day: date, now: datetime) -> ShiftedClock:
    """The platform clock moved ahead so that it is noon of ``day`` (not before ``now``) in China."""
    offset = datetime.combine(day, time(12), tzinfo=CHINA) - now
    assert offset >= timedelta(0), "moved ahead only: roles and sessions start at the real time"
    return ShiftedClock(offset)


async def next_year_and_now(session_maker: async_sessionmaker[AsyncSession]) -> tuple[int, datetime]:
    """The year after the platform's current one (in China), and the platform's time now."""
    async with session_maker() as session:
        now = await platform_now(session)
    return now.astimezone(CHINA).year + 1, now


async def test_a_missing_next_year_is_announced_to_the_administrator_on_the_calendar_and_the_dashboard(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.ADMIN)
    year, now = await next_year_and_now(session_maker)  # loaded below; the notices are about the year after it
    with use_clock(shifted_to(date(year, 10, 15), now)):
        await sign_in(client, account)
        assert (await upload(client, edition(year))).status_code == 303
        page = await client.get(PAGE)
        dashboard = await client.get("/dashboard")
    assert page.status_code == 200, page.text
    assert f'data-missing-year="{year + 1}"' in page.text
    assert f"{year + 1}年的节假日安排尚未加载" in page.text
    assert f"期限截止于{year + 1}年的招标公告或结果公示将被拒绝发布" in page.text
    assert f'data-missing-year="{year + 1}"' in dashboard.text
    assert f"跨入{year + 1}年的工作日期限无法计算" in dashboard.text
    assert f'href="{PAGE}"' in dashboard.text
    # Before October nothing is due: this year is loaded, the next one is not asked for yet.
    with use_clock(shifted_to(date(year, 9, 15), now)):
        assert "data-missing-year" not in (await client.get(PAGE)).text
        assert "data-missing-year" not in (await client.get("/dashboard")).text
    # Loaded from the page: the notice is gone.
    with use_clock(shifted_to(date(year, 10, 15), now)):
        assert (await upload(client, edition(year + 1))).status_code == 303
        assert "data-missing-year" not in (await client.get(PAGE)).text
        assert "data-missing-year" not in (await client.get("/dashboard")).text


async def test_only_the_calendars_administrators_are_told_of_a_missing_year(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    year, now = await next_year_and_now(session_maker)
    with use_clock(shifted_to(date(year, 10, 15), now)):
        await sign_in(client, supervisor)
        async with session_maker() as session:
            assert missing_years((await load_calendar(session)).years, date(year, 10, 15))  # an admin would be told
        dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200, dashboard.text
    assert "data-missing-year" not in dashboard.text


async def test_no_file_and_bad_calculator_values_are_named_on_the_form(
    client: httpx.AsyncClient, admin: Account
) -> None:
    del admin
    token = csrf_token((await client.get(PAGE)).text)
    empty = await client.post(PAGE, data={"_csrf_token": token}, files={"schedule": ("", b"", "application/json")})
    assert empty.status_code == 422
    assert "<code>节假日安排文件（JSON）</code>: 此项为必填项。" in empty.text
    bad = await client.get(PAGE, params={"start": "2026-13-01", "days": "0"})
    assert bad.status_code == 422
    assert "<code>起算日期</code>: 请输入日期（YYYY-MM-DD）。" in bad.text
    assert "<code>工作日数</code>" in bad.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"start": "9999-12-31", "days": "1"}, "起算日期"), ({"start": "2026-01-05", "until": "0001-01-01"}, "截止日期")],
)
async def test_calculator_dates_outside_the_platforms_years_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str], field: str
) -> None:
    del admin
    refused = await client.get(PAGE, params=params)
    assert refused.status_code == 422
    assert f"<code>{field}</code>: 年度须在 2000 至 2100 之间。" in refused.text


async def test_a_deeply_nested_file_is_refused_not_a_crash(client: httpx.AsyncClient, admin: Account) -> None:
    del admin
    refused = await upload(client, b"[" * 100_000)
    assert refused.status_code == 422
    assert "节假日安排文件" in refused.text


async def test_an_unreadable_version_is_shown_as_unreadable(
    client: httpx.AsyncClient, admin: Account, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    del admin
    assert (await upload(client, schedule_2027())).status_code == 303
    assert (await upload(client, schedule_2027(version="corrected edition"))).status_code == 303
    async with session_maker() as session:  # a row edited by hand
        await session.execute(
            update(CalendarVersion).where(CalendarVersion.year == 2027, CalendarVersion.number == 1).values(content="{")
        )
        await session.commit()
    page = await client.get(PAGE, params={"year": "2027"})
    assert page.status_code == 200, page.text
    assert "无法读取：该文件已不是有效的节假日安排。" in page.text
    assert "corrected edition" in page.text


def _write_files(storage: Path, versions: dict[int, bytes], in_force: bytes) -> None:
    """The layout the calendar kept on a node's disk before the table."""
    (storage / "calendar" / "versions" / "2027").mkdir(parents=True)
    for number, raw in versions.items():
        (storage / "calendar" / "versions" / "2027" / f"{number}.json").write_bytes(raw)
    (storage / "calendar" / "2027.json").write_bytes(in_force)


async def test_files_a_node_loaded_before_the_table_are_imported_once_and_stay_in_force(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first, second = schedule_2027(), schedule_2027(version="corrected edition")
    # Loaded first, then the correction, then the first edition again: the first is in force.
    _write_files(tmp_path, {1: first, 2: second, 3: first}, in_force=first)
    async with session_maker() as session:
        imported = await import_files(session, tmp_path, Actor.system())
        assert [(item.source, item.version.number if item.version else None) for item in imported] == [
            ("calendar/versions/2027/1.json", 1),
            ("calendar/versions/2027/2.json", 2),
            ("calendar/versions/2027/3.json", None),  # its bytes are version 1's
            ("calendar/2027.json", 3),  # what was in force stays in force
        ]
        assert "corrected edition" not in (await load_calendar(session)).schedule(2027).version
        again = await import_files(session, tmp_path, Actor.system())
        assert [item.version for item in again] == [None] * 4
        assert [v.number for v in await stored_versions(session, 2027)] == [1, 2, 3]
        await session.commit()
    entries = await ledger_entries(session_maker, action=CALENDAR_LOADED, subject_id=2027)
    assert [(entry.summary["version"], entry.summary["source"]) for entry in entries] == [
        (1, "calendar/versions/2027/1.json"),
        (2, "calendar/versions/2027/2.json"),
        (3, "calendar/2027.json"),
    ]


async def test_an_unreadable_file_stops_the_import_naming_it(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    _write_files(tmp_path, {1: schedule_2027(), 2: b"{damaged"}, in_force=b"{damaged")
    async with session_maker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await import_files(session, tmp_path, Actor.system())
        assert refused.value.field == "calendar/versions/2027/2.json"


@pytest.mark.sqlite
async def test_loads_are_versions_on_sqlite_too(tmp_path: Path) -> None:
    """The embedded default: a load is a row and a ledger entry in one unit of work on SQLite."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        for edition in ("first edition", "corrected edition"):
            async with transaction(maker, lock=True) as session:
                await load_year(session, Actor.system(), schedule_2027(version=edition))
        async with maker() as session:
            assert (await load_calendar(session)).schedule(2027).version == "corrected edition"
            view = await year_view(session, Actor.system(), 2027)
            assert view is not None
            assert [(v.number, v.notice, v.in_force) for v in view.versions] == [
                (2, "corrected edition", True),
                (1, "first edition", False),
            ]
    finally:
        await engine.dispose()
