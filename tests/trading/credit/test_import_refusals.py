"""Import refusals that once slipped through: rows longer than the header, two headers for one
column, expired rows without an end, JSON nested too deep, an unknown kind on the import page.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.credit.samples import csv_bytes, json_bytes, row
from tests.trading.credit.test_surfaces import _log_in
from tests.trading.parties.factories import api_token, bearer, create_account, csrf_token, new_uscc
from trading.credit.errors import CreditImportRefused
from trading.credit.importing import ImportFormat, import_records
from trading.credit.models import CreditRecord
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

DEEP_JSON = "[" * 100_000


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CreditRecord)) or 0)


async def test_a_csv_row_with_more_cells_than_the_header_is_refused_by_its_line(session: AsyncSession) -> None:
    data = csv_bytes([row(new_uscc()), row(new_uscc(), 决定文书号="B")]).decode()
    lines = data.splitlines()
    lines[2] += ",多出的单元格,又一个"  # the second record, spreadsheet line 3
    with pytest.raises(CreditImportRefused) as refused:
        await import_records(session, "\n".join(lines).encode(), "csv", actor=Actor.system(), label="x")
    assert (refused.value.field, refused.value.rule) == ("file", "columns")
    assert [(e["row"], e["rule"]) for e in refused.value.extra["errors"]] == [(3, "columns")]
    assert "header is line 1" in refused.value.message
    assert await _count(session) == 0


@pytest.mark.parametrize("second", ["统一社会信用代码", "uscc"])
async def test_two_headers_for_one_column_refuse_the_file(session: AsyncSession, second: str) -> None:
    uscc = new_uscc()
    data = csv_bytes([row(uscc)]).decode().replace("统一社会信用代码,", f"统一社会信用代码,{second},", 1)
    data = data.replace(f"{uscc},", f"{uscc},{new_uscc()},", 1)
    with pytest.raises(CreditImportRefused) as refused:
        await import_records(session, data.encode(), "csv", actor=Actor.system(), label="x")
    assert (refused.value.field, refused.value.rule) == ("file", "columns")
    assert "统一社会信用代码" in refused.value.message
    assert await _count(session) == 0


@pytest.mark.parametrize("status", ["已移出", "失效", "已撤销"])
async def test_a_row_no_longer_in_force_needs_its_end(session: AsyncSession, status: str) -> None:
    for end in ("", "长期"):
        data = json_bytes([row(new_uscc(), 状态=status, 有效期至=end)])
        with pytest.raises(CreditImportRefused) as refused:
            await import_records(session, data, "json", actor=Actor.system(), label="x")
        assert [(e["row"], e["field"], e["rule"]) for e in refused.value.extra["errors"]] == [
            (1, "有效期至", "required")
        ]
    result = await import_records(
        session, json_bytes([row(new_uscc(), 状态=status)]), "json", actor=Actor.system(), label="x"
    )
    assert result.created == 1


async def test_json_nested_too_deep_is_a_format_refusal(session: AsyncSession) -> None:
    with pytest.raises(CreditImportRefused) as refused:
        await import_records(session, DEEP_JSON.encode(), ImportFormat.JSON, actor=Actor.system(), label="x")
    assert (refused.value.field, refused.value.rule) == ("file", "format")


async def test_the_api_refuses_deep_json_with_a_422(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    body = {"format": "json", "content": DEEP_JSON, "label": "deep"}
    refused = await client.post("/api/v1/credit/imports", json=body, headers=staff)
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("file", "format")]


async def test_the_import_page_refuses_deep_json_and_an_unknown_kind(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    token = csrf_token((await client.get("/credit/imports")).text)
    deep = await client.post(
        "/credit/imports",
        data={"_csrf_token": token, "label": "deep"},
        files={"file": ("deep.json", DEEP_JSON.encode(), "application/json")},
    )
    assert deep.status_code == 422, deep.text[:500]
    unknown_kind = await client.post(
        "/credit/imports",
        data={"_csrf_token": token, "label": "kind", "kind": "parking_ticket"},
        files={"file": ("good.csv", csv_bytes([row(new_uscc())]), "text/csv")},
    )
    assert unknown_kind.status_code == 422
    assert "请选择所列的记录类别之一" in unknown_kind.text
    async with session_maker() as session:
        assert await _count(session) == 0
