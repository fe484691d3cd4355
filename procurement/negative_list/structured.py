"""Structured checks: the prohibited items that show in a package's numbers, not its wording.

Each check is a rule with ``structured="<name>"`` (its limits are the rule's ``thresholds``, data
like the rest of the rule); ``check_structured`` runs the rules' checks on one package's
``StructuredTerms`` and every finding carries the ``path`` of the part it is about (offsets 0, 0).

- ``price_weight`` — 综合评分法 only: the price's share of the total below the category's minimum
  (thresholds ``goods`` 30, ``services`` 10). The share is ``price_weight`` when given, else the
  price scoring items' points over all points.
- ``drops_highest_lowest_price`` — the price score drops the highest and/or lowest price.
- ``star_items`` — more ★ items than ``max_count`` (10) or more than ``max_share`` (20) percent of
  the technical items.
- ``qualification_reused`` — a scoring item repeats a qualification condition: the two texts,
  stripped of the words every such sentence has (投标人, 须, 具有, 得N分 …), share at least
  ``similarity`` (0.7) of the shorter one's character pairs.
- ``minimum_price`` — a minimum price (最低限价) is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from procurement.negative_list.model import Finding, Rule, StructuredTerms
from procurement.negative_list.normalise import normalise

Check = Callable[[StructuredTerms, Rule], Iterator[str]]


def _price_weight(terms: StructuredTerms, rule: Rule) -> Iterator[str]:
    if terms.method != "comprehensive" or terms.category not in dict(rule.thresholds):
        return
    weight = terms.price_weight
    if weight is None:
        total = sum((item.points for item in terms.scoring_items), Decimal(0))
        if not total:
            return
        price = sum((item.points for item in terms.scoring_items if item.kind == "price"), Decimal(0))
        weight = price * 100 / total
    if weight < rule.threshold(terms.category):
        yield f"{terms.path}.price_weight"


def _drops_price(terms: StructuredTerms, _rule: Rule) -> Iterator[str]:
    if terms.drops_highest_lowest_price:
        yield f"{terms.path}.drops_highest_lowest_price"


def _star_items(terms: StructuredTerms, rule: Rule) -> Iterator[str]:
    too_many = terms.star_items > rule.threshold("max_count")
    too_large = (
        terms.technical_items > 0 and terms.star_items * 100 > rule.threshold("max_share") * terms.technical_items
    )
    if too_many or too_large:
        yield f"{terms.path}.star_items"


_COMMON = re.compile(
    r"投标人|供应商|申请人|响应人|必须|须|应当|应|需|具有|具备|拥有|提供|有效的?|合格的?|的|及以上|以上"
    r"|(?:得|加|计)\d+(?:\.\d+)?分|最高\d+(?:\.\d+)?分|每(?:个|项)|[\s,.;:()、。“”《》\"'%-]"
)


def _pairs(text: str) -> set[str]:
    core = _COMMON.sub("", normalise(text).text)
    return {core[i : i + 2] for i in range(len(core) - 1)}


def _qualification_reused(terms: StructuredTerms, rule: Rule) -> Iterator[str]:
    limit = rule.threshold("similarity")
    conditions = [pairs for pairs in map(_pairs, terms.qualification_conditions) if pairs]
    for index, item in enumerate(terms.scoring_items):
        pairs = _pairs(f"{item.name} {item.text}")
        if not pairs:
            continue
        for condition in conditions:
            shared = Decimal(len(pairs & condition)) / min(len(pairs), len(condition))
            if shared >= limit:
                yield f"{terms.path}.scoring_items[{index}]"
                break


def _minimum_price(terms: StructuredTerms, _rule: Rule) -> Iterator[str]:
    if terms.minimum_price is not None:
        yield f"{terms.path}.minimum_price"


CHECKS: dict[str, Check] = {
    "price_weight": _price_weight,
    "drops_highest_lowest_price": _drops_price,
    "star_items": _star_items,
    "qualification_reused": _qualification_reused,
    "minimum_price": _minimum_price,
}


def check_structured(terms: StructuredTerms, rules: Sequence[Rule]) -> list[Finding]:
    """The structured rules' findings on one package, each with the ``path`` it is about.

    A rule naming a check this version does not know is skipped (an older checker reading a newer
    catalogue); ``catalogue.rule_errors`` refuses such a rule when it is edited.
    """
    findings: list[Finding] = []
    for rule in rules:
        check = CHECKS.get(rule.structured) if rule.structured else None
        if check is None:
            continue
        findings.extend(
            Finding(
                rule=rule.id,
                rule_version=rule.version,
                severity=rule.severity,
                start=0,
                end=0,
                basis=rule.basis,
                suggestion=rule.suggestion,
                path=path,
            )
            for path in check(terms, rule)
        )
    return findings
