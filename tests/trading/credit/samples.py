"""Import files in the 信用中国-style layout for the credit tests."""

from __future__ import annotations

import csv
import io
import json


def row(uscc: str, **changes: str) -> dict[str, str]:
    values = {
        "统一社会信用代码": uscc,
        "行政相对人名称": "南京某建设工程有限公司",
        "决定文书号": "苏建罚〔2026〕101号",
        "信用记录类别": "黑名单",
        "处罚类别": "招标投标违法行为记录",
        "决定机关": "江苏省住房和城乡建设厅",
        "决定日期": "2026-03-01",
        "有效期至": "2028-02-29",
        "处罚事由": "串通投标",
        "处罚依据": "《中华人民共和国招标投标法》第五十三条",
        "限制范围": "招标投标、政府采购",
    }
    values.update(changes)
    return values


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()  # with a BOM, as spreadsheet exports write it


def json_bytes(rows: list[dict[str, str]]) -> bytes:
    return json.dumps({"records": rows}, ensure_ascii=False).encode()
