"""Import experts from a CSV or Excel (.xlsx) file, on the kernel's whole-file table import
(`trading.kernel.tabular`, shared with the credit and marketplace imports).

Every row is checked (ID number by GB 11643, specialty codes on the current list, region code by
GB/T 2260, employer credit code by GB 32100 and against the platform's name for it, a shared
expert's fee standard, duplicates within the file) and then registered through
`ExpertPool.register` — the same call as one expert at a time — in a savepoint of its own, all
inside one savepoint for the file: a file with any bad row is refused whole (`ExpertImportRefused`,
422) naming every row, column (as written in the file), rule and message, and nothing is written.
A person already in the pool is updated (or left alone when nothing changed); status is never
changed by an import (suspension, removal and restoration are decisions with reasons).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bidding.evaluation.pool.errors import ExpertImportRefused
from bidding.evaluation.pool.service import ExpertFacts, ExpertPool, split_codes
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError
from trading.kernel.tabular import Column, RowError, Table, TableRow
from trading.ledger.service import append_entry

MAX_ROWS: Final = 5_000


class ImportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


EXPERTS = Table(
    (
        Column("name", "姓名", ("专家姓名", "name"), 100, required=True),
        Column("id_number", "公民身份号码", ("身份证号码", "身份证号", "id_number"), 18, required=True),
        Column("specialties", "评标专业代码", ("专业代码", "评标专业", "specialties"), 200, required=True),
        Column("region_code", "所在地区代码", ("行政区划代码", "地区代码", "region_code"), 6, required=True),
        Column(
            "employer_uscc", "工作单位统一社会信用代码", ("单位统一社会信用代码", "employer_uscc"), 18, required=True
        ),
        Column("employer_name", "工作单位名称", ("工作单位", "employer_name"), 200, required=True),
        Column("title", "职称", ("技术职称", "title"), 100),
        Column("home_library", "所属专家库", ("来源专家库", "home_library"), 200),
        Column("fee_standard", "劳务费标准", ("收费标准", "fee_standard"), 200),
    ),
    ExpertImportRefused,
)
EXAMPLE: Final = {
    "name": "王某某",
    "id_number": "32080219800101001X",
    "specialties": "A0101、A0501",
    "region_code": "320803",
    "employer_uscc": "91320803MA2100070A",
    "employer_name": "某工程咨询有限公司",
    "title": "高级工程师",
    "home_library": "",
    "fee_standard": "",
}
"""The template's example row (a shared expert names their home library and its fee standard)."""


@dataclass
class ImportResult:
    sha256: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read(data: bytes, fmt: ImportFormat) -> list[dict[str, str]]:
    if fmt is ImportFormat.XLSX:
        return EXPERTS.read_xlsx(data, max_rows=MAX_ROWS)
    return EXPERTS.read_csv(data, max_rows=MAX_ROWS)


def _facts(row: TableRow) -> ExpertFacts:
    return ExpertFacts(
        name=row.get("name"),
        id_number=row.get("id_number"),
        specialties=tuple(split_codes(row.get("specialties"))),
        region_code=row.get("region_code"),
        employer_uscc=row.get("employer_uscc"),
        employer_name=row.get("employer_name"),
        title=row.get("title"),
        home_library=row.get("home_library"),
        fee_standard=row.get("fee_standard"),
    )


async def _register(pool: ExpertPool, row: TableRow, facts: ExpertFacts, actor: Actor) -> str:
    """One checked row through the service in its own savepoint: created, updated, unchanged, or
    refused (its reasons added to the row).
    """
    try:
        async with pool.session.begin_nested():
            _, status = await pool.register(facts, actor=actor)
    except DomainError as exc:
        if exc.status_code >= 500:  # noqa: PLR2004 - not the row's fault
            raise
        listed = exc.extra.get("errors") or [{"field": exc.field, "rule": exc.rule, "message": exc.message}]
        for item in listed:
            row.error(str(item.get("field") or "file"), str(item.get("rule") or "refused"), str(item["message"]))
        return "refused"
    return "created" if status is None else "updated" if status else "unchanged"


def _header(row: TableRow, name: str) -> str:
    return row.headers.get(name) or EXPERTS.column(name).header


async def _check_rows(pool: ExpertPool, rows: list[TableRow]) -> list[tuple[TableRow, ExpertFacts]]:
    """Every row's facts checked by the service's rules (nothing written), duplicates within the
    file named; the rows without a problem, with their normalised facts.
    """
    known = await pool.current_codes()
    checked: list[tuple[TableRow, ExpertFacts]] = []
    seen: dict[str, int] = {}
    for row in rows:
        refused = {error.field for error in row.errors if error.row == row.number}
        problems, facts = await pool.check_facts(_facts(row), known)
        for problem in problems.items:
            # A cell the table's own checks refused (required, too long) is named once.
            if _header(row, problem["field"]) not in refused:
                row.error(problem["field"], problem["rule"], problem["message"])
        key = facts.id_number.upper()
        if key and key in seen:
            row.error("id_number", "duplicate", f"the same person as row {seen[key]}")
        seen.setdefault(key, row.number)
        if row.ok:
            checked.append((row, facts))
    return checked


async def import_experts(pool: ExpertPool, data: bytes, fmt: ImportFormat, *, actor: Actor) -> ImportResult:
    """Register every row, or refuse the whole file naming every bad row (nothing written)."""
    await pool.sync_specialties(actor=actor)  # the codes are checked against the shipped list
    raw = read(data, fmt)
    errors: list[RowError] = []
    checked = await _check_rows(pool, EXPERTS.rows(raw, errors))
    result = ImportResult(hashlib.sha256(data).hexdigest(), len(raw))
    async with pool.session.begin_nested():
        for row, facts in checked:
            status = await _register(pool, row, facts, actor)
            if status == "created":
                result.created += 1
            elif status == "updated":
                result.updated += 1
            elif status == "unchanged":
                result.unchanged += 1
        if errors:
            EXPERTS.refuse_rows(errors, result.rows)
        summary = {
            "format": fmt.value,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        await append_entry(
            pool.session,
            actor=actor,
            action="evaluation.experts_imported",
            subject_type="expert_import",
            subject_id=result.sha256,
            summary=summary,
            data=summary,
        )
    return result
