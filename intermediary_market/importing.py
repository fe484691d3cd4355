"""Import the service-item list (事项清单) and intermediaries' qualifications from CSV files.

The whole-file machinery is the kernel's (`trading.kernel.tabular`, the one the credit import
uses): UTF-8 with or without BOM (or GB18030), headers in Chinese or English, a file with any bad
row refused whole naming every row, field (the header as written) and rule, nothing written.

Each row goes through the same service call as the page's one-by-one form
(`ItemService.publish_item`, `QualificationService.record_qualification`), so an import cannot
accept what the form refuses: a new code is published as version 1, a changed item as its next
version, an unchanged one is left alone; a qualification is recorded, renewed (or reinstated)
when it differs, left alone when the same. The rows are applied in a savepoint each (so every
row's refusal is collected), inside one savepoint for the file that is rolled back when any row
is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from intermediary_market.errors import MarketImportRefused
from intermediary_market.items import MAX_STANDARD_DAYS
from intermediary_market.models import Qualification, QualificationStatus, ServiceItem
from intermediary_market.schemas import QualificationRecord, ServiceItemCreate
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import INT32_MAX
from trading.kernel.errors import DomainError
from trading.kernel.tabular import Column, RowError, Table, TableRow, parse_day
from trading.ledger.service import append_entry
from trading.parties.identifiers import InvalidIdentifier, validate_uscc
from trading.parties.models import Organisation
from trading.parties.repository import OrganisationRepository

T = TypeVar("T")
ZONE = ZoneInfo("Asia/Shanghai")
MAX_ROWS: Final = 5_000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

ITEMS = Table(
    (
        Column("code", "事项编码", ("编码", "code"), 40, required=True),
        Column("name", "事项名称", ("名称", "name"), 200, required=True),
        Column("legal_basis", "设立依据", ("法律依据", "legal_basis"), 500, required=True),
        Column("approval", "关联审批事项", ("审批事项", "approval"), 200),
        Column("required_qualification", "资质要求", ("required_qualification",), 200),
        Column("fee_basis", "收费依据", ("fee_basis",), 500),
        Column("standard_days", "承诺时限(天)", ("承诺时限", "承诺时限（天）", "standard_days"), 10, required=True),
    ),
    MarketImportRefused,
)
QUALIFICATIONS = Table(
    (
        Column("uscc", "统一社会信用代码", ("机构统一社会信用代码", "uscc"), 18, required=True),
        Column("organisation_name", "机构名称", ("中介机构名称", "organisation_name"), 200),
        Column("item_code", "事项编码", ("item_code",), 40, required=True),
        Column("level", "资质等级", ("等级", "level"), 10, required=True),
        Column("certificate_no", "证书编号", ("资质证书编号", "certificate_no"), 100, required=True),
        Column("valid_until", "有效期至", ("valid_until",), 40, required=True),
    ),
    MarketImportRefused,
)
ITEM_EXAMPLE = {
    "code": "ZJ-001",
    "name": "建设项目环境影响评价",
    "legal_basis": "《中华人民共和国环境影响评价法》第十六条",
    "approval": "建设项目环境影响评价文件审批",
    "required_qualification": "无",
    "fee_basis": "市场调节价",
    "standard_days": "30",
}
QUALIFICATION_EXAMPLE = {
    "uscc": "91320803MA2100070A",
    "organisation_name": "某工程咨询有限公司",
    "item_code": "ZJ-001",
    "level": "1",
    "certificate_no": "HP-2026-0001",
    "valid_until": "2027-12-31",
}
_SERVICE_FIELDS = {"organisation_id": "uscc"}
"""The service's field names that are named otherwise in the file."""


@dataclass
class ImportResult:
    kind: str
    sha256: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _whole(row: TableRow, name: str, low: int, high: int) -> int | None:
    raw = row.get(name)
    if not raw:
        return None  # the required rule has named it
    try:
        number = int(raw)
    except ValueError:
        row.error(name, "format", f"{raw!r} is not a whole number")
        return None
    if not low <= number <= high:
        row.error(name, "range", f"{raw} lies outside {low}–{high}")
        return None
    return number


def _refused(row: TableRow, exc: DomainError) -> None:
    """A service refusal of the row, named by the file's column."""
    field = exc.field or "file"
    row.error(_SERVICE_FIELDS.get(field, field), exc.rule or "refused", exc.message)


def _same_item(current: ServiceItem, item: ServiceItemCreate) -> bool:
    return all(
        getattr(current, name) == getattr(item, name)
        for name in ("name", "legal_basis", "approval", "required_qualification", "fee_basis", "standard_days")
    )


async def _ledger(market: MarketService, actor: Actor, result: ImportResult) -> None:
    summary = {"kind": result.kind, "rows": result.rows, "created": result.created, "updated": result.updated}
    await append_entry(
        market.session,
        actor=actor,
        action=f"intermediary_market.{result.kind}_imported",
        subject_type=f"{result.kind}_import",
        subject_id=result.sha256,
        data={**summary, "unchanged": result.unchanged},
        summary={**summary, "unchanged": result.unchanged},
    )


async def _apply(
    market: MarketService,
    table: Table,
    checked: Sequence[tuple[TableRow, T]],
    errors: list[RowError],
    result: ImportResult,
    *,
    actor: Actor,
    changed: Callable[[T], Awaitable[bool | None]],
    act: Callable[[T], Awaitable[object]],
) -> ImportResult:
    """Apply every checked row through the service (a savepoint each, so each refusal is named),
    all inside one savepoint that a single bad row rolls back with the whole file.

    ``changed(value)`` is None for a new record, False for one the row leaves as it is.
    """
    async with market.session.begin_nested():
        for row, value in checked:
            status = await changed(value)
            if status is False:
                result.unchanged += 1
                continue
            try:
                async with market.session.begin_nested():
                    await act(value)
            except DomainError as exc:
                if exc.status_code >= 500:  # noqa: PLR2004 - not the row's fault
                    raise
                _refused(row, exc)
                continue
            if status is None:
                result.created += 1
            else:
                result.updated += 1
        if errors:
            table.refuse_rows(errors, result.rows)
        await _ledger(market, actor, result)
    return result


async def import_items(market: MarketService, data: bytes, *, actor: Actor) -> ImportResult:
    """Publish every row of a service-item CSV, or refuse the whole file naming every bad row."""
    raw = ITEMS.read_csv(data, max_rows=MAX_ROWS)
    errors: list[RowError] = []
    checked: list[tuple[TableRow, ServiceItemCreate]] = []
    seen: dict[str, int] = {}
    for row in ITEMS.rows(raw, errors):
        days = _whole(row, "standard_days", 1, MAX_STANDARD_DAYS)
        code = row.get("code")
        if code and code in seen:
            row.error("code", "duplicate", f"the same item code as row {seen[code]}")
        seen.setdefault(code, row.number)
        if row.ok and days is not None:
            item = ServiceItemCreate(
                code=code,
                name=row.get("name"),
                legal_basis=row.get("legal_basis"),
                approval=row.get("approval"),
                required_qualification=row.get("required_qualification"),
                fee_basis=row.get("fee_basis"),
                standard_days=days,
            )
            checked.append((row, item))

    async def changed(item: ServiceItemCreate) -> bool | None:
        current = await market.repo.current_item(item.code)
        return None if current is None else not _same_item(current, item)

    async def publish(item: ServiceItemCreate) -> ServiceItem:
        return await market.publish_item(item, actor=actor)

    result = ImportResult("items", hashlib.sha256(data).hexdigest(), len(raw))
    return await _apply(market, ITEMS, checked, errors, result, actor=actor, changed=changed, act=publish)


async def _organisation(row: TableRow, organisations: OrganisationRepository) -> tuple[str, Organisation | None]:
    """The intermediary the row names by its credit code (and, if given, the platform's name)."""
    uscc = row.get("uscc")
    if not uscc:
        return uscc, None
    try:
        uscc = validate_uscc(uscc)
    except InvalidIdentifier as exc:
        row.error("uscc", exc.rule, str(exc))
        return uscc, None
    organisation = await organisations.by_uscc(uscc)
    if organisation is None:
        row.error("uscc", "organisation_exists", "no organisation on the platform has this credit code")
    elif row.get("organisation_name") and row.get("organisation_name") != organisation.name:
        row.error("organisation_name", "name_matches", f"the platform knows this credit code as {organisation.name}")
    return uscc, organisation


def _valid_until(row: TableRow) -> datetime | None:
    """有效期至 is the last day valid: the qualification ends when that day ends in Beijing."""
    raw = row.get("valid_until")
    if not raw:
        return None
    day = parse_day(raw, earliest_year=EARLIEST_YEAR, latest_year=LATEST_YEAR)
    if day is None:
        row.error("valid_until", "date", f"{raw!r} is not a date (YYYY-MM-DD)")
        return None
    return datetime.combine(day + timedelta(days=1), time(0), ZONE)


def _same_qualification(current: Qualification, record: QualificationRecord) -> bool:
    return current.status is QualificationStatus.ACTIVE and (
        current.level,
        current.certificate_no,
        current.valid_until,
    ) == (record.level, record.certificate_no, record.valid_until)


async def import_qualifications(market: MarketService, data: bytes, *, actor: Actor) -> ImportResult:
    """Record every row of a qualification CSV, or refuse the whole file naming every bad row.

    The intermediary is named by its 统一社会信用代码 (and, optionally, its name, which must then
    be the platform's); 有效期至 is the last day the qualification is valid (Beijing time).
    """
    raw = QUALIFICATIONS.read_csv(data, max_rows=MAX_ROWS)
    errors: list[RowError] = []
    organisations = OrganisationRepository(market.session)
    checked: list[tuple[TableRow, QualificationRecord]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in QUALIFICATIONS.rows(raw, errors):
        uscc, organisation = await _organisation(row, organisations)
        level = _whole(row, "level", 1, INT32_MAX)
        valid_until = _valid_until(row)
        key = (uscc, row.get("item_code"))
        if key in seen:
            row.error("item_code", "duplicate", f"the same intermediary and item as row {seen[key]}")
        seen.setdefault(key, row.number)
        if row.ok and organisation is not None and level is not None and valid_until is not None:
            record = QualificationRecord(
                organisation_id=organisation.id,
                item_code=row.get("item_code"),
                level=level,
                certificate_no=row.get("certificate_no"),
                valid_until=valid_until,
            )
            checked.append((row, record))

    async def changed(record: QualificationRecord) -> bool | None:
        current = await market.repo.qualification(record.organisation_id, record.item_code)
        return None if current is None else not _same_qualification(current, record)

    async def recorded(record: QualificationRecord) -> Qualification:
        return await market.record_qualification(record, actor=actor)

    result = ImportResult("qualifications", hashlib.sha256(data).hexdigest(), len(raw))
    return await _apply(market, QUALIFICATIONS, checked, errors, result, actor=actor, changed=changed, act=recorded)
