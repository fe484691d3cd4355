"""The evaluation-behaviour screens, table-driven with hand-computed values (floor = 5 % of the
criterion's maximum, so 0.5 on a 0–10 criterion; MAD scale 1.4826)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bidding.integrity.screens import experts as ex
from bidding.integrity.screens.experts import ExpertScore, InvalidScore, Panel
from bidding.integrity.screens.model import Severity
from bidding.integrity.screens.rules import load_catalogue

RULES = load_catalogue()
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def sc(
    expert: str, bidder: str, score: float, criterion: str = "tech", high: float = 10, **more: object
) -> ExpertScore:
    return ExpertScore(expert, bidder, criterion, score, high, **more)  # type: ignore[arg-type]


def panel(*scores: ExpertScore, **more: object) -> Panel:
    return Panel("P-1", None, scores, **more)  # type: ignore[arg-type]


def grid(
    table: dict[str, dict[str, float]], criterion: str = "tech", high: float = 10, **more: object
) -> list[ExpertScore]:
    """expert → bidder → score."""
    return [sc(e, b, v, criterion, high, **more) for e, row in table.items() for b, v in row.items()]


# An honest panel: three experts close together, objective items agreed, one ranking A > B > C.
HONEST = panel(
    *grid({"e1": {"A": 7, "B": 6, "C": 4}, "e2": {"A": 7.5, "B": 6, "C": 4.5}, "e3": {"A": 8, "B": 6.5, "C": 4}}),
    *grid(
        {"e1": {"A": 5, "B": 3, "C": 4}, "e2": {"A": 5, "B": 3, "C": 4}, "e3": {"A": 5, "B": 3, "C": 4}},
        "qual",
        5,
        objective=True,
    ),
)


def test_an_honest_panel_raises_nothing() -> None:
    assert ex.screen_panel(HONEST, RULES) == []
    assert ex.screen_history([HONEST] * 25, RULES) == []


@pytest.mark.parametrize(
    ("scores", "high", "fires", "numbers"),
    [
        # n = 3, the others agree (MAD = 0): scale = floor 0.5, z = (9 − 7) / 0.5 = 4; rate 2/7 = 0.2857.
        ({"e1": 7, "e2": 7, "e3": 9}, 10, {"e3"}, {"e3": {"z": 4.0, "mad_others": 0.0, "scale": 0.5, "rate": 0.2857}}),
        # Spread others: e3 z = 30 / (1.4826 × 10) = 2.0235 < 3 but rate 30/50 = 0.6 > 0.3; e1 likewise
        # (others 60, 80: z = −2.0235, rate 30/70 = 0.4286); e2 is the median (z 0, rate 0).
        (
            {"e1": 40, "e2": 60, "e3": 80},
            100,
            {"e1", "e3"},
            {"e3": {"z": 2.0235, "rate": 0.6, "median_others": 50.0}, "e1": {"z": -2.0235, "rate": 0.4286}},
        ),
        # Close scores: nothing (e3: others 7, 7.5 → z = (8 − 7.25)/0.5 = 1.5, rate 0.1034).
        ({"e1": 7, "e2": 7.5, "e3": 8}, 10, set(), {}),
        # Two experts: no panel to compare against.
        ({"e1": 1, "e2": 9}, 10, set(), {}),
    ],
)
def test_deviation(
    scores: dict[str, float], high: float, fires: set[str], numbers: dict[str, dict[str, float]]
) -> None:
    found = ex.deviation(panel(*[sc(e, "A", v, high=high) for e, v in scores.items()]), RULES)
    assert {f.subjects[0] for f in found} == fires
    for f in found:
        assert f.rule == "EXPERT-DEVIATION"
        assert f.rule_version == 1
        assert f.severity is Severity.AMBER
        item = f.evidence["items"][0]  # type: ignore[index]
        for key, value in numbers[f.subjects[0]].items():
            assert item[key] == value, (key, item)


def test_deviation_with_a_zero_maximum_gives_no_z_but_still_a_rate() -> None:
    numbers = ex.robust_deviation(0.0, [0.0, 0.0], 0.0, RULES)
    assert numbers == {"score": 0.0, "mean_others": 0.0}  # neither z (scale 0) nor rate (mean 0)


@pytest.mark.parametrize(
    ("values", "subjects", "majority"),
    [
        ({"e1": 5, "e2": 5, "e3": 3}, {"e3"}, 5),  # e3 off the strict majority
        ({"e1": 5, "e2": 4, "e3": 3}, {"e1", "e2", "e3"}, None),  # no majority: everyone
        ({"e1": 4, "e2": 4, "e3": 4}, set(), None),
    ],
)
def test_objective_items_must_agree(values: dict[str, float], subjects: set[str], majority: float | None) -> None:
    found = ex.objective_disagreement(
        panel(*[sc(e, "A", v, "qual", 5, objective=True) for e, v in values.items()]), RULES
    )
    assert {f.subjects[0] for f in found} == subjects
    assert all(f.evidence["items"][0]["majority"] == majority for f in found)  # type: ignore[index]
    assert all(f.severity is Severity.RED for f in found)


def test_pivotal_expert_with_large_deviation_is_red() -> None:
    # A = (9 + 5 + 5)/3 = 6.3333 > B = (5 + 6 + 6)/3 = 5.6667; without e1: A 5 < B 6.
    # e1 on A: others 5, 5 → z = 4/0.5 = 8; on B: z = (5 − 6)/0.5 = −2 (both ≥ combined_z 2).
    p = panel(*grid({"e1": {"A": 9, "B": 5}, "e2": {"A": 5, "B": 6}, "e3": {"A": 5, "B": 6}}))
    [found] = ex.pivotal(p, RULES)
    assert found.subjects == ("e1",)
    assert found.severity is Severity.RED
    assert found.evidence["winner"] == "A"
    assert found.evidence["winner_without"] == "B"
    assert found.evidence["totals"] == {"A": 6.3333, "B": 5.6667}
    assert found.evidence["deviations"] == [
        {"bidder": "A", "criterion": "tech", "z": 8.0},
        {"bidder": "B", "criterion": "tech", "z": -2.0},
    ]


def test_pivotal_expert_without_large_deviation_is_amber() -> None:
    # A = 159/3 = 53 > B = 158/3 = 52.6667; without e1: A 50 < B 54. e1 on A: others 48, 52 →
    # median 50, MAD 2, scale max(2.9652, 5) = 5, z = 9/5 = 1.8 < 2. Without e2 or e3 A stays first.
    p = panel(*grid({"e1": {"A": 59, "B": 50}, "e2": {"A": 48, "B": 52}, "e3": {"A": 52, "B": 56}}, high=100))
    [found] = ex.pivotal(p, RULES)
    assert found.subjects == ("e1",)
    assert found.severity is Severity.AMBER
    assert found.evidence["deviations"] == []


def test_price_points_count_in_the_winner() -> None:
    # With 2 fixed points for B, B wins with or without anyone: nobody is pivotal.
    p = panel(*grid({"e1": {"A": 9, "B": 5}, "e2": {"A": 5, "B": 6}, "e3": {"A": 5, "B": 6}}), fixed_points={"B": 2.0})
    assert ex.pivotal(p, RULES) == []


@pytest.mark.parametrize(
    ("xs", "ys", "tau"),
    [
        ([1, 2, 3], [1, 2, 3], 1.0),
        ([1, 2, 3], [3, 2, 1], -1.0),
        ([1, 2, 3], [1, 3, 2], 1 / 3),
        ([1, 1, 2], [1, 2, 3], 2 / 3),
    ],
)
def test_kendall_tau_a(xs: list[float], ys: list[float], tau: float) -> None:
    assert ex.kendall_tau(xs, ys) == pytest.approx(tau)


def test_ranking_inverted_against_the_panel() -> None:
    # e3: others' means A 8.8333, B 8.1667, C 7.1667 against own 7, 8, 9 → τ = −1.
    # e1: others A 8.1667, B 8.1667, C 7.8333; own 9, 8, 7 → (0 + 1 + 1)/3 = 0.6667: quiet.
    p = panel(
        *grid(
            {
                "e1": {"A": 9, "B": 8, "C": 7},
                "e2": {"A": 8.5, "B": 8, "C": 7.5},
                "e3": {"A": 7, "B": 8, "C": 9},
                "e4": {"A": 9, "B": 8.5, "C": 7},
            }
        )
    )
    [found] = ex.ranking_inversion(p, RULES)
    assert found.subjects == ("e3",)
    assert found.evidence["tau"] == -1.0
    assert found.evidence["others"] == [8.8333, 8.1667, 7.1667]
    # With two bids there is no ranking to compare (min_bids 3).
    assert (
        ex.ranking_inversion(
            panel(*grid({"e1": {"A": 1, "B": 9}, "e2": {"A": 9, "B": 1}, "e3": {"A": 9, "B": 1}})), RULES
        )
        == []
    )


def _favour(ocid: str) -> Panel:
    # e1 on X: others 6, 7 → mean 6.5, pstdev 0.5 = floor 0.5 → r = 2.5/0.5 = 5. On Y everyone 5 → r 0.
    return Panel(ocid, None, tuple(grid({"e1": {"X": 9, "Y": 5}, "e2": {"X": 6, "Y": 5}, "e3": {"X": 7, "Y": 5}})))


def test_favouring_the_same_bidder_across_tenders() -> None:
    [found] = ex.favouritism([_favour(f"P-{i}") for i in range(3)], RULES)
    assert found.subjects == ("e1",)
    assert found.evidence["bidder"] == "X"
    assert found.evidence["encounters"] == 3
    assert found.evidence["mean_residual"] == 5.0
    assert ex.favouritism([_favour("P-1"), _favour("P-2")], RULES) == []  # two encounters are not enough


def _lenient(ocid: str, e1: float) -> Panel:
    # e1 against 6, 6: pstdev 0 → scale 0.5, r = (e1 − 6)/0.5. e2: others e1, 6.
    return Panel(ocid, None, tuple(grid({"e1": {ocid: e1}, "e2": {ocid: 6}, "e3": {ocid: 6}})))


@pytest.mark.parametrize(("bids", "e1", "direction"), [(20, 8, "lenient"), (20, 4, "severe"), (19, 8, None)])
def test_persistent_leniency_or_severity(bids: int, e1: float, direction: str | None) -> None:
    found = ex.leniency([_lenient(f"P-{i}", e1) for i in range(bids)], RULES)
    if direction is None:
        assert found == []
        return
    # e1: r = ±4. e2 with e1 = 8: others 8, 6 → mean 7, pstdev 1 → r = −1, and |−1| > 1 is false.
    [only] = found
    assert only.subjects == ("e1",)
    assert only.evidence == {
        "bids": 20,
        "mean_residual": 4.0 if e1 > 6 else -4.0,
        "direction": direction,
    }


def test_scoring_too_fast_for_the_documents() -> None:
    at = T0
    p = panel(
        sc("e1", "A", 7, first_opened_at=at, scored_at=at + timedelta(seconds=100)),  # 1 s/page
        sc("e2", "A", 7, first_opened_at=at, scored_at=at + timedelta(minutes=10)),  # 6 s/page
        sc("e3", "A", 7, scored_at=at),  # never opened
        sc("e4", "A", 7, first_opened_at=at + timedelta(minutes=5), scored_at=at + timedelta(minutes=4)),  # before
        sc("e1", "B", 7, scored_at=at),  # no page count for B: skipped
        pages={"A": 100},
    )
    found = {f.subjects[0]: f.evidence["items"][0] for f in ex.too_fast(p, RULES)}  # type: ignore[index]
    assert set(found) == {"e1", "e3", "e4"}
    assert found["e1"]["seconds_per_page"] == 1.0
    assert found["e3"] == {"bidder": "A", "pages": 100, "opened": False}
    assert found["e4"]["seconds"] == -60.0


def test_edits_right_before_signing() -> None:
    signed = T0 + timedelta(hours=2)
    p = panel(
        sc("e1", "A", 7, scored_at=signed - timedelta(minutes=5)),
        sc("e2", "A", 7, scored_at=signed - timedelta(hours=1), edits=(signed - timedelta(minutes=8),)),
        sc("e3", "A", 7, scored_at=signed - timedelta(minutes=11)),
        sc("e4", "A", 7, scored_at=signed - timedelta(minutes=10)),  # the window's edge counts
        signed_at=signed,
    )
    found = {f.subjects[0]: f.evidence["items"][0]["minutes_before_signing"] for f in ex.late_edits(p, RULES)}  # type: ignore[index]
    assert found == {"e1": [5.0], "e2": [8.0], "e4": [10.0]}
    assert ex.late_edits(panel(*p.scores), RULES) == []  # not signed: nothing to be late for


@pytest.mark.parametrize(
    ("score", "high", "field"), [(-1.0, 10.0, "score"), (11.0, 10.0, "score"), (1.0, float("nan"), "max_score")]
)
def test_bad_scores_are_refused_by_name(score: float, high: float, field: str) -> None:
    with pytest.raises(InvalidScore) as caught:
        ExpertScore("e1", "A", "tech", score, high)
    assert caught.value.field == field
    assert "criterion 'tech'" in str(caught.value)
