"""Rules as data: each area's defaults in ``catalogue/<area>.toml``, each rule with its version.

A rule change is a new version (the stored catalogue keeps every version, and an alert names the
version it was raised by), so the defaults here are only the first version of each rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources

from bidding.integrity.screens.model import Scope, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # stable, e.g. "PRICE-CV"
    version: int
    name: str  # Chinese, as the rule catalogue page shows it
    basis: str  # the legal basis or the literature the rule rests on
    scope: Scope
    severity: Severity  # the severity when the rule fires (a screen may lower it to amber)
    hard: bool = False  # 铁证: never summed into the lot's score
    thresholds: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


class RuleSet:
    """The rules in force, by id. Screens read their thresholds from here, never from constants."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = {rule.id: rule for rule in rules}

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def threshold(self, rule_id: str, name: str) -> float:
        return float(self._rules[rule_id].thresholds[name])

    def in_scope(self, scope: Scope) -> list[Rule]:
        return [rule for rule in self._rules.values() if rule.scope is scope]


def _rule(entry: Mapping[str, object]) -> Rule:
    thresholds = entry.get("thresholds", {})
    if not isinstance(thresholds, Mapping):
        raise TypeError(f"rule {entry.get('id')!r}: thresholds must be a table")
    return Rule(
        id=str(entry["id"]),
        version=int(str(entry.get("version", 1))),
        name=str(entry["name"]),
        basis=str(entry["basis"]),
        scope=Scope(str(entry["scope"])),
        severity=Severity(str(entry["severity"])),
        hard=bool(entry.get("hard", False)),
        thresholds={str(k): float(v) for k, v in thresholds.items()},
        description=str(entry.get("description", "")),
    )


def load_catalogue() -> RuleSet:
    """Every area's default rules (``catalogue/*.toml``, each a list of ``[[rule]]`` tables)."""
    rules: list[Rule] = []
    folder = resources.files("bidding.integrity.screens").joinpath("catalogue")
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".toml"):
            rules.extend(_rule(entry) for entry in tomllib.loads(item.read_text("utf-8")).get("rule", []))
    ids = [rule.id for rule in rules]
    duplicated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicated:
        raise ValueError(f"rule ids defined twice in the catalogue: {', '.join(duplicated)}")
    return RuleSet(rules)
