"""Every shipped rule finds its positive examples and leaves its negative ones alone."""

from __future__ import annotations

import pytest

from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.checker import check_text
from procurement.negative_list.model import Rule

TEXT_RULES = [rule for rule in default_rules() if rule.patterns]


@pytest.mark.parametrize("rule", TEXT_RULES, ids=lambda rule: rule.id)
def test_rule_has_examples_both_ways(rule: Rule) -> None:
    assert rule.positive_examples, f"{rule.id} has no positive example"
    assert rule.negative_examples, f"{rule.id} has no negative example"


@pytest.mark.parametrize("rule", TEXT_RULES, ids=lambda rule: rule.id)
def test_rule_finds_its_positive_examples(rule: Rule) -> None:
    for sentence in rule.positive_examples:
        found = [f for f in check_text(sentence, [rule]) if f.rule == rule.id]
        assert found, f"{rule.id} missed: {sentence}"
        assert 0 <= found[0].start < found[0].end <= len(sentence)


@pytest.mark.parametrize("rule", TEXT_RULES, ids=lambda rule: rule.id)
def test_rule_leaves_its_negative_examples_alone(rule: Rule) -> None:
    for sentence in rule.negative_examples:
        assert not check_text(sentence, [rule]), f"{rule.id} wrongly found: {sentence}"


def test_a_finding_points_at_the_sentence_inside_a_longer_text() -> None:
    text = "一、项目概况。\n投标人注册地须在本市行政区域内。"
    (finding,) = check_text(text, default_rules())
    assert finding.rule == "NL-QUAL-REGION"
    assert text[finding.start : finding.end].startswith("注册地")
