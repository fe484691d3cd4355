"""Input bounds on bidding (issue 11, findings 4 and 5): a tender's times, amounts and texts are
refused by field and rule on the API and on the tenderee's form, nothing is stored, and a time
already stored at the end of the calendar no longer takes the tender pages down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import Question, Tender
from tests.bidding.factories import Party, published_tender
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

PROBLEM = "application/problem+json"
TENDERS = "/api/v1/bidding/tenders"
_CODES = iter(range(1, 10_000))


@pytest.fixture
async def now(session_maker: async_sessionmaker[AsyncSession]) -> datetime:
    async with session_maker() as session:
        return await clock.now(session)


def tender_body(now: datetime, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectCode": f"BOUNDS-{next(_CODES):04d}",
        "title": "边界测试道路工程",
        "category": "engineering",
        "tenderType": "engineering-mandatory",
        "estimate": "500000.00",
        "evaluationMethod": "lowest-evaluated-price",
        "lots": [{"code": "L1", "name": "一标段", "estimate": "500000.00"}],
        "bidSecurityAmount": "10000.00",
        "documentsFrom": now.isoformat(),
        "documentsUntil": (now + timedelta(days=10)).isoformat(),
        "deadline": (now + timedelta(days=21)).isoformat(),
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, field: str, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]]


async def assert_not_stored(session_maker: async_sessionmaker[AsyncSession], code: str) -> None:
    async with session_maker() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(Tender.project_code == code)) == 0


# --- the API -------------------------------------------------------------------------------------


async def test_a_legitimate_tender_still_passes(client: httpx.AsyncClient, owner: Party, now: datetime) -> None:
    created = await client.post(TENDERS, json=tender_body(now), headers=await owner.headers(client))
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("deadline", "rule"),
    [
        ("9999-12-31T23:59:59+08:00", "year-range"),
        ("9999-12-31T00:00:00Z", "year-range"),
        ("1970-01-01T00:00:00Z", "year-range"),
        ("2030-06-01T10:00:00", "timezone-required"),
    ],
)
async def test_deadline_outside_bounds_or_without_zone_is_422(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    now: datetime,
    deadline: str,
    rule: str,
) -> None:
    body = tender_body(now, deadline=deadline)
    response = await client.post(TENDERS, json=body, headers=await owner.headers(client))
    assert_problem(response, 422, "deadline", rule)
    await assert_not_stored(session_maker, body["projectCode"])


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("estimate", "NaN", "finite-number"),
        ("estimate", "Infinity", "finite-number"),
        ("bidSecurityAmount", "-Infinity", "finite-number"),
        ("estimate", "1e30", "max-digits"),
        ("estimate", 1e30, "max-digits"),
        ("bidSecurityAmount", "100000000000000.00", "max-digits"),
        # Beyond the column's two decimals: rounded by PostgreSQL to 15 digits before the point
        # (NumericValueOutOfRange), or not encodable by the driver at all; both were a 500.
        ("bidSecurityAmount", "99999999999999.999", "max-digits"),
        ("estimate", "1E-999999999", "max-digits"),
        ("estimate", 1e-300, "max-digits"),
    ],
)
async def test_amounts_that_are_not_finite_or_do_not_fit_are_422(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    now: datetime,
    field: str,
    value: object,
    rule: str,
) -> None:
    body = tender_body(now, **{field: value})
    response = await client.post(TENDERS, json=body, headers=await owner.headers(client))
    assert_problem(response, 422, field, rule)
    await assert_not_stored(session_maker, body["projectCode"])


async def test_lot_amount_is_named_by_its_path(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party, now: datetime
) -> None:
    body = tender_body(now, lots=[{"code": "L1", "name": "一标段", "estimate": "1e30"}])
    response = await client.post(TENDERS, json=body, headers=await owner.headers(client))
    assert_problem(response, 422, "lots[0].estimate", "max-digits")
    await assert_not_stored(session_maker, body["projectCode"])


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"1e400"])
async def test_non_json_numbers_in_a_tender_are_400(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    now: datetime,
    token: bytes,
) -> None:
    body = tender_body(now)
    raw = msgspec.json.encode(body).replace(b'"estimate":"500000.00"', b'"estimate":' + token, 1)
    headers = {**await owner.headers(client), "content-type": "application/json"}
    response = await client.post(TENDERS, content=raw, headers=headers)
    assert_problem(response, 400, "body", "json")
    await assert_not_stored(session_maker, body["projectCode"])


async def test_non_utf8_and_deep_tender_bodies_are_400(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party, now: datetime
) -> None:
    body = tender_body(now)
    headers = {**await owner.headers(client), "content-type": "application/json"}
    raw = msgspec.json.encode(body).replace("边界".encode(), b"\xc3\x28", 1)
    assert_problem(await client.post(TENDERS, content=raw, headers=headers), 400, "body", "utf-8")
    deep = msgspec.json.encode(body)[:-1] + b',"evaluationCriteria":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert_problem(await client.post(TENDERS, content=deep, headers=headers), 400, "body", "max-depth")
    await assert_not_stored(session_maker, body["projectCode"])


async def test_nul_in_a_title_is_422(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party, now: datetime
) -> None:
    body = tender_body(now, title="道路\x00工程")
    response = await client.post(TENDERS, json=body, headers=await owner.headers(client))
    assert_problem(response, 422, "title", "no-control-characters")
    await assert_not_stored(session_maker, body["projectCode"])


async def test_nul_in_a_question_is_422_and_nothing_is_asked(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    response = await client.post(
        f"{TENDERS}/{tender.project_code}/questions",
        json={"text": "何时\x00踏勘？"},
        headers=await bidder.headers(client),
    )
    assert_problem(response, 422, "text", "no-control-characters")
    async with session_maker() as session:
        asked = await session.scalar(sa.select(sa.func.count()).where(Question.tender_id == tender.id))
    assert asked == 0


async def test_nul_in_the_search_query_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(TENDERS, params={"q": "道路\x00"}), 422, "q", "no-control-characters")
    page = await client.get("/bidding/tenders", params={"q": "道路\x00"})
    assert page.status_code == 422
    assert 'data-field="q" data-rule="no-control-characters"' in page.text


async def test_deadline_extension_to_9999_is_422_and_the_deadline_stays(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    response = await client.post(
        f"{TENDERS}/{tender.project_code}/extension",
        json={"deadline": "9999-12-31T23:59:59+08:00", "reason": "延期"},
        headers=await owner.headers(client),
    )
    assert_problem(response, 422, "deadline", "year-range")
    async with session_maker() as session:
        stored = await session.scalar(sa.select(Tender.deadline).where(Tender.id == tender.id))
    assert stored == tender.deadline


# --- the tenderee's form -------------------------------------------------------------------------


def form_data(token: str, code: str, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "_csrf_token": token,
        "projectCode": code,
        "title": "表单边界测试",
        "category": "engineering",
        "tenderType": "engineering-mandatory",
        "estimate": "500000",
        "lots": "L1 | 一标段 | 500000",
        "evaluationMethod": "lowest-evaluated-price",
        "bidSecurityAmount": "10000",
        "bidSecurityForms": ["cash", "guarantee"],
        "documentsFrom": "2030-01-01T09:00",
        "documentsUntil": "2030-01-10T09:00",
        "deadline": "2030-01-30T09:00",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("deadline", "9999-12-31T23:59", "year-range"),
        ("documentsFrom", "1900-01-01T00:00", "year-range"),
        ("estimate", "1e30", "max-digits"),
        ("bidSecurityAmount", "100000000000000", "max-digits"),
    ],
)
async def test_draft_form_refuses_out_of_bounds_fields_by_name(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    field: str,
    value: str,
    rule: str,
) -> None:
    await log_in(client, owner)
    form_page = await client.get("/bidding/manage/new")
    code = f"BOUNDS-WEB-{next(_CODES):04d}"
    response = await client.post(
        "/bidding/manage/new", data=form_data(csrf_token(form_page.text), code, **{field: value})
    )
    assert response.status_code == 422, response.text
    assert f'id="error-{field}"' in response.text
    assert f'data-rule="{rule}"' in response.text
    assert f"({rule})" not in response.text  # the code is an attribute, never text
    await assert_not_stored(session_maker, code)


async def test_draft_form_refuses_a_nul_in_the_title(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party
) -> None:
    await log_in(client, owner)
    form_page = await client.get("/bidding/manage/new")
    code = f"BOUNDS-WEB-{next(_CODES):04d}"
    response = await client.post(
        "/bidding/manage/new", data=form_data(csrf_token(form_page.text), code, title="表单\x00标题")
    )
    assert response.status_code == 422
    assert 'data-field="title" data-rule="no-control-characters"' in response.text
    await assert_not_stored(session_maker, code)


# --- pages render whatever is stored (finding 4) ----------------------------------------------------


async def test_pages_render_a_stored_deadline_at_the_end_of_the_calendar(
    *,
    client: httpx.AsyncClient,
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    """Stored before the bounds existed (or by a migration): 9999-12-31 23:59 UTC overflowed in
    UTC+08:00 and the tender list, the management list and the tender page answered 500."""
    tender = await published_tender(session_maker, settings, store, owner)
    extreme = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    await session.execute(sa.update(Tender).where(Tender.id == tender.id).values(deadline=extreme))
    await session.commit()

    listed = await client.get("/bidding/tenders")
    assert listed.status_code == 200, listed.text
    assert "9999-12-31 23:59" in listed.text
    detail = await client.get(f"/bidding/tenders/{tender.project_code}")
    assert detail.status_code == 200
    assert "9999-12-31" in detail.text
    await log_in(client, owner)
    managed = await client.get("/bidding/manage")
    assert managed.status_code == 200
    assert tender.project_code in managed.text
    own = await client.get(f"/bidding/manage/tenders/{tender.project_code}")
    assert own.status_code == 200
    assert "9999-12-31" in own.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "标" * 301}, "title"),
        ({"tenderType": "x" * 41}, "tenderType"),
        ({"lots": [{"code": "L" * 41, "name": "一标段", "estimate": "1.00"}]}, "lots[0].code"),
    ],
)
async def test_text_longer_than_its_column_is_422_max_length(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    now: datetime,
    overrides: dict[str, Any],
    field: str,
) -> None:
    """String(n) columns: a longer value was a StringDataRightTruncation 500 from PostgreSQL."""
    body = tender_body(now, **overrides)
    response = await client.post(TENDERS, json=body, headers=await owner.headers(client))
    assert_problem(response, 422, field, "max-length")
    await assert_not_stored(session_maker, body["projectCode"])
