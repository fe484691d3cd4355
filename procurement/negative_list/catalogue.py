"""The catalogue the platform ships: the prohibited items of reference §8 as rules, kept as data.

The rules live in ``catalogue.toml`` next to this module (the first edition the procurement office
starts from; ``procurement.rule_catalogue`` stores it as version 1 and every edit as a new version).
This module reads that data into ``Rule`` values and back (``rule_from_dict`` / ``rule_as_dict``,
the shape an editor or a database row holds) and says what is wrong with an edited rule
(``rule_errors``); the command line uses ``default_rules()`` as it is.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from procurement.negative_list.checker import check_text, compiled
from procurement.negative_list.model import Rule, Severity, StructuredTerms
from procurement.negative_list.structured import CHECKS, check_structured

CATALOGUE = Path(__file__).with_name("catalogue.toml")


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """A rule from its data (the TOML table's keys; lists for the tuples)."""
    return Rule(
        id=str(data["id"]),
        name=str(data["name"]),
        basis=str(data["basis"]),
        severity=Severity(data["severity"]),
        suggestion=str(data["suggestion"]),
        version=int(data.get("version", 1)),
        patterns=tuple(str(p) for p in data.get("patterns", ())),
        negations=tuple(str(n) for n in data.get("negations", ())),
        structured=str(data["structured"]) if data.get("structured") else None,
        positive_examples=tuple(str(e) for e in data.get("positive_examples", ())),
        negative_examples=tuple(str(e) for e in data.get("negative_examples", ())),
        item=int(data["item"]) if data.get("item") is not None else None,
        thresholds=tuple((str(name), str(value)) for name, value in data.get("thresholds", ())),
    )


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    """The data of ``rule`` (JSON- and TOML-ready; ``rule_from_dict`` reads it back)."""
    data: dict[str, Any] = {
        "id": rule.id,
        "item": rule.item,
        "name": rule.name,
        "basis": rule.basis,
        "severity": rule.severity.value,
        "suggestion": rule.suggestion,
        "version": rule.version,
        "patterns": list(rule.patterns),
        "negations": list(rule.negations),
        "structured": rule.structured,
        "thresholds": [list(pair) for pair in rule.thresholds],
        "positive_examples": list(rule.positive_examples),
        "negative_examples": list(rule.negative_examples),
    }
    return {key: value for key, value in data.items() if value is not None}


def load_rules(path: Path = CATALOGUE) -> tuple[Rule, ...]:
    """The rules of a catalogue file (``catalogue.toml``'s shape)."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(rule_from_dict(entry) for entry in data.get("rule", ()))


@cache
def default_rules() -> tuple[Rule, ...]:
    """The shipped catalogue, version 1 of every rule."""
    return load_rules()


def _example_errors(rule: Rule, finds: Callable[[str], bool]) -> list[str]:
    errors = [f"正例未被发现：{example}" for example in rule.positive_examples if not finds(example)]
    return errors + [f"反例被误报：{example}" for example in rule.negative_examples if finds(example)]


def _structured_finds(rule: Rule) -> Callable[[str], bool]:
    def finds(example: str) -> bool:
        try:
            terms = StructuredTerms.from_dict(json.loads(example))
        except (ValueError, KeyError, TypeError) as exc:
            raise _BadExample(f"示例不是有效的结构化条款（JSON）：{exc}") from exc
        return bool(check_structured(terms, [rule]))

    return finds


class _BadExample(ValueError):
    pass


def rule_errors(rule: Rule) -> list[str]:
    """What is wrong with ``rule`` as an editor would save it, in Chinese; empty when it is sound.

    Every pattern and negation compiles; a text rule finds each positive example and leaves each
    negative one alone; a structured rule names a known check, its examples are StructuredTerms
    JSON, and it finds / leaves them likewise; every rule has at least one example each way.
    """
    errors: list[str] = []
    if not rule.positive_examples or not rule.negative_examples:
        errors.append("至少需要一个正例和一个反例")
    for field, expressions in (("patterns", rule.patterns), ("negations", rule.negations)):
        for expression in expressions:
            try:
                compiled(expression)
            except re.error as exc:
                errors.append(f"{field}: 正则表达式无效「{expression}」：{exc}")
    if errors:
        return errors
    if rule.structured is not None:
        if rule.structured not in CHECKS:
            return [f"structured: 未知的结构化检查「{rule.structured}」"]
        try:
            return _example_errors(rule, _structured_finds(rule))
        except _BadExample as exc:
            return [str(exc)]
    if not rule.patterns:
        return ["文字规则至少需要一个正则表达式（或改为结构化检查）"]
    return _example_errors(rule, lambda example: bool(check_text(example, [rule])))
