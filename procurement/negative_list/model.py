"""The checker's plain data: what a rule is and what a finding says.

Rules are data the procurement office edits (a change is a new version), so a rule is a frozen value
with its version, and a finding names the rule *and the version* it was found by: a finding stays
explainable after the rule changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    BLOCKING = "blocking"  # stops publication until fixed, or justified and the justification approved
    WARNING = "warning"  # shown to the purchaser and the reviewer; publication goes on


@dataclass(frozen=True, slots=True)
class Rule:
    """One prohibited item of reference §8, as the checker applies it.

    ``patterns`` are regular expressions over the normalised text (full-width folded, Chinese
    numerals read; ``procurement.negative_list.normalise``); ``negations`` are the allowed forms
    that look like a hit ("不得限制…"), each a regular expression that, matching the same clause,
    cancels the hit. Both may use the checker's shorthands ``{M}`` (a "must" word), ``{C}`` (a
    character inside the clause), ``{S}`` (a character inside the comma-separated segment),
    ``{SCORE}`` (a points award such as 得3分) and ``{REGION}`` (本市, XX省 …); see
    ``checker.MACROS``. ``structured`` names a structured check instead (price weight, ★ items …)
    for rules that are not about wording; such a rule's examples are JSON objects of
    ``StructuredTerms`` (``StructuredTerms.from_dict``).
    """

    id: str  # stable, e.g. "NL-QUAL-REGION"
    name: str  # Chinese, as the catalogue shows it
    basis: str  # the legal basis, e.g. "《政府采购货物和服务招标投标管理办法》第十七条"
    severity: Severity
    suggestion: str  # the suggested fix, in Chinese
    version: int = 1
    patterns: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    structured: str | None = None
    positive_examples: tuple[str, ...] = field(default=())  # sentences the rule must find
    negative_examples: tuple[str, ...] = field(default=())  # sentences it must leave alone
    item: int | None = None  # the prohibited item's number in reference §8
    # Named limits of a structured check (e.g. ("goods", "30")), as decimal strings: thresholds are
    # data, versioned with the rule, never constants in the code.
    thresholds: tuple[tuple[str, str], ...] = ()

    def threshold(self, name: str) -> Decimal:
        """The limit ``name`` of this rule (KeyError if the rule has none by that name)."""
        return Decimal(dict(self.thresholds)[name])


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule found in a text: where (character offsets into the text as given), which rule and version."""

    rule: str
    rule_version: int
    severity: Severity
    start: int
    end: int
    basis: str
    suggestion: str
    # For a structured check, the part of the requirement it is about (e.g. "packages[0].price_weight");
    # empty for a finding in text, which the offsets locate.
    path: str = ""

    def as_json(self) -> dict[str, object]:
        """The shape of ``ggzy procurement check --json`` and of the API."""
        return {
            "rule": self.rule,
            "ruleVersion": self.rule_version,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "basis": self.basis,
            "suggestion": self.suggestion,
            **({"path": self.path} if self.path else {}),
        }


@dataclass(frozen=True, slots=True)
class ScoringItem:
    """One scoring factor of a package (评分项)."""

    name: str
    points: Decimal
    kind: str  # "price" | "technical" | "commercial" | "service" …
    text: str = ""  # the grading as written, checked as text too


@dataclass(frozen=True, slots=True)
class StructuredTerms:
    """What the structured checks read from one package of a requirement or tender document.

    The requirement (``procurement.requirements``) and the tender document both fill it; the
    checker never reads their storage.
    """

    path: str  # where this package sits, e.g. "packages[0]"; findings carry it
    category: str  # "goods" | "services" | "works"
    method: str  # "comprehensive" (综合评分法) | "lowest_price" (最低评标价法)
    price_weight: Decimal | None = None  # percent of the total score
    drops_highest_lowest_price: bool = False
    star_items: int = 0  # ★ substantive parameters
    technical_items: int = 0  # all technical parameters
    minimum_price: Decimal | None = None  # 最低限价 (prohibited); the maximum price is another field
    qualification_conditions: tuple[str, ...] = ()
    scoring_items: tuple[ScoringItem, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StructuredTerms:
        """From the JSON shape (snake_case keys as the fields; decimals as strings or numbers)."""

        def decimal(value: object) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        return cls(
            path=str(data.get("path", "")),
            category=str(data["category"]),
            method=str(data["method"]),
            price_weight=decimal(data.get("price_weight")),
            drops_highest_lowest_price=bool(data.get("drops_highest_lowest_price", False)),
            star_items=int(data.get("star_items", 0)),
            technical_items=int(data.get("technical_items", 0)),
            minimum_price=decimal(data.get("minimum_price")),
            qualification_conditions=tuple(str(c) for c in data.get("qualification_conditions", ())),
            scoring_items=tuple(
                ScoringItem(
                    name=str(item["name"]),
                    points=Decimal(str(item.get("points", 0))),
                    kind=str(item.get("kind", "technical")),
                    text=str(item.get("text", "")),
                )
                for item in data.get("scoring_items", ())
            ),
        )
