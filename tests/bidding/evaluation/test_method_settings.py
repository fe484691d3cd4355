"""The method-settings and committee-spec validators: each refusal names its field and rule."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bidding.evaluation.methods.common import Criterion, CriterionKind, EvaluationRefused, MethodCode, Sector
from bidding.evaluation.methods.settings import (
    CommitteeSpec,
    MethodSettings,
    check_committee,
    check_settings,
    require_committee,
    require_settings,
)


def gp(sector: Sector = Sector.GOODS, price_weight: str = "0.30", **kwargs: object) -> MethodSettings:
    rest = Decimal(1) - Decimal(price_weight)
    criteria = (
        Criterion("price", CriterionKind.PRICE, Decimal(price_weight)),
        Criterion("tech", CriterionKind.SUBJECTIVE, rest),
    )
    return replace(MethodSettings(MethodCode.GP_COMPREHENSIVE, sector, criteria=criteria), **kwargs)


def eng(**kwargs: object) -> MethodSettings:
    criteria = (
        Criterion("price", CriterionKind.PRICE, Decimal("0.6")),
        Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.4")),
    )
    settings = MethodSettings(MethodCode.ENG_COMPREHENSIVE, Sector.ENGINEERING, criteria=criteria, price_base="F1")
    return replace(settings, **kwargs)


def rules(settings: MethodSettings) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in check_settings(settings)]


@pytest.mark.parametrize(
    "settings",
    [
        gp(Sector.GOODS, "0.30"),  # exactly the goods floor (87号令 Art. 55)
        gp(Sector.SERVICES, "0.10"),  # exactly the services floor
        eng(),
        eng(price_base="F4", coefficients={"K": Decimal("0.95")}),
        eng(
            price_base="F2",
            criteria=(
                Criterion("price", CriterionKind.PRICE, Decimal("0.6"), Decimal(0), Decimal(60)),
                Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.4")),
            ),
        ),
        MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.SERVICES),
        MethodSettings(MethodCode.ENG_LOWEST_PRICE, Sector.ENGINEERING, adjustments=("duration",)),
        MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING, recommend=5),
    ],
)
def test_valid_settings_pass(settings: MethodSettings) -> None:
    assert check_settings(settings) == []
    require_settings(settings)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # GP price weight floors (87号令 Art. 55): 29 % goods, 9 % services
        (gp(Sector.GOODS, "0.29"), ("criteria[0].weight", "gp_price_weight_goods")),
        (gp(Sector.SERVICES, "0.09"), ("criteria[0].weight", "gp_price_weight_services")),
        # never drop the highest or the lowest price in GP
        (gp(drop_highest_price=True), ("drop_highest_price", "gp_no_price_drop")),
        (gp(drop_lowest_price=True), ("drop_lowest_price", "gp_no_price_drop")),
        # the GP base is the lowest price, not an engineering preset (F1 drops prices from n = 6)
        (gp(price_base="F1"), ("price_base", "gp_price_base_lowest")),
        (gp(trim_expert_scores=True), ("trim_expert_scores", "gp_expert_scores_mean")),
        (
            MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.GOODS, adjustments=("duration",)),
            ("adjustments", "gp_no_price_adjustment"),
        ),
        (eng(drop_lowest_price=True), ("drop_lowest_price", "price_drop_preset_decides")),
        (eng(price_base="lowest"), ("price_base", "price_base_preset")),
        (eng(given_base=Decimal(100)), ("given_base", "given_base_f3_only")),
        (
            MethodSettings(MethodCode.ENG_LOWEST_PRICE, Sector.ENGINEERING, price_base="F1"),
            ("price_base", "price_base_unused"),
        ),
        # F2 scores over [0, 60], the price criterion says [0, 100]
        (eng(price_base="F2"), ("criteria[0].high", "price_range_preset")),
        (
            gp(
                criteria=(
                    Criterion("price", CriterionKind.PRICE, Decimal("0.3"), Decimal(0), Decimal(90)),
                    Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.7")),
                )
            ),
            ("criteria[0].high", "price_range_full"),
        ),
        # weights 0.30 + 0.69 = 0.99
        (
            gp(
                criteria=(
                    Criterion("price", CriterionKind.PRICE, Decimal("0.30")),
                    Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.69")),
                )
            ),
            ("criteria", "weights_sum_to_one"),
        ),
        (
            gp(
                criteria=(
                    Criterion("price", CriterionKind.PRICE, Decimal("0.3")),
                    Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.7"), Decimal(60), Decimal(40)),
                )
            ),
            ("criteria[1].low", "range_inverted"),
        ),
        (
            gp(
                criteria=(
                    Criterion("price", CriterionKind.PRICE, Decimal("0.3")),
                    Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.7"), Decimal(0), Decimal(120)),
                )
            ),
            ("criteria[1].high", "range_bounds"),
        ),
        (
            gp(
                criteria=(
                    Criterion("price", CriterionKind.PRICE, Decimal("0.3")),
                    Criterion("price", CriterionKind.SUBJECTIVE, Decimal("0.7")),
                )
            ),
            ("criteria[1].code", "criterion_code_unique"),
        ),
        (gp(criteria=(Criterion("t", CriterionKind.SUBJECTIVE, Decimal(1)),)), ("criteria", "price_criterion_count")),
        # coefficients: out of range, off the grid, one the preset does not take
        (eng(coefficients={"float": Decimal("0.06")}), ("coefficients.float", "coefficient_range")),
        (eng(coefficients={"float": Decimal("0.003")}), ("coefficients.float", "coefficient_range")),
        (eng(price_base="F4", coefficients={"K": Decimal("0.89")}), ("coefficients.K", "coefficient_range")),
        (eng(coefficients={"K": Decimal("0.95")}), ("coefficients.K", "coefficient_unknown")),
        (
            gp(criteria=(Criterion("price", CriterionKind.PRICE, Decimal(1)),)),
            ("criteria", "scored_criterion_required"),
        ),
        (gp(candidates=4), ("candidates", "candidates_count")),  # 12号令 Art. 45: 1-3
        (gp(candidates=0), ("candidates", "candidates_count")),
        (MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING, recommend=2), ("recommend", "recommend_count")),
        (replace(eng(), sector=Sector.GOODS), ("method", "method_sector")),
    ],
)
def test_refusals_name_field_and_rule(settings: MethodSettings, expected: tuple[str, str]) -> None:
    assert expected in rules(settings)
    with pytest.raises(EvaluationRefused) as caught:
        require_settings(settings)
    assert expected in [(e["field"], e["rule"]) for e in caught.value.extra["errors"]]
    assert caught.value.status_code == 422


def test_every_broken_rule_is_listed_at_once() -> None:
    settings = gp(Sector.GOODS, "0.20", drop_highest_price=True, candidates=5)
    assert rules(settings) == [
        ("drop_highest_price", "gp_no_price_drop"),
        ("criteria[0].weight", "gp_price_weight_goods"),
        ("candidates", "candidates_count"),
    ]
    with pytest.raises(EvaluationRefused) as caught:
        require_settings(settings)
    problem = caught.value.problem()
    assert problem["status"] == 422
    assert [e["rule"] for e in problem["errors"]] == ["gp_no_price_drop", "gp_price_weight_goods", "candidates_count"]


def committee_rules(spec: CommitteeSpec, sector: Sector = Sector.GOODS) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in check_committee(spec, sector)]


@pytest.mark.parametrize(
    ("spec", "sector"),
    [
        (CommitteeSpec(5), Sector.GOODS),
        (CommitteeSpec(5, representatives=1), Sector.ENGINEERING),  # 4 experts of 5: 12 ≥ 10
        (CommitteeSpec(9, representatives=3), Sector.ENGINEERING),  # 6 of 9: exactly 2/3
        (CommitteeSpec(7, budget_yuan=Decimal(10000000)), Sector.GOODS),  # ≥ 7 from 10 million
        (CommitteeSpec(5, budget_yuan=Decimal("9999999.99")), Sector.SERVICES),
        (CommitteeSpec(5, budget_yuan=Decimal(50000000)), Sector.ENGINEERING),  # the ≥ 7 rule is GP's
        (CommitteeSpec(7, representatives=2, specialties={"A01": 3, "B02": 2}, reserves=2), Sector.GOODS),
    ],
)
def test_valid_committees_pass(spec: CommitteeSpec, sector: Sector) -> None:
    assert check_committee(spec, sector) == []
    require_committee(spec, sector)


@pytest.mark.parametrize(
    ("spec", "sector", "expected"),
    [
        (
            CommitteeSpec(4),
            Sector.GOODS,
            [("committee.size", "committee_size_min"), ("committee.size", "committee_size_odd")],
        ),
        (CommitteeSpec(3), Sector.ENGINEERING, [("committee.size", "committee_size_min")]),
        (CommitteeSpec(6), Sector.ENGINEERING, [("committee.size", "committee_size_odd")]),
        (CommitteeSpec(101), Sector.ENGINEERING, [("committee.size", "committee_size_max")]),
        # GP, 10 million yuan exactly: ≥ 7 members (87号令 Art. 47)
        (
            CommitteeSpec(5, budget_yuan=Decimal(10000000)),
            Sector.GOODS,
            [("committee.size", "committee_size_gp_large")],
        ),
        (CommitteeSpec(5, complex_project=True), Sector.SERVICES, [("committee.size", "committee_size_gp_large")]),
        (CommitteeSpec(5, high_impact=True), Sector.GOODS, [("committee.size", "committee_size_gp_large")]),
        # 7 members with 3 representatives: 4 experts, 4·3 = 12 < 7·2 = 14
        (
            CommitteeSpec(7, representatives=3),
            Sector.ENGINEERING,
            [("committee.representatives", "committee_experts_two_thirds")],
        ),
        (CommitteeSpec(5, representatives=6), Sector.GOODS, [("committee.representatives", "representatives_range")]),
        (
            CommitteeSpec(5, specialties={"A01": 3, "B02": 1}),
            Sector.GOODS,
            [("committee.specialties", "specialties_sum")],
        ),
        (
            CommitteeSpec(5, specialties={"A01": 5, "B02": 0}),
            Sector.GOODS,
            [("committee.specialties.B02", "specialty_count_positive")],
        ),
        (CommitteeSpec(5, reserves=-1), Sector.GOODS, [("committee.reserves", "reserves_range")]),
    ],
)
def test_committee_refusals(spec: CommitteeSpec, sector: Sector, expected: list[tuple[str, str]]) -> None:
    assert committee_rules(spec, sector) == expected
    with pytest.raises(EvaluationRefused) as caught:
        require_committee(spec, sector)
    assert (caught.value.field, caught.value.rule) == expected[0]


def test_settings_carry_the_committee_rules() -> None:
    settings = gp(committee=CommitteeSpec(5, budget_yuan=Decimal(12000000)))
    assert rules(settings) == [("committee.size", "committee_size_gp_large")]
