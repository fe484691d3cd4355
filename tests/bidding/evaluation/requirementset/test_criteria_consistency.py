"""An evaluation's criteria against the tender's published ones (`criteria_violations`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bidding.evaluation.methods.common import Criterion, CriterionKind, MethodCode, Sector
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.requirementset.service import criteria_violations
from bidding.evaluation.response.requirements import read_requirements

PRICE = Criterion("price", CriterionKind.PRICE, Decimal("0.30"))


def published(*criteria: dict[str, Any]) -> Any:
    doc = {
        "format": "ggzy-requirements/1",
        "tender": "T-1",
        "lot": "L1",
        "sector": "government_procurement",
        "deadline": "2027-03-15T09:30:00+08:00",
        "criteria": list(criteria),
    }
    return read_requirements(json.dumps(doc, ensure_ascii=False))


def settings(*criteria: Criterion) -> MethodSettings:
    return MethodSettings(MethodCode.GP_COMPREHENSIVE, Sector.GOODS, criteria=(PRICE, *criteria))


TECH = {"code": "tech", "name": "技术方案", "minimum": "0", "maximum": "100", "objective": False}
QUALITY = {"code": "quality", "name": "质量认证", "minimum": "0", "maximum": "10", "objective": True}


@pytest.mark.parametrize(
    ("evaluated", "rules"),
    [
        # quality is published but not evaluated (the price criterion needs no publication)
        ((Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.60")),), ["criterion_published"]),
        (
            (
                Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.60")),
                Criterion("quality", CriterionKind.OBJECTIVE, Decimal("0.10")),  # 0-10 points = weight 0.10
            ),
            [],
        ),
        (
            (
                Criterion("tech", CriterionKind.OBJECTIVE, Decimal("0.60")),
                Criterion("quality", CriterionKind.OBJECTIVE, Decimal("0.10"), Decimal(0), Decimal(10)),
            ),
            ["criterion_kind"],
        ),
        (
            (
                Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.60"), Decimal(0), Decimal(50)),
                Criterion("quality", CriterionKind.OBJECTIVE, Decimal("0.20")),
            ),
            ["criterion_range", "criterion_range"],
        ),
        (
            (
                Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.50")),
                Criterion("quality", CriterionKind.OBJECTIVE, Decimal("0.10")),
                Criterion("service", CriterionKind.SUBJECTIVE, Decimal("0.10")),
            ),
            ["criterion_unpublished"],
        ),
    ],
)
def test_criteria_violations(evaluated: tuple[Criterion, ...], rules: list[str]) -> None:
    found = criteria_violations(settings(*evaluated), published(TECH, QUALITY))
    assert [v.rule for v in found] == rules
