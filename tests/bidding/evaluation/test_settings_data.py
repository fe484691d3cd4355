"""Method settings to and from JSON-ready data: round trip and refusals naming the field."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bidding.evaluation.methods.common import EvaluationRefused, MethodCode, Sector
from bidding.evaluation.methods.serialise import settings_from_data, settings_to_data
from bidding.evaluation.methods.settings import MethodSettings, check_settings, required_coefficients

DATA = {
    "method": "eng-comprehensive-evaluation",
    "sector": "engineering",
    "criteria": [
        {"code": "price", "kind": "price", "weight": "0.6", "low": "0", "high": "100"},
        {"code": "tech", "kind": "subjective", "weight": "0.4", "low": "0", "high": "100"},
    ],
    "price_base": "F1",
    "drop_highest_price": False,
    "drop_lowest_price": False,
    "trim_expert_scores": True,
    "coefficients": {"float": "-0.05"},
    "given_base": None,
    "adjustments": [],
    "candidates": 3,
    "recommend": 3,
    "committee": {
        "size": 7,
        "representatives": 2,
        "specialties": {"A01": 5},
        "reserves": 2,
        "budget_yuan": "20000000",
        "complex_project": False,
        "high_impact": False,
    },
}


def test_round_trip_through_json() -> None:
    settings = settings_from_data(json.loads(json.dumps(DATA)))
    assert settings.coefficients == {"float": Decimal("-0.05")}
    assert settings.committee is not None
    assert settings.committee.experts == 5
    assert check_settings(settings) == []
    assert settings_to_data(settings) == DATA


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"criteria": [{"code": "p", "kind": "price", "weight": 0.3}]}, "criteria[0].weight", "decimal_string"),
        ({"criteria": [{"code": "p", "kind": "bonus", "weight": "1"}]}, "criteria[0].kind", "choice"),
        ({"criteria": [{"code": "p", "weight": "1"}]}, "criteria[0].kind", "required"),
        ({"method": "best-guess"}, "method", "choice"),
        ({"surprise": 1}, "surprise", "unknown_field"),
        ({"candidates": "3"}, "candidates", "integer"),
        ({"trim_expert_scores": 1}, "trim_expert_scores", "boolean"),
        ({"coefficients": {"float": "lots"}}, "coefficients.float", "decimal_string"),
        ({"committee": {"size": 7, "seats": 3}}, "committee.seats", "unknown_field"),
        ({"committee": {"representatives": 1}}, "committee.size", "required"),
    ],
)
def test_bad_data_refused_naming_the_field(change: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(EvaluationRefused) as caught:
        settings_from_data({**DATA, **change})
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_required_coefficients_for_the_hall() -> None:
    f4 = settings_from_data({**DATA, "price_base": "F4", "coefficients": {}})
    (spec,) = required_coefficients(f4)
    assert spec.name == "K"
    assert spec.values()[0] == Decimal("0.90")
    assert required_coefficients(settings_from_data({**DATA, "price_base": "F2", "coefficients": {}})) == ()
    assert required_coefficients(MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.GOODS)) == ()
