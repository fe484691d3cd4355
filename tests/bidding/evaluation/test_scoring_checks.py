"""The 87号令 Art. 64 checks: each finding with its code, expert, bid, criterion and numbers."""

from __future__ import annotations

from decimal import Decimal

from bidding.evaluation.methods.common import Criterion, CriterionKind
from bidding.evaluation.methods.defaults import DEFAULTS
from bidding.evaluation.scoring_checks import (
    Sheet,
    objective_inconsistencies,
    outliers,
    range_errors,
    run_checks,
    summation_errors,
)

CRITERIA = (
    Criterion("price", CriterionKind.PRICE, Decimal("0.3")),
    Criterion("tech", CriterionKind.SUBJECTIVE, Decimal("0.5")),
    Criterion("svc", CriterionKind.OBJECTIVE, Decimal("0.2")),
)


def sheets(bid: str, criterion: str, values: list[str], other: str = "50") -> list[Sheet]:
    """One sheet per expert e1… on ``bid``: ``criterion`` from ``values``, the other criterion ``other``."""
    second = "svc" if criterion == "tech" else "tech"
    return [Sheet(f"e{i}", bid, {criterion: Decimal(v), second: Decimal(other)}) for i, v in enumerate(values, start=1)]


def test_summation_error() -> None:
    # tech 81 × 0.5 = 40.50; svc 50 × 0.2 = 10.00; sum 50.50; the sheet declares 51.50 → off by 1.00
    wrong = Sheet("e1", "A", {"tech": Decimal(81), "svc": Decimal(50)}, declared_total=Decimal("51.50"))
    right = Sheet("e2", "A", {"tech": Decimal(81), "svc": Decimal(50)}, declared_total=Decimal("50.50"))
    found = summation_errors(CRITERIA, [wrong, right])
    assert [(f.code, f.expert, f.bid, f.criterion) for f in found] == [("sum_error", "e1", "A", None)]
    assert found[0].numbers == {
        "declared": Decimal("51.50"),
        "computed": Decimal("50.50"),
        "difference": Decimal("1.00"),
    }
    assert found[0].rule == "87号令 Art. 64(1)"
    assert found[0].defaults_version == DEFAULTS.version


def test_out_of_range_missing_and_unknown() -> None:
    found = range_errors(
        CRITERIA,
        [
            Sheet("e1", "A", {"tech": Decimal(101), "svc": Decimal(50)}),
            Sheet("e2", "A", {"tech": Decimal(-1), "svc": Decimal(50)}),
            Sheet("e3", "A", {"tech": Decimal(100)}),
            Sheet("e4", "A", {"tech": Decimal(0), "svc": Decimal(0), "bonus": Decimal(5)}),
        ],
    )
    assert [(f.code, f.expert, f.criterion) for f in found] == [
        ("out_of_range", "e1", "tech"),
        ("out_of_range", "e2", "tech"),
        ("score_missing", "e3", "svc"),
        ("criterion_unknown", "e4", "bonus"),
    ]
    assert found[0].numbers == {"score": Decimal(101), "low": Decimal(0), "high": Decimal(100)}


def test_objective_scored_differently_names_the_minority() -> None:
    # svc on A: 50, 50, 50, 40, 50 → majority 50 (4 of 5); e4 differs
    found = objective_inconsistencies(CRITERIA, sheets("A", "svc", ["50", "50", "50", "40", "50"]))
    assert [(f.code, f.expert, f.bid, f.criterion) for f in found] == [("objective_inconsistent", "e4", "A", "svc")]
    assert found[0].numbers["score"] == Decimal(40)
    assert found[0].numbers["majority"] == Decimal(50)
    assert found[0].numbers["panel"] == ["e1=50", "e2=50", "e3=50", "e4=40", "e5=50"]


def test_objective_without_majority_flags_everyone() -> None:
    # 50, 50, 40, 40, 30: the most common value has 2 of 5 (not > half) → every expert flagged
    found = objective_inconsistencies(CRITERIA, sheets("A", "svc", ["50", "50", "40", "40", "30"]))
    assert [f.expert for f in found] == ["e1", "e2", "e3", "e4", "e5"]
    assert {f.numbers["majority"] for f in found} == {None}


def test_objective_agreement_and_subjective_differences_are_not_inconsistent() -> None:
    assert objective_inconsistencies(CRITERIA, sheets("A", "svc", ["50"] * 5)) == []
    assert objective_inconsistencies(CRITERIA, sheets("A", "tech", ["10", "50", "90"])) == []


def test_outlier_low_against_the_floor() -> None:
    # tech on A: 70, 72, 74, 76, 20. For e5: others 70, 72, 74, 76 → median 73; |dev| 3, 1, 1, 3 → MAD 2;
    # scale = max(1.4826·2 = 2.9652, 0.05·100 = 5) = 5; z = (20 - 73)/5 = -10.60 → outlier_low.
    # e1: others 72, 74, 76, 20 → median 73, MAD median(1, 1, 3, 53) = 2 → z = (70 - 73)/5 = -0.6: no.
    # e4: others 70, 72, 74, 20 → median 71, MAD 2 → z = (76 - 71)/5 = 1.0: no.
    found = outliers(CRITERIA, sheets("A", "tech", ["70", "72", "74", "76", "20"]))
    assert [(f.code, f.expert, f.bid, f.criterion) for f in found] == [("outlier_low", "e5", "A", "tech")]
    numbers = found[0].numbers
    assert numbers["median_others"] == Decimal(73)
    assert numbers["mad_others"] == Decimal(2)
    assert numbers["scale"] == Decimal("5.00")
    assert numbers["z"] == Decimal("-10.60")
    assert numbers["threshold"] == Decimal("3.0")


def test_outlier_high_at_the_threshold() -> None:
    # others 40, 50, 60, 70 → median 55; |dev| 15, 5, 5, 15 → MAD 10; scale = max(14.826, 5) = 14.826
    # e5 = 99: z = 44/14.826 = 2.9677 < 3 → no finding; e5 = 100: z = 45/14.826 = 3.0352 ≥ 3 → outlier_high
    assert outliers(CRITERIA, sheets("A", "tech", ["40", "50", "60", "70", "99"])) == []
    found = outliers(CRITERIA, sheets("A", "tech", ["40", "50", "60", "70", "100"]))
    assert [(f.code, f.expert) for f in found] == [("outlier_high", "e5")]
    assert found[0].numbers["z"] == Decimal("3.04")


def test_no_outliers_with_fewer_than_three_experts_or_on_objective_criteria() -> None:
    assert outliers(CRITERIA, sheets("A", "tech", ["0", "100"])) == []
    assert outliers(CRITERIA, sheets("A", "svc", ["0", "0", "0", "0", "100"])) == []


def test_run_checks_orders_everything() -> None:
    found = run_checks(
        CRITERIA,
        [
            *sheets("B", "tech", ["70", "72", "74", "76", "20"]),
            Sheet("e9", "A", {"tech": Decimal(101), "svc": Decimal(5)}, declared_total=Decimal(0)),
        ],
    )
    assert [(f.bid, f.expert, f.code) for f in found] == [
        ("A", "e9", "sum_error"),
        ("A", "e9", "out_of_range"),
        ("B", "e5", "outlier_low"),
    ]
    assert found[0].as_dict()["numbers"] == {"declared": "0", "computed": "51.50", "difference": "-51.50"}


def test_prefilter_agrees_with_the_full_computation() -> None:
    # Every panel of 5 scores from a small grid: the findings equal a direct leave-one-out computation.
    import itertools

    from bidding.evaluation.scoring_checks import median

    grid = ["0", "40", "55", "70", "100"]
    flagged = 0
    for values in itertools.product(grid, repeat=5):
        if values != tuple(sorted(values)):
            continue
        found = {f.expert for f in outliers(CRITERIA, sheets("A", "tech", list(values)))}
        expected = set()
        scores = [Decimal(v) for v in values]
        for i, score in enumerate(scores):
            others = scores[:i] + scores[i + 1 :]
            centre = median(others)
            scale = max(Decimal("1.4826") * median([abs(v - centre) for v in others]), Decimal(5))
            if abs((score - centre) / scale) >= 3:
                expected.add(f"e{i + 1}")
        assert found == expected, values
        flagged += len(found)
    assert flagged > 50  # the grid does produce outliers, both near and far from the pre-filter's edge
