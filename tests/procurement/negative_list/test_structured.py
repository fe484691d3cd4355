"""Structured checks on a package's numbers, with the path of the part each finding is about."""

from __future__ import annotations

from decimal import Decimal

from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.model import ScoringItem, Severity, StructuredTerms
from procurement.negative_list.structured import check_structured


def found(terms: StructuredTerms) -> dict[str, str]:
    return {f.path: f.rule for f in check_structured(terms, default_rules())}


def terms(**changes: object) -> StructuredTerms:
    base: dict[str, object] = {"path": "packages[1]", "category": "goods", "method": "comprehensive"}
    return StructuredTerms(**{**base, **changes})  # type: ignore[arg-type]


def test_a_clean_package_has_no_finding() -> None:
    assert found(terms(price_weight=Decimal(30), star_items=3, technical_items=40)) == {}


def test_price_weight_minimum_by_category_and_only_for_comprehensive_scoring() -> None:
    assert found(terms(price_weight=Decimal("29.9"))) == {"packages[1].price_weight": "NL-S-PRICE-WEIGHT"}
    assert found(terms(category="services", price_weight=Decimal(10))) == {}
    assert found(terms(category="services", price_weight=Decimal(9))) == {
        "packages[1].price_weight": "NL-S-PRICE-WEIGHT"
    }
    assert found(terms(method="lowest_price", price_weight=Decimal(0))) == {}
    items = (ScoringItem("价格", Decimal(25), "price"), ScoringItem("技术", Decimal(75), "technical"))
    assert found(terms(scoring_items=items)) == {"packages[1].price_weight": "NL-S-PRICE-WEIGHT"}


def test_dropping_prices_and_minimum_price() -> None:
    assert found(terms(price_weight=Decimal(30), drops_highest_lowest_price=True, minimum_price=Decimal(1))) == {
        "packages[1].drops_highest_lowest_price": "NL-S-DROP-PRICE",
        "packages[1].minimum_price": "NL-S-MINIMUM-PRICE",
    }


def test_star_items_over_the_count_or_the_share() -> None:
    assert found(terms(price_weight=Decimal(30), star_items=10, technical_items=50)) == {}
    assert found(terms(price_weight=Decimal(30), star_items=11, technical_items=100)) == {
        "packages[1].star_items": "NL-S-STAR-COUNT"
    }
    assert found(terms(price_weight=Decimal(30), star_items=3, technical_items=14)) == {
        "packages[1].star_items": "NL-S-STAR-COUNT"
    }
    (finding,) = check_structured(terms(star_items=11), [r for r in default_rules() if r.id == "NL-S-STAR-COUNT"])
    assert finding.severity is Severity.WARNING


def test_a_qualification_condition_reused_as_a_scoring_item_is_found_by_its_text() -> None:
    package = terms(
        price_weight=Decimal(30),
        qualification_conditions=(
            "投标人须具有有效的《医疗器械经营许可证》（第三类）",
            "投标人须具有ISO9001质量管理体系认证",
        ),
        scoring_items=(
            ScoringItem("技术方案", Decimal(30), "technical", "方案完整可行的得30分"),
            ScoringItem("资质", Decimal(5), "commercial", "具有第三类医疗器械经营许可证的得5分"),
            ScoringItem("售后", Decimal(10), "service", "2小时内响应的得10分"),
        ),
    )
    assert found(package) == {"packages[1].scoring_items[1]": "NL-S-QUAL-REUSED"}
