"""Running the negative-list checker over a requirement: every text field, and the structured
checks per package. The checker (``procurement.negative_list``) is pure; this module hands it the
requirement's text and parts and keeps each finding's field path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from procurement.negative_list import checker
from procurement.negative_list.model import Finding, Rule, ScoringItem, StructuredTerms
from procurement.negative_list.structured import check_structured
from procurement.requirements.content import money, scoring_lines, text_fields
from procurement.requirements.schema import TemplateSpec
from procurement.rule_catalogue.service import active_rules


async def rules_for_check(session: AsyncSession) -> Sequence[Rule]:
    """The rules a check applies now: the procurement office's catalogue as it stands (each rule's
    current version; the shipped catalogue is stored as version 1 on first use). Findings keep the
    version they were found by.
    """
    return await active_rules(session)


@dataclass(frozen=True, slots=True)
class Located:
    """A finding with the field it is in and the clause around it (what the page highlights)."""

    path: str
    finding: Finding
    clause_start: int  # the clause's offsets in the field's text
    clause_end: int

    def fingerprint(self, text: str) -> str:
        """What a justification is attached to: the field, the rule and the clause's words (so it
        survives edits elsewhere, and lapses when the clause itself changes).
        """
        return f"{self.path}|{self.finding.rule}|{text[self.clause_start : self.clause_end].strip()}"


def _clause_of(text: str, start: int) -> tuple[int, int]:
    for clause_start, clause_end in checker.clauses(text):
        if clause_start <= start < clause_end:
            return clause_start, clause_end
    return start, len(text)


def structured_terms(category: str, content: dict[str, Any]) -> list[StructuredTerms]:
    """One ``StructuredTerms`` per package, for the checker's structured checks."""
    terms = []
    for index, package in enumerate(content.get("packages") or []):
        technical = [line.strip() for line in (package.get("technical") or "").splitlines() if line.strip()]
        scoring = scoring_lines(package.get("scoring") or "")
        weight = money(package.get("price_weight"))
        if weight is None:
            price_points = sum((line.points for line in scoring if line.kind == "price"), Decimal(0))
            total = sum((line.points for line in scoring), Decimal(0))
            weight = (price_points * 100 / total).quantize(Decimal("0.01")) if total else None
        terms.append(
            StructuredTerms(
                path=f"packages[{index}]",
                category=category,
                method=package.get("evaluation_method") or "comprehensive",
                price_weight=weight,
                drops_highest_lowest_price=package.get("drops_extreme_prices") == "yes",
                star_items=sum(1 for line in technical if line.startswith(("★", "*"))),
                technical_items=len(technical),
                minimum_price=None,  # the template has no minimum-price field: only 最高限价 exists
                qualification_conditions=tuple(
                    line.strip() for line in (package.get("qualifications") or "").splitlines() if line.strip()
                ),
                scoring_items=tuple(ScoringItem(line.name, line.points, line.kind, line.text) for line in scoring),
            )
        )
    return terms


def run_checks(template: TemplateSpec, content: dict[str, Any], rules: Sequence[Rule]) -> list[Located]:
    """Every finding in the requirement: text rules per field, then the structured checks."""
    located = []
    for path, text in text_fields(template, content):
        for finding in checker.check_text(text, rules):
            start, end = _clause_of(text, finding.start)
            located.append(Located(path, finding, start, end))
    for terms in structured_terms(template.category.value, content):
        located.extend(Located(f.path or terms.path, f, 0, 0) for f in check_structured(terms, rules))
    return located
