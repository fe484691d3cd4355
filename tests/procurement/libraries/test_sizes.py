"""The SME size classes of 工信部联企业〔2011〕300号, from the threshold table shipped as data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procurement.libraries.sizes import SizeClass, classify, industries, industry_of, missing_measures


@pytest.mark.parametrize(
    ("industry", "figures", "expected"),
    [
        ("工业", {"employees": 1000, "revenue": 40000}, SizeClass.LARGE),
        ("工业", {"employees": 999, "revenue": 90000}, SizeClass.MEDIUM),  # below one ceiling: an SME
        ("工业", {"employees": 300, "revenue": 2000}, SizeClass.MEDIUM),
        ("工业", {"employees": 300, "revenue": 1999}, SizeClass.SMALL),
        ("工业", {"employees": 19, "revenue": 5000}, SizeClass.MICRO),
        ("软件和信息技术服务业", {"employees": 10, "revenue": 50}, SizeClass.SMALL),
        ("软件和信息技术服务业", {"employees": 9, "revenue": 500}, SizeClass.MICRO),
        ("建筑业", {"revenue": 6000, "assets": 5000}, SizeClass.MEDIUM),
        ("零售业", {"employees": 10, "revenue": 100}, SizeClass.SMALL),
        ("农、林、牧、渔业", {"revenue": 49}, SizeClass.MICRO),
        ("租赁和商务服务业", {"employees": 100, "assets": 8000}, SizeClass.MEDIUM),
        ("其他未列明行业", {"employees": 300}, SizeClass.LARGE),
    ],
)
def test_classify_follows_the_thresholds(industry: str, figures: dict[str, int], expected: SizeClass) -> None:
    found = industry_of(industry)
    assert found is not None
    assert classify(found, {key: Decimal(value) for key, value in figures.items()}) is expected


def test_the_table_covers_the_industries_and_names_missing_figures() -> None:
    assert len(industries()) >= 10
    construction = industry_of("construction")
    assert construction is not None
    assert missing_measures(construction, {"revenue": Decimal(1)}) == ["assets"]
    with pytest.raises(ValueError, match="assets"):
        classify(construction, {"revenue": Decimal(1)})
