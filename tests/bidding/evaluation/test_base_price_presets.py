"""The base-price presets F1-F4 (domain-rules §4.5) with worked numbers, n = 3, 5, 6, 7.

Every expected number is computed by hand in the comment next to it, never by the code under
test. Prices are in yuan; B is rounded half up to 0.01 yuan, scores half up to 0.01.
Score form: full - 100·k·|P - B|/B (F1/F4: 100, k 0.8 below / 1.2 above; F2: 60, 0.1 / 0.2;
F3: 30, 0.1 / 0.2).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

import pytest

from bidding.evaluation.methods.base_price import Preset, base_price, price_score, required_coefficient
from bidding.evaluation.methods.common import EvaluationRefused


def prices(*values: str) -> dict[str, Decimal]:
    """Keys a, b, c, … in the order given."""
    return {chr(ord("a") + i): Decimal(v) for i, v in enumerate(values)}


CASES = [
    # --- F1: n <= 5 plain mean, n = 6 drop highest, n >= 7 drop highest and lowest; B = mean × (1 + c)
    pytest.param(
        Preset.F1,
        prices("900000", "1000000", "1100000"),
        Decimal(0),
        None,
        # n = 3: mean = 3,000,000 / 3 = 1,000,000; c = 0 → B = 1,000,000.00
        Decimal("1000000.00"),
        (),
        # a: 10 % below → 100 - 0.8·10 = 92.00; b: at B → 100.00; c: 10 % above → 100 - 1.2·10 = 88.00
        {"a": "92.00", "b": "100.00", "c": "88.00"},
        id="F1-n3",
    ),
    pytest.param(
        Preset.F1,
        prices("900000", "950000", "1000000", "1050000", "1100000"),
        Decimal("0.05"),
        None,
        # n = 5: plain mean = 5,000,000 / 5 = 1,000,000; c = +5 % → B = 1,050,000.00
        Decimal("1050000.00"),
        (),
        # a: 150,000/1,050,000 = 14.2857 % below → 100 - 11.4286 = 88.5714 → 88.57
        # b: 100,000/1,050,000 = 9.5238 % below → 100 - 7.6190 = 92.3810 → 92.38
        # c: 50,000/1,050,000 = 4.7619 % below → 100 - 3.8095 = 96.1905 → 96.19
        # d: at B → 100.00; e: 4.7619 % above → 100 - 1.2·4.7619 = 94.2857 → 94.29
        {"a": "88.57", "b": "92.38", "c": "96.19", "d": "100.00", "e": "94.29"},
        id="F1-n5",
    ),
    pytest.param(
        Preset.F1,
        prices("900000", "950000", "1000000", "1050000", "1100000", "1300000"),
        Decimal("-0.05"),
        None,
        # n = 6: drop the highest (f, 1,300,000); mean of the other five = 1,000,000; c = -5 % → B = 950,000.00
        Decimal("950000.00"),
        (("f", "highest"),),
        # a: 50,000/950,000 = 5.2632 % below → 100 - 4.2105 = 95.7895 → 95.79
        # b: at B → 100.00; f: 350,000/950,000 = 36.8421 % above → 100 - 44.2105 = 55.7895 → 55.79
        {"a": "95.79", "b": "100.00", "f": "55.79"},
        id="F1-n6",
    ),
    pytest.param(
        Preset.F1,
        prices("800000", "900000", "950000", "1000000", "1050000", "1100000", "1300000"),
        Decimal(0),
        None,
        # n = 7: drop g (1,300,000, highest) and a (800,000, lowest); mean of b…f = 5,000,000 / 5 = 1,000,000
        Decimal("1000000.00"),
        (("g", "highest"), ("a", "lowest")),
        # a: 20 % below → 100 - 16 = 84.00 (a dropped price is still scored); e: 5 % above → 100 - 6 = 94.00
        # g: 30 % above → 100 - 36 = 64.00
        {"a": "84.00", "e": "94.00", "g": "64.00"},
        id="F1-n7",
    ),
    # --- F2: n >= 5: S = (Σ - max - min)/(n - 2), n < 5: mean; Y = 60 - dev%·K, K 0.2 above / 0.1 below
    pytest.param(
        Preset.F2,
        prices("900000", "1000000", "1100000"),
        None,
        None,
        # n = 3 < 5: S = mean = 1,000,000
        Decimal("1000000.00"),
        (),
        # a: 10 % below → 60 - 0.1·10 = 59.00; c: 10 % above → 60 - 0.2·10 = 58.00
        {"a": "59.00", "b": "60.00", "c": "58.00"},
        id="F2-n3",
    ),
    pytest.param(
        Preset.F2,
        prices("800000", "950000", "1000000", "1050000", "1300000"),
        None,
        None,
        # n = 5 (>= 5, unlike F1): S = (5,100,000 - 1,300,000 - 800,000) / 3 = 3,000,000 / 3 = 1,000,000
        Decimal("1000000.00"),
        (("e", "highest"), ("a", "lowest")),
        # a: 20 % below → 60 - 2 = 58.00; e: 30 % above → 60 - 6 = 54.00
        {"a": "58.00", "c": "60.00", "e": "54.00"},
        id="F2-n5",
    ),
    pytest.param(
        Preset.F2,
        prices("800000", "900000", "1000000", "1100000", "1200000", "1400000"),
        None,
        None,
        # n = 6: S = (6,400,000 - 1,400,000 - 800,000) / 4 = 4,200,000 / 4 = 1,050,000
        Decimal("1050000.00"),
        (("f", "highest"), ("a", "lowest")),
        # c: 50,000/1,050,000 = 4.7619 % below → 60 - 0.47619 = 59.52381 → 59.52
        # f: 350,000/1,050,000 = 33.3333 % above → 60 - 6.66667 = 53.33333 → 53.33
        {"c": "59.52", "f": "53.33"},
        id="F2-n6",
    ),
    pytest.param(
        Preset.F2,
        prices("700000", "900000", "950000", "1000000", "1050000", "1100000", "2000000"),
        None,
        None,
        # n = 7: S = (7,700,000 - 2,000,000 - 700,000) / 5 = 5,000,000 / 5 = 1,000,000
        Decimal("1000000.00"),
        (("g", "highest"), ("a", "lowest")),
        # a: 30 % below → 60 - 3 = 57.00; g: 100 % above → 60 - 20 = 40.00
        {"a": "57.00", "g": "40.00"},
        id="F2-n7",
    ),
    # --- F3: B = the plain mean of all valid prices (or the documents' base); 30 - dev%·0.2 above, 0.1 below
    pytest.param(
        Preset.F3,
        prices("900000", "1000000", "1100000"),
        None,
        None,
        # n = 3: B = mean = 1,000,000
        Decimal("1000000.00"),
        (),
        # a: 10 % below → 30 - 1 = 29.00; c: 10 % above → 30 - 2 = 28.00
        {"a": "29.00", "b": "30.00", "c": "28.00"},
        id="F3-n3",
    ),
    pytest.param(
        Preset.F3,
        prices("800000", "950000", "1000000", "1050000", "1200000"),
        None,
        None,
        # n = 5: B = 5,000,000 / 5 = 1,000,000 (F3 drops nothing)
        Decimal("1000000.00"),
        (),
        # a: 20 % below → 30 - 2 = 28.00; e: 20 % above → 30 - 4 = 26.00
        {"a": "28.00", "e": "26.00"},
        id="F3-n5",
    ),
    pytest.param(
        Preset.F3,
        prices("90", "95", "100", "105", "110", "200"),
        None,
        None,
        # n = 6: B = 700 / 6 = 116.6666… → 116.67 (rounded before scoring)
        Decimal("116.67"),
        (),
        # f: 83.33/116.67 = 0.714237 above → 30 - 14.28473 = 15.71527 → 15.72
        # a: 26.67/116.67 = 0.228593 below → 30 - 2.28593 = 27.71407 → 27.71
        {"a": "27.71", "f": "15.72"},
        id="F3-n6-rounding",
    ),
    pytest.param(
        Preset.F3,
        prices("700000", "850000", "950000", "1000000", "1050000", "1150000", "1300000"),
        None,
        Decimal(1000000),
        # n = 7 with the documents' base price 1,000,000 (the mean is 7,000,000 / 7 = 1,000,000 as well)
        Decimal("1000000.00"),
        (),
        # a: 30 % below → 30 - 3 = 27.00; g: 30 % above → 30 - 6 = 24.00
        {"a": "27.00", "g": "24.00"},
        id="F3-n7-given-base",
    ),
    # --- F4: n <= 5 mean; n > 5 drop highest and lowest, then > 20 % from that mean; B = D × K
    pytest.param(
        Preset.F4,
        prices("900000", "1000000", "1100000"),
        Decimal("0.95"),
        None,
        # n = 3: D = 1,000,000; K = 0.95 → B = 950,000.00
        Decimal("950000.00"),
        (),
        # a: 50,000/950,000 = 5.2632 % below → 100 - 4.2105 = 95.79
        # b: 5.2632 % above → 100 - 6.3158 = 93.68; c: 15.7895 % above → 100 - 18.9474 = 81.05
        {"a": "95.79", "b": "93.68", "c": "81.05"},
        id="F4-n3",
    ),
    pytest.param(
        Preset.F4,
        prices("800000", "900000", "1000000", "1100000", "1200000"),
        Decimal("0.90"),
        None,
        # n = 5 (not > 5): D = 5,000,000 / 5 = 1,000,000; K = 0.90 → B = 900,000.00
        Decimal("900000.00"),
        (),
        # a: 100,000/900,000 = 11.1111 % below → 100 - 8.8889 = 91.11; b: 100.00
        # e: 300,000/900,000 = 33.3333 % above → 100 - 40 = 60.00
        {"a": "91.11", "b": "100.00", "e": "60.00"},
        id="F4-n5",
    ),
    pytest.param(
        Preset.F4,
        prices("600000", "950000", "1000000", "1050000", "1500000", "2000000"),
        Decimal("0.99"),
        None,
        # n = 6: drop f (2,000,000) and a (600,000); mean of b…e = 4,500,000 / 4 = 1,125,000
        # e: 375,000/1,125,000 = 33.3 % > 20 % → dropped; b 15.6 %, c 11.1 %, d 6.7 % kept
        # D = 3,000,000 / 3 = 1,000,000; K = 0.99 → B = 990,000.00
        Decimal("990000.00"),
        (("f", "highest"), ("a", "lowest"), ("e", "deviation")),
        # c: 10,000/990,000 = 1.0101 % above → 100 - 1.2121 = 98.79
        # b: 40,000/990,000 = 4.0404 % below → 100 - 3.2323 = 96.77
        {"b": "96.77", "c": "98.79"},
        id="F4-n6",
    ),
    pytest.param(
        Preset.F4,
        prices("500000", "760000", "1000000", "1000000", "1040000", "1200000", "3000000"),
        Decimal("0.98"),
        None,
        # n = 7: drop g (3,000,000) and a (500,000); mean of b…f = 5,000,000 / 5 = 1,000,000
        # b: 24 % > 20 % → dropped; f: exactly 20 % → kept
        # D = (1,000,000 + 1,000,000 + 1,040,000 + 1,200,000) / 4 = 1,060,000; K = 0.98 → B = 1,038,800.00
        Decimal("1038800.00"),
        (("g", "highest"), ("a", "lowest"), ("b", "deviation")),
        # c: 38,800/1,038,800 = 3.73508 % below → 100 - 2.98806 = 97.01194 → 97.01
        # f: 161,200/1,038,800 = 15.51791 % above → 100 - 18.62149 = 81.37851 → 81.38
        {"c": "97.01", "f": "81.38"},
        id="F4-n7",
    ),
]


@pytest.mark.parametrize(("preset", "bid_prices", "coefficient", "given", "base", "dropped", "scores"), CASES)
def test_preset_worked_numbers(*, preset, bid_prices, coefficient, given, base, dropped, scores) -> None:
    result = base_price(preset, bid_prices, coefficient=coefficient, given_base=given)
    assert result.base == base
    assert result.dropped == dropped
    dropped_keys = {key for key, _ in dropped}
    if given is None:
        assert set(result.used) == set(bid_prices) - dropped_keys
    for key, expected in scores.items():
        assert price_score(preset, bid_prices[key], result.base) == Decimal(expected), key


def test_f1_rounds_the_base_before_scoring() -> None:
    # mean = (100 + 100 + 101) / 3 = 100.3333… → B = 100.33 (c = 0)
    # 101: 0.67/100.33 = 0.0066780 above → 100 - 0.80136 = 99.19864 → 99.20
    # 100: 0.33/100.33 = 0.0032891 below → 100 - 0.26313 = 99.73687 → 99.74
    result = base_price(Preset.F1, prices("100", "100", "101"), coefficient=Decimal(0))
    assert result.base == Decimal("100.33")
    assert price_score(Preset.F1, Decimal(101), result.base) == Decimal("99.20")
    assert price_score(Preset.F1, Decimal(100), result.base) == Decimal("99.74")


def test_score_is_floored_at_zero() -> None:
    # F3: 30 - 0.2·200 = -10 → 0.00 (a price three times B)
    assert price_score(Preset.F3, Decimal(300), Decimal(100)) == Decimal("0.00")


def test_tied_extremes_drop_one_each_by_key() -> None:
    # F1 n = 7 with two highest at 130 and two lowest at 80: one of each is dropped
    # (greatest key of the highest, smallest key of the lowest); mean of the other five:
    # (80 + 100 + 100 + 100 + 130) / 5 = 102 → B = 102.00
    result = base_price(Preset.F1, prices("80", "80", "100", "100", "100", "130", "130"), coefficient=Decimal(0))
    assert result.dropped == (("g", "highest"), ("a", "lowest"))
    assert result.base == Decimal("102.00")


def test_f4_keeps_all_when_every_price_deviates() -> None:
    # n = 6: drop 10 and 1000; left 100, 100, 300, 300 → mean 200; every one deviates 50 % > 20 %,
    # so none is dropped (fallback) and D = 200; K = 0.90 → B = 180.00
    result = base_price(Preset.F4, prices("10", "100", "100", "300", "300", "1000"), coefficient=Decimal("0.90"))
    assert result.base == Decimal("180.00")
    assert result.dropped == (("f", "highest"), ("a", "lowest"))


@pytest.mark.parametrize(
    ("preset", "coefficient", "given", "rule"),
    [
        (Preset.F1, None, None, "coefficient_missing"),
        (Preset.F1, Decimal("0.06"), None, "coefficient_range"),  # above +5 %
        (Preset.F1, Decimal("0.003"), None, "coefficient_range"),  # off the 0.005 grid
        (Preset.F4, Decimal("0.89"), None, "coefficient_range"),  # below 0.90
        (Preset.F4, Decimal("1.00"), None, "coefficient_range"),  # above 0.99
        (Preset.F2, Decimal("0.95"), None, "coefficient_unexpected"),
        (Preset.F1, Decimal(0), Decimal(100), "given_base_f3_only"),
    ],
)
def test_coefficient_and_base_refusals(preset, coefficient, given, rule) -> None:
    with pytest.raises(EvaluationRefused) as caught:
        base_price(preset, prices("90", "100", "110"), coefficient=coefficient, given_base=given)
    assert caught.value.rule == rule


def test_presets_declare_their_coefficients() -> None:
    f1, f4 = required_coefficient(Preset.F1), required_coefficient(Preset.F4)
    assert f1 is not None
    assert (f1.name, f1.low, f1.high, f1.step) == ("float", Decimal("-0.05"), Decimal("0.05"), Decimal("0.005"))
    assert len(f1.values()) == 21  # -0.050, -0.045, …, 0.050
    assert f4 is not None
    assert f4.name == "K"
    assert f4.values() == tuple(Decimal(f"0.{n}") for n in range(90, 100))
    assert required_coefficient(Preset.F2) is None
    assert required_coefficient(Preset.F3) is None


def test_no_prices_or_bad_price_refused() -> None:
    with pytest.raises(EvaluationRefused) as caught:
        base_price(Preset.F2, {})
    assert caught.value.rule == "valid_bids_none"
    with pytest.raises(EvaluationRefused) as caught:
        base_price(Preset.F2, {"a": Decimal(0)})
    assert caught.value.rule == "price_positive"


def test_the_callers_decimal_context_changes_nothing() -> None:
    # F3-n6 again (B = 116.67, f scores 15.72) under a caller's context of 4 digits rounding down
    with localcontext(prec=4, rounding=ROUND_DOWN):
        result = base_price(Preset.F3, prices("90", "95", "100", "105", "110", "200"))
        score = price_score(Preset.F3, Decimal(200), result.base)
    assert (result.base, score) == (Decimal("116.67"), Decimal("15.72"))
