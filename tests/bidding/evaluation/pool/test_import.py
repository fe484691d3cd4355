"""Importing experts (CSV and Excel): a good file registers everyone; a file with one bad row is
refused whole, naming every bad row, column and rule, and nothing is stored; re-importing updates or
leaves alone; the template imports as it is once filled in.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.errors import ExpertImportRefused
from bidding.evaluation.pool.importing import EXPERTS, ImportFormat, import_experts
from bidding.evaluation.pool.models import Expert, ExpertSpecialty, Specialty
from tests.bidding.evaluation.pool.factories import (
    HEADER,
    admin_actor,
    csv_file,
    expert_row,
    new_id_number,
    pool_with_list,
    xlsx_file,
)
from tests.trading.parties.factories import new_uscc
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.models import Person


async def count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_a_good_csv_registers_every_expert_with_specialties(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    rows = [
        expert_row(name="张工", specialties="A0101、A0501"),
        expert_row(name="李工", specialties="B0101", region_code="320804"),
        expert_row(name="王工", specialties="C03", home_library="南京市综合评标专家库", fee_standard="每半天800元"),
    ]
    result = await import_experts(pool, csv_file(rows), ImportFormat.CSV, actor=admin_actor())
    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 3, 0, 0)
    experts = {e.name: e for e in await session.scalars(sa.select(Expert))}
    assert {"张工", "李工", "王工"} <= experts.keys()
    assert experts["王工"].shared
    assert experts["王工"].home_library == "南京市综合评标专家库"
    assert experts["王工"].fee_standard == "每半天800元"
    assert not experts["张工"].shared
    codes = await session.scalars(
        sa.select(ExpertSpecialty.code).where(ExpertSpecialty.expert_id == experts["张工"].id)
    )
    assert sorted(codes) == ["A0101", "A0501"]
    # The ID number is never stored: the person keeps a keyed hash and the masked form.
    person = await session.get(Person, experts["张工"].person_id)
    assert person is not None
    assert "*" in person.id_masked
    assert rows[0][1] not in person.id_hash
    entry = await session.scalar(sa.select(LedgerEntry).where(LedgerEntry.action == "evaluation.experts_imported"))
    assert entry is not None
    assert entry.summary["created"] == 3
    registered = await session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.action == "evaluation.expert_registered")
    )
    summaries = [e.summary for e in registered]
    assert len(summaries) == 3
    assert all(rows[0][1] not in str(s) and "张工" not in str(s) for s in summaries)


async def test_reimporting_updates_changed_rows_and_leaves_the_rest(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    same, changed = expert_row(name="赵工"), expert_row(name="钱工")
    await import_experts(pool, csv_file([same, changed]), ImportFormat.CSV, actor=admin_actor())
    changed[2] = "A0201"
    again = await import_experts(pool, csv_file([same, changed]), ImportFormat.CSV, actor=admin_actor())
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    expert = await session.scalar(sa.select(Expert).where(Expert.name == "钱工"))
    assert expert is not None
    codes = await session.scalars(sa.select(ExpertSpecialty.code).where(ExpertSpecialty.expert_id == expert.id))
    assert list(codes) == ["A0201"]


async def test_one_bad_row_refuses_the_whole_file_and_names_every_bad_row(
    session: AsyncSession, settings: Settings
) -> None:
    pool = await pool_with_list(session, settings)
    before = (await count(session, Expert), await count(session, Person))
    bad_id = new_id_number()
    bad_id = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")  # wrong check digit
    twin = new_id_number()
    rows = [
        expert_row(),  # line 2: good
        expert_row(id_number=bad_id),  # line 3
        expert_row(specialties="Z99"),  # line 4
        expert_row(region_code="3208"),  # line 5
        expert_row(employer_uscc=new_uscc()[:-1] + "I"),  # line 6
        expert_row(home_library="外省专家库"),  # line 7: shared without its fee standard
        expert_row(id_number=twin),  # line 8: good
        expert_row(id_number=twin),  # line 9: the same person again
        expert_row(name=""),  # line 10: required
    ]
    try:
        await import_experts(pool, csv_file(rows), ImportFormat.CSV, actor=admin_actor())
    except ExpertImportRefused as exc:
        errors = exc.extra["errors"]
    else:
        raise AssertionError("the file was accepted")
    named = {(e["row"], e["field"], e["rule"]) for e in errors}
    assert named == {
        (3, "公民身份号码", "check_digit"),
        (4, "评标专业代码", "specialty_known"),
        (5, "所在地区代码", "format"),
        (6, "工作单位统一社会信用代码", "charset"),
        (7, "劳务费标准", "fee_standard_required"),
        (9, "公民身份号码", "duplicate"),
        (10, "姓名", "required"),
    }
    assert all(e["message"] for e in errors)
    # Nothing half-written: not even the good rows, nor their people.
    assert (await count(session, Expert), await count(session, Person)) == before
    assert (
        await session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.action == "evaluation.experts_imported")
        )
        == 0
    )


async def test_a_name_other_than_the_platforms_for_that_person_is_refused(
    session: AsyncSession, settings: Settings
) -> None:
    pool = await pool_with_list(session, settings)
    number = new_id_number()
    await import_experts(
        pool, csv_file([expert_row(name="孙工", id_number=number)]), ImportFormat.CSV, actor=admin_actor()
    )
    with pytest.raises(ExpertImportRefused) as refused:
        await import_experts(
            pool, csv_file([expert_row(name="孙工二", id_number=number)]), ImportFormat.CSV, actor=admin_actor()
        )
    assert [(e["row"], e["field"], e["rule"]) for e in refused.value.extra["errors"]] == [(2, "姓名", "name_matches")]


async def test_an_excel_workbook_imports_like_a_csv(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    rows: list[list[object]] = [expert_row(name="周工"), expert_row(name="吴工")]
    rows[1][3] = 320804  # a region code typed as a number
    result = await import_experts(pool, xlsx_file(rows), ImportFormat.XLSX, actor=admin_actor())
    assert (result.created, result.rows) == (2, 2)
    wu = await session.scalar(sa.select(Expert).where(Expert.name == "吴工"))
    assert wu is not None
    assert wu.region_code == "320804"


async def test_a_bad_excel_row_refuses_the_workbook(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    before = await count(session, Expert)
    rows = [expert_row(), expert_row(specialties="")]
    with pytest.raises(ExpertImportRefused) as refused:
        await import_experts(pool, xlsx_file(rows), ImportFormat.XLSX, actor=admin_actor())
    errors = refused.value.extra["errors"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [(3, "评标专业代码", "required")]
    assert await count(session, Expert) == before


async def test_a_file_that_is_not_a_workbook_or_has_unknown_columns_is_refused(
    session: AsyncSession, settings: Settings
) -> None:
    pool = await pool_with_list(session, settings)
    for data, fmt, rule in (
        (b"not a zip", ImportFormat.XLSX, "format"),
        (csv_file([expert_row()], header=[*HEADER[:-1], "籍贯"]), ImportFormat.CSV, "columns"),
        (csv_file([]), ImportFormat.CSV, "empty"),
    ):
        with pytest.raises(ExpertImportRefused) as refused:
            await import_experts(pool, data, fmt, actor=admin_actor())
        assert (refused.value.field, refused.value.rule) == ("file", rule)


async def test_the_templates_name_every_column(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    template = EXPERTS.template().decode("utf-8-sig").splitlines()[0].split(",")
    assert template == HEADER
    workbook = EXPERTS.template_xlsx()
    assert workbook[:2] == b"PK"
    # A filled-in Excel template imports.
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(workbook)).active
    assert [c.value for c in sheet[1]] == HEADER
    del pool


async def test_the_specialty_list_loads_once_and_versions_changes(session: AsyncSession, settings: Settings) -> None:
    from bidding.evaluation.pool import catalogue

    pool = await pool_with_list(session, settings)
    shipped = catalogue.shipped()
    current = await pool.current_codes()
    assert set(current) == shipped.codes()
    assert 30 <= len(current) <= 60
    assert {row.level for row in current.values()} == {1, 2, 3}
    again = await pool.sync_specialties(actor=admin_actor())
    assert not again.changed
    # A new edition: one name changed, one code gone.
    entries = [e for e in shipped.entries if e.code != "C0501"]
    entries = [
        catalogue.SpecialtyEntry(e.code, "道路与桥梁工程", e.name_en, e.parent) if e.code == "A0201" else e
        for e in entries
    ]
    edition = catalogue.SpecialtyList("2027.1", "0" * 64, tuple(entries))
    result = await pool.sync_specialties(actor=admin_actor(), shipped=edition)
    assert (result.created, result.updated, result.retired) == (0, 1, 1)
    versions = await pool.repo.specialty_versions("A0201")
    assert [(v.version, v.current, v.name) for v in versions] == [(1, False, "道路与桥梁"), (2, True, "道路与桥梁工程")]
    assert "C0501" not in await pool.current_codes()
    assert await session.scalar(sa.select(sa.func.count()).select_from(Specialty).where(Specialty.code == "C0501")) == 1
