"""The bill of quantities (工程量清单) imported from Excel (.xlsx, openpyxl) or CSV, on the kernel's
whole-file table import (`trading.kernel.tabular`): headers and aliases, cell bounds, and one
refusal naming every bad row (row numbers as the spreadsheet shows them, the header is line 1) —
a file with one bad row is refused whole and nothing is imported.

Columns: 项目编码 (code), 项目名称 (description), 计量单位 (unit), 工程量 (quantity: > 0, at most 4
decimals), each line's code unique in the file. The first worksheet is read; its first row is the
header; empty rows are skipped.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal, InvalidOperation

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from bidding.evaluation.response.reading import QUANTITY_PLACES
from bidding.evaluation.response.requirements import BillItem
from trading.kernel.errors import ValidationFailed
from trading.kernel.tabular import Column, RowError, Table

MAX_LINES = 20_000
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,39}$")


class BillImportRefused(ValidationFailed):
    code = "bill_import_refused"
    title = "Bill of quantities refused"


TABLE = Table(
    [
        Column("code", "项目编码", ("编码", "code"), 40, required=True),
        Column("description", "项目名称", ("名称", "description"), 200, required=True),
        Column("unit", "计量单位", ("单位", "unit"), 20, required=True),
        Column("quantity", "工程量", ("数量", "quantity"), 30, required=True),
    ],
    BillImportRefused,
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # A spreadsheet number: its shortest decimal text (120.5, not 120.50000000000001).
        return repr(value)
    return str(value).strip()


def xlsx_rows(data: bytes) -> tuple[list[dict[str, str]], list[str]]:
    """The first worksheet's rows (header → text) and headers; refuses what is not an .xlsx."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise BillImportRefused(f"not an Excel (.xlsx) file: {exc}", field="file", rule="format") from None
    try:
        sheet = workbook.worksheets[0]
        raw = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not raw:
        raise BillImportRefused("the file holds no records", field="file", rule="empty")
    headers = raw[0]
    while headers and not headers[-1]:
        headers = headers[:-1]
    rows = []
    for cells in raw[1:]:
        if not any(cells):
            continue
        if any(cells[len(headers) :]):
            raise BillImportRefused("a row has more cells than the header", field="file", rule="columns")
        rows.append({h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h})
    return rows, [h for h in headers if h]


def import_bill(data: bytes, *, filename: str = "bill.xlsx") -> list[BillItem]:
    """The lines of the file (.xlsx, or .csv by its name), or `BillImportRefused` naming every bad row."""
    if filename.lower().endswith(".csv"):
        raw, headers = TABLE.csv_rows(TABLE.decode(data))
    else:
        raw, headers = xlsx_rows(data)
    TABLE.check_file(raw, headers, max_rows=MAX_LINES)
    errors: list[RowError] = []
    items: list[BillItem] = []
    seen: dict[str, int] = {}
    for row in TABLE.rows(raw, errors):
        code = row.get("code")
        if code and not _CODE.match(code):
            row.error("code", "pattern", "项目编码 holds letters, digits and . _ / - only (at most 40)")
        elif code in seen:
            row.error("code", "unique", f"项目编码 {code} is on line {seen[code]} already")
        seen.setdefault(code, row.number)
        quantity = _quantity(row.get("quantity"))
        if row.get("quantity") and quantity is None:
            row.error("quantity", "quantity", f"工程量 is a number > 0 with at most {QUANTITY_PLACES} decimals")
        if row.ok and quantity is not None:
            items.append(BillItem(code, row.get("description"), row.get("unit"), quantity))
    if errors:
        TABLE.refuse_rows(errors, len(raw))
    return items


def _quantity(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        return None
    return value.normalize() if value == value.to_integral_value() else value
