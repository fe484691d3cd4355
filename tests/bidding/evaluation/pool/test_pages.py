"""The expert pool's pages and API through the real application on PostgreSQL: the centre imports
(CSV, Excel, a refused file shown row by row in Chinese with nothing stored), filters the list,
suspends and restores; an expert keeps their profile and declares a conflict; an agency rates;
every route refuses the roles it is not for; the API answers problem+json.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.pool.models import ConflictDeclaration, Expert, ExpertStatus, Rating
from bidding.evaluation.pool.service import ExpertPool, today_in_china
from tests.bidding.evaluation.pool.factories import admin_actor, csv_file, expert_row, facts, opened_tender, xlsx_file
from tests.trading.parties.factories import Account, api_token, bearer, create_account, csrf_token, new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.models import Person


async def log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": account.password},
    )
    assert response.status_code == 303, response.text


async def experts(maker: async_sessionmaker[AsyncSession]) -> dict[str, Expert]:
    async with maker() as session:
        return {e.name: e for e in await session.scalars(sa.select(Expert))}


async def upload(client: httpx.AsyncClient, name: str, data: bytes) -> httpx.Response:
    form = await client.get("/evaluation/imports")
    assert form.status_code == 200
    return await client.post(
        "/evaluation/imports",
        data={"_csrf_token": csrf_token(form.text)},
        files={"file": (name, data, "application/octet-stream")},
    )


@pytest.fixture
async def admin(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> Account:
    account = await create_account(session_maker, settings, Role.ADMIN)
    await log_in(client, account)
    return account


async def test_the_centre_imports_csv_and_excel_and_sees_a_refused_file_row_by_row(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], admin: Account
) -> None:
    del admin
    response = await upload(client, "experts.csv", csv_file([expert_row(name="甲工"), expert_row(name="乙工")]))
    assert response.status_code == 303
    assert "created=2" in response.headers["location"]
    done = await client.get(response.headers["location"])
    assert 'id="created">2<' in done.text
    response = await upload(client, "more.xlsx", xlsx_file([expert_row(name="丙工")]))
    assert response.status_code == 303
    assert {"甲工", "乙工", "丙工"} <= (await experts(session_maker)).keys()

    before = len(await experts(session_maker))
    bad = await upload(
        client,
        "bad.csv",
        csv_file([expert_row(name="丁工"), expert_row(region_code="99999"), expert_row(specialties="Q1")]),
    )
    assert bad.status_code == 422
    assert 'id="import-refused"' in bad.text
    assert 'data-row="3" data-rule="format"' in bad.text
    assert 'data-row="4" data-rule="specialty_known"' in bad.text
    assert "行政区划代码为 6 位数字" in bad.text  # the rule in Chinese
    assert "有代码不在专业分类目录中" in bad.text
    assert len(await experts(session_maker)) == before  # nothing stored, not even 丁工
    wrong = await upload(client, "experts.txt", b"x")
    assert wrong.status_code == 422
    assert "文件名须以 .csv 或 .xlsx 结尾" in wrong.text


async def test_templates_download_and_import(client: httpx.AsyncClient, admin: Account) -> None:
    del admin
    for fmt, start in (("csv", "\ufeff姓名".encode()), ("xlsx", b"PK")):
        response = await client.get(f"/evaluation/imports/templates/{fmt}")
        assert response.status_code == 200
        assert response.content.startswith(start)
        assert "attachment" in response.headers["content-disposition"]
    assert (await client.get("/evaluation/imports/templates/pdf")).status_code == 404


async def test_the_list_filters_and_the_record_shows_status_changes(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, admin: Account
) -> None:
    del admin
    async with session_maker() as session:
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        road, _ = await pool.register(
            facts(name="路桥专家", specialties=("A0201",), region_code="320803"), actor=admin_actor()
        )
        it, _ = await pool.register(
            facts(name="信息专家", specialties=("B0101",), region_code="110105"), actor=admin_actor()
        )
        await session.commit()
    page = await client.get("/evaluation/experts", params={"specialty": "A02"})
    assert page.status_code == 200
    assert "路桥专家" in page.text
    assert "信息专家" not in page.text
    page = await client.get("/evaluation/experts", params={"region": "110000"})
    assert "信息专家" in page.text
    assert "路桥专家" not in page.text
    bad = await client.get("/evaluation/experts", params={"region": "12"})
    assert bad.status_code == 422
    assert "行政区划代码为 6 位数字" in bad.text

    detail = await client.get(f"/evaluation/experts/{road.id}")
    assert detail.status_code == 200
    token = csrf_token(detail.text)
    refused = await client.post(
        f"/evaluation/experts/{road.id}/suspension", data={"_csrf_token": token, "until": "2030-01-01", "reason": ""}
    )
    assert refused.status_code == 422
    assert "此项为必填项" in refused.text or "required" in refused.text
    async with session_maker() as session:
        last_day = today_in_china(await clock.now(session)) + timedelta(days=10)
    done = await client.post(
        f"/evaluation/experts/{road.id}/suspension",
        data={"_csrf_token": token, "until": last_day.isoformat(), "reason": "无故缺席"},
    )
    assert done.status_code == 303
    page = await client.get(f"/evaluation/experts/{road.id}")
    assert 'data-status="suspended"' in page.text
    assert "无故缺席" in page.text
    suspended = await client.get("/evaluation/experts", params={"status": "suspended"})
    assert "路桥专家" in suspended.text
    assert "信息专家" not in suspended.text
    restored = await client.post(
        f"/evaluation/experts/{road.id}/restoration", data={"_csrf_token": token, "reason": "核实后恢复"}
    )
    assert restored.status_code == 303
    assert (await experts(session_maker))["路桥专家"].status is ExpertStatus.ACTIVE
    assert (await client.get(f"/evaluation/experts/{it.person_id}")).status_code == 404


async def test_an_expert_keeps_a_profile_and_declares_a_conflict(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.EXPERT)
    await log_in(client, account)
    outside = await client.get("/evaluation/profile")
    assert outside.status_code == 200
    assert 'id="not-in-pool"' in outside.text
    async with session_maker() as session:
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        expert, _ = await pool.register(facts(name="本人专家"), actor=admin_actor(), user_id=account.user_id)
        await session.commit()
    page = await client.get("/evaluation/profile")
    assert 'id="profile-form"' in page.text
    token = csrf_token(page.text)
    form = {
        "_csrf_token": token,
        "organisation_name": "某建设集团",
        "relation": "employment",
        "period_from": "2021-03-01",
    }
    bad = await client.post("/evaluation/profile/conflicts", data={**form, "period_until": "2020-01-01"})
    assert bad.status_code == 422
    assert "截止日期早于起始日期" in bad.text
    good = await client.post("/evaluation/profile/conflicts", data={**form, "period_until": "2023-12-31"})
    assert good.status_code == 303
    updated = await client.post(
        "/evaluation/profile",
        data={
            "_csrf_token": token,
            "specialties": ["A0101", "A0102"],
            "region_code": "320804",
            "employer_uscc": new_uscc(),
            "employer_name": "某设计院",
            "title": "正高级工程师",
        },
    )
    assert updated.status_code == 303
    async with session_maker() as session:
        declared = (
            await session.scalars(sa.select(ConflictDeclaration).where(ConflictDeclaration.expert_id == expert.id))
        ).all()
        assert [(d.organisation_name, d.period_until.isoformat() if d.period_until else None) for d in declared] == [
            ("某建设集团", "2023-12-31")
        ]
        stored = await session.get(Expert, expert.id)
        assert stored is not None
        assert stored.region_code == "320804"
    # An expert never reads the pool.
    assert (await client.get("/evaluation/experts")).status_code == 403


async def test_an_agency_rates_an_expert_of_its_tender(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    agency = await create_account(session_maker, settings, Role.AGENCY)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    async with session_maker() as session:
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        expert, _ = await pool.register(facts(name="被评专家"), actor=admin_actor())
        person = await session.get(Person, expert.person_id)
        assert person is not None
        tender = await opened_tender(
            session, tenderee_id=tenderee.organisation_id, created_by=agency.user_id, agency_id=agency.organisation_id
        )
        await session.commit()
    await log_in(client, agency)
    page = await client.get("/evaluation/ratings")
    assert page.status_code == 200
    assert tender.project_code in page.text
    form = {
        "_csrf_token": csrf_token(page.text),
        "tender_code": tender.project_code,
        "expert_name": "被评专家",
        "id_suffix": person.id_masked[-4:],
        "comment": "评审认真负责",
    }
    bad = await client.post("/evaluation/ratings", data={**form, "score": "101"})
    assert bad.status_code == 422
    assert "评分为 0 至 100 的整数" in bad.text
    good = await client.post("/evaluation/ratings", data={**form, "score": "88"})
    assert good.status_code == 303
    async with session_maker() as session:
        assert [r.score for r in await session.scalars(sa.select(Rating).where(Rating.expert_id == expert.id))] == [88]
    assert (await client.get("/evaluation/experts")).status_code == 403
    assert (await client.get("/evaluation/profile")).status_code == 403


async def test_the_api_lists_and_reads_experts_for_the_centre_only(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    async with session_maker() as session:
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        expert, _ = await pool.register(facts(name="接口专家", specialties=("C03",)), actor=admin_actor())
        await session.commit()
    headers = bearer(await api_token(client, admin))
    listed = await client.get("/api/v1/evaluation/experts/", params={"specialty": "C"}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert "接口专家" in [item["name"] for item in listed.json()["items"]]
    detail = await client.get(f"/api/v1/evaluation/experts/{expert.id}", headers=headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["expert"]["specialties"] == ["C03"]
    assert "*" in body["id_masked"]
    missing = await client.get(f"/api/v1/evaluation/experts/{expert.person_id}", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    bad = await client.get("/api/v1/evaluation/experts/", params={"region": "3208"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "region"
    denied = await client.get("/api/v1/evaluation/experts/", headers=bearer(await api_token(client, bidder)))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


async def test_the_pool_reads_in_english_with_the_switch(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, admin: Account
) -> None:
    del admin
    async with session_maker() as session:
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        await pool.register(facts(name="双语专家", specialties=("A0101",)), actor=admin_actor())
        await session.commit()
    chinese = await client.get("/evaluation/experts")
    assert "专家库" in chinese.text
    assert "建筑工程施工" in chinese.text
    await client.get("/locale/en", params={"next": "/evaluation/experts"})
    english = await client.get("/evaluation/experts")
    assert "Expert pool" in english.text
    assert "Building construction" in english.text
    assert "建筑工程施工" not in english.text
