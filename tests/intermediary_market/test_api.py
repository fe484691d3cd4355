"""The marketplace API: public reads, guarded writes, problem+json refusals naming the rule."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings

BASE = "/api/v1/intermediary"


async def test_random_selection_over_the_api(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = bearer(await api_token(client, await create_account(session_maker, settings, Role.ADMIN)))
    owner = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    accounts = [await create_account(session_maker, settings, Role.INTERMEDIARY) for _ in range(3)]
    intermediaries = [bearer(await api_token(client, account)) for account in accounts]
    unqualified = bearer(await api_token(client, await create_account(session_maker, settings, Role.INTERMEDIARY)))
    async with session_maker() as session:
        now = await clock.now(session)

    item = {
        "code": "SURVEY-API",
        "name": "地质灾害危险性评估",
        "legal_basis": "《地质灾害防治条例》",
        "approval": "建设用地审批",
        "required_qualification": "地质灾害评估资质",
        "fee_basis": "市场调节价",
        "standard_days": 20,
    }
    response = await client.post(f"{BASE}/items", json=item, headers=owner)
    assert response.status_code == 403
    response = await client.post(f"{BASE}/items", json=item, headers=admin)
    assert response.status_code == 201, response.text
    listed = await client.get(f"{BASE}/items")  # public
    assert any(row["code"] == "SURVEY-API" for row in listed.json())
    versions = await client.get(f"{BASE}/item-versions", params={"code": "SURVEY-API"})
    assert [row["version"] for row in versions.json()] == [1]

    for account in accounts:
        response = await client.post(
            f"{BASE}/qualifications",
            json={
                "organisation_id": str(account.organisation_id),
                "item_code": "SURVEY-API",
                "level": 1,
                "certificate_no": "DZ-1",
                "valid_until": (now + timedelta(days=365)).isoformat(),
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text

    response = await client.post(
        f"{BASE}/announcements",
        json={
            "project_name": "某园区项目",
            "item_code": "SURVEY-API",
            "method": "random",
            "funding": "state",
            "budget": "50000.00",
            "time_limit_days": 20,
            "registration_opens": (now - timedelta(minutes=1)).isoformat(),
            "registration_closes": (now + timedelta(days=3)).isoformat(),
        },
        headers=owner,
    )
    assert response.status_code == 201, response.text
    announcement = response.json()
    assert announcement["computation"] is None
    url = f"{BASE}/announcements/{announcement['id']}"

    refused = await client.post(f"{url}/registrations", json={}, headers=unqualified)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["rule"] == "no_qualification"
    for headers in intermediaries:
        response = await client.post(f"{url}/registrations", json={}, headers=headers)
        assert response.status_code == 201, response.text
    duplicate = await client.post(f"{url}/registrations", json={}, headers=intermediaries[0])
    assert duplicate.json()["errors"][0]["rule"] == "duplicate_registration"

    with use_clock(ShiftedClock(timedelta(days=4))):
        drawn = await client.post(f"{url}/draw", headers=owner)
    assert drawn.status_code == 200, drawn.text
    result = (await client.get(f"{BASE}/results", params={"announcement_id": announcement["id"]})).json()  # public
    assert result["status"] == "selected"
    assert result["computation"]["seed_sha256"] == announcement["seed_sha256"]
    assert result["winner_organisation_id"] in {str(a.organisation_id) for a in accounts}
    registrations = (await client.get(f"{BASE}/registrations", params={"announcement_id": announcement["id"]})).json()
    assert len(registrations) == 3

    directory = (await client.get(f"{BASE}/intermediaries", params={"limit": 200})).json()  # public
    listed_ids = {line["organisation_id"] for line in directory}
    assert listed_ids  # the directory lists qualified intermediaries with their grade
    assert all(line["credit_grade"] in {"A", "B", "C", "D", "unrated"} for line in directory)
    practice = await client.get(f"{BASE}/qualifications", params={"organisation_id": str(accounts[0].organisation_id)})
    assert [row["item_code"] for row in practice.json()] == ["SURVEY-API"]

    credit = await client.get(f"{BASE}/organisations/{accounts[0].organisation_id}/credit", headers=owner)
    assert credit.status_code == 200
    assert credit.json()["grade"] in {"A", "B", "C", "D", "unrated"}
    assert (await client.get(f"{BASE}/organisations/{accounts[0].organisation_id}/credit")).status_code == 401


async def test_delivery_rating_and_blacklisting_over_the_api(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = bearer(await api_token(client, await create_account(session_maker, settings, Role.ADMIN)))
    owner = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    regulator = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    account = await create_account(session_maker, settings, Role.INTERMEDIARY)
    intermediary = bearer(await api_token(client, account))
    async with session_maker() as session:
        now = await clock.now(session)
    item = {
        "code": "TEST-API-2",
        "name": "水土保持方案编制",
        "legal_basis": "《水土保持法》",
        "approval": "水土保持方案审批",
        "required_qualification": "水保方案编制能力",
        "fee_basis": "市场调节价",
        "standard_days": 15,
    }
    assert (await client.post(f"{BASE}/items", json=item, headers=admin)).status_code == 201
    qualification = {
        "organisation_id": str(account.organisation_id),
        "item_code": "TEST-API-2",
        "level": 2,
        "certificate_no": "SB-9",
        "valid_until": (now + timedelta(days=400)).isoformat(),
    }
    assert (await client.post(f"{BASE}/qualifications", json=qualification, headers=admin)).status_code == 201

    def announcement(days: int) -> dict[str, object]:
        return {
            "project_name": "某道路项目",
            "item_code": "TEST-API-2",
            "method": "direct",
            "funding": "social",
            "budget": "20000.00",
            "time_limit_days": 15,
            "registration_opens": (now - timedelta(minutes=1)).isoformat(),
            "registration_closes": (now + timedelta(days=days)).isoformat(),
            "direct_organisation_id": str(account.organisation_id),
        }

    created = await client.post(f"{BASE}/announcements", json=announcement(2), headers=owner)
    assert created.status_code == 201, created.text
    url = f"{BASE}/announcements/{created.json()['id']}"
    assert (await client.post(f"{url}/registrations", json={"price": "18000"}, headers=intermediary)).status_code == 201
    with use_clock(ShiftedClock(timedelta(days=3))):
        drawn = await client.post(f"{url}/draw", headers=owner)
        assert drawn.json()["winner_organisation_id"] == str(account.organisation_id)
        filed = await client.post(f"{url}/contract", json={"contract_no": "HT-1"}, headers=owner)
        assert filed.status_code == 201, filed.text
        uploaded = await client.post(f"{url}/deliverables", json={"sha256": "cd" * 32}, headers=intermediary)
        assert uploaded.status_code == 200, uploaded.text
        completed = await client.post(f"{url}/completion", headers=owner)
        assert completed.json()["overdue"] is False
    rating = {"quality": 90, "timeliness": 90, "attitude": 90, "fees": 90}
    second = await client.post(f"{BASE}/announcements", json=announcement(10), headers=owner)
    early_rating = await client.post(f"{BASE}/announcements/{second.json()['id']}/rating", json=rating, headers=owner)
    assert early_rating.status_code == 422  # not selected yet: outside the rating window
    assert early_rating.json()["errors"][0] == {
        "field": "announcement_id",
        "rule": "rating_window",
        "message": early_rating.json()["detail"],
    }
    assert (await client.post(f"{url}/rating", json=rating, headers=owner)).status_code == 201

    notice = await client.post(
        f"{BASE}/blacklistings",
        json={"organisation_id": str(account.organisation_id), "reason": "提供虚假材料", "response_days": 5},
        headers=regulator,
    )
    assert notice.status_code == 201, notice.text
    listing = f"{BASE}/blacklistings/{notice.json()['id']}"
    early = await client.post(f"{listing}/decision", json={"uphold": True, "months": 3}, headers=regulator)
    assert (early.status_code, early.json()["errors"][0]["rule"]) == (409, "response_period_running")
    responded = await client.post(f"{listing}/response", json={"response": "材料系笔误"}, headers=intermediary)
    assert responded.status_code == 200, responded.text
    decided = await client.post(f"{listing}/decision", json={"uphold": True, "months": 3}, headers=regulator)
    assert decided.json()["status"] == "effective"
    refused = await client.post(
        f"{BASE}/announcements/{second.json()['id']}/registrations", json={"price": "1000"}, headers=intermediary
    )
    assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (422, "blacklisted")


async def test_an_item_time_limit_beyond_ten_years_is_refused_naming_the_field(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Found by schemathesis: 99577658652 days overflowed the 32-bit column and answered 500.
    admin = bearer(await api_token(client, await create_account(session_maker, settings, Role.ADMIN)))
    item = {
        "code": "LIMIT-API",
        "name": "时限",
        "legal_basis": "-",
        "approval": "-",
        "required_qualification": "-",
        "fee_basis": "-",
        "standard_days": 99_577_658_652,
    }
    response = await client.post(f"{BASE}/items", json=item, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # Beyond the column's 32 bits the input bounds refuse it first; within them, the item's rule.
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("standard_days", "integer-range")]
    item["standard_days"] = 3651
    response = await client.post(f"{BASE}/items", json=item, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "standard_days", "rule": "max", "message": "the standard time limit is at most 3650 days"}
    ]
    item["standard_days"] = 3650
    assert (await client.post(f"{BASE}/items", json=item, headers=admin)).status_code == 201


async def test_a_blacklisting_or_qualification_of_an_unknown_organisation_is_404_naming_the_field(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Found by schemathesis: the foreign key refused the row, and the API answered 500.
    regulator = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    admin = bearer(await api_token(client, await create_account(session_maker, settings, Role.ADMIN)))
    unknown = str(uuid.uuid4())
    notice = await client.post(
        f"{BASE}/blacklistings",
        json={"organisation_id": unknown, "reason": "提供虚假材料", "response_days": 5},
        headers=regulator,
    )
    assert notice.status_code == 404, notice.text
    assert notice.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["rule"]) for e in notice.json()["errors"]] == [("organisation_id", "exists")]

    item = {
        "code": "UNKNOWN-ORG",
        "name": "评估",
        "legal_basis": "-",
        "approval": "-",
        "required_qualification": "-",
        "fee_basis": "-",
        "standard_days": 10,
    }
    assert (await client.post(f"{BASE}/items", json=item, headers=admin)).status_code == 201
    async with session_maker() as session:
        now = await clock.now(session)
    qualification = {
        "organisation_id": unknown,
        "item_code": "UNKNOWN-ORG",
        "level": 1,
        "certificate_no": "X-1",
        "valid_until": (now + timedelta(days=30)).isoformat(),
    }
    response = await client.post(f"{BASE}/qualifications", json=qualification, headers=admin)
    assert response.status_code == 404, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("organisation_id", "exists")]
