"""The requirement set a tender publishes beside its documents: ``ggzy-requirements/1``.

Qualification requirements (pass/fail: a kind of licence or certificate, a minimum grade or value,
valid at the bid deadline), ★ items (实质性要求: a bid that does not meet one is rejected), scoring
criteria (a range, objective or subjective, and for an objective one optionally the rule that
computes it from the response: `ObjectiveRule`), and for engineering the bill of quantities
(工程量清单: code, description, unit, quantity; `bill_import` reads it from Excel).

Qualification conditions may not be scoring factors (87号令 Art. 55; negative list §8 #25): a
criterion's rule reads only the response's ``evidence`` claimed for that criterion, never the
qualification claims.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from bidding.evaluation.response.reading import MONEY_PLACES, QUANTITY_PLACES, Checks, decode, read_versioned
from bidding.evaluation.response.types import Code, Grade, Name, Points, Quantity, Text, Unit

FORMAT_V1 = "ggzy-requirements/1"

QualificationKind = Literal["business-licence", "enterprise-qualification", "safety-licence", "personnel", "other"]
"""营业执照, 企业资质 (e.g. 建筑工程施工总承包), 安全生产许可证, 人员注册证书 (e.g. 一级建造师), other."""


class _Doc(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    pass


class QualificationRequirement(_Doc):
    code: Code
    kind: QualificationKind
    name: Name
    minimum_grade: Grade | None = None
    """The lowest acceptable grade: a claim meets it when its grade number is ≤ this (一级 meets 二级)."""
    minimum_value: Points | None = None
    """A minimum value the claim must state (e.g. a count of registered personnel); not a size condition (§8 #5)."""
    valid_at_deadline: bool = True
    """The certificate must be valid on the day of the bid deadline."""


class StarItem(_Doc):
    code: Code
    text: Text


class GradeBand(_Doc):
    grade_at_most: Grade
    points: Points


class ValueBand(_Doc):
    at_least: Points
    points: Points


class Present(_Doc, tag_field="rule", tag="present"):
    """``points`` when the response claims valid evidence for the criterion, else the minimum."""

    points: Points


class PerClaim(_Doc, tag_field="rule", tag="per-claim"):
    """``points`` for each valid claim (e.g. each similar contract), at most the criterion's maximum."""

    points: Points


class GradeBands(_Doc, tag_field="rule", tag="grade-bands"):
    """The points of the first band whose ``gradeAtMost`` the best valid claim's grade meets."""

    bands: list[GradeBand]


class ValueBands(_Doc, tag_field="rule", tag="value-bands"):
    """The points of the highest band whose ``atLeast`` the best valid claim's value reaches."""

    bands: list[ValueBand]


ObjectiveRule = Present | PerClaim | GradeBands | ValueBands


class ScoringCriterion(_Doc):
    code: Code
    name: Name
    minimum: Points
    maximum: Points
    objective: bool
    rule: ObjectiveRule | None = None


class BillItem(_Doc):
    """One line of the bill of quantities (工程量清单): bidders price it and may not change it."""

    code: Code
    description: Name
    unit: Unit
    quantity: Quantity


class RequirementSetV1(_Doc):
    format: Literal["ggzy-requirements/1"]
    tender: Code
    lot: Code
    sector: Literal["engineering", "government_procurement"]
    deadline: datetime
    """The bid deadline (with its zone): qualifications must be valid then, credit facts are judged then."""
    qualifications: list[QualificationRequirement] = msgspec.field(default_factory=list)
    star_items: list[StarItem] = msgspec.field(default_factory=list)
    criteria: list[ScoringCriterion] = msgspec.field(default_factory=list)
    bill: list[BillItem] = msgspec.field(default_factory=list)


RequirementSet = RequirementSetV1
"""The newest version; readers of every version stay in `READERS`."""


def _check_v1(doc: RequirementSetV1) -> None:
    checks = Checks()
    if doc.deadline.tzinfo is None:
        checks.fail("$.deadline", "timezone", "the deadline needs its time zone")
    checks.unique("$.qualifications", (q.code for q in doc.qualifications), "code")
    checks.unique("$.starItems", (s.code for s in doc.star_items), "code")
    checks.unique("$.criteria", (c.code for c in doc.criteria), "code")
    checks.unique("$.bill", (b.code for b in doc.bill), "code")
    for i, requirement in enumerate(doc.qualifications):
        if requirement.minimum_value is not None:
            checks.decimal(f"$.qualifications[{i}].minimumValue", requirement.minimum_value, places=MONEY_PLACES)
    _check_criteria(checks, doc.criteria)
    for i, item in enumerate(doc.bill):
        checks.decimal(f"$.bill[{i}].quantity", item.quantity, places=QUANTITY_PLACES, positive=True)
    checks.raise_if_any()


def _check_criteria(checks: Checks, criteria: list[ScoringCriterion]) -> None:
    for i, criterion in enumerate(criteria):
        at = f"$.criteria[{i}]"
        checks.decimal(f"{at}.minimum", criterion.minimum, places=MONEY_PLACES)
        checks.decimal(f"{at}.maximum", criterion.maximum, places=MONEY_PLACES)
        if criterion.minimum > criterion.maximum:
            checks.fail(f"{at}.maximum", "range", "the maximum is below the minimum")
        if criterion.rule is not None:
            if not criterion.objective:
                checks.fail(f"{at}.rule", "objective-only", "only an objective criterion is computed by a rule")
            for where, points in _rule_points(criterion.rule):
                if not criterion.minimum <= points <= criterion.maximum:
                    checks.fail(f"{at}.rule{where}", "within-range", "points outside the criterion's range")


def _rule_points(rule: ObjectiveRule) -> list[tuple[str, Decimal]]:
    if isinstance(rule, GradeBands):
        return [(f".bands[{i}].points", band.points) for i, band in enumerate(rule.bands)]
    if isinstance(rule, ValueBands):
        return [(f".bands[{i}].points", value.points) for i, value in enumerate(rule.bands)]
    return [(".points", rule.points)]


def read_v1(data: bytes | str) -> RequirementSetV1:
    doc = decode(data, RequirementSetV1)
    _check_v1(doc)
    return doc


READERS: dict[str, Callable[[bytes | str], RequirementSet]] = {FORMAT_V1: read_v1}


def read_requirements(data: bytes | str) -> RequirementSet:
    """A requirement set of any known version, checked; `FormatError` (path, rule) otherwise."""
    return read_versioned(data, READERS, "requirement set")


def requirements_schema() -> dict[str, object]:
    """The JSON Schema of the current version (published with the tender)."""
    schema = msgspec.json.schema(RequirementSetV1)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:ggzy:{FORMAT_V1}", **schema}
