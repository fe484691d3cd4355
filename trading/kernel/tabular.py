"""Whole-file imports of tables (CSV, Excel ``.xlsx``, or rows read from JSON by the caller): one
way for every package that imports records from a spreadsheet (credit records, the marketplace's
service items and qualifications, the expert pool).

A `Table` names its columns (a canonical header, usually Chinese, and the aliases accepted, the
English field name among them). It decodes the file (UTF-8 with or without BOM, else GB18030),
reads the rows, refuses the file for what is wrong with it as a whole (no rows, too many, an
unknown header, two headers for one column, a row with more cells than the header) and checks
every cell's text bounds. Whatever the caller then checks per row goes through `TableRow.error`,
and `Table.refuse_rows` raises one refusal naming every bad row, field (the header as written)
and rule: a file with any bad row is refused whole and nothing is written. The refusal is the
caller's `DomainError` class (422), with ``extra["errors"]`` = ``[{"row", "field", "rule",
"message"}]``.

Rows are numbered as a spreadsheet shows them: the header is line 1, the first record line 2 (in
an Excel workbook: of its first sheet).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NoReturn

from openpyxl import Workbook, load_workbook

from trading.kernel.bounds import InputRefused, check_text
from trading.kernel.errors import DomainError

FIRST_CSV_ROW = 2
"""A CSV's first record is spreadsheet line 2 (the header is line 1)."""

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")

_EXTRA_CELLS = "\x00extra"
"""Where ``csv.DictReader`` puts the cells of a row longer than the header (never a header)."""


def parse_day(raw: str, *, earliest_year: int, latest_year: int) -> date | None:
    """A calendar date as spreadsheets and government exports write it (``YYYY-MM-DD``,
    ``YYYY/MM/DD``, ``YYYY年M月D日``, or ISO 8601), within the years given; None otherwise.
    """
    match = _DATE.match(raw)
    try:
        day = date(int(match[1]), int(match[2]), int(match[3])) if match else datetime.fromisoformat(raw).date()
    except ValueError:
        return None
    return day if earliest_year <= day.year <= latest_year else None


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    """The canonical header (named in errors when the column is missing, written in templates)."""
    aliases: tuple[str, ...]
    max_length: int
    required: bool = False
    multiline: bool = False
    """Line breaks allowed in the cell (a long reason); other cells are single lines."""


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "rule": self.rule, "message": self.message}


class TableRow:
    """One row's values by canonical column name, collecting its errors."""

    def __init__(self, table: Table, number: int, raw: Mapping[str, str], errors: list[RowError]) -> None:
        self.table = table
        self.number = number
        self.errors = errors
        self.values: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.failures = 0
        for header, value in raw.items():
            column = table.by_header.get(header)
            if column is None:  # a column without a header (a spreadsheet's trailing comma): not read
                continue
            self.values[column.name] = value
            self.headers[column.name] = header

    def error(self, name: str, rule: str, message: str) -> None:
        """Record a problem of the cell ``name``, named by its header as written in the file."""
        column = next((c for c in self.table.columns if c.name == name), None)
        header = self.headers.get(name) or (column.header if column else name)
        self.errors.append(RowError(self.number, header, rule, message))
        self.failures += 1

    @property
    def ok(self) -> bool:
        """No problem recorded for this row (so far)."""
        return self.failures == 0

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def check_cells(self) -> None:
        """Every column's required value, text bounds and length."""
        for column in self.table.columns:
            value = self.get(column.name)
            if column.required and not value:
                self.error(column.name, "required", f"{column.header} is required")
                continue
            try:
                check_text(column.name, value, single_line=not column.multiline)
            except InputRefused as exc:
                self.error(column.name, exc.rule or "text", f"{column.header} holds control characters or line breaks")
            if len(value) > column.max_length:
                self.error(column.name, "max_length", f"{column.header} has more than {column.max_length} characters")


class Table:
    """The columns of one kind of import and the refusal it raises (a 422 `DomainError` subclass)."""

    def __init__(self, columns: Sequence[Column], refusal: type[DomainError]) -> None:
        self.columns = tuple(columns)
        self.refusal = refusal
        self.by_header = {alias: column for column in self.columns for alias in (column.header, *column.aliases)}

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    # --- the file -----------------------------------------------------------------------------------

    def decode(self, data: bytes) -> str:
        """UTF-8 (with or without BOM), else GB18030, the encoding of older government exports."""
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError:
                raise self.refusal("the file is neither UTF-8 nor GB18030", field="file", rule="encoding") from None

    def csv_rows(self, text: str) -> tuple[list[dict[str, str]], list[str]]:
        """The rows (header → trimmed text) and the headers of a CSV text; a row with more cells
        than the header refuses the file naming each such line.
        """
        reader = csv.DictReader(io.StringIO(text), restkey=_EXTRA_CELLS)
        try:
            read = list(reader)
        except csv.Error as exc:
            raise self.refusal(f"the file is not CSV: {exc}", field="file", rule="format") from None
        self._refuse_extra_cells(read)
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in read]
        return rows, [h.strip() for h in reader.fieldnames or []]

    def check_file(self, rows: Sequence[Mapping[str, str]], headers: Iterable[str], *, max_rows: int) -> None:
        """Refuse an empty file, one with too many rows, an unknown header or two headers naming
        the same column.
        """
        if not rows:
            raise self.refusal("the file holds no records", field="file", rule="empty")
        if len(rows) > max_rows:
            raise self.refusal(f"at most {max_rows} records per import", field="file", rule="max_rows")
        headers = list(headers)
        unknown = [h for h in headers if h and h not in self.by_header]
        if unknown:
            raise self.refusal(f"unknown columns: {', '.join(unknown)}", field="file", rule="columns")
        named: dict[str, list[str]] = {}
        for header in headers:
            if header:
                named.setdefault(self.by_header[header].name, []).append(header)
        shared = [" / ".join(group) for group in named.values() if len(group) > 1]
        if shared:
            raise self.refusal(
                f"several headers name the same column: {'; '.join(shared)}", field="file", rule="columns"
            )

    def read_csv(self, data: bytes, *, max_rows: int) -> list[dict[str, str]]:
        """A CSV file's rows, the file checked as a whole (`decode`, `csv_rows`, `check_file`)."""
        rows, headers = self.csv_rows(self.decode(data))
        self.check_file(rows, headers, max_rows=max_rows)
        return rows

    def read_xlsx(self, data: bytes, *, max_rows: int) -> list[dict[str, str]]:
        """The rows of an Excel workbook's first sheet (header in line 1), checked as a whole like a
        CSV's (`check_file`); cells become text as a spreadsheet shows them (a whole number without
        ``.0``, a date as ``YYYY-MM-DD``). Empty lines are skipped; a line with a value right of the
        header refuses the file, like a CSV row with more cells than the header.
        """
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise self.refusal(
                f"the file is not an Excel workbook (.xlsx): {exc}", field="file", rule="format"
            ) from None
        try:
            sheet = workbook.worksheets[0] if workbook.worksheets else None
            if sheet is None:
                raise self.refusal("the workbook has no sheet", field="file", rule="empty")
            lines = sheet.iter_rows(values_only=True)
            headers = [_cell_text(value) for value in next(lines, ())]
            while headers and not headers[-1]:
                headers.pop()
            rows: list[dict[str, str]] = []
            extra: list[RowError] = []
            for number, values in enumerate(lines, start=FIRST_CSV_ROW):
                cells = [_cell_text(value) for value in values]
                if not any(cells):
                    continue
                if len(rows) >= max_rows:
                    raise self.refusal(f"at most {max_rows} records per import", field="file", rule="max_rows")
                beyond = [cell for cell in cells[len(headers) :] if cell]
                if beyond:
                    extra.append(
                        RowError(
                            number, "file", "columns", f"line {number} has {len(beyond)} more cells than the header"
                        )
                    )
                rows.append({header: cells[i] if i < len(cells) else "" for i, header in enumerate(headers) if header})
        finally:
            workbook.close()
        if extra:
            lines_text = ", ".join(str(error.row) for error in extra)
            raise self.refusal(
                f"lines {lines_text} have more cells than the header (the header is line 1); nothing was imported",
                field="file",
                rule="columns",
                extra={"errors": [error.as_dict() for error in extra]},
            )
        self.check_file(rows, headers, max_rows=max_rows)
        return rows

    def _refuse_extra_cells(self, rows: list[dict[str, Any]]) -> None:
        errors = [
            RowError(
                number, "file", "columns", f"line {number} has {len(row[_EXTRA_CELLS])} more cells than the header"
            )
            for number, row in enumerate(rows, start=FIRST_CSV_ROW)
            if row.get(_EXTRA_CELLS)
        ]
        if errors:
            lines = ", ".join(str(error.row) for error in errors)
            raise self.refusal(
                f"lines {lines} have more cells than the header (the header is line 1); nothing was imported",
                field="file",
                rule="columns",
                extra={"errors": [error.as_dict() for error in errors]},
            )

    # --- rows -------------------------------------------------------------------------------------

    def rows(
        self, raw_rows: Iterable[Mapping[str, str]], errors: list[RowError], *, first_row: int = FIRST_CSV_ROW
    ) -> list[TableRow]:
        """Each row by canonical name, its cells checked (`TableRow.check_cells`) into ``errors``."""
        rows = []
        for number, raw in enumerate(raw_rows, start=first_row):
            row = TableRow(self, number, raw, errors)
            row.check_cells()
            rows.append(row)
        return rows

    def refuse_rows(self, errors: Sequence[RowError], total: int, *, first_row: int = FIRST_CSV_ROW) -> NoReturn:
        """Refuse the whole file naming every bad row (``errors`` is not empty), in row order."""
        errors = sorted(errors, key=lambda error: error.row)
        bad_rows = sorted({error.row for error in errors})
        numbering = "lines as in a spreadsheet, the header is line 1" if first_row > 1 else "records from 1"
        raise self.refusal(
            f"{len(bad_rows)} of {total} rows are refused (rows {', '.join(map(str, bad_rows))}; {numbering}); "
            "nothing was imported",
            field=errors[0].field,
            rule=errors[0].rule,
            extra={"errors": [error.as_dict() for error in errors]},
        )

    # --- the template -----------------------------------------------------------------------------

    def template(self, examples: Iterable[Mapping[str, str]] = ()) -> bytes:
        """A CSV to fill in: UTF-8 with a BOM (so spreadsheet programs read the Chinese headers),
        the canonical headers, and the example rows (by column name).
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column.header for column in self.columns])
        for example in examples:
            writer.writerow([example.get(column.name, "") for column in self.columns])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    def template_xlsx(self, examples: Iterable[Mapping[str, str]] = (), *, title: str = "Sheet1") -> bytes:
        """The same template as an Excel workbook (every cell text, so codes keep leading zeros)."""
        workbook = Workbook()
        # A new workbook always has one worksheet; the stubs allow None and chart sheets.
        sheet = workbook.worksheets[0]
        sheet.title = title
        sheet.append([column.header for column in self.columns])
        for example in examples:
            sheet.append([example.get(column.name, "") for column in self.columns])
        for row in sheet.iter_rows():
            for cell in row:
                cell.number_format = "@"
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()


def _cell_text(value: object) -> str:
    """An Excel cell as the text a spreadsheet shows (whole numbers without ``.0``, days as ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value).strip()
