"""Input bounds on the marketplace (issue 11, finding 5): complaints, announcements' amounts and
times, and the credit report's paging are refused by field and rule, with nothing stored."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.models import Announcement, Complaint
from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

BASE = "/api/v1/intermediary"
PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, field: str, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]]


async def count(session_maker: async_sessionmaker[AsyncSession], model: type[Any]) -> int:
    async with session_maker() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_nul_in_a_complaint_is_422_and_nothing_is_filed(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    owner = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    before = await count(session_maker, Complaint)
    response = await client.post(
        f"{BASE}/announcements/{uuid.uuid4()}/complaints", json={"text": "迟迟\x00不交付"}, headers=owner
    )
    assert_problem(response, 422, "text", "no-control-characters")
    assert await count(session_maker, Complaint) == before


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"budget": "NaN"}, "budget", "finite-number"),
        ({"budget": "1e30"}, "budget", "max-digits"),
        ({"price_max": "1000000000000.00"}, "price_max", "max-digits"),
        ({"registration_closes": "9999-12-31T23:59:59+08:00"}, "registration_closes", "year-range"),
        ({"registration_opens": "2030-01-01T09:00:00"}, "registration_opens", "timezone-required"),
        ({"time_limit_days": 2**40}, "time_limit_days", "integer-range"),
        ({"project_name": "园区\x00项目"}, "project_name", "no-control-characters"),
    ],
)
async def test_announcement_out_of_bounds_is_422_naming_the_field(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    overrides: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    owner = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    async with session_maker() as session:
        now = await clock.now(session)
    body = {
        "project_name": "某园区项目",
        "item_code": "SURVEY-BOUNDS",
        "method": "random",
        "funding": "state",
        "budget": "50000.00",
        "time_limit_days": 20,
        "registration_opens": now.isoformat(),
        "registration_closes": (now + timedelta(days=3)).isoformat(),
        **overrides,
    }
    before = await count(session_maker, Announcement)
    response = await client.post(f"{BASE}/announcements", json=body, headers=owner)
    assert_problem(response, 422, field, rule)
    assert await count(session_maker, Announcement) == before


async def test_credit_report_offset_beyond_int64_is_400_naming_offset(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    regulator = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    response = await client.get(f"{BASE}/reports/credit", params={"offset": str(2**64)}, headers=regulator)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["offset"]
    assert (await client.get(f"{BASE}/reports/credit", params={"offset": "0"}, headers=regulator)).status_code == 200
