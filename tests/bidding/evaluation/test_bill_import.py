"""The bill of quantities from Excel: imported whole, or refused whole naming every bad row."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from bidding.evaluation.response.bill_import import BillImportRefused, import_bill


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HEADER = ["项目编码", "项目名称", "计量单位", "工程量"]


def test_an_excel_bill_is_imported() -> None:
    items = import_bill(
        xlsx([HEADER, ["010101001001", "挖一般土方", "m³", 120.5], [], ["010103001001", "回填方", "m³", 80]])
    )
    assert [(i.code, i.description, i.unit, i.quantity) for i in items] == [
        ("010101001001", "挖一般土方", "m³", Decimal("120.5")),
        ("010103001001", "回填方", "m³", Decimal(80)),
    ]


def test_one_bad_row_refuses_the_whole_file_naming_each_row() -> None:
    data = xlsx(
        [
            HEADER,
            ["010101001001", "挖一般土方", "m³", 120.5],
            ["010103001001", "回填方", "m³", "八十"],  # line 3: not a number
            ["010101001001", "垫层", "m³", 40],  # line 4: the code of line 2 again
            ["010501001002", "", "m³", 1],  # line 5: no description
        ]
    )
    with pytest.raises(BillImportRefused) as refused:
        import_bill(data)
    errors = refused.value.extra["errors"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [
        (3, "工程量", "quantity"),
        (4, "项目编码", "unique"),
        (5, "项目名称", "required"),
    ]
    assert refused.value.status_code == 422


def test_not_a_workbook_and_unknown_columns() -> None:
    with pytest.raises(BillImportRefused) as refused:
        import_bill(b"PK\x03\x04 not really")
    assert refused.value.rule == "format"
    with pytest.raises(BillImportRefused) as refused:
        import_bill(xlsx([[*HEADER, "单价"], ["1", "a", "m", 1]]))
    assert refused.value.rule == "columns"
    items = import_bill("code,description,unit,quantity\r\nA1,土方,m³,2.125\r\n".encode(), filename="bill.csv")
    assert items[0].quantity == Decimal("2.125")
