"""Import credit records from CSV or JSON in the 信用中国-style layout (see ``AGENTS.md``).

Every row is checked before anything is written: an import with any bad row is refused whole
(``CreditImportRefused``), naming every bad row, field and rule; otherwise each row is published
through ``CreditService.publish`` under ``import:<USCC>:<kind>:<决定文书号>``, so importing the same
decision again updates its record instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.errors import CreditImportRefused
from trading.credit.models import Activity, CreditKind, CreditStatus
from trading.credit.service import CreditService, Publication
from trading.kernel.auth.identity import Actor
from trading.kernel.tabular import FIRST_CSV_ROW, Column, RowError, Table, TableRow, parse_day
from trading.ledger.service import append_entry
from trading.parties.identifiers import InvalidIdentifier, validate_uscc

ZONE = ZoneInfo("Asia/Shanghai")
MAX_ROWS = 10_000
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
"""Dates outside these years are typing mistakes, not records (the USCC itself dates from 2015)."""


class ImportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


COLUMNS = (
    Column("uscc", "统一社会信用代码", ("行政相对人代码_1", "行政相对人代码", "uscc"), 18, required=True),
    Column("name", "行政相对人名称", ("主体名称", "企业名称", "organisation_name"), 200, required=True),
    Column(
        "decision_no",
        "决定文书号",
        ("行政处罚决定书文号", "决定书文号", "认定文书号", "decision_no"),
        200,
        required=True,
    ),
    Column("kind", "信用记录类别", ("记录类别", "kind"), 50),
    Column("category", "处罚类别", ("失信类型", "失信行为类型", "处罚类别/失信类型", "category"), 200),
    Column("issuing_body", "决定机关", ("处罚机关", "认定单位", "列入机关", "issuing_body"), 200, required=True),
    Column("valid_from", "决定日期", ("处罚决定日期", "列入日期", "认定日期", "valid_from"), 40, required=True),
    Column("valid_until", "有效期至", ("处罚有效期", "公示截止期", "移出日期", "valid_until"), 40),
    Column(
        "reason",
        "处罚事由",
        ("违法事实", "失信原因", "列入事由", "违法行为类型", "reason"),
        2000,
        required=True,
        multiline=True,
    ),
    Column("legal_basis", "处罚依据", ("列入依据", "法律依据", "legal_basis"), 1000, multiline=True),
    Column("scope", "限制范围", ("惩戒范围", "scope"), 200),
    Column("status", "状态", ("status",), 20),
    Column("evidence_url", "证据链接", ("evidence_url",), 1000),
    Column("evidence_sha256", "证据摘要", ("evidence_sha256",), 64),
)
TABLE = Table(COLUMNS, CreditImportRefused)
"""The whole-file reading and refusals every table import shares (`trading.kernel.tabular`)."""

KIND_WORDS: Mapping[str, CreditKind] = {
    **{kind.value: kind for kind in CreditKind},
    "严重失信主体名单": CreditKind.SERIOUS_VIOLATION,
    "严重失信": CreditKind.SERIOUS_VIOLATION,
    "严重违法失信": CreditKind.SERIOUS_VIOLATION,
    "黑名单": CreditKind.BLACKLIST,
    "失信名单": CreditKind.BLACKLIST,
    "行政处罚": CreditKind.ADMINISTRATIVE_PENALTY,
    "履约评价": CreditKind.PERFORMANCE_EVALUATION,
    "红名单": CreditKind.COMMENDATION,
    "守信激励": CreditKind.COMMENDATION,
    "表彰": CreditKind.COMMENDATION,
}
SCOPE_WORDS: Mapping[str, Activity] = {
    **{activity.value: activity for activity in Activity},
    "招标投标": Activity.BIDDING,
    "投标": Activity.BIDDING,
    "政府采购": Activity.GOVERNMENT_PROCUREMENT,
    "中介服务": Activity.INTERMEDIARY_SERVICES,
    "全部": Activity.ALL,
    "所有": Activity.ALL,
    "公共资源交易": Activity.ALL,
}
STATUS_WORDS: Mapping[str, CreditStatus] = {
    **{status.value: status for status in CreditStatus},
    "有效": CreditStatus.EFFECTIVE,
    "撤销": CreditStatus.WITHDRAWN,
    "已撤销": CreditStatus.WITHDRAWN,
    "已修复": CreditStatus.WITHDRAWN,
    "失效": CreditStatus.EXPIRED,
    "已移出": CreditStatus.EXPIRED,
}
DEFAULT_SCOPE: Mapping[CreditKind, tuple[Activity, ...]] = {
    # 联合惩戒: a serious violation or a blacklist entry bars public resource trading as a whole
    # unless the file says otherwise; a penalty bars something only when the file names it.
    CreditKind.SERIOUS_VIOLATION: (Activity.ALL,),
    CreditKind.BLACKLIST: (Activity.ALL,),
}
OPEN_ENDED = frozenset({"", "长期", "永久", "-", "—"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SEPARATORS = re.compile(r"[、,，;；\s]+")


@dataclass
class ImportResult:
    sha256: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    source: str = ""
    record_ids: list[str] = field(default_factory=list)


def read_rows(data: bytes, fmt: ImportFormat | str) -> list[dict[str, str]]:
    """The file's rows as header → text (headers as written in the file)."""
    text = TABLE.decode(data)
    if fmt == ImportFormat.CSV:
        rows, headers = TABLE.csv_rows(text)
    elif fmt == ImportFormat.JSON:
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            raise CreditImportRefused("the file is not JSON", field="file", rule="format") from None
        items = loaded.get("records") if isinstance(loaded, dict) else loaded
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise CreditImportRefused(
                'JSON holds a list of records, or {"records": [...]}', field="file", rule="format"
            )
        rows = [{str(k).strip(): "" if v is None else str(v).strip() for k, v in item.items()} for item in items]
        headers = sorted({key for row in rows for key in row})
    else:
        raise CreditImportRefused("the format is csv or json", field="format", rule="format")
    TABLE.check_file(rows, headers, max_rows=MAX_ROWS)
    return rows


def first_row_number(fmt: ImportFormat | str) -> int:
    """Rows are numbered as the spreadsheet shows them: a CSV's header is line 1, its first record
    line 2; a JSON file's first record is 1.
    """
    return FIRST_CSV_ROW if fmt == ImportFormat.CSV else 1


def _day(raw: str) -> date | None:
    """A calendar date in one of the accepted spellings, within a plausible range of years."""
    return parse_day(raw, earliest_year=EARLIEST_YEAR, latest_year=LATEST_YEAR)


def _kind(row: TableRow, default_kind: CreditKind | None) -> CreditKind | None:
    raw = row.get("kind")
    if not raw:
        if default_kind is None:
            row.error("kind", "required", "信用记录类别 is required (or choose the import's kind)")
        return default_kind
    kind = KIND_WORDS.get(raw)
    if kind is None:
        row.error("kind", "kind", f"unknown record kind {raw!r}")
    return kind


def _scope(row: TableRow, kind: CreditKind | None) -> tuple[Activity, ...]:
    raw = row.get("scope")
    if not raw:
        return DEFAULT_SCOPE.get(kind, ()) if kind else ()
    words = [word for word in _SEPARATORS.split(raw) if word]
    unknown = [word for word in words if word not in SCOPE_WORDS]
    if unknown:
        row.error("scope", "scope", f"unknown scope {', '.join(unknown)}")
    return tuple(sorted({SCOPE_WORDS[word] for word in words if word in SCOPE_WORDS}))


def _period(row: TableRow) -> tuple[datetime | None, datetime | None]:
    start_raw, end_raw = row.get("valid_from"), row.get("valid_until")
    start = _day(start_raw) if start_raw else None
    if start_raw and start is None:
        row.error("valid_from", "date", f"{start_raw!r} is not a date (YYYY-MM-DD)")
    end: date | None = None
    if end_raw not in OPEN_ENDED:
        end = _day(end_raw)
        if end is None:
            row.error("valid_until", "date", f"{end_raw!r} is not a date (YYYY-MM-DD), or leave it empty")
    if start and end and end < start:
        row.error("valid_until", "period", "有效期至 is before 决定日期")
    valid_from = datetime.combine(start, time(0), ZONE) if start else None
    # 有效期至 names the last day in force: the record ends when that day ends in Beijing.
    valid_until = datetime.combine(end + timedelta(days=1), time(0), ZONE) if end else None
    return valid_from, valid_until


def validate(
    rows: Iterable[Mapping[str, str]], *, source: str, default_kind: CreditKind | None, first_row: int = 1
) -> tuple[list[Publication], list[RowError]]:
    """Every row as a ``Publication``, and every error of every row (numbered from ``first_row``)."""
    publications: list[Publication] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=first_row):
        before = len(errors)
        row = TableRow(TABLE, number, raw, errors)
        row.check_cells()
        uscc = row.get("uscc")
        if uscc:
            try:
                uscc = validate_uscc(uscc)
            except InvalidIdentifier as exc:
                row.error("uscc", exc.rule, str(exc))
        kind = _kind(row, default_kind)
        scope = _scope(row, kind)
        valid_from, valid_until = _period(row)
        status = CreditStatus.EFFECTIVE
        if row.get("status"):
            status = STATUS_WORDS.get(row.get("status"), CreditStatus.EFFECTIVE)
            if row.get("status") not in STATUS_WORDS:
                row.error("status", "status", f"unknown status {row.get('status')!r}")
        if status is not CreditStatus.EFFECTIVE and valid_until is None and row.get("valid_until") in OPEN_ENDED:
            # Without its end an expired or withdrawn row could not say until when it counted:
            # judged by its period it would bar the organisation for ever.
            row.error("valid_until", "required", "有效期至 is required when the record is no longer in force (状态)")
        digest = row.get("evidence_sha256").lower()
        if digest and not _SHA256.match(digest):
            row.error("evidence_sha256", "format", "证据摘要 is a SHA-256 in hex (64 characters)")
        ref = f"import:{uscc}:{kind.value if kind else ''}:{row.get('decision_no')}"
        if ref in seen:
            row.error("decision_no", "duplicate", f"the same decision as row {seen[ref]}")
        seen.setdefault(ref, number)
        if len(errors) > before or kind is None or valid_from is None:
            continue
        publications.append(
            Publication(
                source=source,
                source_ref=ref,
                uscc=uscc,
                organisation_name=row.get("name"),
                kind=kind,
                category=row.get("category") or None,
                scope=scope,
                valid_from=valid_from,
                valid_until=valid_until,
                issuing_body=row.get("issuing_body"),
                decision_no=row.get("decision_no"),
                reason=row.get("reason"),
                legal_basis=row.get("legal_basis") or None,
                evidence_sha256=digest or None,
                evidence_url=row.get("evidence_url") or None,
                status=status,
            )
        )
    return publications, errors


async def import_records(
    session: AsyncSession,
    data: bytes,
    fmt: ImportFormat | str,
    *,
    actor: Actor,
    label: str,
    default_kind: CreditKind | None = None,
) -> ImportResult:
    """Check the whole file, then publish every row; refused whole if any row is bad."""
    sha256 = hashlib.sha256(data).hexdigest()
    source = f"import:{label.strip()[:60] or sha256[:16]}"
    rows = read_rows(data, fmt)
    first_row = first_row_number(fmt)
    publications, errors = validate(rows, source=source, default_kind=default_kind, first_row=first_row)
    if errors:
        TABLE.refuse_rows(errors, len(rows), first_row=first_row)
    service = CreditService(session)
    result = ImportResult(sha256=sha256, rows=len(rows), source=source)
    for publication in publications:
        row, outcome = await service.publish_outcome(publication, actor=actor)
        if outcome == "published":
            result.created += 1
        elif outcome == "unchanged":
            result.unchanged += 1
        else:
            result.updated += 1
        result.record_ids.append(str(row.id))
    await append_entry(
        session,
        actor=actor,
        action="credit.records_imported",
        subject_type="credit_import",
        subject_id=sha256,
        data={"source": source, "records": result.record_ids},
        summary={
            "source": source,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result
