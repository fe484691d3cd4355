"""The market screens on small hand-built markets, with the fences computed by hand.

Quantiles are linear interpolation ("type 7", NumPy's default): for sorted x₀ … x_{m−1}, the
q-quantile sits at position h = q·(m − 1) and is x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import pytest

from bidding.integrity.screens.market import (
    COBID_GROUP,
    COVER_BIDDER,
    EXPERT_TENDEREE,
    MARKET_SHARE,
    ROTATION,
    SHARED_IDENTITY,
    WIN_RATE,
    ExpertDraw,
    MarketInputError,
    MarketState,
    binomial_lower_tail,
    binomial_upper_tail,
    network_picture,
)
from bidding.integrity.screens.model import BidPrice, BidSignals, Finding, LotBids, Scope, Severity
from bidding.integrity.screens.rules import RuleSet, load_catalogue

CATALOGUE = load_catalogue()
DAY0 = date(2026, 1, 1)


def lot(
    ocid: str,
    bidders: Sequence[str],
    winner: str | None = None,
    *,
    buyer: str | None = None,
    number: int = 0,
    market: str | None = None,
) -> LotBids:
    bids = tuple(BidPrice(name, 100.0 + i) for i, name in enumerate(bidders))
    return LotBids(
        ocid=ocid,
        lot=None,
        bids=bids,
        winner=winner,
        buyer=buyer,
        market=market,
        date=DAY0 + timedelta(days=number),
    )


def fold(lots: Iterable[LotBids]) -> MarketState:
    state = MarketState()
    for item in lots:
        state.add_lot(item)
    return state


def of_rule(findings: Sequence[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule_id]


def with_thresholds(rule_id: str, **changes: float) -> RuleSet:
    rules = [
        dataclasses.replace(rule, thresholds={**rule.thresholds, **changes}) if rule.id == rule_id else rule
        for rule in CATALOGUE
    ]
    return RuleSet(rules)


def test_the_catalogue_holds_the_market_rules_with_their_basis() -> None:
    # Market-scoped rules of other areas (the experts' favouritism and leniency) are not these.
    market = {rule.id: rule for rule in CATALOGUE.in_scope(Scope.MARKET) if rule.id.startswith("MARKET-")}
    assert set(market) == {
        COVER_BIDDER,
        WIN_RATE,
        MARKET_SHARE,
        COBID_GROUP,
        ROTATION,
        SHARED_IDENTITY,
        EXPERT_TENDEREE,
    }
    assert "R025" in market[COVER_BIDDER].basis
    assert "第四十条" in market[SHARED_IDENTITY].basis
    assert all(rule.version == 1 and rule.name for rule in market.values())


# ---- 陪标专业户 (R025) ----------------------------------------------------------------------------


def cover_market(wins: dict[str, int]) -> MarketState:
    """20 lots with A–E bidding in every one; X, Y, Z bid in lots 0 and 1 only."""
    winners = [name for name, count in sorted(wins.items()) for _ in range(count)]
    assert len(winners) == 20
    lots = []
    for number, winner in enumerate(winners):
        bidders = ["A", "B", "C", "D", "E"] + (["X", "Y", "Z"] if number < 2 else [])
        lots.append(lot(f"T{number:02}", bidders, winner, number=number))
    return fold(lots)


def test_cover_bidder_fires_below_the_lower_fence_among_the_busy_bidders() -> None:
    state = cover_market({"A": 5, "B": 4, "C": 6, "D": 5, "E": 0})
    # bid counts sorted: 2 2 2 20 20 20 20 20; P75 at h = 0.75·7 = 5.25 → 20; cut = max(20, 10) = 20
    # ratios of A–E: .25 .20 .30 .25 .00 → sorted 0 .2 .25 .25 .3; Q1 (h=1) = .2, Q3 (h=3) = .25
    # IQR = .05; lower fence = .2 − 1.5·.05 = .125 → E (0) only
    found = of_rule(state.findings(CATALOGUE), COVER_BIDDER)
    assert [f.subjects for f in found] == [("E",)]
    evidence = found[0].evidence
    assert evidence["bid_count_cut"] == 20.0
    assert evidence["top_bidders"] == 5
    assert (evidence["q1"], evidence["q3"]) == (0.2, 0.25)
    assert evidence["lower_fence"] == pytest.approx(0.125)
    assert (evidence["bids"], evidence["wins"], evidence["win_ratio"]) == (20, 0, 0.0)
    assert found[0].severity is Severity.AMBER
    assert "陪标" in found[0].summary


def test_cover_bidder_is_quiet_when_the_busy_bidders_win_alike() -> None:
    # ratios all .2: Q1 = Q3 = .2, IQR 0, fence .2; nobody lies strictly below Q1
    state = cover_market({"A": 4, "B": 4, "C": 4, "D": 4, "E": 4})
    assert of_rule(state.findings(CATALOGUE), COVER_BIDDER) == []


def test_cover_bidder_fires_on_improbably_few_wins_when_the_fence_is_negative() -> None:
    """A wide market: the fence is below 0, so only the equal-chance test can speak."""
    # A–D win 1, 3, 6, 10 of 40 lots; E bids in all 40 with five bidders per lot and wins none.
    wins = {"A": 1, "B": 3, "C": 6, "D": 10, "F": 20}
    winners = [name for name, count in sorted(wins.items()) for _ in range(count)]
    state = fold(
        lot(f"N{n:02}", ["A", "B", "C", "D", "E"] if w != "F" else ["F", "E"], w, number=n)
        for n, w in enumerate(winners)
    )
    # counts A–D 20, E 40, F 20 → P75 (h = 3.75 over 20 20 20 20 20 40) = 20; all six are busy
    # ratios A .05, B .15, C .3, D .5, E 0, F 1 → sorted 0 .05 .15 .3 .5 1
    # Q1 (h = 1.25) = .05 + .25·.1 = .075; Q3 (h = 3.75) = .3 + .75·.2 = .45; fence = .075 − .5625 < 0
    # E: 20 lots of five (1/5 each) and 20 of two (1/2 each) → expected 4 + 10 = 14 of 40 lots;
    # P(X ≤ 0 | Bin(40, .35)) = .65⁴⁰ = 3.4e-8, × 6 busy bidders = 2.0e-7 ≤ .01
    found = of_rule(state.findings(CATALOGUE), COVER_BIDDER)
    assert [f.subjects for f in found] == [("E",)]
    evidence = found[0].evidence
    assert evidence["lower_fence"] == pytest.approx(0.075 - 1.5 * 0.375)
    assert evidence["below_fence"] is False
    assert evidence["expected_wins"] == pytest.approx(14.0)
    assert evidence["p_value"] == pytest.approx(0.65**40, rel=1e-9)
    assert evidence["p_adjusted"] == pytest.approx(6 * 0.65**40, rel=1e-9)


def test_cover_bidder_needs_the_minimum_bid_count() -> None:
    state = cover_market({"A": 5, "B": 4, "C": 6, "D": 5, "E": 0})
    assert of_rule(state.findings(with_thresholds(COVER_BIDDER, min_bids=21)), COVER_BIDDER) == []


# ---- 标王 -----------------------------------------------------------------------------------------


def test_win_rate_fires_above_the_upper_fence() -> None:
    wins = {"A": 16, "B": 4, "C": 6, "D": 4, "E": 8, "F": 2}
    winners = [name for name, count in sorted(wins.items()) for _ in range(count)]
    state = fold(lot(f"W{n:02}", list(wins), winner, number=n) for n, winner in enumerate(winners))
    # 40 lots, all six bid in each; ratios .40 .10 .15 .10 .20 .05 → sorted .05 .1 .1 .15 .2 .4
    # Q1: h = 1.25 → .1 + .25·(.1 − .1) = .1; Q3: h = 3.75 → .15 + .75·(.2 − .15) = .1875
    # IQR = .0875; upper fence = .1875 + 1.5·.0875 = .31875 → A (.4) only; E (.2) is below.
    # Equal chances: expected 40/6 wins; P(X ≥ 16 | Bin(40, 1/6)) = 3.85e-4, × 6 bidders = 2.3e-3 ≤ .01
    found = of_rule(state.findings(CATALOGUE), WIN_RATE)
    assert [f.subjects for f in found] == [("A",)]
    assert found[0].evidence["upper_fence"] == pytest.approx(0.31875)
    assert found[0].evidence["q3"] == pytest.approx(0.1875)
    assert found[0].evidence["expected_wins"] == pytest.approx(40 / 6, abs=1e-6)
    assert found[0].evidence["p_value"] == pytest.approx(exact_tail(16, 40, 1 / 6), rel=1e-9)
    assert found[0].evidence["p_adjusted"] == pytest.approx(6 * exact_tail(16, 40, 1 / 6), rel=1e-9)
    assert len(found[0].evidence["lots_won"]) == 16  # type: ignore[arg-type]


def test_win_rate_above_the_fence_but_likely_by_chance_is_quiet() -> None:
    # the same ratios over 20 lots: A wins 8, P(X ≥ 8 | Bin(20, 1/6)) = .0113, × 6 = .068 > .01
    wins = {"A": 8, "B": 2, "C": 3, "D": 2, "E": 4, "F": 1}
    winners = [name for name, count in sorted(wins.items()) for _ in range(count)]
    state = fold(lot(f"W{n:02}", list(wins), winner, number=n) for n, winner in enumerate(winners))
    assert of_rule(state.findings(CATALOGUE), WIN_RATE) == []


def test_win_rate_is_quiet_on_even_wins() -> None:
    winners = ["A", "B", "C", "D", "E"] * 4
    state = fold(lot(f"W{n:02}", ["A", "B", "C", "D", "E"], w, number=n) for n, w in enumerate(winners))
    assert of_rule(state.findings(CATALOGUE), WIN_RATE) == []


# ---- market share and HHI (R050/R051) -------------------------------------------------------------


def share_market(winners: Sequence[str], buyer: str = "采购人甲") -> MarketState:
    return fold(lot(f"S{n}", ["X", "Y", "Z"], w, buyer=buyer, number=n) for n, w in enumerate(winners))


def test_market_share_fires_on_a_dominant_winner_of_one_buyer() -> None:
    state = share_market(["X", "X", "X", "X", "Y", "Z"])
    # shares 4/6, 1/6, 1/6; HHI = (16 + 1 + 1)/36 = .5 ≥ .25 and 4/6 ≥ .5
    found = of_rule(state.findings(CATALOGUE), MARKET_SHARE)
    assert [f.subjects for f in found] == [("X",)]
    assert found[0].evidence["hhi"] == 0.5
    assert found[0].evidence["leader_share"] == pytest.approx(4 / 6, abs=1e-6)
    assert found[0].evidence["buyer"] == "采购人甲"
    assert [item["ocid"] for item in found[0].evidence["lots_won"]] == ["S0", "S1", "S2", "S3"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "winners",
    [
        ["X", "X", "Y", "Y", "Z", "Z"],  # shares 1/3 each: below .5
        ["X", "X", "X", "X"],  # 4 awarded lots: below min_lots 5
    ],
)
def test_market_share_is_quiet_on_a_spread_or_small_buyer(winners: list[str]) -> None:
    assert of_rule(share_market(winners).findings(CATALOGUE), MARKET_SHARE) == []


# ---- 抱团 and rotation (R053, R057) ---------------------------------------------------------------


def ring_market(ring_winners: Sequence[str]) -> MarketState:
    """P, Q, R bid together in 6 lots (with two outsiders) and alone in 2 lots each.

    Outsiders S and T share 5 of their 10 lots (.5 < .6); U and V share 4 lots (< 5).
    """
    lots = []
    for n, winner in enumerate(ring_winners):
        lots.append(lot(f"R{n}", ["P", "Q", "R", f"O{n}", f"N{n}"], winner, number=n))
    lots.extend(
        lot(f"{name}-solo{n}", [name, f"K{name}{n}"], f"K{name}{n}", number=10 + n)
        for name in ("P", "Q", "R")
        for n in range(2)
    )
    for n in range(10):
        if n < 5:
            lots.append(lot(f"ST{n}", ["S", "T"], "S", number=20 + n))
        else:  # S and T each bid five more lots, apart, against one-off bidders
            lots.append(lot(f"SS{n}", ["S", f"M{n}"], "S", number=20 + n))
            lots.append(lot(f"TT{n}", ["T", f"L{n}"], f"L{n}", number=20 + n))
    lots.extend(lot(f"UV{n}", ["U", "V"], "U", number=40 + n) for n in range(4))
    return fold(lots)


def test_cobid_group_is_the_component_of_strong_pairs() -> None:
    state = ring_market(["P", "Q", "R", "P", "Q", "R"])
    # each of P, Q, R bids 8 lots, 6 together: 6 ≥ 5 lots and 6/8 = .75 ≥ .6
    assert state.strong_pairs(CATALOGUE) == [("P", "Q", 6, 0.75), ("P", "R", 6, 0.75), ("Q", "R", 6, 0.75)]
    assert state.groups(CATALOGUE) == [("P", "Q", "R")]
    found = of_rule(state.findings(CATALOGUE), COBID_GROUP)
    assert [f.subjects for f in found] == [("P", "Q", "R")]
    assert found[0].evidence["shared_lots"] == 6
    assert [item["ocid"] for item in found[0].evidence["lots"]] == [f"R{n}" for n in range(6)]  # type: ignore[attr-defined]


def test_cobid_group_is_quiet_on_occasional_or_rare_pairs() -> None:
    state = ring_market(["O0", "N1", "O2", "N3", "O4", "N5"])
    assert state.co_bids()[("S", "T")] == 5  # 5 of 10 lots each: .5 < .6
    assert state.co_bids()[("U", "V")] == 4  # 4 < 5 lots
    assert [g for g in state.groups(CATALOGUE) if "S" in g or "U" in g] == []


def test_rotation_fires_when_members_win_the_shared_lots_in_turn() -> None:
    state = ring_market(["P", "Q", "R", "P", "Q", "R"])
    # 6 shared awarded lots, all won inside (rate 1 ≥ .8), 3 winners, top share 2/6 ≤ .6,
    # every winner also lost 4 shared lots to another member
    found = of_rule(state.findings(CATALOGUE), ROTATION)
    assert [f.subjects for f in found] == [("P", "Q", "R")]
    evidence = found[0].evidence
    assert evidence["wins_by_member"] == {"P": 2, "Q": 2, "R": 2}
    assert evidence["losses_to_member"] == {"P": 4, "Q": 4, "R": 4}
    assert evidence["top_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert evidence["evenness"] == 1.0
    assert [step["winner"] for step in evidence["sequence"]] == ["P", "Q", "R", "P", "Q", "R"]  # type: ignore[attr-defined]
    assert found[0].severity is Severity.RED


@pytest.mark.parametrize(
    ("winners", "why"),
    [
        (["O0", "N1", "O2", "N3", "P", "Q"], "in-group rate 2/6 < .8"),
        (["P", "P", "P", "P", "P", "P"], "one recurrent winner: top share 1 > .6"),
    ],
)
def test_rotation_is_quiet_without_turns(winners: list[str], why: str) -> None:
    state = ring_market(winners)
    assert state.groups(CATALOGUE) == [("P", "Q", "R")], why
    assert of_rule(state.findings(CATALOGUE), ROTATION) == [], why


# ---- shared people, contacts, devices, accounts across tenders (第四十条) ---------------------------


def signal_market(signals: Sequence[tuple[str, str, BidSignals]]) -> MarketState:
    state = MarketState()
    by_ocid: dict[str, list[tuple[str, BidSignals]]] = {}
    for ocid, bidder, signal in signals:
        by_ocid.setdefault(ocid, []).append((bidder, signal))
    for ocid, items in by_ocid.items():
        bidders = [bidder for bidder, _ in items] + [f"{ocid}-honest"]
        state.add_lot(lot(ocid, bidders, bidders[-1]), [signal for _, signal in items])
    return state


@pytest.mark.parametrize(
    ("field", "value", "kind", "severity"),
    [
        ("project_manager", "张三", "project_manager", Severity.RED),
        ("device_hash", "d" * 64, "device_hash", Severity.RED),
        ("guarantee_payer_account", "6222 0000 1111", "guarantee_payer_account", Severity.RED),
        ("contacts", ("13800000000",), "contact", Severity.AMBER),
    ],
)
def test_shared_identity_across_tenders_fires(field: str, value: object, kind: str, severity: Severity) -> None:
    state = signal_market(
        [
            ("T1", "甲公司", BidSignals("甲公司", **{field: value})),  # type: ignore[arg-type]
            ("T2", "乙公司", BidSignals("乙公司", **{field: value})),  # type: ignore[arg-type]
        ]
    )
    found = of_rule(state.findings(CATALOGUE), SHARED_IDENTITY)
    assert [(f.subjects, f.evidence["kind"], f.severity) for f in found] == [(("乙公司", "甲公司"), kind, severity)]
    assert found[0].evidence["tenders"] == 2
    assert found[0].evidence["uses"] == {
        "甲公司": [{"ocid": "T1", "lot": None}],
        "乙公司": [{"ocid": "T2", "lot": None}],
    }


@pytest.mark.parametrize(
    "signals",
    [
        # one tender only: the lot's own hard-evidence screen says it, not the market
        [
            ("T1", "甲公司", BidSignals("甲公司", device_hash="d")),
            ("T1", "乙公司", BidSignals("乙公司", device_hash="d")),
        ],
        # one bidder reusing its own project manager
        [
            ("T1", "甲公司", BidSignals("甲公司", project_manager="张三")),
            ("T2", "甲公司", BidSignals("甲公司", project_manager="张三")),
        ],
        # different values
        [
            ("T1", "甲公司", BidSignals("甲公司", device_hash="d1")),
            ("T2", "乙公司", BidSignals("乙公司", device_hash="d2")),
        ],
    ],
)
def test_shared_identity_is_quiet_otherwise(signals: list[tuple[str, str, BidSignals]]) -> None:
    assert of_rule(signal_market(signals).findings(CATALOGUE), SHARED_IDENTITY) == []


# ---- experts drawn too often for one tenderee -----------------------------------------------------


def draws(*, planted: bool) -> list[ExpertDraw]:
    """10 tenderees × 10 tenders × 2 seats = 200 seats; seat s goes to expert x(s mod 47), so one
    tenderee's 20 consecutive seats are 20 different experts. Expert E takes 6 seats: in 6 of
    tenderee 0's tenders (planted) or in one tender of each of 6 tenderees (honest)."""
    result = []
    for seat in range(200):
        tenderee, tender = seat // 20, (seat % 20) // 2
        expert = f"x{seat % 47}"
        if seat % 2 == 0 and (
            (planted and tenderee == 0 and tender < 6) or (not planted and tenderee < 6 and tender == 0)
        ):
            expert = "E"
        result.append(ExpertDraw(expert, f"招标人{tenderee}", f"D{tenderee}-{tender}", DAY0 + timedelta(days=seat)))
    return result


def exact_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def test_expert_drawn_too_often_for_one_tenderee_fires() -> None:
    state = MarketState()
    for draw in draws(planted=True):
        state.add_draw(draw)
    found = of_rule(state.findings(CATALOGUE), EXPERT_TENDEREE)
    # E: 6 of 200 seats → p = .03; tenderee 0 has n = 20 seats, expected .6, k = 6, ratio 10
    # P(X ≥ 6 | Bin(20, .03)) ≈ C(20,6)·.03⁶·.97¹⁴ + … ≈ 1.9e-5; the only pair tested (k ≥ 3), so
    # Bonferroni leaves it as it is: ≤ .001
    assert [f.subjects for f in found] == [("E",)]
    evidence = found[0].evidence
    assert (evidence["draws_for_tenderee"], evidence["tenderee_seats"], evidence["all_seats"]) == (6, 20, 200)
    assert evidence["expected"] == pytest.approx(0.6)
    assert evidence["ratio"] == pytest.approx(10.0)
    assert evidence["p_value"] == pytest.approx(exact_tail(6, 20, 0.03), rel=1e-9)
    assert 1e-5 < float(evidence["p_value"]) < 2e-5  # type: ignore[arg-type]
    assert evidence["p_adjusted"] == evidence["p_value"]


def test_expert_spread_over_tenderees_is_quiet() -> None:
    state = MarketState()
    for draw in draws(planted=False):
        state.add_draw(draw)
    assert of_rule(state.findings(CATALOGUE), EXPERT_TENDEREE) == []


@pytest.mark.parametrize(
    ("k", "n", "p"), [(0, 5, 0.2), (3, 5, 0.2), (5, 5, 0.2), (6, 5, 0.2), (2, 40, 0.01), (30, 1000, 0.01)]
)
def test_binomial_upper_tail_matches_the_exact_sum(k: int, n: int, p: float) -> None:
    expected = 1.0 if k <= 0 else exact_tail(k, n, p)
    assert binomial_upper_tail(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_binomial_tails_far_from_the_mode() -> None:
    # the first term underflows a float (0.5¹⁰⁰⁰⁰): the sum must still reach 1
    assert binomial_upper_tail(1, 10_000, 0.5) == pytest.approx(1.0)
    assert binomial_lower_tail(0, 40, 0.35) == pytest.approx(0.65**40, rel=1e-9)
    assert binomial_lower_tail(40, 40, 0.35) == pytest.approx(1.0)
    assert binomial_lower_tail(3, 10, 0.5) == pytest.approx(sum(math.comb(10, i) for i in range(4)) / 1024, rel=1e-9)


# ---- batch = incremental, serialisation, bad input ----------------------------------------------


def planted_lots() -> list[tuple[LotBids, tuple[BidSignals, ...]]]:
    rng = random.Random(19)  # noqa: S311 - reproducible test data
    result: list[tuple[LotBids, tuple[BidSignals, ...]]] = []
    ring = ["P", "Q", "R"]
    for n in range(120):
        outsiders = rng.sample([f"B{i:02}" for i in range(30)], 4)
        if n % 4 == 0:
            bidders = ring + outsiders[:2] + ["陪标王"]
            winner = ring[(n // 4) % 3]
        else:
            bidders = outsiders + (["陪标王"] if n % 2 else [])
            winner = rng.choice(outsiders)
        signals: tuple[BidSignals, ...] = ()
        if n in (5, 9):
            signals = (BidSignals(outsiders[0], device_hash="shared-device"),)
        result.append((lot(f"M{n:03}", bidders, winner, buyer=f"buyer{n % 7}", number=n), signals))
    return result


def test_incremental_gives_the_batch_findings() -> None:
    lots = planted_lots()
    batch = MarketState()
    for item, signals in lots:
        batch.add_lot(item, signals)
    stored = MarketState()
    for item, signals in lots[:-1]:
        stored.add_lot(item, signals)
    reloaded = MarketState.from_json(stored.to_json())
    reloaded.add_lot(*lots[-1])
    found = batch.findings(CATALOGUE)
    assert {f.rule for f in found} >= {COVER_BIDDER, COBID_GROUP, ROTATION, SHARED_IDENTITY}
    assert reloaded.findings(CATALOGUE) == found
    assert reloaded.bidder_counts() == batch.bidder_counts()
    assert reloaded.co_bids() == batch.co_bids()


def test_readding_a_lot_replaces_it() -> None:
    opened = lot("A1", ["P", "Q", "R"], None)
    awarded = lot("A1", ["P", "Q", "R"], "Q")
    twice = MarketState()
    twice.add_lot(opened, (BidSignals("P", device_hash="d"),))
    twice.add_lot(awarded)
    once = fold([awarded])
    assert twice.to_json() == once.to_json()
    assert twice.bidder_counts() == {"P": (1, 0), "Q": (1, 1), "R": (1, 0)}
    assert twice.co_bids() == {("P", "Q"): 1, ("P", "R"): 1, ("Q", "R"): 1}
    assert twice.bid_count == 3
    assert twice.lot_count == 1


def test_state_round_trips_through_json() -> None:
    state = MarketState()
    for item, signals in planted_lots():
        state.add_lot(item, signals)
    for draw in draws(planted=True):
        state.add_draw(draw)
    text = state.to_json()
    again = MarketState.from_json(text)
    assert again.to_json() == text
    assert again.findings(CATALOGUE) == state.findings(CATALOGUE)
    assert of_rule(again.findings(CATALOGUE), EXPERT_TENDEREE)


@pytest.mark.parametrize(
    ("item", "signals", "field"),
    [
        (lot("X1", ["A", "B"], "C"), (), "winner"),
        (lot("X1", ["A", "B"], "A"), (BidSignals("Z", device_hash="d"),), "signals[].bidder"),
        (lot("", ["A", "B"], "A"), (), "ocid"),
    ],
)
def test_bad_lots_are_refused_by_field(item: LotBids, signals: tuple[BidSignals, ...], field: str) -> None:
    with pytest.raises(MarketInputError) as caught:
        MarketState().add_lot(item, signals)
    assert caught.value.field_name == field
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", "json"),
        ('{"format": 9}', "format"),
        ('{"format": 1, "lots": [[1]]}', "lots[]"),
        ('{"format": 1, "bidders": ["A"], "lots": [["T", null, [0, 5], -1, null, null, null, []]]}', "lots[]"),
        (
            (
                '{"format": 1, "bidders": ["A", "B"], "pairs": [],'
                ' "lots": [["T", null, [0, 1], -1, null, null, null, []]]}'
            ),
            "pairs",
        ),
        ('{"format": 1, "bidders": [""]}', "bidders"),
    ],
)
def test_bad_state_is_refused_by_field(text: str, field: str) -> None:
    with pytest.raises(MarketInputError) as caught:
        MarketState.from_json(text)
    assert caught.value.field_name == field


def test_an_honest_market_raises_no_collusion_finding() -> None:
    """300 lots, 6 of 60 bidders drawn at random per lot, a random winner, random devices."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    state = MarketState()
    names = [f"H{i:02}" for i in range(60)]
    for n in range(300):
        bidders = rng.sample(names, 6)
        signals = tuple(BidSignals(b, device_hash=f"{b}-pc", project_manager=f"{b}-pm") for b in bidders)
        state.add_lot(lot(f"H{n:03}", bidders, rng.choice(bidders), buyer=f"buyer{n % 20}", number=n), signals)
    # win rate is a Tukey outlier test: an honest market of 60 can have a lucky bidder, so it is
    # left out here; the rules that speak of collusion must stay quiet
    found = [f for f in state.findings(CATALOGUE) if f.rule != WIN_RATE]
    assert found == []


# ---- the network picture ---------------------------------------------------------------------------


def test_network_picture_is_an_echarts_graph_bounded_in_size() -> None:
    state = ring_market(["P", "Q", "R", "P", "Q", "R"])
    picture = network_picture(state, max_edges=3)
    assert picture["edges"] == [
        {"source": "P", "target": "Q", "value": 6},
        {"source": "P", "target": "R", "value": 6},
        {"source": "Q", "target": "R", "value": 6},
    ]
    assert picture["truncated"] is True
    assert picture["categories"] == [{"name": "抱团组 1"}, {"name": "其他"}]
    nodes = {node["id"]: node for node in picture["nodes"]}  # type: ignore[attr-defined]
    assert set(nodes) == {"P", "Q", "R"}
    assert (nodes["P"]["bids"], nodes["P"]["wins"], nodes["P"]["category"]) == (8, 2, 0)


def test_network_picture_focus_keeps_the_edges_touching_it() -> None:
    state = ring_market(["P", "Q", "R", "P", "Q", "R"])
    picture = network_picture(state, focus=["U"])
    assert picture["edges"] == [{"source": "U", "target": "V", "value": 4}]
    nodes = {node["id"]: node["category"] for node in picture["nodes"]}  # type: ignore[attr-defined]
    assert nodes == {"U": 1, "V": 1}
    assert picture["truncated"] is False


def test_a_firm_in_every_lot_does_not_tie_the_market_into_one_group() -> None:
    # H bids in all 60 lots; s0…s9 bid in 12 lots each, always with H: 12 lots together is all
    # of s_i's lots (overlap 1) but 12/60 = .2 of H's (< .25). Neighbours s_i, s_i+1 share 6 of 12 (.5).
    state = fold(lot(f"H{n:02}", ["H", f"s{n % 10}", f"s{(n + 1) % 10}"], "H", number=n) for n in range(60))
    assert state.co_bids()[("H", "s3")] == 12
    assert state.groups(CATALOGUE) == []
    # without the larger bidder's overlap the whole market would be one group
    loose = with_thresholds(COBID_GROUP, min_overlap_larger=0.0)
    assert state.groups(loose) == [("H", *(f"s{i}" for i in range(10)))]


def test_a_rule_without_its_threshold_is_refused_by_name() -> None:
    rules = RuleSet(
        dataclasses.replace(rule, thresholds={k: v for k, v in rule.thresholds.items() if k != "min_bids"})
        if rule.id == COVER_BIDDER
        else rule
        for rule in CATALOGUE
    )
    with pytest.raises(MarketInputError) as caught:
        cover_market({"A": 5, "B": 4, "C": 6, "D": 5, "E": 0}).findings(rules)
    assert caught.value.field_name == "thresholds.min_bids"
    assert COVER_BIDDER in str(caught.value)


# ---- the compact binary state (format 2) and the per-bidder arrays --------------------------------


def busy_market(seed: int = 11, lots: int = 400) -> list[tuple[LotBids, tuple[BidSignals, ...]]]:
    """A market with everything a state keeps: lots of 1 to 9 bidders, some unawarded, buyers and
    markets (some missing), multi-lot tenders, shared devices, lots folded again (the award)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    names = [f"B{i:02}" for i in range(45)]
    result: list[tuple[LotBids, tuple[BidSignals, ...]]] = []
    for n in range(lots):
        bidders = rng.sample(names[: 12 if n % 5 == 0 else 45], rng.randint(1, 9))
        winner = rng.choice(bidders) if n % 4 else None
        item = dataclasses.replace(
            lot(f"T{n // 2:03}", bidders, winner, buyer=None if n % 9 == 0 else f"buyer{n % 13}", number=n % 30),
            lot=f"L{n % 2}",
            market=None if n % 7 == 0 else f"m{n % 3}",
        )
        signals = (BidSignals(bidders[0], device_hash=f"pc{n % 17}"),) if n % 3 == 0 else ()
        result.append((item, signals))
    # the award after the opening: the same lots again, now with a winner
    result.extend((dataclasses.replace(item, winner=item.bids[0].bidder), ()) for item, _ in result[:40:4])
    return result


def _fair_wins_by_loop(state: MarketState, index: int) -> tuple[int, float]:
    """The scalar fair-wins loop the arrays replaced (the reference)."""
    awarded, expected = 0, 0.0
    for item in state._lots.values():
        if index in item.bidders and item.winner >= 0:
            awarded += 1
            expected += 1.0 / len(item.bidders)
    return awarded, expected


def test_per_bidder_arrays_equal_the_scalar_loops_to_the_bit() -> None:
    state = MarketState()
    for item, signals in busy_market():
        state.add_lot(item, signals)
    for index in range(len(state._names)):
        assert state._fair_wins(index) == _fair_wins_by_loop(state, index)  # == on floats: the same bits
    strata: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for stratum, wins, won_in in state._strata_wins(0):
        strata[stratum] = list(wins.items())  # in first-win order: the order the HHI is summed in
        leader = next(iter(wins))
        assert sorted(won_in(leader)) == sorted(
            key
            for key, kept in state._lots.items()
            if kept.winner == leader and stratum[1] == (kept.buyer if stratum[0] == "buyer" else kept.market)
        )
    expected: dict[tuple[str, str], dict[int, int]] = {}
    for stored in state._lots.values():
        for kind, name in (("buyer", stored.buyer), ("market", stored.market)):
            if stored.winner >= 0 and name is not None:
                counts = expected.setdefault((kind, name), {})
                counts[stored.winner] = counts.get(stored.winner, 0) + 1
    assert list(strata) == sorted(expected)
    assert strata == {key: list(counts.items()) for key, counts in expected.items()}


def _loose() -> RuleSet:
    """Thresholds low enough that every market rule fires on the busy market."""
    rules = with_thresholds(MARKET_SHARE, min_lots=5, share=0.1, hhi=0.05)
    return RuleSet(
        dataclasses.replace(rule, thresholds={**rule.thresholds, "min_shared_lots": 3, "min_overlap": 0.2})
        if rule.id == COBID_GROUP
        else rule
        for rule in rules
    )


def test_binary_state_round_trips_and_folds_like_the_lot_by_lot_state() -> None:
    lots = busy_market()
    whole = MarketState()
    for item, signals in lots:
        whole.add_lot(item, signals)
    for draw in draws(planted=True):
        whole.add_draw(draw)
    data = whole.to_bytes()
    assert data.startswith(b"GGZYMKT")
    again = MarketState.from_bytes(data)
    assert again.to_bytes() == data
    assert len(data) < len(whole.to_json())
    rules = _loose()
    found = whole.findings(rules)
    assert {f.rule for f in found} >= {MARKET_SHARE, SHARED_IDENTITY, EXPERT_TENDEREE, COBID_GROUP}
    assert again.findings(rules) == found
    assert again.co_bids() == whole.co_bids()
    assert again.bidder_counts() == whole.bidder_counts()

    # the incremental fold on a loaded binary state: a new lot, then a lot folded again (replaced)
    stored = MarketState()
    for item, signals in lots[:-5]:
        stored.add_lot(item, signals)
    for draw in draws(planted=True):
        stored.add_draw(draw)
    loaded = MarketState.from_bytes(stored.to_bytes())
    for item, signals in lots[-5:]:
        loaded = MarketState.from_bytes(loaded.to_bytes())  # load, fold one lot, save: as at each opening
        loaded.add_lot(item, signals)
    loaded.add_lot(*lots[3])  # the same lot again replaces itself
    loaded = MarketState.load(loaded.to_bytes())
    assert loaded.findings(rules) == found
    assert loaded.co_bids() == whole.co_bids()
    assert loaded.bidder_counts() == whole.bidder_counts()
    assert loaded.lot_count == whole.lot_count


def test_a_batch_state_saved_in_binary_folds_new_lots_in_its_arrays() -> None:
    lots = [item for item, _ in busy_market(seed=5, lots=120)]
    keys = list(dict.fromkeys((item.ocid, item.lot) for item in lots))
    last = {(item.ocid, item.lot): item for item in lots}
    names = sorted({bid.bidder for item in lots for bid in item.bids})
    number = {name: i for i, name in enumerate(names)}
    lot_of_bid, bidder_of_bid = [], []
    for position, key in enumerate(keys):
        for bid in last[key].bids:
            lot_of_bid.append(position)
            bidder_of_bid.append(number[bid.bidder])
    winners = [number[last[key].winner] if last[key].winner else -1 for key in keys]  # type: ignore[index]
    details = [(last[key].buyer, last[key].market, last[key].date.isoformat()) for key in keys]  # type: ignore[union-attr]
    batch = MarketState.from_arrays(
        names, keys, lot_of_bid=lot_of_bid, bidder_of_bid=bidder_of_bid, winners=winners, details=details
    )
    extra = lot("NEW", ["B01", "B02", "Z9"], "Z9", buyer="buyer1", number=3)
    kept = MarketState.from_bytes(batch.to_bytes())
    kept.add_lot(extra)
    kept.add_lot(last[keys[0]])  # again: replaced, not counted twice
    reference = fold([*last.values(), extra])
    assert kept._pair_counter is None  # the fold stayed in the arrays (no Counter of every pair)
    assert kept.co_bids() == reference.co_bids()
    assert kept.bidder_counts() == reference.bidder_counts()
    assert kept.findings(_loose()) == reference.findings(_loose())


def test_the_pairs_left_out_are_counted_again_on_load() -> None:
    state = MarketState()
    for item, signals in busy_market():
        state.add_lot(item, signals)
    data, old = state.to_bytes(), state._to_bytes(with_pairs=True)
    assert len(data) < len(old)
    assert b'"format":3' in data
    assert b'"format":2' in old
    for loaded in (MarketState.from_bytes(data), MarketState.from_bytes(old)):
        assert loaded.co_bids() == state.co_bids()
        keys, _counts = loaded.pair_arrays()
        assert (keys[1:] > keys[:-1]).all()
        assert loaded.findings(_loose()) == state.findings(_loose())


def test_an_old_json_state_still_loads() -> None:
    state = MarketState()
    for item, signals in planted_lots():
        state.add_lot(item, signals)
    old = MarketState.load(state.to_json())
    assert MarketState.from_bytes(old.to_bytes()).findings(CATALOGUE) == state.findings(CATALOGUE)


def _corrupt(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


def test_bad_binary_state_is_refused_by_field() -> None:
    state = MarketState()
    for item, signals in planted_lots():
        state.add_lot(item, signals)
    data = state.to_bytes()
    old = state._to_bytes(with_pairs=True)  # as kept before the pairs were left out (format 2)
    cases = [
        (b"GGZYMKT\x01" + data[8:], "format"),
        (old[:-64], "pair_counts"),
        (data[:-64], "bidders"),
        (_corrupt(data, b'"format":3', b'"format":4'), "format"),
        (_corrupt(data, b'"format":3', b'"format":"'), "header"),
        (_corrupt(old, b'"format":2', b'"format":3'), "pairs"),  # format 3 stores none
    ]
    for bad, field in cases:
        with pytest.raises(MarketInputError) as caught:
            MarketState.from_bytes(bad)
        assert caught.value.field_name == field, field
    # a pair count changed: the pairs no longer add up to the lots' co-bids
    header = int.from_bytes(old[8:16], "little")
    tail = bytearray(old)
    keys, counts = state.pair_arrays()
    offset = (
        16
        + header
        + sum(
            (size * width + (-(size * width) % 8))
            for size, width in (
                (state.lot_count, 4),
                (state.lot_count, 4),
                (state.lot_count, 4),
                (state.lot_count, 4),
                (state.lot_count, 4),
                (state.bid_count, 4),
                (keys.size, 8),
            )
        )
    )
    tail[offset : offset + 4] = (int(counts[0]) + 1).to_bytes(4, "little")
    with pytest.raises(MarketInputError) as caught:
        MarketState.from_bytes(bytes(tail))
    assert caught.value.field_name == "pairs"


def _rotation_by_lots(state: MarketState, rules: RuleSet) -> list[tuple[tuple[str, ...], dict[str, object]]]:
    """The rotation rule's figures read lot by lot through `_Lot` (the reference the columns replaced)."""
    result = []
    for group in state.groups(rules):
        indices = {state._ids[name] for name in group}
        shared = [key for key in state._shared_lots(indices) if state._lots[key].winner >= 0]
        won = [key for key in shared if state._lots[key].winner in indices]
        if not won:
            continue
        winners: dict[str, int] = {}
        for key in won:
            name = state._names[state._lots[key].winner]
            winners[name] = winners.get(name, 0) + 1
        lost: dict[str, int] = {}
        for key in won:
            kept = state._lots[key]
            for index in kept.bidders:
                if index in indices and index != kept.winner:
                    lost[state._names[index]] = lost.get(state._names[index], 0) + 1
        timeline = sorted(won, key=lambda key: (state._lots[key].on or "", key[0], key[1] or ""))
        result.append(
            (
                group,
                {
                    "shared_awarded_lots": len(shared),
                    "won_inside": len(won),
                    "wins_by_member": dict(sorted(winners.items())),
                    "losses_to_member": dict(sorted(lost.items())),
                    "evenness": round(_evenness_of(list(winners.values())), 6),
                    "sequence": [
                        (key, state._lots[key].on, state._names[state._lots[key].winner]) for key in timeline[:50]
                    ],
                },
            )
        )
    return result


def _evenness_of(counts: list[int]) -> float:
    total = sum(counts)
    if len(counts) < 2 or total == 0:
        return 0.0
    return -sum(c / total * math.log(c / total) for c in counts if c) / math.log(len(counts))


@pytest.mark.parametrize("form", ["lots", "columns"])
def test_rotation_read_by_position_equals_the_lot_by_lot_reading(form: str) -> None:
    rules = _loose()
    rotation = next(rule for rule in rules if rule.id == ROTATION)
    # every group that wins a shared lot is reported, so each one's figures are compared
    everything = RuleSet(
        dataclasses.replace(
            rule,
            thresholds={
                **rule.thresholds,
                "min_group_lots": 1,
                "min_in_group_win_rate": 0,
                "min_distinct_winners": 1,
                "max_top_share": 1,
                "min_rotating_members": 0,
            },
        )
        if rule is rotation
        else rule
        for rule in rules
    )
    compared = 0
    for lots in (busy_market(), planted_lots()):
        state = MarketState()
        for item, signals in lots:
            state.add_lot(item, signals)
        if form == "columns":  # the batch's columns (`_ArrayLots`), as a loaded or batch-built state holds them
            state = MarketState.from_bytes(state.to_bytes())
        expected = _rotation_by_lots(state, everything)
        found = of_rule(state.findings(everything), ROTATION)
        assert len(found) == len(expected)
        for finding, (group, figures) in zip(found, expected, strict=True):
            assert finding.subjects == group
            evidence = finding.evidence
            assert {name: evidence[name] for name in figures if name not in ("sequence", "evenness")} == {
                name: value for name, value in figures.items() if name not in ("sequence", "evenness")
            }
            assert evidence["evenness"] == figures["evenness"]
            sequence = evidence["sequence"]
            assert isinstance(sequence, list)
            assert [(item["ocid"], item["lot"], item["date"], item["winner"]) for item in sequence] == [
                (key[0], key[1], on, winner)
                for key, on, winner in figures["sequence"]  # type: ignore[attr-defined]
            ]
            compared += 1
    assert compared >= 2


@pytest.mark.parametrize("rank", [0, 3, 7, 12, 15])
def test_strata_below_the_share_cut_are_the_ones_left_out(rank: int) -> None:
    state = MarketState()
    for item, signals in busy_market():
        state.add_lot(item, signals)
    for loaded in (state, MarketState.from_bytes(state.to_bytes())):
        every = [(stratum, list(wins.items())) for stratum, wins, _ in loaded._strata_wins(1)]
        tops = sorted(max(c for _, c in wins) / sum(c for _, c in wins) for _, wins in every)
        cut = tops[rank]  # a stratum's own top share: kept (>=), the ones below left out
        kept = [(stratum, list(wins.items())) for stratum, wins, _ in loaded._strata_wins(1, top_share=cut)]
        assert kept == [
            (stratum, wins) for stratum, wins in every if max(c for _, c in wins) / sum(c for _, c in wins) >= cut
        ]
        assert kept
        assert len(kept) < len(every) or cut == tops[0]


@pytest.mark.parametrize("spare", [0, 70_000])
def test_a_batch_state_counts_alike_with_narrow_and_wide_keys(spare: int) -> None:
    """``spare`` bidders and lots without bids before the real ones: 0 keeps lot × bidders and
    the pair keys within int32 (sorted as such) and the bidder numbers within 16 bits (each
    bidder's lots found by radix sort), 70,000 pushes all three past it."""
    lots = [item for item, _ in busy_market(seed=11, lots=150)]
    last = {(item.ocid, item.lot): item for item in lots}
    keys = [(f"idle{n}", None) for n in range(spare)] + list(last)
    names = [f"idle{n:05}" for n in range(spare)] + sorted({bid.bidder for item in lots for bid in item.bids})
    number = {name: i for i, name in enumerate(names)}
    lot_of_bid, bidder_of_bid = [], []
    for position, key in enumerate(keys[spare:], start=spare):
        for bid in reversed(last[key].bids):  # any order within a lot
            lot_of_bid.append(position)
            bidder_of_bid.append(number[bid.bidder])
    winners = [-1] * spare + [number[item.winner] if item.winner else -1 for item in last.values()]
    details = [(None, None, None)] * spare + [
        (item.buyer, item.market, item.date.isoformat() if item.date else None) for item in last.values()
    ]
    batch = MarketState.from_arrays(
        names, keys, lot_of_bid=lot_of_bid, bidder_of_bid=bidder_of_bid, winners=winners, details=details
    )
    reference = fold(last.values())
    assert batch.co_bids() == reference.co_bids()
    assert batch.bidder_counts() == reference.bidder_counts()
    assert batch.findings(_loose()) == reference.findings(_loose())
    pair_keys, counts = batch.pair_arrays()
    assert (pair_keys[1:] > pair_keys[:-1]).all()
    assert int(pair_keys.max() >> 32) >= spare  # the pairs' low bidders are numbered past the spare ones
    loaded = MarketState.from_bytes(batch.to_bytes())  # counted again on load: the same arrays
    assert [a.tolist() for a in loaded.pair_arrays()] == [pair_keys.tolist(), counts.tolist()]
