"""The host starts from settings derived from the tender: its declared method mapped to a method
code of the sector, its criteria (the price one as the price criterion, weights from the points),
and a committee of 5 (7 for GP from 10 million yuan); every default passes the methods' validator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bidding.evaluation.committee.setup import default_settings
from bidding.evaluation.methods.serialise import settings_from_data
from bidding.evaluation.methods.settings import require_settings
from bidding.models import EvaluationMethod, Tender, TenderCategory

CRITERIA = {
    "criteria": [{"name": "投标报价", "weight": 60}, {"name": "技术方案", "weight": 30}, {"name": "信用", "weight": 10}]
}


@pytest.mark.parametrize(
    ("category", "declared", "estimate", "method", "size"),
    [
        (TenderCategory.GOODS, EvaluationMethod.COMPREHENSIVE, "2000000", "gp-comprehensive-scoring", 5),
        (TenderCategory.SERVICES, EvaluationMethod.COMPREHENSIVE, "12000000", "gp-comprehensive-scoring", 7),
        (TenderCategory.GOODS, EvaluationMethod.REASONABLE_LOW_PRICE, "2000000", "gp-lowest-evaluated-price", 5),
        (TenderCategory.ENGINEERING, EvaluationMethod.COMPREHENSIVE, "2000000", "eng-comprehensive-evaluation", 5),
        (
            TenderCategory.ENGINEERING,
            EvaluationMethod.LOWEST_EVALUATED_PRICE,
            "2000000",
            "eng-reviewed-lowest-price",
            5,
        ),
    ],
)
def test_the_default_settings_follow_the_tender_and_pass_the_validator(
    category: TenderCategory, declared: EvaluationMethod, estimate: str, method: str, size: int
) -> None:
    tender = Tender(
        category=category, evaluation_method=declared, evaluation_criteria=CRITERIA, estimate=Decimal(estimate)
    )
    data = default_settings(tender)
    assert data["method"] == method
    assert data["committee"]["size"] == size
    settings = settings_from_data(data)
    require_settings(settings)
    if settings.price_criterion is not None:
        assert settings.price_criterion.code == "投标报价"
        assert settings.price_criterion.weight == Decimal("0.6")
