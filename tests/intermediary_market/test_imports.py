"""The centre imports service items and qualifications from CSV (``/market/centre``): created,
new versions of changed items, unchanged ones left alone; a file with any bad row is refused whole
with a table of rows, fields and rules in Chinese and nothing written; the template downloads and
imports as it is. Service calls on PostgreSQL, and the page through the test client.
"""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.errors import MarketImportRefused
from intermediary_market.importing import ITEMS, import_items, import_qualifications
from intermediary_market.models import Qualification, ServiceItem
from intermediary_market.service import MarketService
from tests.intermediary_market.test_web import log_in
from tests.trading.parties.factories import create_account, csrf_token
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.models import Organisation

CENTRE = "/market/centre"
ITEM_HEADER = ["事项编码", "事项名称", "设立依据", "关联审批事项", "资质要求", "收费依据", "承诺时限(天)"]


def table(header: list[str], *rows: list[str], bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def item_row(code: str, days: str = "30", basis: str = "《某某管理办法》第十条") -> list[str]:
    return [code, f"{code} 咨询服务", basis, "某审批", "乙级以上", "市场调节价", days]


async def count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_items_are_created_versioned_or_left_alone(session: AsyncSession) -> None:
    market = MarketService(session)
    a, b = f"IM-{uuid.uuid4().hex[:6]}", f"IM-{uuid.uuid4().hex[:6]}"
    first = await import_items(market, table(ITEM_HEADER, item_row(a), item_row(b)), actor=Actor.system())
    assert (first.created, first.updated, first.unchanged, first.rows) == (2, 0, 0, 2)
    # English headers, no BOM: b changes (a new version), a is the same.
    english = ["code", "name", "legal_basis", "approval", "required_qualification", "fee_basis", "standard_days"]
    second = await import_items(
        market, table(english, item_row(a), item_row(b, days="20"), bom=False), actor=Actor.system()
    )
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    versions = await market.item_versions(b)
    assert sorted((v.version, v.current, v.standard_days) for v in versions) == [(1, False, 30), (2, True, 20)]
    assert len(await market.item_versions(a)) == 1
    imported = await session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.action == "intermediary_market.items_imported")
    )
    assert [e.summary["created"] for e in imported] == [2, 0]


async def test_one_bad_row_refuses_the_whole_file_naming_every_row_field_and_rule(session: AsyncSession) -> None:
    market = MarketService(session)
    before = await count(session, ServiceItem)
    good, also = f"IM-{uuid.uuid4().hex[:6]}", f"IM-{uuid.uuid4().hex[:6]}"
    data = table(
        ITEM_HEADER,
        item_row(good),
        item_row(also, days="三十"),  # line 3: not a number
        item_row(good),  # line 4: the code again
        item_row(f"IM-{uuid.uuid4().hex[:6]}", days="0"),  # line 5: out of range
        item_row(f"IM-{uuid.uuid4().hex[:6]}", basis=""),  # line 6: required
    )
    with pytest.raises(MarketImportRefused) as refused:
        await import_items(market, data, actor=Actor.system())
    assert [(e["row"], e["field"], e["rule"]) for e in refused.value.extra["errors"]] == [
        (3, "承诺时限(天)", "format"),
        (4, "事项编码", "duplicate"),
        (5, "承诺时限(天)", "range"),
        (6, "设立依据", "required"),
    ]
    assert "nothing was imported" in refused.value.message
    assert await count(session, ServiceItem) == before  # line 2 was good, and is not written either


async def test_a_spreadsheets_trailing_empty_column_is_ignored(session: AsyncSession) -> None:
    """A spreadsheet saved as CSV often ends every line with a comma (a column without a header):
    its rows import (the blank-headed column is not read), never a 500."""
    market = MarketService(session)
    code = f"IM-{uuid.uuid4().hex[:6]}"
    imported = await import_items(market, table([*ITEM_HEADER, ""], [*item_row(code), ""]), actor=Actor.system())
    assert (imported.created, imported.rows) == (1, 1)
    assert [v.standard_days for v in await market.item_versions(code)] == [30]


async def test_a_service_refusal_of_a_row_refuses_the_file_too(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Rows pass the same service rules as the form: a qualification for an item that does not
    exist, an expired one, an organisation the platform does not know or names otherwise."""
    market = MarketService(session)
    code = f"IM-{uuid.uuid4().hex[:6]}"
    await import_items(market, table(ITEM_HEADER, item_row(code)), actor=Actor.system())
    intermediary = await create_account(session_maker, settings, Role.INTERMEDIARY)
    organisation = await session.get(Organisation, intermediary.organisation_id)
    assert organisation is not None
    header = ["统一社会信用代码", "机构名称", "事项编码", "资质等级", "证书编号", "有效期至"]
    data = table(
        header,
        [organisation.uscc, organisation.name, code, "1", "Q-1", "2099-12-31"],
        [organisation.uscc, "", "NO-SUCH-ITEM", "1", "Q-2", "2099-12-31"],
        [organisation.uscc, "", code, "2", "Q-3", "2099-12-31"],
        [organisation.uscc, "别的名称", f"{code}X", "1", "Q-4", "2001-01-01"],
        ["91320812MA1X0003X0", "", code, "1", "Q-5", "2099/12/31"],
    )
    before = await count(session, Qualification)
    with pytest.raises(MarketImportRefused) as refused:
        await import_qualifications(market, data, actor=Actor.system())
    rules = [(e["row"], e["field"], e["rule"]) for e in refused.value.extra["errors"]]
    assert (3, "事项编码", "item_exists") in rules  # the service's rule, named by the file's column
    assert (4, "事项编码", "duplicate") in rules
    assert (5, "机构名称", "name_matches") in rules
    assert any(row == 6 and field == "统一社会信用代码" for row, field, _ in rules)
    assert all(row != 2 for row, _, _ in rules)
    assert await count(session, Qualification) == before


async def test_qualifications_are_recorded_renewed_or_left_alone(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    market = MarketService(session)
    code = f"IM-{uuid.uuid4().hex[:6]}"
    await import_items(market, table(ITEM_HEADER, item_row(code)), actor=Actor.system())
    intermediary = await create_account(session_maker, settings, Role.INTERMEDIARY)
    organisation = await session.get(Organisation, intermediary.organisation_id)
    assert organisation is not None
    english = ["uscc", "organisation_name", "item_code", "level", "certificate_no", "valid_until"]
    row = [organisation.uscc.lower(), organisation.name, code, "2", "Q-1", "2099年12月31日"]
    first = await import_qualifications(market, table(english, row), actor=Actor.system())
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    again = await import_qualifications(market, table(english, row), actor=Actor.system())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    renewed = await import_qualifications(
        market, table(english, [*row[:3], "1", "Q-2", "2100-06-30"]), actor=Actor.system()
    )
    assert (renewed.created, renewed.updated) == (0, 1)
    [held] = await market.qualifications_of(organisation.id)
    assert (held.level, held.certificate_no) == (1, "Q-2")
    assert held.valid_until.isoformat().startswith("2100-06-30T16:00")  # the end of 30 June, Beijing


async def test_the_page_imports_refuses_in_chinese_and_offers_the_template(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.ADMIN))
    overview = await client.get(CENTRE)
    token = csrf_token(overview.text)
    assert 'id="import-items-form"' in overview.text

    template = await client.get(f"{CENTRE}/imports/items/template.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith("\ufeff事项编码,事项名称".encode())
    assert ITEMS.read_csv(template.content, max_rows=10)[0]["事项编码"] == "ZJ-001"
    assert (await client.get(f"{CENTRE}/imports/nothing/template.csv")).status_code == 404

    code = f"IM-{uuid.uuid4().hex[:6]}"
    bad = table(ITEM_HEADER, item_row(code), item_row(f"{code}B", days="三十"))
    refused = await client.post(
        f"{CENTRE}/imports/items", data={"_csrf_token": token}, files={"file": ("items.csv", bad, "text/csv")}
    )
    assert refused.status_code == 422
    assert 'data-row="3" data-rule="format"' in refused.text
    assert "请填写整数" in refused.text  # the rule in Chinese
    assert "承诺时限(天)" in refused.text  # the field as the file names it
    assert "整个文件" in refused.text or "未导入" in refused.text
    async with session_maker() as session:
        assert await MarketService(session).repo.current_item(code) is None

    unknown = table(["事项编码", "颜色"], [code, "红"])
    columns = await client.post(
        f"{CENTRE}/imports/items", data={"_csrf_token": token}, files={"file": ("items.csv", unknown, "text/csv")}
    )
    assert columns.status_code == 422
    assert "标题行含有未知的列" in columns.text

    # The template as downloaded imports as it is (its example row).
    imported = await client.post(
        f"{CENTRE}/imports/items",
        data={"_csrf_token": token},
        files={"file": ("items.csv", template.content, "text/csv")},
    )
    assert imported.status_code == 303, imported.text
    assert imported.headers["location"].startswith(f"{CENTRE}?imported=items&created=")
    done = await client.get(imported.headers["location"])
    assert 'id="import-done"' in done.text
    assert 'data-item="ZJ-001"' in done.text

    missing = await client.post(f"{CENTRE}/imports/items", data={"_csrf_token": token}, files={})
    assert missing.status_code == 422


async def test_only_the_centre_imports(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.INTERMEDIARY))
    # The token in the header, as the page's scripts send it: the refusal comes before the body is read.
    denied = await client.post(
        f"{CENTRE}/imports/items",
        headers={"x-csrftoken": client.cookies["ggzy_csrf"]},
        files={"file": ("items.csv", table(ITEM_HEADER, item_row("X-1")), "text/csv")},
    )
    assert denied.status_code == 403
    assert (await client.get(f"{CENTRE}/imports/items/template.csv")).status_code == 403
