"""Library files for the tests: purchaser and supplier rows, as CSV or an Excel workbook."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from tests.trading.parties.factories import new_uscc


def purchaser(code: str, **changes: str) -> dict[str, str]:
    values = {
        "预算单位编码": code,
        "预算单位名称": f"南京市某局{code}",
        "统一社会信用代码": new_uscc("320100"),
        "行政区划代码": "320100",
        "上级主管部门编码": "",
    }
    values.update(changes)
    return values


def supplier(name: str, **changes: str) -> dict[str, str]:
    values = {
        "统一社会信用代码": new_uscc("320106"),
        "供应商名称": name,
        "行政区划代码": "",
        "所属行业": "软件和信息技术服务业",
        "从业人员": "50",
        "营业收入（万元）": "800",
        "资产总额（万元）": "",
        "供货品目": "A02010104、C1601",
        "联系人": "张工",
        "联系电话": "025-84000000",
        "资质名称": "",
        "资质证书编号": "",
        "发证机关": "",
        "资质有效期起": "",
        "资质有效期至": "",
    }
    values.update(changes)
    return values


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_bytes(rows: list[dict[str, str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [[str(cell or "") for cell in row] for row in sheet.iter_rows(values_only=True)]
