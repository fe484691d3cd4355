"""The bid-level price screens of one lot: values with hand-computed expectations, undefined values
with their reasons, findings and the combined score's contributions (bidding.integrity.screens.prices)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bidding.integrity.screens.model import BidPrice, InvalidPrice, LotBids, Severity
from bidding.integrity.screens.prices import screen_prices, screen_values
from bidding.integrity.screens.rules import RuleSet, load_catalogue

RULES = load_catalogue()


def lot(
    *amounts: float, formula: str | None = None, estimate: float | None = None, winner: str | None = None
) -> LotBids:
    """Bidders are named A, B, C … in the order the amounts are given."""
    bids = tuple(BidPrice(chr(ord("A") + i), amount) for i, amount in enumerate(amounts))
    return LotBids(ocid="ocds-test-1", lot="1", bids=bids, price_formula=formula, estimate=estimate, winner=winner)


# Each row: sorted amounts, then the expected value (float) or the reason it is undefined (str).
VALUES = [
    pytest.param(
        [100, 110, 120],
        # mean 110, s = √((100 + 0 + 100)/2) = 10; s_L of [110, 120] = √(25 + 25) = √50
        # z = −1, 0, 1 so Σz³ = 0; KS: F(b) = 0, ½, 1 → max(⅓ − 0, ⅔ − ½, ½ − ⅓, 1 − ⅔) = ⅓
        {
            "cv": 10 / 110,
            "spd": 20 / 100,
            "diffp": 10 / 100,
            "rd": 10 / math.sqrt(50),
            "rdnor": 2 * 10 / 20,
            "rdalt": 1 * 10 / 10,
            "skew": 0.0,
            "kurt": "n<4",
            "ks_uniform": 1 / 3,
        },
        id="n=3 evenly spaced",
    ),
    pytest.param(
        [10, 20, 20, 30],
        # mean 20, SS = 200, s = √(200/3); z = ±√1.5, 0, 0 → Σz³ = 0, Σz⁴ = 2·2.25 = 4.5
        # kurt = 4·5/(3·2·1)·4.5 − 3·3²/(2·1) = 15 − 13.5 = 1.5
        # s_L of [20, 20, 30]: mean 70/3, SS = 2·(10/3)² + (20/3)² = 600/9, s_L² = 100/3 → rd = 10/√(100/3) = √3
        # KS: F = 0, ½, ½, 1 → every gap is ¼
        {
            "cv": math.sqrt(200 / 3) / 20,
            "spd": 2.0,
            "diffp": 1.0,
            "rd": math.sqrt(3),
            "rdnor": 3 * 10 / 20,
            "rdalt": 2 * 10 / 10,
            "skew": 0.0,
            "kurt": 1.5,
            "ks_uniform": 0.25,
        },
        id="n=4 symmetric with a tie",
    ),
    pytest.param(
        [90, 100, 100, 100],
        # d = 10: mean 97.5, SS = 56.25 + 3·6.25 = 75, s² = 25, s = 5; z = −1.5, ½, ½, ½
        # skew = 4/(3·2)·(−3.375 + 3·0.125) = ⅔·(−3) = −2; kurt = 20/6·(5.0625 + 3·0.0625) − 13.5 = 17.5 − 13.5 = 4
        # KS: F = 0, 1, 1, 1 → i=2: F − ¼ = ¾
        {
            "cv": 5 / 97.5,
            "spd": 10 / 90,
            "diffp": 10 / 90,
            "rd": "losing-bids-equal",
            "rdnor": 3 * 10 / 10,
            "rdalt": "losing-bids-equal",
            "skew": -2.0,
            "kurt": 4.0,
            "ks_uniform": 0.75,
        },
        id="n=4 one low bid and three equal cover bids",
    ),
    pytest.param(
        [100, 100, 120],
        # mean 320/3, devs −20/3, −20/3, 40/3: SS = 2400/9, s² = 400/3; z = −1/√3, −1/√3, 2/√3
        # Σz³ = (−1 − 1 + 8)/(3√3) = 2/√3; skew = 3/2 · 2/√3 = √3. s_L of [100, 120] = √200, rd = 0
        # KS: F = 0, 0, 1 → i=2: ⅔ − 0
        {
            "cv": math.sqrt(400 / 3) / (320 / 3),
            "spd": 0.2,
            "diffp": 0.0,
            "rd": 0.0,
            "rdnor": 0.0,
            "rdalt": 0.0,
            "skew": math.sqrt(3),
            "kurt": "n<4",
            "ks_uniform": 2 / 3,
        },
        id="n=3 two lowest equal",
    ),
    pytest.param(
        [100, 120, 120],
        # mirror image of the row above: skew = −√3; the losing bids are equal
        {
            "cv": math.sqrt(400 / 3) / (340 / 3),
            "spd": 0.2,
            "diffp": 0.2,
            "rd": "losing-bids-equal",
            "rdnor": 2 * 20 / 20,
            "rdalt": "losing-bids-equal",
            "skew": -math.sqrt(3),
            "kurt": "n<4",
            "ks_uniform": 2 / 3,  # F = 0, 1, 1 → i=1: max(⅓ − 0, 0); i=2: F − ⅓ = ⅔
        },
        id="n=3 two highest equal",
    ),
    pytest.param(
        [50, 50, 50],
        {
            "cv": 0.0,
            "spd": 0.0,
            "diffp": 0.0,
            "rd": "losing-bids-equal",
            "rdnor": "all-bids-equal",
            "rdalt": "losing-bids-equal",
            "skew": "all-bids-equal",
            "kurt": "n<4",
            "ks_uniform": "all-bids-equal",
        },
        id="n=3 all equal",
    ),
    pytest.param(
        [100, 150],
        {
            "cv": math.sqrt(1250) / 125,  # s = √((25² + 25²)/1)
            "spd": 0.5,
            "diffp": 0.5,
            "rd": "n<3",
            "rdnor": "n<3",
            "rdalt": "n<3",
            "skew": "n<3",
            "kurt": "n<4",
            "ks_uniform": "n<3",
        },
        id="two bids",
    ),
    pytest.param(
        [100],
        dict.fromkeys(["cv", "spd", "diffp"], "n<2")
        | dict.fromkeys(["rd", "rdnor", "rdalt", "skew", "ks_uniform"], "n<3")
        | {"kurt": "n<4"},
        id="a single bid",
    ),
    pytest.param(
        [],
        dict.fromkeys(["cv", "spd", "diffp"], "n<2")
        | dict.fromkeys(["rd", "rdnor", "rdalt", "skew", "ks_uniform"], "n<3")
        | {"kurt": "n<4"},
        id="no bids",
    ),
]


@pytest.mark.parametrize(("amounts", "expected"), VALUES)
def test_screen_values_match_the_hand_computed_values(amounts: list[float], expected: dict[str, float | str]) -> None:
    values, undefined = screen_values(amounts)
    for name, want in expected.items():
        if isinstance(want, str):
            assert values[name] is None, name
            assert undefined[name] == want, name
        else:
            assert values[name] == pytest.approx(want, rel=1e-12, abs=1e-12), name
            assert name not in undefined


@pytest.mark.parametrize("amounts", [[120, 100, 110], [110, 120, 100]])
def test_screen_prices_sorts_the_bids_before_screening(amounts: list[float]) -> None:
    values = screen_prices(lot(*amounts), RULES).values
    assert values["diffp"] == pytest.approx(0.1)
    assert values["rd"] == pytest.approx(math.sqrt(2))  # as in the first row above


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0, 0.0, -5.0])
def test_a_price_no_screen_can_use_is_refused_naming_the_bidder(bad: float) -> None:
    with pytest.raises(InvalidPrice) as refused:
        BidPrice("乙公司", bad)
    assert refused.value.bidder == "乙公司"
    assert "乙公司" in str(refused.value)


def test_a_bad_price_slipped_past_the_constructor_is_refused_by_the_screen() -> None:
    bad = BidPrice("丙公司", 100.0)
    object.__setattr__(bad, "amount", math.nan)
    lot_with_bad = LotBids(ocid="x", lot=None, bids=(BidPrice("甲", 90.0), bad, BidPrice("乙", 95.0)))
    with pytest.raises(InvalidPrice, match="丙公司"):
        screen_prices(lot_with_bad, RULES)


# Each row: amounts (bidders A, B, C … in that order), lot options, the expected contributions.
SCORES = [
    pytest.param(
        [100, 110, 120],
        {},
        # rd = √2 > 1 → RD 0.5; cv 0.0909 ≥ 0.06; diffs 10, 10 → a progression, 2 → 2.5 < flag_at 3
        {"PRICE-RD": 0.5, "PRICE-PROGRESSION": 2.0},
        id="n=3 cover gap and an arithmetic progression",
    ),
    pytest.param(
        [90, 100, 101, 103],
        {},
        # mean 98.5, SS = 72.25 + 2.25 + 6.25 + 20.25 = 101, s = √(101/3) = 5.8023, cv = 0.05891 (amber)
        # s_L of [100, 101, 103] = √(14/6) = 1.5275, rd = 6.5465 > 1: RD, COVER (weak: cv ≥ 0.045);
        # skew < 0: SKEW → 1.5, not flagged
        {"PRICE-CV": 0.0, "PRICE-RD": 0.5, "PRICE-COVER": 0.5, "PRICE-SKEW": 0.5},
        id="cover pattern, loose",
    ),
    pytest.param(
        [95, 100, 100.4, 101],
        {},
        # mean 99.1, SS = 16.81 + 0.81 + 1.69 + 3.61 = 22.92, s = √7.64 = 2.7641, cv = 0.02789 (red 1)
        # s_L of [100, 100.4, 101] = √(0.50667/2) = 0.50332, rd = 5/0.50332 = 9.934 > 3 and
        # cv < 0.045: COVER strong 3; RD 0.5; skew < 0: 0.5 → 5 ≥ flag_at 3
        {"PRICE-CV": 1.0, "PRICE-RD": 0.5, "PRICE-COVER": 3.0, "PRICE-SKEW": 0.5},
        id="cover bidding, strong",
    ),
    pytest.param(
        [1000, 1010, 1020],
        {},
        # s = 10, cv = 10/1010 = 0.0099 < 0.03 (red, 1); rd = √2 (0.5); cover, weak: rd < 3 (0.5);
        # the three bids in arithmetic progression: 2 points
        {"PRICE-CV": 1.0, "PRICE-RD": 0.5, "PRICE-COVER": 0.5, "PRICE-PROGRESSION": 2.0},
        id="red dispersion",
    ),
    pytest.param(
        [90, 100, 100, 100],
        {},
        # cv = 5/97.5 = 0.0513 (amber 0); three bidders at 100 (3); skew −2 (0.5)
        {"PRICE-CV": 0.0, "PRICE-IDENTICAL": 3.0, "PRICE-SKEW": 0.5},
        id="three identical cover bids",
    ),
    pytest.param(
        [90, 100, 100, 100],
        {"formula": "mean"},
        # the mean-price table: CV amber 0, IDENTICAL 3, SKEW 0
        {"PRICE-CV": 0.0, "PRICE-IDENTICAL": 3.0, "PRICE-SKEW": 0.0},
        id="the same bids in a mean-price lot",
    ),
    pytest.param(
        [50, 50, 50],
        {},
        # cv = 0 < 0.03 (but n = 3 ≥ 3): red 1; identical 3
        {"PRICE-CV": 1.0, "PRICE-IDENTICAL": 3.0},
        id="n=3 all equal",
    ),
    pytest.param([100, 100], {}, {"PRICE-IDENTICAL": 3.0}, id="two equal bids: no CV below 3 bids"),
    pytest.param([100, 100.05], {}, {"PRICE-NEAR-IDENTICAL": 0.5}, id="two bids 0.05 % apart"),
    pytest.param([100, 100.005], {}, {"PRICE-NEAR-IDENTICAL": 3.0}, id="two bids 0.005 % apart: strong"),
    pytest.param([100, 100.1], {}, {}, id="two bids 0.1 % apart are not near-identical"),
    pytest.param([100], {}, {}, id="a single bid"),
    pytest.param(
        [99, 150, 200],
        {"estimate": 100.0, "winner": "A"},
        # 99/100 = 0.99 ≥ 0.99 → CEILING 1; rd = 51/√(50²/2) = 1.4425 > 1 → RD 0.5
        {"PRICE-CEILING": 1.0, "PRICE-RD": 0.5},
        id="winner at 99 % of the ceiling",
    ),
    pytest.param(
        [98, 150, 200], {"estimate": 100.0, "winner": "A"}, {"PRICE-RD": 0.5}, id="winner at 98 % of the ceiling"
    ),
    pytest.param([99, 150], {"estimate": 100.0, "winner": "A"}, {}, id="ceiling needs 3 bids"),
]


@pytest.mark.parametrize(("amounts", "options", "contributions"), SCORES)
def test_the_combined_score_is_the_sum_of_each_rules_points(
    amounts: list[float], options: dict[str, object], contributions: dict[str, float]
) -> None:
    screening = screen_prices(lot(*amounts, **options), RULES)  # type: ignore[arg-type]
    assert dict(screening.contributions) == contributions
    assert screening.score == pytest.approx(sum(contributions.values()))
    assert screening.flagged == (screening.score >= 3.0)
    assert {finding.rule for finding in screening.findings} == set(contributions)
    for finding in screening.findings:
        assert finding.score == contributions[finding.rule]
        assert finding.summary  # a Chinese sentence
        assert not finding.hard


def test_cv_severity_follows_the_red_and_amber_thresholds() -> None:
    [red] = [f for f in screen_prices(lot(1000, 1010, 1020), RULES).findings if f.rule == "PRICE-CV"]
    [amber] = [f for f in screen_prices(lot(90, 100, 101, 103), RULES).findings if f.rule == "PRICE-CV"]
    assert (red.severity, amber.severity) == (Severity.RED, Severity.AMBER)
    assert red.evidence["cv"] == pytest.approx(10 / 1010)
    assert red.evidence["red_below"] == 0.03
    assert red.subjects == ("A", "B", "C")


def test_identical_and_near_identical_name_the_bidders_concerned() -> None:
    # A 100, B 200, C 100, D 300.2, E 300: A and C identical; E–D 0.2/300 = 0.067 % apart
    screening = screen_prices(lot(100, 200, 100, 300.2, 300), RULES)
    by_rule = {finding.rule: finding for finding in screening.findings}
    assert by_rule["PRICE-IDENTICAL"].subjects == ("A", "C")
    assert by_rule["PRICE-IDENTICAL"].evidence["groups"] == [{"amount": 100.0, "bidders": ["A", "C"]}]
    near = by_rule["PRICE-NEAR-IDENTICAL"]
    assert near.subjects == ("D", "E")
    pairs = near.evidence["pairs"]
    assert isinstance(pairs, list)
    [pair] = pairs
    assert pair["bidders"] == ["E", "D"]
    assert pair["relative_gap"] == pytest.approx(0.2 / 300)


def test_one_bidder_twice_at_the_same_price_is_not_two_bidders_colluding() -> None:
    same = LotBids(ocid="x", lot=None, bids=(BidPrice("A", 100.0), BidPrice("A", 100.0), BidPrice("B", 300.0)))
    assert "PRICE-IDENTICAL" not in screen_prices(same, RULES).contributions


@pytest.mark.parametrize(
    ("amounts", "runs"),
    [
        # diffs 10, 10, 10 → one arithmetic run of all four
        pytest.param([100, 110, 120, 130], [("arithmetic", ["A", "B", "C", "D"], 10.0)], id="arithmetic"),
        # growth 10 % each; the diffs 10, 11, 12.1 differ by far more than 0.1 %
        pytest.param([100, 110, 121, 133.1], [("geometric", ["A", "B", "C", "D"], 1.1)], id="geometric"),
        # diffs 333.33, 333.34, 333.33: within 0.1 % of each other (+ 0.01 rounding)
        pytest.param([1000, 1333.33, 1666.67, 2000], [("arithmetic", ["A", "B", "C", "D"], 1000 / 3)], id="rounded"),
        # diffs 100, 100 then 700; growths … 1, 1 at the end: two runs
        pytest.param(
            [100, 200, 300, 1000, 2000, 4000],
            [("arithmetic", ["A", "B", "C"], 100.0), ("geometric", ["D", "E", "F"], 2.0)],
            id="two runs",
        ),
        pytest.param([100, 110, 125], [], id="diffs 10 and 15: none"),
        pytest.param([100, 100, 100], [], id="identical prices are not a progression"),
        pytest.param([100, 110], [], id="two bids are not a progression"),
    ],
)
def test_progressions_state_which_bids(amounts: list[float], runs: list[tuple[str, list[str], float]]) -> None:
    findings = [f for f in screen_prices(lot(*amounts), RULES).findings if f.rule == "PRICE-PROGRESSION"]
    if not runs:
        assert findings == []
        return
    [finding] = findings
    found = [(run["kind"], run["bidders"], run["step"]) for run in finding.evidence["runs"]]  # type: ignore[attr-defined]
    assert [(kind, bidders) for kind, bidders, _ in found] == [(kind, bidders) for kind, bidders, _ in runs]
    assert [step for _, _, step in found] == pytest.approx([step for _, _, step in runs], rel=1e-3)


def test_predetermined_price_lots_are_not_screened() -> None:
    screening = screen_prices(lot(100, 100, 100, formula="random-selection"), RULES)
    assert screening.not_screened == "predetermined-price:random-selection"
    assert screening.findings == ()
    assert screening.score == 0.0
    assert not screening.flagged
    assert screening.values["cv"] is None
    assert screening.undefined["cv"] == "predetermined-price"
    assert screening.values["n"] == 3.0


def test_the_ceiling_value_says_why_it_is_missing() -> None:
    assert screen_prices(lot(99, 150, 200), RULES).undefined["winner_to_estimate"] == "no-estimate"
    assert screen_prices(lot(99, 150, 200, estimate=100.0), RULES).undefined["winner_to_estimate"] == "no-winner"
    outside = screen_prices(lot(99, 150, 200, estimate=100.0, winner="Z"), RULES)
    assert outside.undefined["winner_to_estimate"] == "winner-not-among-valid-bids"
    assert screen_prices(lot(99, 150, estimate=100.0, winner="B"), RULES).values["winner_to_estimate"] == 1.5


def test_hard_evidence_never_enters_the_score() -> None:
    hard_identical = dataclasses.replace(RULES["PRICE-IDENTICAL"], hard=True)
    rules = RuleSet([hard_identical if rule.id == "PRICE-IDENTICAL" else rule for rule in RULES])
    screening = screen_prices(lot(100, 100), rules)
    [finding] = screening.findings
    assert finding.hard
    assert finding.score == 0.0
    assert screening.contributions == {}
    assert screening.score == 0.0


def test_the_flag_threshold_is_read_from_the_table() -> None:
    lower = dataclasses.replace(RULES["PRICE-LOT"], thresholds={"flag_at": 0.5})
    rules = RuleSet([lower if rule.id == "PRICE-LOT" else rule for rule in RULES])
    assert not screen_prices(lot(100, 100.05), RULES).flagged  # 0.5 points < 3
    assert screen_prices(lot(100, 100.05), rules).flagged  # 0.5 points ≥ 0.5


def test_a_mean_price_lot_keeps_its_values_and_findings() -> None:
    plain = screen_prices(lot(90, 100, 100, 100), RULES)
    mean = screen_prices(lot(90, 100, 100, 100, formula="mean"), RULES)
    assert mean.values == plain.values
    assert [f.rule for f in mean.findings] == [f.rule for f in plain.findings]
    assert all("均价法" in f.summary for f in mean.findings)
    # 0 + 3 + 0.5 = 3.5 in a lowest-price lot; 0 + 3 + 0 = 3 in a mean-price lot
    assert (plain.score, mean.score) == (3.5, 3.0)
