"""Whole-file imports and exports of the purchaser and supplier libraries (CSV or Excel).

On the kernel's table import (`trading.kernel.tabular`): every row is checked before anything is
written, and a file with any bad row is refused whole (`LibraryImportRefused`, 422) naming every
bad row (as the spreadsheet numbers it: the header is line 1), field (the header as written) and
rule. Rules beyond the cells' text bounds: the USCC's (``length``, ``charset``, ``region``,
``check_char``), ``region`` / ``format`` for 行政区划代码, ``duplicate`` (twice in the file, or
already in the library), ``parent`` (a 上级主管部门编码 neither in the library nor in the file),
``industry``, ``number``, ``size_figures`` (a figure the industry's size thresholds read is
missing), ``item_code`` (a 品目 the catalogue's newest edition lacks), ``date`` / ``period``.

An export writes the same headers, so an exported file imports again (into another library).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.libraries import catalogue, sizes
from procurement.libraries.errors import LibraryImportRefused
from procurement.libraries.models import Purchaser, Supplier, SupplierContact, SupplierQualification
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.tabular import Column, RowError, Table, TableRow, parse_day
from trading.ledger.service import append_entry
from trading.parties.identifiers import InvalidIdentifier, uscc_region, validate_region_code, validate_uscc
from trading.parties.models import Organisation

MAX_ROWS = 10_000
MAX_EXPORT = 10_000
_SEPARATORS = re.compile(r"[、,，;；\s]+")
OPEN_ENDED = frozenset({"", "长期", "永久", "-", "—"})

PURCHASER_COLUMNS = (
    Column("code", "预算单位编码", ("单位编码", "code"), 40, required=True),
    Column("name", "预算单位名称", ("单位名称", "name"), 200, required=True),
    Column("uscc", "统一社会信用代码", ("uscc",), 18, required=True),
    Column("region_code", "行政区划代码", ("区划代码", "region_code"), 6, required=True),
    Column("parent_code", "上级主管部门编码", ("主管部门编码", "parent_code"), 40),
)
SUPPLIER_COLUMNS = (
    Column("uscc", "统一社会信用代码", ("uscc",), 18, required=True),
    Column("name", "供应商名称", ("企业名称", "name"), 200, required=True),
    Column("region_code", "行政区划代码", ("区划代码", "region_code"), 6),
    Column("industry", "所属行业", ("行业", "industry"), 40, required=True),
    Column("employees", "从业人员", ("从业人员（人）", "employees"), 12),
    Column("revenue", "营业收入（万元）", ("营业收入", "revenue"), 20),
    Column("assets", "资产总额（万元）", ("资产总额", "assets"), 20),
    Column("item_codes", "供货品目", ("品目编码", "item_codes"), 1000),
    Column("contact_name", "联系人", ("contact_name",), 100),
    Column("contact_phone", "联系电话", ("contact_phone",), 40),
    Column("contact_email", "电子邮箱", ("contact_email",), 200),
    Column("qualification", "资质名称", ("qualification",), 200),
    Column("qualification_no", "资质证书编号", ("qualification_no",), 100),
    Column("qualification_issuer", "发证机关", ("qualification_issuer",), 200),
    Column("qualification_from", "资质有效期起", ("qualification_from",), 40),
    Column("qualification_until", "资质有效期至", ("qualification_until",), 40),
)
PURCHASERS = Table(PURCHASER_COLUMNS, LibraryImportRefused)
SUPPLIERS = Table(SUPPLIER_COLUMNS, LibraryImportRefused)


def split_codes(text: str) -> list[str]:
    """Item codes separated by 、 , ; or spaces."""
    return [code for code in _SEPARATORS.split(text) if code]


@dataclass(frozen=True)
class ImportResult:
    sha256: str
    created: int


def read(table: Table, data: bytes, *, excel: bool) -> list[dict[str, str]]:
    return table.read_xlsx(data, max_rows=MAX_ROWS) if excel else table.read_csv(data, max_rows=MAX_ROWS)


def _uscc(row: TableRow) -> str:
    raw = row.get("uscc")
    if not raw:
        return ""
    try:
        return validate_uscc(raw)
    except InvalidIdentifier as exc:
        row.error("uscc", exc.rule, exc.message)
        return ""


def _region(row: TableRow, fallback: str = "") -> str:
    raw = row.get("region_code")
    if not raw:
        return fallback
    try:
        return validate_region_code(raw)
    except InvalidIdentifier as exc:
        row.error("region_code", exc.rule, exc.message)
        return ""


def _once(row: TableRow, name: str, value: str, seen: dict[str, int], existing: set[str]) -> None:
    """``value`` of column ``name`` neither earlier in the file nor in the library (``duplicate``)."""
    if not value:
        return
    if value in seen:
        row.error(name, "duplicate", f"{value} is already on line {seen[value]}")
    elif value in existing:
        row.error(name, "duplicate", f"{value} is already in the library")
    else:
        seen[value] = row.number


async def _existing(session: AsyncSession, column: Any, values: Iterable[str]) -> set[str]:
    wanted = sorted({value for value in values if value})
    found: set[str] = set()
    for start in range(0, len(wanted), 1000):
        found.update(await session.scalars(sa.select(column).where(column.in_(wanted[start : start + 1000]))))
    return found


# --- purchasers -------------------------------------------------------------------------------------


async def import_purchasers(session: AsyncSession, data: bytes, *, excel: bool, actor: Actor) -> ImportResult:
    """Add every row as a purchaser, or refuse the file naming every bad row."""
    raw = read(PURCHASERS, data, excel=excel)
    errors: list[RowError] = []
    rows = PURCHASERS.rows(raw, errors)
    codes = await _existing(session, Purchaser.code, (row.get("code") for row in rows))
    usccs = await _existing(session, Purchaser.uscc, (row.get("uscc").upper() for row in rows))
    seen_codes: dict[str, int] = {}
    seen_usccs: dict[str, int] = {}
    checked: list[tuple[TableRow, dict[str, object]]] = []
    for row in rows:
        uscc = _uscc(row)
        region = _region(row)
        _once(row, "code", row.get("code"), seen_codes, codes)
        _once(row, "uscc", uscc, seen_usccs, usccs)
        checked.append((row, {"code": row.get("code"), "name": row.get("name"), "uscc": uscc, "region_code": region}))
    parents = await _existing(session, Purchaser.code, (row.get("parent_code") for row in rows))
    for row, values in checked:
        parent = row.get("parent_code")
        if parent and parent not in parents and parent not in seen_codes:
            row.error("parent_code", "parent", f"no purchaser has the code {parent}")
        elif parent and parent == row.get("code"):
            row.error("parent_code", "parent", "a purchaser is not its own department")
        values["parent_code"] = parent or None
    if errors:
        PURCHASERS.refuse_rows(errors, len(rows))
    now = await clock.now(session)
    await session.execute(
        sa.insert(Purchaser), [{"id": uuid.uuid4(), "created_at": now, **values} for _, values in checked]
    )
    digest = hashlib.sha256(data).hexdigest()
    await append_entry(
        session,
        actor=actor,
        action="procurement.purchasers_imported",
        subject_type="procurement.purchasers_import",
        subject_id=digest,
        data={"sha256": digest},
        summary={"created": len(checked)},
    )
    return ImportResult(digest, len(checked))


# --- suppliers --------------------------------------------------------------------------------------


def _figure(row: TableRow, name: str, *, whole: bool = False) -> Decimal | None:
    raw = row.get(name).replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value >= Decimal("1e13") or (whole and value != value.to_integral()):
        row.error(name, "number", f"{row.get(name)!r} is not a non-negative {'whole ' if whole else ''}number")
        return None
    return value


def _day(row: TableRow, name: str) -> date | None:
    raw = row.get(name)
    if raw in OPEN_ENDED:
        return None
    day = parse_day(raw, earliest_year=1949, latest_year=2100)
    if day is None:
        row.error(name, "date", f"{raw!r} is not a date (YYYY-MM-DD)")
    return day


@dataclass
class SupplierRow:
    """One checked supplier row, ready to write."""

    values: dict[str, object]
    contact: dict[str, object] | None
    qualification: dict[str, object] | None


def _contact(row: TableRow) -> dict[str, object] | None:
    if not (row.get("contact_name") or row.get("contact_phone")):
        return None
    for name in ("contact_name", "contact_phone"):
        if not row.get(name):
            row.error(name, "required", "a contact needs a name and a phone number")
    return {
        "name": row.get("contact_name"),
        "phone": row.get("contact_phone"),
        "email": row.get("contact_email") or None,
    }


def _qualification(row: TableRow) -> dict[str, object] | None:
    if not row.get("qualification"):
        return None
    for name in ("qualification_no", "qualification_issuer", "qualification_from"):
        if not row.get(name):
            row.error(name, "required", "a qualification needs its number, issuer and start")
    start, end = _day(row, "qualification_from"), _day(row, "qualification_until")
    if start and end and end < start:
        row.error("qualification_until", "period", "资质有效期至 is before 资质有效期起")
    return {
        "kind": "qualification",
        "name": row.get("qualification"),
        "number": row.get("qualification_no"),
        "issuer": row.get("qualification_issuer"),
        "valid_from": start,
        "valid_until": end,
    }


def check_supplier(row: TableRow, known_items: set[str]) -> SupplierRow:
    """Check one row's supplier facts (USCC, region, industry and size figures, items, contact,
    qualification) into the row's errors.
    """
    uscc = _uscc(row)
    region = _region(row, uscc_region(uscc) if uscc else "")
    industry = sizes.industry_of(row.get("industry")) if row.get("industry") else None
    if row.get("industry") and industry is None:
        row.error("industry", "industry", f"{row.get('industry')!r} is not an industry of the size thresholds")
    figures = {
        "employees": _figure(row, "employees", whole=True),
        "revenue": _figure(row, "revenue"),
        "assets": _figure(row, "assets"),
    }
    size_class = ""
    if industry is not None and row.ok:
        missing = sizes.missing_measures(industry, figures)
        for name in missing:
            row.error(name, "size_figures", f"{industry.name} needs this figure to decide the size class")
        if not missing:
            size_class = sizes.classify(industry, figures).value
    items = [code.upper() for code in _SEPARATORS.split(row.get("item_codes")) if code]
    unknown = [code for code in items if code not in known_items]
    if unknown:
        row.error("item_codes", "item_code", f"not in the catalogue: {', '.join(unknown)}")
    contact = _contact(row)
    qualification = _qualification(row)
    values: dict[str, object] = {
        "uscc": uscc,
        "name": row.get("name"),
        "region_code": region,
        "industry": industry.code if industry else "",
        "employees": int(figures["employees"]) if figures["employees"] is not None else None,
        "revenue": figures["revenue"],
        "assets": figures["assets"],
        "size_class": size_class,
        "item_codes": items,
    }
    return SupplierRow(values, contact, qualification)


async def import_suppliers(session: AsyncSession, data: bytes, *, excel: bool, actor: Actor) -> ImportResult:
    """Add every row as a supplier (linked to its organisation when the USCC is on the platform),
    or refuse the file naming every bad row.
    """
    raw = read(SUPPLIERS, data, excel=excel)
    errors: list[RowError] = []
    rows = SUPPLIERS.rows(raw, errors)
    edition = await catalogue.edition(session)
    wanted_items = {code.upper() for row in rows for code in _SEPARATORS.split(row.get("item_codes")) if code}
    known_items = await catalogue.known_codes(session, wanted_items, edition_number=edition.number)
    existing = await _existing(session, Supplier.uscc, (row.get("uscc").strip().upper() for row in rows))
    seen: dict[str, int] = {}
    checked: list[SupplierRow] = []
    for row in rows:
        checked_row = check_supplier(row, known_items)
        _once(row, "uscc", str(checked_row.values["uscc"]), seen, existing)
        checked.append(checked_row)
    if errors:
        SUPPLIERS.refuse_rows(errors, len(rows))
    linked = await session.execute(
        sa.select(Organisation.uscc, Organisation.id).where(Organisation.uscc.in_(list(seen)))
    )
    organisations: dict[str, uuid.UUID] = dict(linked.all())
    now = await clock.now(session)
    suppliers, contacts, qualifications = [], [], []
    for item in checked:
        supplier_id = uuid.uuid4()
        suppliers.append(
            {
                "id": supplier_id,
                **item.values,
                "organisation_id": organisations.get(str(item.values["uscc"])),
                "catalogue_edition": edition.number,
                "source": "import",
                "registered_at": now,
            }
        )
        if item.contact:
            contacts.append({"id": uuid.uuid4(), "supplier_id": supplier_id, **item.contact})
        if item.qualification:
            qualifications.append({"id": uuid.uuid4(), "supplier_id": supplier_id, **item.qualification})
    await session.execute(sa.insert(Supplier), suppliers)
    if contacts:
        await session.execute(sa.insert(SupplierContact), contacts)
    if qualifications:
        await session.execute(sa.insert(SupplierQualification), qualifications)
    digest = hashlib.sha256(data).hexdigest()
    await append_entry(
        session,
        actor=actor,
        action="procurement.suppliers_imported",
        subject_type="procurement.suppliers_import",
        subject_id=digest,
        data={"sha256": digest},
        summary={"created": len(suppliers)},
    )
    return ImportResult(digest, len(suppliers))


# --- exports ----------------------------------------------------------------------------------------


def purchaser_cells(row: Purchaser) -> dict[str, str]:
    return {
        "code": row.code,
        "name": row.name,
        "uscc": row.uscc,
        "region_code": row.region_code,
        "parent_code": row.parent_code or "",
    }


def _plain(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def supplier_cells(row: Supplier) -> dict[str, str]:
    industry = sizes.industries().get(row.industry)
    return {
        "uscc": row.uscc,
        "name": row.name,
        "region_code": row.region_code,
        "industry": industry.name if industry else row.industry,
        "employees": _plain(row.employees),
        "revenue": _plain(row.revenue),
        "assets": _plain(row.assets),
        "item_codes": "、".join(row.item_codes),
    }


def export(columns: Sequence[Column], rows: Iterable[Mapping[str, str]], *, excel: bool) -> bytes:
    """The rows under the import's headers: CSV (UTF-8 with BOM) or an Excel workbook of text cells."""
    headers = [column.header for column in columns]
    lines = [[row.get(column.name, "") for column in columns] for row in rows]
    if excel:
        workbook = Workbook()
        sheet = workbook.worksheets[0]
        sheet.append(headers)
        for line in lines:
            sheet.append(line)
        for cells in sheet.iter_rows():
            for cell in cells:
                cell.number_format = "@"
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(lines)
    return ("\ufeff" + text.getvalue()).encode("utf-8")
