"""``ggzy procurement check FILE [--json]`` on real .txt, .docx (python-docx) and .pdf (WeasyPrint) files."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
import weasyprint
from click.testing import CliRunner
from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from procurement.negative_list.cli import EXIT_BLOCKING, EXIT_CLEAN, EXIT_UNREADABLE
from procurement.negative_list.extract import check_document, extract_lines
from trading.server.cli import main

LINES = [
    "一、资格要求",
    "投标人注册地须在本市行政区域内。",
    "所投电气产品须取得国家强制性产品认证（CCC）证书。",
    "",
    "技术方案由评委酌情打分。",
]


LONG_CLAUSE = "投标人须" + "具备良好的商业信誉和健全的财务会计制度并" * 2 + "在本省设有分公司。"
PDF_TEXT = "一、资格要求" + LONG_CLAUSE + "本项目最高限价为100万元。第页共"


@pytest.fixture(scope="module")
def cjk_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Noto Sans CJK SC cut down to the characters of the test document (a real font, rendered fast)."""
    options = subset.Options()
    options.font_number = 2
    path = tmp_path_factory.mktemp("fonts") / "cjk-subset.otf"
    with TTFont("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", fontNumber=2, lazy=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=PDF_TEXT + "".join(chr(c) for c in range(32, 127)))
        subsetter.subset(font)
        font.save(str(path))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["procurement", "check", *args])
    return result.exit_code, result.output


def test_txt_json_is_one_object_per_line_with_offsets_into_the_line(tmp_path: Path) -> None:
    path = tmp_path / "需求.txt"
    path.write_text("\n".join(LINES), encoding="utf-8")
    code, output = run(str(path), "--json")
    assert code == EXIT_BLOCKING
    objects = [json.loads(line) for line in output.splitlines()]
    assert [o["line"] for o in objects] == [1, 2, 3, 4, 5]
    assert [o["text"] for o in objects] == LINES
    (region,) = objects[1]["findings"]
    assert set(region) == {"rule", "ruleVersion", "severity", "start", "end", "basis", "suggestion"}
    assert (region["rule"], region["ruleVersion"], region["severity"]) == ("NL-QUAL-REGION", 1, "blocking")
    assert LINES[1][region["start"] : region["end"]].startswith("注册地须在本市")
    assert objects[2]["findings"] == []  # the national mandatory certification is allowed
    assert [f["rule"] for f in objects[4]["findings"]] == ["NL-SCORE-SUBJECTIVE"]


def test_the_readable_report_is_in_chinese_and_warnings_alone_exit_zero(tmp_path: Path) -> None:
    path = tmp_path / "评分.txt"
    path.write_text("技术方案由评委酌情打分。\n交货期：合同签订后30日内。\n", encoding="gb18030")
    code, output = run(str(path))
    assert code == EXIT_CLEAN
    assert "第 1 行 【提示】NL-SCORE-SUBJECTIVE" in output
    assert "命中：「酌情」" in output
    assert "没有禁止项" in output


def test_docx_paragraphs_and_table_cells_are_checked(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("第三章 采购需求")
    document.add_paragraph("投标人须具有ISO9001质量管理体系认证证书。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "评分因素"
    table.cell(0, 1).text = "评分标准"
    table.cell(1, 0).text = "业绩"
    table.cell(1, 1).text = "具有本省业绩的，每个加2分。"
    document.add_paragraph("本项目不设最低限价。")
    path = tmp_path / "招标文件.docx"
    document.save(str(path))
    assert extract_lines(path) == [
        "第三章 采购需求",
        "投标人须具有ISO9001质量管理体系认证证书。",
        "评分因素",
        "评分标准",
        "业绩",
        "具有本省业绩的，每个加2分。",
        "本项目不设最低限价。",
    ]
    found = {(r.line, f.rule) for r in check_document(path) for f in r.findings}
    assert found == {(2, "NL-QUAL-NONMANDATORY-CERT"), (6, "NL-SCORE-REGION")}
    code, _ = run(str(path), "--json")
    assert code == EXIT_BLOCKING


def test_pdf_text_is_extracted_and_a_wrapped_clause_is_read_whole(tmp_path: Path, cjk_font: Path) -> None:
    html = (
        f"<html><head><style>@font-face {{ font-family: CJK; src: url({cjk_font.as_uri()}); }}"
        "body { font-family: CJK; font-size: 12pt; } @page { size: A4; margin: 2cm; }</style></head>"
        f"<body><p>一、资格要求</p><p>{LONG_CLAUSE}</p><p>本项目最高限价为100万元。</p></body></html>"
    )
    path = tmp_path / "招标文件.pdf"
    path.write_bytes(weasyprint.HTML(string=html).write_pdf())
    lines = extract_lines(path)
    assert lines == ["一、资格要求", LONG_CLAUSE, "本项目最高限价为100万元。"]
    results = check_document(path)
    assert [(r.line, [f.rule for f in r.findings]) for r in results if r.findings] == [(2, ["NL-QUAL-REGION"])]


def test_an_unreadable_file_exits_two_naming_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    code, output = run(str(path))
    assert code == EXIT_UNREADABLE
    assert "只支持 .txt、.docx、.pdf 文件" in output
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"not a zip")
    code, output = run(str(fake))
    assert code == EXIT_UNREADABLE
    assert "不是有效的 DOCX 文件" in output
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(b"not a pdf")
    code, output = run(str(fake_pdf))
    assert code == EXIT_UNREADABLE
    assert "不是有效的 PDF 文件" in output
