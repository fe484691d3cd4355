"""Every shipped rule finds its positive examples and leaves its negative ones alone."""

from __future__ import annotations

import json
import tomllib

import pytest

from procurement.negative_list.catalogue import (
    CATALOGUE,
    default_rules,
    load_rules,
    rule_as_dict,
    rule_errors,
    rule_from_dict,
)
from procurement.negative_list.checker import check_text
from procurement.negative_list.model import Rule, StructuredTerms
from procurement.negative_list.structured import check_structured

TEXT_RULES = [rule for rule in default_rules() if rule.patterns]
STRUCTURED_RULES = [rule for rule in default_rules() if rule.structured]


@pytest.mark.parametrize("rule", default_rules(), ids=lambda rule: rule.id)
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


@pytest.mark.parametrize("rule", STRUCTURED_RULES, ids=lambda rule: rule.id)
def test_structured_rule_finds_its_positive_and_leaves_its_negative_examples(rule: Rule) -> None:
    for example in rule.positive_examples:
        (finding,) = check_structured(StructuredTerms.from_dict(json.loads(example)), [rule])
        assert finding.rule == rule.id
        assert finding.path.startswith("packages[0].")
    for example in rule.negative_examples:
        assert not check_structured(StructuredTerms.from_dict(json.loads(example)), [rule]), example


@pytest.mark.parametrize("rule", default_rules(), ids=lambda rule: rule.id)
def test_every_shipped_rule_is_sound_as_the_editor_checks_it(rule: Rule) -> None:
    assert rule_errors(rule) == []


def test_the_catalogue_covers_every_item_wording_or_structure_can_show() -> None:
    rules = default_rules()
    assert len({rule.id for rule in rules}) == len(rules), "rule ids are unique"
    # §8.2–8.5 are items 3–31; 13 (a grade beyond the project's needs) needs the project, not the text.
    assert {rule.item for rule in rules} == set(range(3, 32)) - {13}
    assert all(rule.version == 1 and rule.basis and rule.suggestion for rule in rules)


def test_rules_round_trip_through_their_data() -> None:
    for rule in default_rules():
        assert rule_from_dict(json.loads(json.dumps(rule_as_dict(rule)))) == rule
    with CATALOGUE.open("rb") as handle:
        assert len(tomllib.load(handle)["rule"]) == len(load_rules())


def test_an_edited_rule_with_a_broken_pattern_or_a_failing_example_is_refused() -> None:
    (region,) = [rule for rule in default_rules() if rule.id == "NL-QUAL-REGION"]
    broken = rule_from_dict({**rule_as_dict(region), "patterns": ["注册地(须"], "version": 2})
    assert any("正则表达式无效" in error for error in rule_errors(broken))
    too_narrow = rule_from_dict({**rule_as_dict(region), "patterns": ["总部须在北京"], "version": 2})
    assert any(error.startswith("正例未被发现") for error in rule_errors(too_narrow))
    too_wide = rule_from_dict({**rule_as_dict(region), "patterns": ["在"], "negations": [], "version": 2})
    assert any(error.startswith("反例被误报") for error in rule_errors(too_wide))
    unknown = rule_from_dict({**rule_as_dict(STRUCTURED_RULES[0]), "structured": "nothing"})
    assert rule_errors(unknown) == ["structured: 未知的结构化检查「nothing」"]


def test_a_finding_names_the_version_of_the_rule_it_was_found_by() -> None:
    (region,) = [rule for rule in default_rules() if rule.id == "NL-QUAL-REGION"]
    edited = rule_from_dict({**rule_as_dict(region), "version": 3})
    (finding,) = check_text("投标人注册地须在本市行政区域内。", [edited])
    assert finding.rule_version == 3
    assert finding.as_json()["ruleVersion"] == 3


def test_a_finding_points_at_the_sentence_inside_a_longer_text() -> None:
    text = "一、项目概况。\n投标人注册地须在本市行政区域内。"
    (finding,) = check_text(text, default_rules())
    assert finding.rule == "NL-QUAL-REGION"
    assert text[finding.start : finding.end].startswith("注册地")
