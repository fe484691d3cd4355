"""Importing credit records: good CSV and JSON files, re-imports that update, and files with bad
rows refused whole, naming every bad row, with nothing written.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.credit.factories import organisation
from tests.trading.credit.samples import csv_bytes, json_bytes, row
from tests.trading.parties.factories import new_uscc
from trading.credit.errors import CreditImportRefused
from trading.credit.importing import ZONE, ImportFormat, import_records
from trading.credit.models import CreditKind, CreditRecord, CreditStatus
from trading.credit.repository import CreditRepository
from trading.credit.service import may_take_part
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CreditRecord)) or 0)


async def test_a_good_csv_is_imported_and_blocks_in_its_scope(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    stranger = new_uscc()  # not on the platform: kept under its code
    data = csv_bytes([row(org.uscc), row(stranger, 信用记录类别="行政处罚", 限制范围="", 有效期至="")])
    result = await import_records(session, data, ImportFormat.CSV, actor=Actor.system(), label="2026-03 信用中国")
    assert (result.rows, result.created, result.updated, result.unchanged) == (2, 2, 0, 0)
    assert result.source == "import:2026-03 信用中国"
    mine = (await CreditRepository(session).of_uscc(org.uscc))[0]
    assert mine.organisation_id == org.id
    assert mine.scope == ["bidding", "government_procurement"]
    assert mine.valid_from == datetime(2026, 3, 1, tzinfo=ZONE)
    assert mine.valid_until == datetime(2028, 3, 1, tzinfo=ZONE)  # 有效期至 2028-02-29 is the last day in force
    other = (await CreditRepository(session).of_uscc(stranger))[0]
    assert (other.organisation_id, other.kind, other.scope, other.valid_until) == (
        None,
        CreditKind.ADMINISTRATIVE_PENALTY,
        [],
        None,
    )
    during = datetime(2027, 1, 1, tzinfo=ZONE)
    assert not (await may_take_part(session, org.id, "bidding", during)).allowed
    assert (await may_take_part(session, org.id, "intermediary_services", during)).allowed
    assert (await may_take_part(session, org.id, "bidding", datetime(2028, 3, 1, tzinfo=ZONE))).allowed
    entries = await session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.action == "credit.records_imported")
    )
    assert entries == 1


async def test_a_good_json_is_imported_and_a_reimport_updates(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    rows = [row(org.uscc, 决定文书号="苏财购〔2026〕8号", 限制范围="政府采购")]
    first = await import_records(session, json_bytes(rows), "json", actor=Actor.system(), label="batch-1")
    assert first.created == 1
    before = await _count(session)
    same = await import_records(session, json_bytes(rows), "json", actor=Actor.system(), label="batch-1")
    assert (same.created, same.updated, same.unchanged) == (0, 0, 1)
    repaired = [{**rows[0], "状态": "已修复"}]
    again = await import_records(session, json_bytes(repaired), "json", actor=Actor.system(), label="batch-1")
    assert (again.created, again.updated) == (0, 1)
    assert await _count(session) == before
    record = (await CreditRepository(session).of_uscc(org.uscc))[0]
    assert record.status is CreditStatus.WITHDRAWN
    assert (await may_take_part(session, org.id, "government_procurement", datetime(2027, 1, 1, tzinfo=ZONE))).allowed


async def test_an_import_with_bad_rows_is_refused_whole_naming_every_bad_row(
    session: AsyncSession, settings: Settings
) -> None:
    org = await organisation(session, settings)
    good = row(org.uscc)
    bad_code = row(org.uscc[:17] + ("0" if org.uscc[17] != "0" else "1"), 决定文书号="A-2")  # wrong check character
    bad_dates = row(new_uscc(), 决定文书号="A-3", 决定日期="2026-13-01", 有效期至="明年", 信用记录类别="通报")
    before = await _count(session)
    # A CSV's rows are its spreadsheet lines (the header is line 1); a JSON file's records count from 1.
    for fmt, data, first in ((ImportFormat.CSV, csv_bytes, 2), (ImportFormat.JSON, json_bytes, 1)):
        with pytest.raises(CreditImportRefused) as refused:
            await import_records(session, data([good, bad_code, bad_dates]), fmt, actor=Actor.system(), label="bad")
        errors = refused.value.extra["errors"]
        assert {(e["row"], e["field"], e["rule"]) for e in errors} == {
            (first + 1, "统一社会信用代码", "check_char"),
            (first + 2, "决定日期", "date"),
            (first + 2, "有效期至", "date"),
            (first + 2, "信用记录类别", "kind"),
        }
        assert f"rows {first + 1}, {first + 2}" in refused.value.message
        assert refused.value.status_code == 422
    assert await _count(session) == before  # nothing written, not even the good row


@pytest.mark.parametrize(
    ("data", "fmt", "rule"),
    [
        (b"", "csv", "empty"),
        ("统一社会信用代码,颜色\n1,红\n".encode(), "csv", "columns"),
        (b"{", "json", "format"),
        (b'{"records": 5}', "json", "format"),
        (b"\xff\xfe\xfa", "csv", "encoding"),
    ],
)
async def test_file_level_refusals(session: AsyncSession, data: bytes, fmt: str, rule: str) -> None:
    with pytest.raises(CreditImportRefused) as refused:
        await import_records(session, data, fmt, actor=Actor.system(), label="bad")
    assert refused.value.rule == rule


async def test_rows_without_a_kind_take_the_imports_kind(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    data = row(org.uscc, 限制范围="")
    del data["信用记录类别"]
    with pytest.raises(CreditImportRefused) as refused:
        await import_records(session, csv_bytes([data]), "csv", actor=Actor.system(), label="x")
    assert refused.value.extra["errors"][0]["rule"] == "required"
    result = await import_records(
        session, csv_bytes([data]), "csv", actor=Actor.system(), label="x", default_kind=CreditKind.SERIOUS_VIOLATION
    )
    assert result.created == 1
    imported = (await CreditRepository(session).of_uscc(org.uscc))[0]
    assert (imported.kind, imported.scope) == (CreditKind.SERIOUS_VIOLATION, ["all"])  # its kind's default scope
