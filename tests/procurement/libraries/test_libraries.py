"""The procurement libraries on PostgreSQL: whole-file imports (CSV and Excel) refused with every
bad row, search with filters and pages, exports that import again, the catalogue by edition, a
blacklisted supplier's reason and period, and the pages reachable from the dashboards.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from procurement.libraries import service
from procurement.libraries.models import CatalogueItem, Purchaser, Supplier
from tests.procurement.libraries.samples import csv_bytes, purchaser, supplier, xlsx_bytes, xlsx_rows
from tests.trading.credit.factories import record
from tests.trading.parties.factories import (
    PASSWORD,
    Account,
    api_token,
    bearer,
    create_account,
    csrf_token,
    new_uscc,
)
from trading.credit.models import Activity, CreditKind
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

API = "/api/v1/procurement"


async def _count(session_maker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def test_purchaser_import_refuses_every_bad_row_and_search_pages(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    office = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    buyer = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    rows = [purchaser("P000")] + [purchaser(f"P{n:03}", 上级主管部门编码="P000") for n in range(1, 25)]
    created = await client.post(
        f"{API}/purchasers/imports", json={"format": "csv", "content": csv_bytes(rows).decode()}, headers=office
    )
    assert created.status_code == 201, created.text
    assert created.json()["created"] == 25
    before = await _count(session_maker, Purchaser)

    bad_uscc = new_uscc("320100")
    bad = [
        purchaser("Q001", 统一社会信用代码=bad_uscc[:-1] + ("0" if bad_uscc[-1] != "0" else "1")),  # line 2: check
        purchaser("Q002"),  # line 3: fine
        purchaser("Q002"),  # line 4: the code twice in the file
        purchaser("P001"),  # line 5: already in the library
        purchaser("Q005", 上级主管部门编码="NOPE"),  # line 6: unknown department
        purchaser("Q006", 行政区划代码="99000"),  # line 7: not a region code
    ]
    refused = await client.post(
        f"{API}/purchasers/imports", json={"format": "csv", "content": csv_bytes(bad).decode()}, headers=office
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = {(e["row"], e["field"], e["rule"]) for e in refused.json()["errors"]}
    assert errors == {
        (2, "统一社会信用代码", "check_char"),
        (4, "预算单位编码", "duplicate"),
        (5, "预算单位编码", "duplicate"),
        (6, "上级主管部门编码", "parent"),
        (7, "行政区划代码", "format"),
    }
    assert await _count(session_maker, Purchaser) == before  # nothing imported

    assert (
        await client.post(f"{API}/purchasers/imports", json={"format": "csv", "content": "x"}, headers=buyer)
    ).status_code == 403
    first = await client.get(f"{API}/purchasers", params={"parent_code": "P000", "limit": 10}, headers=buyer)
    assert first.status_code == 200, first.text
    assert first.json()["total"] == 24
    assert [p["code"] for p in first.json()["items"]] == [f"P{n:03}" for n in range(1, 11)]
    third = await client.get(
        f"{API}/purchasers", params={"parent_code": "P000", "limit": 10, "offset": 20}, headers=buyer
    )
    assert [p["code"] for p in third.json()["items"]] == ["P021", "P022", "P023", "P024"]
    named = await client.get(f"{API}/purchasers", params={"q": "某局P017"}, headers=buyer)
    assert [p["code"] for p in named.json()["items"]] == ["P017"]


async def test_supplier_excel_import_page_export_and_round_trip(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    listing = await client.get("/procurement/suppliers")
    assert listing.status_code == 200
    assert "供应商库" in listing.text
    token = csrf_token(listing.text)
    tag = uuid.uuid4().hex[:6]
    good = [
        supplier(
            f"南京{tag}软件有限公司",
            资质名称="信息系统建设和服务能力等级证书",
            资质证书编号="CS3-3201-000001",
            发证机关="中国电子信息行业联合会",
            资质有效期起="2025-01-01",
            资质有效期至="2028-12-31",
        ),
        supplier(
            f"苏州{tag}建设有限公司",
            所属行业="建筑业",
            从业人员="",
            供货品目="B0101",
            **{"营业收入（万元）": "7000", "资产总额（万元）": "6000"},
        ),
    ]
    imported = await client.post(
        "/procurement/suppliers/imports",
        data={"_csrf_token": token},
        files={"file": ("suppliers.xlsx", xlsx_bytes(good), "application/octet-stream")},
    )
    assert imported.status_code == 200, imported.text
    assert 'id="created">2<' in imported.text

    before = await _count(session_maker, Supplier)
    bad = [
        supplier(f"A{tag}", 统一社会信用代码="91320106MA1X"),  # line 2: length
        supplier(f"B{tag}", 供货品目="A99999999"),  # line 3: unknown item code
        supplier(f"C{tag}", 统一社会信用代码=good[0]["统一社会信用代码"]),  # line 4: in the library already
        supplier(f"D{tag}", 所属行业="建筑业", **{"资产总额（万元）": ""}),  # line 5: construction needs assets
        supplier(f"E{tag}"),  # line 6: fine
    ]
    bad.append(dict(bad[-1]))  # line 7: the same USCC as line 6
    refused = await client.post(
        "/procurement/suppliers/imports",
        data={"_csrf_token": token},
        files={"file": ("suppliers.csv", csv_bytes(bad), "text/csv")},
    )
    assert refused.status_code == 422
    assert "文件被拒绝，未导入任何记录" in refused.text
    for line, rule in ((2, "length"), (3, "item_code"), (4, "duplicate"), (5, "size_figures"), (7, "duplicate")):
        assert f'data-row="{line}" data-rule="{rule}"' in refused.text
    assert 'data-row="6"' not in refused.text
    assert await _count(session_maker, Supplier) == before

    found = await client.get("/procurement/suppliers", params={"q": tag})
    assert found.text.count('data-uscc="') == 2
    assert "小型企业" in found.text or "中型企业" in found.text
    medium = await client.get("/procurement/suppliers", params={"q": tag, "size_class": "medium"})
    assert good[1]["统一社会信用代码"] in medium.text  # 建筑业 7000 / 6000 is 中型
    assert good[0]["统一社会信用代码"] not in medium.text

    exported = await client.get("/procurement/suppliers/export", params={"q": tag, "format": "xlsx"})
    assert exported.status_code == 200
    sheet = xlsx_rows(exported.content)
    assert sheet[0][:2] == ["统一社会信用代码", "供应商名称"]
    assert {row[0] for row in sheet[1:]} == {good[0]["统一社会信用代码"], good[1]["统一社会信用代码"]}
    as_csv = await client.get("/procurement/suppliers/export", params={"q": tag, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert good[1]["统一社会信用代码"] in as_csv.content.decode("utf-8-sig")
    # The export imports again: every row a duplicate of what is in the library now.
    again = await client.post(
        "/procurement/suppliers/imports",
        data={"_csrf_token": token},
        files={"file": ("again.csv", as_csv.content, "text/csv")},
    )
    assert again.status_code == 422
    assert again.text.count('data-rule="duplicate"') == 2

    api = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    encoded = base64.b64encode(xlsx_bytes([supplier(f"F{tag}", 供货品目="Z01")])).decode()
    problem = await client.post(
        f"{API}/suppliers/imports", json={"format": "xlsx", "content_base64": encoded}, headers=api
    )
    assert problem.status_code == 422
    assert problem.json()["errors"] == [
        {"row": 2, "field": "供货品目", "rule": "item_code", "message": "not in the catalogue: Z01"}
    ]


async def test_a_blacklisted_supplier_shows_reason_and_period_and_is_refused(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    await _log_in(client, bidder)
    form = await client.get("/procurement/supplier")
    assert form.status_code == 200
    assert "注册为供应商" in form.text
    registered = await client.post(
        "/procurement/supplier",
        data={
            "_csrf_token": csrf_token(form.text),
            "industry": "software",
            "employees": "12",
            "revenue": "60",
            "item_codes": "A02010104 C1601",
            "contact_name": "李经理",
            "contact_phone": "13800000000",
        },
    )
    assert registered.status_code == 303, registered.text
    mine = await client.get("/procurement/supplier")
    assert 'id="registered"' in mine.text
    assert 'data-size="small"' in mine.text
    added = await client.post(
        "/procurement/supplier/qualifications",
        data={
            "_csrf_token": csrf_token(mine.text),
            "kind": "certificate",
            "name": "ISO 9001 质量管理体系认证证书",
            "number": "00125Q31234R0M",
            "issuer": "中国质量认证中心",
            "valid_from": "2025-01-01",
            "valid_until": "2024-01-01",
        },
    )
    assert added.status_code == 422
    assert 'data-rule="period"' in added.text

    async with session_maker() as session:
        now = await clock.now(session)
        await record(
            session,
            bidder.organisation_id,
            now - timedelta(days=10),
            kind=CreditKind.BLACKLIST,
            scope=(Activity.GOVERNMENT_PROCUREMENT,),
            reason="提供虚假材料谋取中标、成交",
        )
        await session.commit()
        refusal = await service.supplier_refusal(session, bidder.organisation_id)
        assert refusal is not None
        assert refusal.reason == "提供虚假材料谋取中标、成交"
        assert refusal.valid_until is not None
        assert refusal.valid_until - refusal.valid_from == timedelta(days=365)
        assert "until" in refusal.period
        error = refusal.error()
        assert error.status_code == 403
        assert error.extra["records"][0]["reason"] == "提供虚假材料谋取中标、成交"
        supplier_id = (await service.supplier_of(session, bidder.organisation_id)).id  # type: ignore[union-attr]

    barred = await client.get("/procurement/supplier")
    assert 'id="my-refusal"' in barred.text
    again = await client.post(
        "/procurement/supplier",
        data={
            "_csrf_token": csrf_token(barred.text),
            "industry": "software",
            "employees": "12",
            "revenue": "60",
            "contact_name": "李",
            "contact_phone": "1",
        },
    )
    assert again.status_code == 403

    buyer = await create_account(session_maker, settings, Role.TENDEREE)
    detail = await client.get(f"{API}/suppliers/{supplier_id}", headers=bearer(await api_token(client, buyer)))
    assert detail.status_code == 200, detail.text
    assert detail.json()["refusal"]["reason"] == "提供虚假材料谋取中标、成交"
    assert detail.json()["refusal"]["valid_until"] is not None
    await client.post("/logout", data={"_csrf_token": csrf_token(barred.text)})
    await _log_in(client, buyer)
    shown = await client.get(f"/procurement/suppliers/{supplier_id}")
    assert shown.status_code == 200
    assert 'id="supplier-refusal"' in shown.text
    assert "提供虚假材料谋取中标、成交" in shown.text
    assert 'class="refusal-period"' in shown.text


async def test_catalogue_editions_lookup_children_search_and_a_newer_edition(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    reader = bearer(await api_token(client, await create_account(session_maker, settings, Role.BIDDER)))
    item = await client.get(f"{API}/catalogue/items/A020101", headers=reader)
    assert item.status_code == 200, item.text
    assert item.json()["item"]["name"] == "计算机"
    assert "A02010104" in {child["code"] for child in item.json()["children"]}
    assert (await client.get(f"{API}/catalogue/items/A99", headers=reader)).status_code == 404
    found = await client.get(f"{API}/catalogue/items", params={"q": "服务器"}, headers=reader)
    assert [i["code"] for i in found.json()["items"]] == ["A02010104"]
    assert await _count(session_maker, CatalogueItem) > 300  # the shipped excerpt, edition 1

    await _log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    page = await client.get("/procurement/catalogue")
    assert page.status_code == 200
    assert "品目" in page.text
    token = csrf_token(page.text)
    orphan = "品目编码,品目名称\nA,货物\nA02010104,服务器\nA02,设备\nA02,设备\n".encode()
    refused = await client.post(
        "/procurement/catalogue/editions",
        data={"_csrf_token": token, "title": "坏文件"},
        files={"file": ("bad.csv", orphan, "text/csv")},
    )
    assert refused.status_code == 422
    assert 'data-row="3" data-rule="parent"' in refused.text
    assert 'data-row="5" data-rule="duplicate"' in refused.text
    newer = (
        "品目编码,品目名称\nA,货物\nA02,设备\nA0201,信息化设备\nA020101,计算机\nA02010199,其他计算机（新版）\n".encode()
    )
    loaded = await client.post(
        "/procurement/catalogue/editions",
        data={"_csrf_token": token, "title": "测试新版"},
        files={"file": ("new.csv", newer, "text/csv")},
    )
    assert loaded.status_code == 200, loaded.text
    assert 'id="edition-loaded"' in loaded.text
    latest = await client.get(f"{API}/catalogue/items/A02010199", headers=reader)
    assert latest.json()["item"]["name"] == "其他计算机（新版）"
    edition = latest.json()["edition"]
    old = await client.get(f"{API}/catalogue/items/A02010104", params={"edition": 1}, headers=reader)
    assert old.status_code == 200  # what used edition 1 still finds its code
    assert (
        await client.get(f"{API}/catalogue/items/A02010104", params={"edition": edition}, headers=reader)
    ).status_code == 404


async def test_pages_render_and_are_linked_from_the_dashboards(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _log_in(client, await create_account(session_maker, settings, Role.TENDEREE))
    dashboard = await client.get("/dashboard")
    for path in ("/procurement/suppliers", "/procurement/purchasers", "/procurement/catalogue"):
        assert f'href="{path}"' in dashboard.text
        assert (await client.get(path)).status_code == 200
    purchasers = await client.get("/procurement/purchasers")
    assert "采购人库" in purchasers.text
    assert "导入采购人" not in purchasers.text  # the office imports, purchasers search
    assert (await client.get("/procurement/supplier")).status_code == 403
    english = await client.get("/procurement/purchasers", params={"lang": "en"})
    await client.get("/locale/en")
    english = await client.get("/procurement/purchasers")
    assert "Purchaser library" in english.text


async def test_a_search_pages_in_one_pass_below_the_cap_and_by_the_order_above_it(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below the cap, the count and the page come from one read of the matches; above it, the
    first rows read are not the first by the order, so the page is read again in order. Either
    way the page is the same and an offset past the end still tells the total."""
    office = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    rows = [purchaser("S000")] + [purchaser(f"S{n:03}", 上级主管部门编码="S000") for n in range(24, 0, -1)]
    created = await client.post(
        f"{API}/purchasers/imports", json={"format": "csv", "content": csv_bytes(rows).decode()}, headers=office
    )
    assert created.status_code == 201, created.text
    where = service.PurchaserFilter(parent_code="S000")
    async with session_maker() as session:
        below = await service.search_purchasers(session, where, offset=5, limit=5)
        past = await service.search_purchasers(session, where, offset=30, limit=5)
        assert (below.total, below.capped) == (24, False)
        monkeypatch.setattr(service, "COUNT_CAP", 10)
        above = await service.search_purchasers(session, where, offset=5, limit=5)
    assert [p.code for p in below.rows] == ["S006", "S007", "S008", "S009", "S010"]
    assert (past.total, list(past.rows)) == (24, [])
    assert (above.total, above.capped) == (11, True)  # counting stopped at the cap + 1
    assert [p.code for p in above.rows] == ["S006", "S007", "S008", "S009", "S010"]
