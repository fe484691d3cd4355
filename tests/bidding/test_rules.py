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


def test_opening_sign_in_and_confirmation_minutes_are_configurable_rules() -> None:
    """Issue 21 item 6: the opening's stage lengths are tender rules, not "unknown tender rule(s)"."""
    settings = with_overrides({"goods": {"opening_sign_in_minutes": 20, "opening_confirmation_minutes": 45}})
    check_overrides(settings)
    rules = rules_for("goods", settings)
    assert (rules.opening_sign_in_minutes, rules.opening_confirmation_minutes) == (20, 45)
    snapshot = rules.to_dict()
    assert snapshot["opening_sign_in_minutes"] == 20
    assert snapshot["opening_confirmation_minutes"] == 45
    # A snapshot published before these rules existed reads back with the defaults.
    del snapshot["opening_sign_in_minutes"], snapshot["opening_confirmation_minutes"]
    assert TenderRules.from_dict(snapshot).opening_confirmation_minutes == 30
    with pytest.raises(ValueError, match="opening_confirmation_minutes must be at least 1"):
        check_overrides(with_overrides({"goods": {"opening_confirmation_minutes": 0}}))


def test_a_bad_bidding_rules_override_stops_the_application_start() -> None:
    """Issue 21 item 6: a bad ``GGZY_BIDDING_RULES`` key fails when the app is built, naming it."""
    from trading.server.app import create_app

    with pytest.raises(ValueError, match=r"GGZY_BIDDING_RULES\['goods'\]: unknown tender rule\(s\): no_such_rule"):
        create_app(with_overrides({"goods": {"no_such_rule": 1}}))


def test_the_settings_docstring_names_a_real_rule() -> None:
    """Issue 21 item 6: the documented example override is one the rules accept."""
    import inspect
    import json
    import re

    from trading.kernel.settings import BiddingSettings

    source = inspect.getsource(BiddingSettings)
    example = re.search(r"rules: .*?``(\{.*?\})``", source, re.DOTALL)
    assert example is not None
    check_overrides(with_overrides(json.loads(example.group(1))))
