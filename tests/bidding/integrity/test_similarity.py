"""Document similarity after template subtraction (issue 19 §4): the pure screen and text extraction.

The texts are in `bid_texts`: a tender for traffic-signal O&M services, bids that restate its
requirements verbatim, and independent or copied technical proposals.
"""

from __future__ import annotations

import html
import io
import json
import re

import docx
import pytest
import weasyprint

from bidding.integrity.screens.extract import DocumentUnreadable, extract_text
from bidding.integrity.screens.model import Finding, Severity
from bidding.integrity.screens.rules import Rule, RuleSet, load_catalogue
from bidding.integrity.screens.similarity import (
    CLUSTER,
    SIMILAR,
    TYPOS,
    SimilarityConfigError,
    normalise,
    paragraphs,
    screen_documents,
    shingles,
    signature,
)
from tests.bidding.integrity.bid_texts import (
    PROPOSAL_A,
    PROPOSAL_A_COPIED,
    PROPOSAL_B,
    PROPOSAL_C,
    PROPOSAL_C_FIRST,
    PROPOSAL_C_SECOND,
    PROPOSAL_C_THIRD,
    TENDER,
    bid,
)

RULES = load_catalogue()


def similar(findings: list[Finding]) -> dict[frozenset[str], Finding]:
    return {frozenset(f.subjects): f for f in findings if f.rule == SIMILAR}


def jaccard(first: str, second: str) -> float:
    a, b = set(shingles(first, 8).tolist()), set(shingles(second, 8).tolist())
    return len(a & b) / len(a | b)


# -- acceptance -----------------------------------------------------------------------------------


def test_honest_bids_quoting_the_tender_at_length_are_not_flagged() -> None:
    honest = {"甲公司": bid("甲公司", PROPOSAL_A, quoted=TENDER), "乙公司": bid("乙公司", PROPOSAL_B, quoted=TENDER)}
    # the quotation alone would make them look alike: the test has teeth only if it does
    assert jaccard(honest["甲公司"], honest["乙公司"]) >= RULES.threshold(SIMILAR, "amber")
    assert screen_documents("ZB-2026-001", None, "", honest, RULES) != []

    assert screen_documents("ZB-2026-001", None, TENDER, honest, RULES) == []


def test_a_copied_technical_proposal_is_flagged_with_its_paragraphs_side_by_side() -> None:
    documents = {
        "甲公司": bid("甲公司", PROPOSAL_A),
        "乙公司": bid("乙公司", PROPOSAL_B),
        "丙公司": bid("丙公司", PROPOSAL_A_COPIED),
    }
    findings = screen_documents("ZB-2026-001", "1", TENDER, documents, RULES)

    assert [f.rule for f in findings] == [SIMILAR]
    finding = findings[0]
    assert set(finding.subjects) == {"甲公司", "丙公司"}
    assert json.loads(json.dumps(finding.evidence)) == finding.evidence  # stored as JSON as it is
    evidence = finding.evidence
    assert evidence["ocid"] == "ZB-2026-001"
    assert evidence["lot"] == "1"
    # six small edits in five paragraphs, and the cover letter's other name: J ≈ 0.78
    assert isinstance(evidence["jaccard"], float)
    assert 0.7 <= evidence["jaccard"] < 0.8
    assert finding.severity is Severity.AMBER
    assert finding.score == RULES.threshold(SIMILAR, "points_amber")
    assert isinstance(evidence["shared_shingles"], int)
    assert evidence["shared_shingles"] > 400
    shown = evidence["paragraphs"]
    assert isinstance(shown, list)
    assert len(shown) == 5  # the five paragraphs of the proposal
    pairs = {(row["a"], row["b"]): row["similarity"] for row in shown}
    # the staffing paragraph was retyped with other names and numbers: a near-duplicate, still shown
    staffing = [(a, b, s) for (a, b), s in pairs.items() if "四、人员配置" in a]
    assert len(staffing) == 1
    a, b, score = staffing[0]
    assert {a, b} == {
        next(p for p in paragraphs(PROPOSAL_A) if p.startswith("四、")),
        next(p for p in paragraphs(PROPOSAL_A_COPIED) if p.startswith("四、")),
    }
    assert RULES.threshold(SIMILAR, "paragraph_similarity") <= score < 1
    # nothing of the tender is shown as shared
    assert not any("服务范围" in row["a"] or "响应时间要求" in row["a"] for row in shown)


def test_three_bidders_sharing_one_proposal_form_a_cluster() -> None:
    documents = {
        "甲公司": bid("甲公司", PROPOSAL_A),
        "乙公司": bid("乙公司", PROPOSAL_B),
        "丁公司": bid("丁公司", PROPOSAL_C_FIRST),
        "戊公司": bid("戊公司", PROPOSAL_C_SECOND),
        "己公司": bid("己公司", PROPOSAL_C_THIRD),
    }
    findings = screen_documents("ZB-2026-002", None, TENDER, documents, RULES)

    assert set(similar(findings)) == {
        frozenset({"丁公司", "戊公司"}),
        frozenset({"丁公司", "己公司"}),
        frozenset({"戊公司", "己公司"}),
    }
    clusters = [f for f in findings if f.rule == CLUSTER]
    assert len(clusters) == 1
    assert set(clusters[0].subjects) == {"丁公司", "戊公司", "己公司"}
    assert clusters[0].evidence["members"] == sorted(["丁公司", "戊公司", "己公司"])
    pairs = clusters[0].evidence["pairs"]
    assert isinstance(pairs, list)
    assert len(pairs) == 3
    assert clusters[0].severity is Severity.RED  # every pair ≥ 0.8
    assert json.loads(json.dumps(clusters[0].evidence)) == clusters[0].evidence


def test_two_copiers_make_a_pair_not_a_cluster() -> None:
    documents = {"丁公司": bid("丁公司", PROPOSAL_C_FIRST), "戊公司": bid("戊公司", PROPOSAL_C_SECOND)}
    findings = screen_documents("ZB-2026-002", None, TENDER, documents, RULES)
    assert [f.rule for f in findings] == [SIMILAR]


def test_full_width_half_width_and_spacing_variants_count_as_the_same_text() -> None:
    half = "七、服务指标。系统可用率 99.5%，SLA 按 7×24 小时执行，响应时间 ≤ 30 min，故障单号格式为 GZ-2026-0001。"
    full = (
        "七、服务指标。系统可用率　９９．５％，ＳＬＡ按７×２４小时执行，响应时间≤３０ＭＩＮ，"
        "故障单号格式为ＧＺ－２０２６－０００１。"
    )
    assert shingles(half, 8).tolist() == shingles(full, 8).tolist()
    # the copier retypes B's proposal with half-width punctuation and spaces, and the indicator line
    # in full-width: the screen sees exactly what it sees for a straight copy
    retyped = PROPOSAL_B.replace("，", ", ").replace("。", ". ").replace("；", ";").replace("、", " ")
    original = {"乙公司": bid("乙公司", PROPOSAL_B + half), "庚公司": bid("庚公司", PROPOSAL_B + half)}
    variant = {"乙公司": bid("乙公司", PROPOSAL_B + half), "庚公司": bid("庚公司", retyped + full)}
    straight = screen_documents("ZB-2026-003", None, TENDER, original, RULES)
    findings = screen_documents("ZB-2026-003", None, TENDER, variant, RULES)
    assert len(findings) == len(straight) == 1
    assert findings[0].evidence["jaccard"] == straight[0].evidence["jaccard"]
    shown = findings[0].evidence["paragraphs"]
    assert isinstance(shown, list)
    assert {"a": half, "b": full, "similarity": 1.0} in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width letters and digits
        ("系统　可用率 99.5%", "系统可用率995"),  # ideographic space, ASCII space, punctuation
        ("响应，时间；≤三十分钟。", "响应时间三十分钟"),  # CJK punctuation and symbols
        ("Line\nbreak\tTab", "linebreaktab"),
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_paragraphs_join_wrapped_lines_and_keep_headings_apart() -> None:
    wrapped = (
        "第三章 实施方案\n我方按照信息技术服务管理体系的要求建立本项目的服务目录、\n"
        "服务级别协议和变更管理流程。\n短行\n\n下一段。"
    )
    assert paragraphs(wrapped) == [
        "第三章 实施方案",
        "我方按照信息技术服务管理体系的要求建立本项目的服务目录、服务级别协议和变更管理流程。",
        "短行",
        "下一段。",
    ]


def test_a_bid_that_only_restates_the_tender_is_not_compared() -> None:
    documents = {"甲公司": bid("甲公司", ""), "乙公司": bid("乙公司", "")}
    assert screen_documents("ZB-2026-004", None, TENDER, documents, RULES) == []


def test_boilerplate_is_subtracted_like_the_template() -> None:
    # both bids use the agency's standard implementation chapter (PROPOSAL_C) and add one paragraph
    own_a, own_b = paragraphs(PROPOSAL_A)[1], paragraphs(PROPOSAL_B)[1]
    documents = {"甲公司": bid("甲公司", PROPOSAL_C + own_a), "乙公司": bid("乙公司", PROPOSAL_C + own_b)}
    assert len(screen_documents("ZB-2026-005", None, TENDER, documents, RULES)) == 1
    assert screen_documents("ZB-2026-005", None, TENDER, documents, RULES, boilerplate=[PROPOSAL_C]) == []


def test_word_shingles_find_the_same_copy() -> None:
    documents = {
        "甲公司": bid("甲公司", PROPOSAL_A),
        "乙公司": bid("乙公司", PROPOSAL_B),
        "丙公司": bid("丙公司", PROPOSAL_A_COPIED),
    }
    findings = screen_documents("ZB-2026-001", None, TENDER, documents, RULES, unit="words")
    assert set(similar(findings)) == {frozenset({"甲公司", "丙公司"})}
    assert findings[0].evidence["shingle"] == {"unit": "words", "length": 4}


def test_signature_slots_agree_about_as_often_as_the_jaccard() -> None:
    first = shingles(bid("甲公司", PROPOSAL_A), 8)
    second = shingles(bid("丙公司", PROPOSAL_A_COPIED), 8)
    exact = jaccard(bid("甲公司", PROPOSAL_A), bid("丙公司", PROPOSAL_A_COPIED))
    agree = float((signature(first, 128) == signature(second, 128)).mean())
    assert abs(agree - exact) < 0.15  # 128 slots: standard error √(J(1−J)/128) ≈ 0.04
    tiny = shingles("十个字的一段短文本啊", 8)  # 3 shingles, 125 empty slots filled from the next
    assert signature(tiny, 128).size == 128
    assert len(set(signature(tiny, 128).tolist())) == 128


def test_thresholds_that_cannot_work_are_refused_by_name() -> None:
    broken = RuleSet(
        Rule(
            id=r.id,
            version=r.version,
            name=r.name,
            basis=r.basis,
            scope=r.scope,
            severity=r.severity,
            thresholds={**r.thresholds, "amber": 0.9} if r.id == SIMILAR else r.thresholds,
        )
        for r in RULES
    )
    with pytest.raises(SimilarityConfigError, match=r"DOC-SIMILAR.*amber \(0.9\) ≤ red \(0.8\)"):
        screen_documents("ZB", None, TENDER, {}, broken)


# -- extraction -----------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_are_extracted_in_order() -> None:
    document = docx.Document()
    document.add_paragraph("第四章 人员配置")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["岗位", "姓名", "证书"], strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["项目经理", "王建国", "信息系统项目管理师"], strict=True):
        cell.text = text
    document.add_paragraph(PROPOSAL_A.splitlines()[1])
    buffer = io.BytesIO()
    document.save(buffer)

    text = extract_text("技术标.DOCX", buffer.getvalue())

    assert text.splitlines() == [
        "第四章 人员配置",
        "岗位\t姓名\t证书",
        "项目经理\t王建国\t信息系统项目管理师",
        PROPOSAL_A.splitlines()[1],
    ]


def test_pdf_text_is_extracted_and_screens_like_the_source() -> None:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs(PROPOSAL_C))
    pdf = weasyprint.HTML(
        string=f'<html><body style=\'font-family: "Noto Sans CJK SC", "Noto Serif CJK SC"\'>{body}</body></html>'
    ).write_pdf()
    assert isinstance(pdf, bytes)

    text = extract_text("技术标.pdf", pdf)

    assert normalise(text) == normalise(PROPOSAL_C)  # wrapped lines and all, the same characters
    documents = {"丁公司": bid("丁公司", text), "戊公司": bid("戊公司", PROPOSAL_C_SECOND)}
    assert [f.rule for f in screen_documents("ZB", None, TENDER, documents, RULES)] == [SIMILAR]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("技术标.txt", "服务方案：七乘二十四小时。".encode()),
        ("技术标.txt", "服务方案：七乘二十四小时。".encode("gb18030")),
    ],
)
def test_plain_text_is_utf8_or_gb18030(name: str, data: bytes) -> None:
    assert extract_text(name, data) == "服务方案：七乘二十四小时。"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("报价表.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
        ("投标函.doc", b"\xd0\xcf\x11\xe0", "unsupported file type '.doc'"),
        ("无扩展名", b"text", "unsupported file type '(none)'"),
        ("技术标.pdf", b"PK\x03\x04 not a pdf", "not a PDF"),
        ("技术标.pdf", b"%PDF-1.7\n garbage", "damaged PDF"),
        ("技术标.docx", b"%PDF-1.7", "not a DOCX"),
        ("技术标.docx", b"PK\x05\x06" + b"\x00" * 18, "damaged DOCX"),
        ("说明.txt", b"abc\x00def", "binary content"),
    ],
)
def test_unreadable_files_are_refused_naming_the_file(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentUnreadable, match=re.escape(reason)) as refused:
        extract_text(name, data)
    assert refused.value.filename == name
    assert name in str(refused.value)


def test_proposal_texts_are_independent() -> None:
    # the fixtures' own premise: proposals written apart share (almost) no 8-character run
    assert jaccard(PROPOSAL_A, PROPOSAL_B) < 0.05
    assert jaccard(PROPOSAL_B, PROPOSAL_C) < 0.05
    assert jaccard(PROPOSAL_A, PROPOSAL_C) < 0.05


# -- shared rare misspellings ---------------------------------------------------------------------

TYPO_A = "六、服务承诺。我公司将再接再励，按步就班地做好本项目运维工作，全部设备布署完成后十日内提交验收报告。\n"
TYPO_B = "（六）其他事项。本单位将一如继往，按步就班推进各项工作，再接再励，平台布署方案详见附件三。\n"


def typo_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == TYPOS]


def test_two_bids_sharing_three_rare_misspellings_are_flagged() -> None:
    documents = {"甲公司": bid("甲公司", PROPOSAL_A + TYPO_A), "乙公司": bid("乙公司", PROPOSAL_B + TYPO_B)}
    findings = screen_documents("ZB-2026-006", None, TENDER, documents, RULES)

    assert [f.rule for f in findings] == [TYPOS]  # the proposals themselves are not alike
    finding = findings[0]
    assert finding.severity is Severity.AMBER
    assert finding.subjects == ("乙公司", "甲公司")
    typos = finding.evidence["typos"]
    assert isinstance(typos, list)
    assert [(t["typo"], t["correct"], t["bids_with_it"]) for t in typos] == [
        ("再接再励", "再接再厉", 2),
        ("布署", "部署", 2),
        ("按步就班", "按部就班", 2),
    ]
    assert "平台布署方案" in typos[1]["a"]
    assert "全部设备布署完成" in typos[1]["b"]
    assert finding.evidence["weight"] == 1.5  # three misspellings, each in two bids: 3 × 1/2
    assert json.loads(json.dumps(finding.evidence)) == finding.evidence


def test_a_misspelling_copied_from_the_tender_does_not_count() -> None:
    tender = TENDER + "\n附注：中标人应于合同签订后完成设备布署。\n"
    documents = {"甲公司": bid("甲公司", PROPOSAL_A + TYPO_A), "乙公司": bid("乙公司", PROPOSAL_B + TYPO_B)}
    assert typo_findings(screen_documents("ZB-2026-006", None, tender, documents, RULES)) == []


def test_a_misspelling_most_bids_make_is_not_rare() -> None:
    documents = {
        "甲公司": bid("甲公司", PROPOSAL_A + TYPO_A),
        "乙公司": bid("乙公司", PROPOSAL_B + TYPO_B),
        "丁公司": bid("丁公司", PROPOSAL_C + "我方将再接再励，持续改进服务质量。\n"),
    }
    # 再接再励 is in all three bids (rare: in at most max(2, 10 % × 3) = 2): two rare ones remain
    assert typo_findings(screen_documents("ZB-2026-006", None, TENDER, documents, RULES)) == []


@pytest.mark.parametrize(
    "documents",
    [{}, {"甲公司": bid("甲公司", PROPOSAL_A)}, {"甲公司": "", "乙公司": ""}],
    ids=["no bids", "one bid", "empty texts"],
)
def test_nothing_to_compare_gives_no_findings(documents: dict[str, str]) -> None:
    assert screen_documents("ZB-2026-007", None, TENDER, documents, RULES) == []


def test_a_missing_threshold_is_named() -> None:
    rules = RuleSet(
        Rule(
            id=r.id,
            version=r.version,
            name=r.name,
            basis=r.basis,
            scope=r.scope,
            severity=r.severity,
            thresholds={k: v for k, v in r.thresholds.items() if k != "lsh_rows"},
        )
        for r in RULES
    )
    with pytest.raises(SimilarityConfigError, match="rule DOC-SIMILAR: threshold 'lsh_rows' is missing"):
        screen_documents("ZB", None, TENDER, {}, rules)
