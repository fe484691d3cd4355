"""The methods end to end on worked numbers: GP 综合评分法 and 最低评标价法, engineering 综合评估法 and
经评审的最低投标价法, 评定分离; aggregation (mean and the engineering trim); ranking and ties.

Expected numbers are computed by hand in the comments.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bidding.evaluation.methods.aggregation import aggregate, rank_by_price, rank_by_score
from bidding.evaluation.methods.common import (
    Bid,
    Criterion,
    CriterionKind,
    EvaluationRefused,
    MethodCode,
    Sector,
)
from bidding.evaluation.methods.defaults import DEFAULTS
from bidding.evaluation.methods.engineering import comprehensive_evaluation, reviewed_lowest_price
from bidding.evaluation.methods.gp import comprehensive_scoring, lowest_evaluated_price
from bidding.evaluation.methods.separation import recommend
from bidding.evaluation.methods.settings import MethodSettings

PRICE = Criterion("price", CriterionKind.PRICE, Decimal("0.30"))
TECH = Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.50"))
SERVICE = Criterion("service", CriterionKind.OBJECTIVE, Decimal("0.20"))
GP_SETTINGS = MethodSettings(MethodCode.GP_COMPREHENSIVE, Sector.GOODS, criteria=(PRICE, TECH, SERVICE))


def panel(per_bid: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, dict[str, Decimal]]]:
    """bid → criterion → one score per expert (e1, e2, …) into expert → bid → criterion → score."""
    out: dict[str, dict[str, dict[str, Decimal]]] = {}
    for bid, criteria in per_bid.items():
        for code, values in criteria.items():
            for i, value in enumerate(values, start=1):
                out.setdefault(f"e{i}", {}).setdefault(bid, {})[code] = Decimal(value)
    return out


GP_SCORES = panel(
    {
        # tech means: A (60+62+64+66+68)/5 = 64; B 80; C (90·4 + 95)/5 = 91
        "A": {"tech": ["60", "62", "64", "66", "68"], "service": ["50"] * 5},
        "B": {"tech": ["80"] * 5, "service": ["60"] * 5},
        "C": {"tech": ["90", "90", "90", "90", "95"], "service": ["70"] * 5},
    }
)


def test_gp_comprehensive_scoring_worked() -> None:
    bids = [
        Bid("A", Decimal(800000)),
        Bid("B", Decimal(1000000)),
        Bid("C", Decimal(1250000)),
        Bid("D", Decimal(500000), valid=False),  # rejected: neither the base nor ranked
    ]
    result = comprehensive_scoring(GP_SETTINGS, bids, GP_SCORES)
    # B = lowest valid price = 800,000 (D is invalid and does not count)
    assert result.base_price == Decimal("800000.00")
    rows = {row.key: row for row in result.rows}
    # F_price: A 800/800·100 = 100; B 800/1000·100 = 80; C 800/1250·100 = 64
    assert [rows[k].price_score for k in "ABC"] == [Decimal("100.00"), Decimal("80.00"), Decimal("64.00")]
    # A: 100·0.3 + 64·0.5 + 50·0.2 = 30 + 32 + 10 = 72.00
    # B: 80·0.3 + 80·0.5 + 60·0.2 = 24 + 40 + 12 = 76.00
    # C: 64·0.3 + 91·0.5 + 70·0.2 = 19.20 + 45.50 + 14.00 = 78.70
    assert rows["A"].components == {"price": Decimal("30.00"), "tech": Decimal("32.00"), "service": Decimal("10.00")}
    assert [rows[k].total for k in "ABC"] == [Decimal("72.00"), Decimal("76.00"), Decimal("78.70")]
    assert rows["D"].valid is False
    assert rows["D"].total is None
    assert [(r.key, r.rank) for r in result.ranking.order] == [("C", 1), ("B", 2), ("A", 3)]
    assert result.ranking.candidates == ("C", "B", "A")
    assert result.ranking.flags == ()  # three valid bids: no Art. 27 flag
    record = result.as_record()
    assert record["method"] == "gp-comprehensive-scoring"
    assert record["method_version"] == "1"
    assert record["defaults_version"] == DEFAULTS.version
    assert record["rows"][2]["total"] == "78.70"


def test_gp_never_drops_the_lowest_price() -> None:
    # A very low price (100,000) is still the base: F_price of 1,000,000 = 100,000/1,000,000·100 = 10
    bids = [Bid("A", Decimal(1000000)), Bid("B", Decimal(1200000)), Bid("L", Decimal(100000))]
    scores = panel({k: {"tech": ["50"] * 5, "service": ["50"] * 5} for k in ("A", "B", "L")})
    result = comprehensive_scoring(GP_SETTINGS, bids, scores)
    assert result.base_price == Decimal("100000.00")
    rows = {row.key: row for row in result.rows}
    assert rows["A"].price_score == Decimal("10.00")
    # B: 100,000/1,200,000·100 = 8.3333 → 8.33; weighted 8.3333·0.3 = 2.50
    assert rows["B"].price_score == Decimal("8.33")
    assert rows["B"].components["price"] == Decimal("2.50")


def test_gp_policy_deduction_enters_the_price_score() -> None:
    # A small enterprise's 1,000,000 with a 10 % deduction is evaluated at 900,000 and becomes the base;
    # B 950,000 → 900,000/950,000·100 = 94.7368 → 94.74
    bids = [
        Bid("A", Decimal(1000000), deduction_rate=Decimal("0.10")),
        Bid("B", Decimal(950000)),
        Bid("C", Decimal(990000)),
    ]
    scores = panel({k: {"tech": ["50"] * 5, "service": ["50"] * 5} for k in "ABC"})
    result = comprehensive_scoring(GP_SETTINGS, bids, scores)
    rows = {row.key: row for row in result.rows}
    assert result.base_price == Decimal("900000.00")
    assert rows["A"].evaluated_price == Decimal("900000.00")
    assert rows["B"].price_score == Decimal("94.74")


def test_gp_comprehensive_tie_goes_to_the_lower_price() -> None:
    # Equal totals by construction: A at 1,000,000 (base) with tech 60; B at 1,250,000 with tech 72:
    # A: 100·0.3 + 60·0.5 + 50·0.2 = 30 + 30 + 10 = 70.00
    # B: 80·0.3 + 72·0.5 + 50·0.2 = 24 + 36 + 10 = 70.00 → tie → A (lower price) first
    bids = [Bid("B", Decimal(1250000)), Bid("A", Decimal(1000000)), Bid("C", Decimal(2000000))]
    scores = panel(
        {
            "A": {"tech": ["60"] * 5, "service": ["50"] * 5},
            "B": {"tech": ["72"] * 5, "service": ["50"] * 5},
            "C": {"tech": ["10"] * 5, "service": ["50"] * 5},
        }
    )
    result = comprehensive_scoring(GP_SETTINGS, bids, scores)
    assert [(r.key, r.total, r.rank, r.tied) for r in result.ranking.order[:2]] == [
        ("A", Decimal("70.00"), 1, False),
        ("B", Decimal("70.00"), 2, False),
    ]


def test_ranking_ties_share_a_rank_and_flag_the_cut() -> None:
    totals = {"a": Decimal(80), "b": Decimal(80), "c": Decimal(85), "d": Decimal(80)}
    prices = {"a": Decimal(100), "b": Decimal(90), "c": Decimal(120), "d": Decimal(90)}
    # c (85) first; b and d tie on total 80 AND price 90 → 并列 rank 2, listed b then d (key); a rank 4
    ranking = rank_by_score(totals, prices, candidates=3)
    assert [(r.key, r.rank, r.tied) for r in ranking.order] == [
        ("c", 1, False),
        ("b", 2, True),
        ("d", 2, True),
        ("a", 4, False),
    ]
    assert ranking.candidates == ("c", "b", "d")
    assert ranking.flags == ()
    # with two candidates the cut falls inside the 并列 group → flagged for the committee
    cut = rank_by_score(totals, prices, candidates=2)
    assert cut.candidates == ("c", "b")
    assert [(f.code, f.detail["bids"]) for f in cut.flags] == [("tie_at_cutoff", ["b", "d"])]


def test_ranking_is_independent_of_input_order() -> None:
    totals = {"x": Decimal(70), "y": Decimal(70), "z": Decimal(70)}
    prices = {"x": Decimal(5), "y": Decimal(5), "z": Decimal(5)}
    forward = rank_by_score(totals, prices)
    backward = rank_by_score(dict(reversed(list(totals.items()))), dict(reversed(list(prices.items()))))
    assert forward == backward
    assert [r.rank for r in forward.order] == [1, 1, 1]


def test_fewer_than_three_valid_bids_flagged() -> None:
    ranking = rank_by_price({"a": Decimal(10), "b": Decimal(12)}, {"a": Decimal(10), "b": Decimal(12)})
    assert [(f.code, f.rule, f.detail["valid_bids"]) for f in ranking.flags] == [
        ("valid_bids_few", "12号令 Art. 27", 2)
    ]


def test_gp_lowest_evaluated_price_worked() -> None:
    settings = MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.SERVICES)
    bids = [
        # A: corrected 1,000,000 (quoted 1,000,100: -100 arithmetic correction), 10 % deduction → 900,000.00
        Bid("A", Decimal(1000000), quoted=Decimal(1000100), deduction_rate=Decimal("0.10")),
        Bid("B", Decimal(950000)),  # 950,000.00
        Bid("C", Decimal(900000)),  # 900,000.00: ties A on the evaluated price; lower price → C first
        # E: 999,999.99 × (1 - 0.06) = 939,999.9906 → 939,999.99
        Bid("E", Decimal("999999.99"), deduction_rate=Decimal("0.06")),
    ]
    result = lowest_evaluated_price(settings, bids)
    rows = {row.key: row for row in result.rows}
    assert rows["A"].evaluated_price == Decimal("900000.00")
    assert rows["A"].detail["correction"] == Decimal(-100)
    assert rows["A"].detail["deduction"] == Decimal("100000.00")
    assert rows["E"].evaluated_price == Decimal("939999.99")
    assert [(r.key, r.rank) for r in result.ranking.order] == [("C", 1), ("A", 2), ("E", 3), ("B", 4)]
    assert result.method.code is MethodCode.GP_LOWEST_PRICE


def test_gp_lowest_price_refuses_other_adjustments() -> None:
    settings = MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.GOODS)
    with pytest.raises(EvaluationRefused) as caught:
        lowest_evaluated_price(settings, [Bid("A", Decimal(100), adjustments={"工期": Decimal(5)})])
    assert (caught.value.field, caught.value.rule) == ("bids[0].adjustments", "gp_no_price_adjustment")


ENG_PRICE = Criterion("price", CriterionKind.PRICE, Decimal("0.6"))
ENG_TECH = Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.4"))


def eng_settings(**kwargs: object) -> MethodSettings:
    base: dict[str, object] = {
        "method": MethodCode.ENG_COMPREHENSIVE,
        "sector": Sector.ENGINEERING,
        "criteria": (ENG_PRICE, ENG_TECH),
        "price_base": "F1",
        "trim_expert_scores": True,
    }
    base.update(kwargs)
    return MethodSettings(**base)  # type: ignore[arg-type]


def test_engineering_comprehensive_f1_with_trim_worked() -> None:
    bids = [
        Bid("a", Decimal(900000)),
        Bid("b", Decimal(950000)),
        Bid("c", Decimal(1000000)),
        Bid("d", Decimal(1050000)),
        Bid("e", Decimal(1100000)),
    ]
    scores = panel(
        {
            # 7 experts and trim on: drop e7's 100 (highest total) and e1's 70 (lowest);
            # mean of 72, 74, 76, 78, 80 = 76 → ×0.4 = 30.40
            "a": {"tech": ["70", "72", "74", "76", "78", "80", "100"]},
            "b": {"tech": ["80"] * 7},  # 32.00
            "c": {"tech": ["75"] * 7},  # 30.00
            "d": {"tech": ["70"] * 7},  # 28.00
            "e": {"tech": ["85"] * 7},  # 34.00
        }
    )
    result = comprehensive_evaluation(eng_settings(), bids, scores, {"float": Decimal("0.05")})
    # F1 n = 5: mean 1,000,000 × 1.05 → B = 1,050,000.00 (scores as in test_base_price_presets F1-n5)
    assert result.base_price == Decimal("1050000.00")
    rows = {row.key: row for row in result.rows}
    # price components: 88.57·0.6 = 53.142 → 53.14; 92.38·0.6 = 55.428 → 55.43; 96.19·0.6 = 57.714 → 57.71;
    # 100·0.6 = 60.00; 94.29·0.6 = 56.574 → 56.57
    assert [rows[k].components["price"] for k in "abcde"] == [
        Decimal("53.14"),
        Decimal("55.43"),
        Decimal("57.71"),
        Decimal("60.00"),
        Decimal("56.57"),
    ]
    assert rows["a"].components["tech"] == Decimal("30.40")
    assert rows["a"].detail["left_out"] == [["e7", "highest"], ["e1", "lowest"]]
    # totals: a 83.54, b 87.43, c 87.71, d 88.00, e 90.57
    assert [rows[k].total for k in "abcde"] == [
        Decimal("83.54"),
        Decimal("87.43"),
        Decimal("87.71"),
        Decimal("88.00"),
        Decimal("90.57"),
    ]
    assert result.ranking.candidates == ("e", "d", "c")
    assert result.coefficients == {"float": Decimal("0.05")}
    assert result.computation["preset"] == "F1"


def test_engineering_without_trim_takes_the_plain_mean() -> None:
    # same 7 scores, no trim: (70+72+74+76+78+80+100)/7 = 550/7 = 78.5714 → ×0.4 = 31.4286 → 31.43
    scores = panel({"a": {"tech": ["70", "72", "74", "76", "78", "80", "100"]}})
    out = aggregate((ENG_PRICE, ENG_TECH), scores, ["a"], trim=False)
    assert out["a"].components == {"tech": Decimal("31.43")}
    assert out["a"].means == {"tech": Decimal("78.57")}
    assert out["a"].left_out == ()


def test_trim_needs_seven_members() -> None:
    # 5 experts: the trim is configured but does not apply: mean (10+20+30+40+100)/5 = 40 → 16.00
    scores = panel({"a": {"tech": ["10", "20", "30", "40", "100"]}})
    out = aggregate((ENG_PRICE, ENG_TECH), scores, ["a"], trim=True)
    assert out["a"].components == {"tech": Decimal("16.00")}
    assert len(out["a"].experts) == 5


def test_engineering_refuses_a_missing_or_foreign_coefficient() -> None:
    bids = [Bid("a", Decimal(100)), Bid("b", Decimal(110)), Bid("c", Decimal(120))]
    scores = panel({k: {"tech": ["50"] * 5} for k in "abc"})
    with pytest.raises(EvaluationRefused) as caught:
        comprehensive_evaluation(eng_settings(), bids, scores, {})
    assert (caught.value.field, caught.value.rule) == ("coefficients.float", "coefficient_missing")
    with pytest.raises(EvaluationRefused) as caught:
        comprehensive_evaluation(eng_settings(), bids, scores, {"K": Decimal("0.95")})
    assert caught.value.rule == "coefficient_unknown"


def test_aggregation_refuses_missing_and_out_of_range_scores() -> None:
    scores = panel({"a": {"tech": ["50", "101"]}})
    with pytest.raises(EvaluationRefused) as caught:
        aggregate((ENG_PRICE, ENG_TECH), scores, ["a"])
    assert (caught.value.field, caught.value.rule) == ("scores.e2.a.tech", "score_range")
    with pytest.raises(EvaluationRefused) as caught:
        aggregate((ENG_PRICE, ENG_TECH), scores, ["a", "b"])
    assert caught.value.rule == "score_missing"


def test_reviewed_lowest_price_comparison_table() -> None:
    settings = MethodSettings(MethodCode.ENG_LOWEST_PRICE, Sector.ENGINEERING, adjustments=("duration", "payment"))
    bids = [
        # a: 1,000,000 + 20,000 - 5,000 = 1,015,000.00
        Bid(
            "a",
            Decimal(1000000),
            quoted=Decimal(1000100),
            adjustments={"duration": Decimal(20000), "payment": Decimal(-5000)},
        ),
        Bid("b", Decimal(990000), adjustments={"duration": Decimal(30000)}),  # 1,020,000.00
        Bid("c", Decimal(1030000), adjustments={"payment": Decimal(-15000)}),  # 1,015,000.00: ties a; a is cheaper
        Bid("x", Decimal(10), valid=False),
    ]
    result = reviewed_lowest_price(settings, bids)
    rows = {row.key: row for row in result.rows}
    assert rows["a"].evaluated_price == Decimal("1015000.00")
    assert rows["a"].detail["adjustments"] == {"duration": Decimal(20000), "payment": Decimal(-5000)}
    assert rows["b"].detail["adjustments"] == {"duration": Decimal(30000), "payment": Decimal(0)}
    assert rows["x"].evaluated_price is None
    assert [(r.key, r.rank) for r in result.ranking.order] == [("a", 1), ("c", 2), ("b", 3)]
    with pytest.raises(EvaluationRefused) as caught:
        reviewed_lowest_price(settings, [Bid("a", Decimal(1), adjustments={"bonus": Decimal(-1)})])
    assert (caught.value.field, caught.value.rule) == ("bids[0].adjustments.bonus", "adjustment_unknown")


def test_separation_recommends_unranked() -> None:
    settings = MethodSettings(MethodCode.ENG_LOWEST_PRICE, Sector.ENGINEERING)
    # evaluated order: p1 (100), p2 (200), p3 (300) tied with p4 (300, same price), p5 (400)
    prices = {"p5": Decimal(400), "p4": Decimal(300), "p3": Decimal(300), "p2": Decimal(200), "p1": Decimal(100)}
    result = reviewed_lowest_price(settings, [Bid(k, v) for k, v in prices.items()])
    sep = MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING, recommend=3)
    rec = recommend(sep, result)
    # the 3rd place is a 并列 group (p3, p4): both recommended, listed by key, no ranks
    assert rec.candidates == ("p1", "p2", "p3", "p4")
    assert [f.code for f in rec.flags] == ["recommend_tie_extended"]
    record = rec.as_record()
    assert record["ranked"] is False
    assert record["source_method"] == "eng-reviewed-lowest-price"
    four = recommend(MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING, recommend=4), result)
    assert four.candidates == ("p1", "p2", "p3", "p4")
    assert four.flags == ()


def test_method_refuses_settings_of_another_method() -> None:
    with pytest.raises(EvaluationRefused) as caught:
        lowest_evaluated_price(GP_SETTINGS, [Bid("A", Decimal(1))])
    assert caught.value.rule == "method_mismatch"


def test_bids_are_checked() -> None:
    settings = MethodSettings(MethodCode.GP_LOWEST_PRICE, Sector.GOODS)
    with pytest.raises(EvaluationRefused) as caught:
        lowest_evaluated_price(settings, [Bid("A", Decimal(1)), Bid("A", Decimal(-2), deduction_rate=Decimal(1))])
    rules = [(e["field"], e["rule"]) for e in caught.value.extra["errors"]]
    assert rules == [
        ("bids[1].key", "bid_key_unique"),
        ("bids[1].price", "price_positive"),
        ("bids[1].deduction_rate", "deduction_rate_range"),
    ]


def test_no_valid_bid_gives_an_empty_ranking_flagged() -> None:
    bids = [Bid("a", Decimal(100), valid=False), Bid("b", Decimal(110), valid=False)]
    gp_result = comprehensive_scoring(GP_SETTINGS, bids, {})
    eng_result = comprehensive_evaluation(eng_settings(), bids, {}, {"float": Decimal(0)})
    for result in (gp_result, eng_result):
        assert result.ranking.order == ()
        assert result.ranking.candidates == ()
        assert [f.code for f in result.ranking.flags] == ["valid_bids_few"]
        assert [row.valid for row in result.rows] == [False, False]


def test_decided_objective_values_replace_the_experts_mean() -> None:
    # service decided jointly (majority): A 50, B 60, C 70 — the experts' own service scores are not needed.
    # Totals as in test_gp_comprehensive_scoring_worked: A 72.00, B 76.00, C 78.70
    scores = {
        expert: {bid: {"tech": value} for bid, value in per_bid.items()}
        for expert, per_bid in {f"e{i}": {k: GP_SCORES[f"e{i}"][k]["tech"] for k in "ABC"} for i in range(1, 6)}.items()
    }
    decided = {"service": {"A": Decimal(50), "B": Decimal(60), "C": Decimal(70)}}
    bids = [Bid("A", Decimal(800000)), Bid("B", Decimal(1000000)), Bid("C", Decimal(1250000))]
    result = comprehensive_scoring(GP_SETTINGS, bids, scores, decided=decided)
    assert [row.total for row in result.rows] == [Decimal("72.00"), Decimal("76.00"), Decimal("78.70")]
    assert result.rows[0].components["service"] == Decimal("10.00")


def test_decided_values_are_checked() -> None:
    scores = panel({"a": {"tech": ["50"] * 5, "service": ["50"] * 5}})
    criteria = (PRICE, TECH, SERVICE)
    for decided, field, rule in (
        ({"tech": {"a": Decimal(50)}}, "decided.tech", "decided_objective_only"),
        ({"service": {}}, "decided.service.a", "decided_missing"),
        ({"service": {"a": Decimal(101)}}, "decided.service.a", "score_range"),
    ):
        with pytest.raises(EvaluationRefused) as caught:
            aggregate(criteria, scores, ["a"], decided=decided)
        assert (caught.value.field, caught.value.rule) == (field, rule)


def test_trim_ignores_decided_criteria() -> None:
    # 7 experts; tech as in the trim test (mean without e7's 100 and e1's 70 = 76). e2 scores the
    # decided criterion o at 100: counted, e2's total (72·0.3 + 100·0.1 = 31.6) would beat e7's
    # (100·0.3 = 30) and e2 would be left out instead; decided, o is not the experts' and e7 goes.
    tech = Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.3"))
    criteria = (ENG_PRICE, tech, Criterion("o", CriterionKind.OBJECTIVE, Decimal("0.1")))
    scores = panel(
        {"a": {"tech": ["70", "72", "74", "76", "78", "80", "100"], "o": ["0", "100", "0", "0", "0", "0", "0"]}}
    )
    out = aggregate(criteria, scores, ["a"], trim=True, decided={"o": {"a": Decimal(40)}})["a"]
    # tech: 76 × 0.3 = 22.80; o: 40 × 0.1 = 4.00
    assert out.components == {"tech": Decimal("22.80"), "o": Decimal("4.00")}
    assert out.left_out == (("e7", "highest"), ("e1", "lowest"))
