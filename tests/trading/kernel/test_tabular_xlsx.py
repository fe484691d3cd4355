"""The kernel's table import reads Excel workbooks like CSV files: cells as text, empty lines
skipped, a value right of the header refusing the whole file by line, the same file checks.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from trading.kernel.errors import ValidationFailed
from trading.kernel.tabular import Column, Table


class Refused(ValidationFailed):
    pass


TABLE = Table((Column("code", "编码", ("code",), 20, required=True), Column("day", "日期", ("day",), 20)), Refused)


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cells_become_text_as_a_spreadsheet_shows_them() -> None:
    midnight = datetime(2027, 1, 2, 0, 0)  # noqa: DTZ001 - Excel's dates have no zone
    data = workbook(["编码", "day"], [320812, date(2027, 12, 31)], [], ["A01", midnight], [1.5, None])
    assert TABLE.read_xlsx(data, max_rows=10) == [
        {"编码": "320812", "day": "2027-12-31"},
        {"编码": "A01", "day": "2027-01-02"},
        {"编码": "1.5", "day": ""},
    ]


def test_a_value_right_of_the_header_refuses_the_file_by_line() -> None:
    data = workbook(["编码", "日期"], ["A", "2027-01-01"], ["B", "2027-01-01", "extra"])
    with pytest.raises(Refused) as refused:
        TABLE.read_xlsx(data, max_rows=10)
    assert (refused.value.field, refused.value.rule) == ("file", "columns")
    assert [e["row"] for e in refused.value.extra["errors"]] == [3]


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"PK\x03\x04 not really a zip", "format"),
        (workbook(["编码"]), "empty"),
        (workbook(["编码", "籍贯"], ["A", "x"]), "columns"),
        (workbook(["编码"], ["A"], ["B"], ["C"]), "max_rows"),
    ],
)
def test_whole_file_refusals(data: bytes, rule: str) -> None:
    with pytest.raises(Refused) as refused:
        TABLE.read_xlsx(data, max_rows=2)
    assert (refused.value.field, refused.value.rule) == ("file", rule)


def test_the_excel_template_has_the_headers_and_text_cells() -> None:
    sheet = load_workbook(io.BytesIO(TABLE.template_xlsx([{"code": "007"}], title="模板"))).active
    assert sheet.title == "模板"
    assert [cell.value for cell in sheet[1]] == ["编码", "日期"]
    assert sheet["A2"].value == "007"
    assert sheet["A2"].number_format == "@"
