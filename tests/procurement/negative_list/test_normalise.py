"""Normalisation keeps offsets into the original text; Chinese numbers and negations are understood."""

from __future__ import annotations

from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.checker import check_text, clauses
from procurement.negative_list.normalise import fold, normalise


def rules_found(text: str) -> set[str]:
    return {finding.rule for finding in check_text(text, default_rules())}


def test_folding_is_one_character_for_one() -> None:
    text = "注册资本不低于５００万元（含），须在ＸＸ市；"
    assert fold(text) == "注册资本不低于500万元(含),须在XX市;"
    assert len(fold(text)) == len(text)


def test_chinese_quantities_are_read_and_mapped_back() -> None:
    norm = normalise("成立三年以上，注册资本五百万元，价格分占百分之二十，一般，统一")
    assert norm.text == "成立3年以上,注册资本5000000元,价格分占20%,一般,统一"
    start = norm.text.index("5000000")
    assert norm.original[slice(*norm.original_span(start, start + 8))] == "五百万元"
    after = norm.text.index("价格分")
    assert norm.original[slice(*norm.original_span(after, after + 3))] == "价格分"


def test_findings_point_into_the_original_text_after_full_width_and_chinese_numbers() -> None:
    text = "一、资格要求：\n投标人须成立三年以上；投标人注册资本不低于五百万元。"
    found = {f.rule: text[f.start : f.end] for f in check_text(text, default_rules())}
    assert found["NL-QUAL-YEARS"] == "投标人须成立三年"
    assert found["NL-QUAL-SIZE"] == "注册资本不低于"
    text = "投标人注册资本不低于５００万元，须具有ＩＳＯ９００１认证。"
    found = {f.rule: text[f.start : f.end] for f in check_text(text, default_rules())}
    assert found["NL-QUAL-NONMANDATORY-CERT"].endswith("ＩＳＯ９００１")


def test_a_percentage_in_chinese_is_read() -> None:
    assert rules_found("投标报价低于最高限价百分之八十的，按无效投标处理。") == {"NL-PRICE-MINIMUM"}
    assert rules_found("投标报价低于最高限价80%的，按无效投标处理。") == {"NL-PRICE-MINIMUM"}


def test_negations_cancel_the_allowed_forms() -> None:
    assert rules_found("不得要求供应商提供制造商授权书。") == set()
    assert rules_found("本项目不限制供应商的所有制形式。") == set()
    assert rules_found("不以注册资本不低于100万元作为资格条件。") == set()
    assert rules_found("无需提供样品。") == set()
    assert rules_found("ISO9001认证不作为资格条件。") == set()
    assert rules_found("本项目不设最低限价。") == set()


def test_a_plain_prohibition_is_still_the_restriction() -> None:
    assert rules_found("外资企业不得参加本项目投标。") == {"NL-QUAL-OWNERSHIP"}
    assert rules_found("投标人须先报名，未报名的不得参加投标。") == {"NL-PROC-REGISTRATION"}


def test_a_negation_covers_its_own_clause_only() -> None:
    text = "不要求提供样品；投标人注册地须在本市。"
    assert rules_found(text) == {"NL-QUAL-REGION"}
    text = "本项目不接受联合体投标，投标人须提供制造商授权书。"
    assert rules_found(text) == {"NL-QUAL-AUTHORISATION"}


def test_clauses_split_on_full_and_half_width_terminators() -> None:
    text = "甲；乙;丙。\n丁！戊?"
    assert [text[s:e] for s, e in clauses(text)] == ["甲；", "乙;", "丙。", "丁！", "戊?"]
