"""Rule sets per tender type and their configuration overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bidding.models import EvaluationMethod, TenderCategory
from bidding.rules import DEFAULT_RULES, TenderRules, UnknownTenderType, check_overrides, rules_for
from trading.kernel.settings import Settings


def with_overrides(overrides: dict[str, dict[str, object]]) -> Settings:
    return Settings(bidding={"rules": overrides})  # type: ignore[arg-type]


def test_mandatory_engineering_follows_the_regulations() -> None:
    rules = rules_for("engineering-mandatory", Settings())
    assert rules.document_days_min == 5
    assert rules.publication_to_deadline_days_min == 20
    assert rules.clarification_days_before_deadline == 15
    assert rules.bid_security_max_ratio == Decimal("0.02")
    assert rules.min_bidders == 3
    assert TenderCategory.ENGINEERING in rules.categories
    assert "实施条例" in rules.legal_edition


def test_procurement_accepts_no_reasonable_low_price_and_needs_guarantees() -> None:
    for tender_type in ("goods", "services"):
        rules = rules_for(tender_type, Settings())
        assert EvaluationMethod.REASONABLE_LOW_PRICE not in rules.evaluation_methods
        assert rules.non_cash_security_required
        assert rules.publication_to_deadline_days_min == 20


def test_every_rule_set_keeps_its_window_defaults_consistent() -> None:
    for key, rules in DEFAULT_RULES.items():
        assert rules.tender_type == key
        assert rules.decryption_window_minutes_default >= rules.decryption_window_minutes_min
        assert rules.max_package_bytes > 0


def test_overrides_apply_per_tender_type() -> None:
    settings = with_overrides(
        {"engineering-mandatory": {"publication_to_deadline_days_min": 25, "bid_security_max_ratio": "0.015"}}
    )
    rules = rules_for("engineering-mandatory", settings)
    assert rules.publication_to_deadline_days_min == 25
    assert rules.bid_security_max_ratio == Decimal("0.015")
    assert rules_for("goods", settings) == DEFAULT_RULES["goods"]


@pytest.mark.parametrize(
    "override",
    [
        {"no_such_rule": 1},
        {"document_days_min": -1},
        {"document_days_min": "five"},
        {"bid_security_max_ratio": "2"},
        {"evaluation_methods": ["coin-toss"]},
        {"decryption_window_minutes_default": 10},
    ],
)
def test_bad_overrides_fail_at_start_up(override: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"rule|must|shorter|not a valid"):
        check_overrides(with_overrides({"goods": override}))


def test_unknown_tender_type() -> None:
    with pytest.raises(UnknownTenderType):
        rules_for("lottery", Settings())
    with pytest.raises(ValueError, match="unknown tender type"):
        check_overrides(with_overrides({"lottery": {"min_bidders": 1}}))


def test_snapshot_round_trips() -> None:
    for rules in DEFAULT_RULES.values():
        assert TenderRules.from_dict(rules.to_dict()) == rules
