"""Bid-level price screens per lot and the lot's combined score (issue 19 §2).

Formulas: reference anomaly-screens.md §1.3, over the lot's **valid** bids sorted b1 ≤ … ≤ bn
(ties broken by bidder id, so the order is deterministic); s is the sample standard deviation
(n − 1), s_L the one of the losing bids b2…bn.

====================  ===============================================  =====  =====================
value                 formula                                          min n  undefined when
====================  ===============================================  =====  =====================
cv                    s / mean                                         2      —  (0 when all equal)
spd                   (bn − b1) / b1                                   2      —
diffp                 (b2 − b1) / b1                                   2      —
rd                    (b2 − b1) / s_L                                  3      losing bids equal
rdnor                 (n − 1)(b2 − b1) / (bn − b1)                     3      all bids equal
rdalt                 (n − 2)(b2 − b1) / (bn − b2)                     3      losing bids equal
skew                  n/((n−1)(n−2)) Σ z³, z = (bi − mean)/s           3      all bids equal
kurt (excess)         n(n+1)/((n−1)(n−2)(n−3)) Σ z⁴ − 3(n−1)²/((n−2)(n−3))  4  all bids equal
ks_uniform            sup |Fn − U(b1, bn)|                             3      all bids equal
winner_to_estimate    winner's bid / estimate                          1      no estimate / winner
subset_*              ``subsets`` (3- and 4-bid subset summaries)      4      —
====================  ===============================================  =====  =====================

An undefined value is ``None`` in ``values`` and its reason in ``undefined`` (``n<3``,
``all-bids-equal``, ``losing-bids-equal``, ``no-estimate``, ``no-winner``,
``winner-not-among-valid-bids``, ``undefined-in-every-subset``, ``predetermined-price``).

Rules (``catalogue/prices.toml``; every threshold and every point is read from the ``RuleSet``):
PRICE-CV (red < 0.03, amber < 0.06), PRICE-RD (> 1), PRICE-COVER (cv < 0.06 and rd > 1),
PRICE-SKEW (< 0, n ≥ 4), PRICE-IDENTICAL (exact, different bidders), PRICE-NEAR-IDENTICAL
(0 < |bi − bj| / min < 0.001, adjacent sorted bids of different bidders), PRICE-PROGRESSION
(≥ 3 consecutive sorted bids with equal differences, or equal growth bi+1/bi − 1, within
``tolerance`` of the larger one plus ``rounding``), PRICE-CEILING (R031: winner / estimate ≥ 0.99,
n ≥ 3). PRICE-SUBSETS only holds the subset sampling parameters (features, never a finding).

**The combined lot score** (PRICE-LOT) is a transparent points table, not a model: each rule that
fires adds its ``points`` (PRICE-CV adds ``points`` when red, ``points_amber`` when amber); the
lot is flagged when the sum reaches PRICE-LOT's ``flag_at``. ``contributions`` names every rule's
points, so the score explains itself. A hard rule (铁证) adds nothing: hard evidence is kept apart
from the score (reference §7 F.2). The table's numbers all live in prices.toml.

**Calibration** (``ggzy alerts evaluate --simulate``; tuned on seeds 11 and 23, 1,500 lots each):
the reference's thresholds (CV < 0.06, RD > 1, a 0.1 % gap) keep their findings, but each alone
fires on a fifth to a third of honest lots, so their points are small (0.5; CV amber 0). Two strong
tiers carry the flag: PRICE-COVER with CV < 0.045 *and* RD > 3 (covers far above a tight
cluster), and PRICE-NEAR-IDENTICAL with a gap under 0.01 % (a few yuan on a lot), 3 points each.
On fresh seeds the combined flag reaches 96–97 % recall at 83–85 % precision (issue 19's aim:
≥ 90 % at ≥ 80 %); `tests/bidding/integrity/test_offline.py` holds it to the aim.

**Lots by price formula.** Predetermined prices (``PREDETERMINED_FORMULAS``: fixed price, random
selection, direct selection; reference §1.3 "exclude procedures with predetermined prices") are
not screened: the screening has no values, ``not_screened`` names the reason and the score is 0.
Mean-price lots (``MEAN_PRICE_FORMULAS``: the bidders are rewarded for being close to a mean, so
honest bids cluster and the winner is not the lowest) keep every value and every finding, but each
rule adds its ``points_mean_price`` instead of ``points``: by default dispersion counts for less
(CV) and the cover-bidding patterns (RD, COVER, SKEW, which assume the lowest bid wins) for
nothing, while identical prices, progressions and the ceiling count as usual.

``batch_values`` computes cv, spd, diffp, rd, skew and kurt for many lots at once with NumPy: the
floor the database-side batch is measured against, equal to the scalar functions within 1e-9.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bidding.integrity.screens.model import BidPrice, Finding, InvalidPrice, LotBids, Severity
from bidding.integrity.screens.rules import RuleSet
from bidding.integrity.screens.subsets import subset_names, subset_summaries

# "not price-competitive": what the OCDS reader sets for direct procurement (ocds.NOT_PRICE_COMPETITIVE).
PREDETERMINED_FORMULAS = frozenset({"fixed", "random-selection", "direct-selection", "not price-competitive"})
MEAN_PRICE_FORMULAS = frozenset({"mean"})

PRICE_RULES = (
    "PRICE-CV",
    "PRICE-RD",
    "PRICE-COVER",
    "PRICE-SKEW",
    "PRICE-IDENTICAL",
    "PRICE-NEAR-IDENTICAL",
    "PRICE-PROGRESSION",
    "PRICE-CEILING",
    "PRICE-SUBSETS",
    "PRICE-LOT",
)
WINNER_RULES = frozenset({"PRICE-CEILING"})
"""The rules that read ``LotBids.winner``: silent until the award names one (the platform screens
them again at the award, `screeners.award_prices`)."""

SCREENS = ("cv", "spd", "diffp", "rd", "rdnor", "rdalt", "skew", "kurt", "ks_uniform")
# The fewest bids each screen needs (reference §1.3): s needs 2, s_L needs 2 losing bids, kurt 4.
MIN_N = {"cv": 2, "spd": 2, "diffp": 2, "rd": 3, "rdnor": 3, "rdalt": 3, "skew": 3, "kurt": 4, "ks_uniform": 3}


class ScreenUndefined(ValueError):
    """A screen has no value for these bids; ``reason`` is the short name stored with the lot."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class PriceScreening:
    """What the price screens say about one lot."""

    values: Mapping[str, float | None]
    undefined: Mapping[str, str]  # the reason for every value that is None
    findings: tuple[Finding, ...]
    score: float  # the sum of ``contributions``
    flagged: bool  # score ≥ PRICE-LOT flag_at
    contributions: Mapping[str, float]  # points per rule that fired (soft rules only)
    not_screened: str | None = None  # why the lot was not screened at all (predetermined price)
    sampling: Mapping[str, object] = field(default_factory=dict)  # how the subsets were drawn


# --- the scalar screens, over amounts sorted ascending ----------------------------------------------


def _need(bids: Sequence[float], n: int) -> None:
    if len(bids) < n:
        raise ScreenUndefined(f"n<{n}")


def _mean(bids: Sequence[float]) -> float:
    return math.fsum(bids) / len(bids)


def _std(bids: Sequence[float]) -> float:
    # All equal → exactly 0 (a rounded mean would otherwise leave a tiny, meaningless s).
    if bids[0] == bids[-1]:
        return 0.0
    mean = _mean(bids)
    return math.sqrt(math.fsum((b - mean) ** 2 for b in bids) / (len(bids) - 1))


def cv(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["cv"])
    return _std(bids) / _mean(bids)


def spd(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["spd"])
    return (bids[-1] - bids[0]) / bids[0]


def diffp(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["diffp"])
    return (bids[1] - bids[0]) / bids[0]


def rd(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["rd"])
    s_l = _std(bids[1:])
    if s_l == 0:
        raise ScreenUndefined("losing-bids-equal")
    return (bids[1] - bids[0]) / s_l


def rdnor(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["rdnor"])
    if bids[-1] == bids[0]:
        raise ScreenUndefined("all-bids-equal")
    return (len(bids) - 1) * (bids[1] - bids[0]) / (bids[-1] - bids[0])


def rdalt(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["rdalt"])
    if bids[-1] == bids[1]:
        raise ScreenUndefined("losing-bids-equal")
    return (len(bids) - 2) * (bids[1] - bids[0]) / (bids[-1] - bids[1])


def _z_powers(bids: Sequence[float], power: int) -> float:
    s = _std(bids)
    if s == 0:
        raise ScreenUndefined("all-bids-equal")
    mean = _mean(bids)
    return math.fsum(((b - mean) / s) ** power for b in bids)


def skew(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["skew"])
    n = len(bids)
    return n / ((n - 1) * (n - 2)) * _z_powers(bids, 3)


def kurt(bids: Sequence[float]) -> float:
    _need(bids, MIN_N["kurt"])
    n = len(bids)
    head = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3))
    return head * _z_powers(bids, 4) - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


def ks_uniform(bids: Sequence[float]) -> float:
    """Kolmogorov–Smirnov D against the uniform distribution on [b1, bn]."""
    _need(bids, MIN_N["ks_uniform"])
    low, high = bids[0], bids[-1]
    if high == low:
        raise ScreenUndefined("all-bids-equal")
    n = len(bids)
    return max(
        max(i / n - (b - low) / (high - low), (b - low) / (high - low) - (i - 1) / n)
        for i, b in enumerate(bids, start=1)
    )


SCREEN_FUNCTIONS: Mapping[str, Callable[[Sequence[float]], float]] = {
    "cv": cv,
    "spd": spd,
    "diffp": diffp,
    "rd": rd,
    "rdnor": rdnor,
    "rdalt": rdalt,
    "skew": skew,
    "kurt": kurt,
    "ks_uniform": ks_uniform,
}


def screen_values(sorted_amounts: Sequence[float]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every scalar screen of ``SCREENS`` over amounts sorted ascending: (values, undefined reasons)."""
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    for name, function in SCREEN_FUNCTIONS.items():
        try:
            values[name] = function(sorted_amounts)
        except ScreenUndefined as undefined_value:
            values[name] = None
            undefined[name] = undefined_value.reason
    return values, undefined


# --- pairs and progressions ---------------------------------------------------------------------------


def identical_groups(bids: Sequence[BidPrice]) -> list[tuple[float, tuple[str, ...]]]:
    """Amounts bid by two or more different bidders, with those bidders (bids sorted by amount)."""
    groups: list[tuple[float, tuple[str, ...]]] = []
    start = 0
    for end in range(1, len(bids) + 1):
        if end == len(bids) or bids[end].amount != bids[start].amount:
            bidders = tuple(sorted({bid.bidder for bid in bids[start:end]}))
            if len(bidders) > 1:
                groups.append((float(bids[start].amount), bidders))
            start = end
    return groups


def near_identical_pairs(bids: Sequence[BidPrice], relative_gap_below: float) -> list[tuple[BidPrice, BidPrice, float]]:
    """Adjacent sorted bids of different bidders with 0 < (b' − b) / b < ``relative_gap_below``.

    Adjacent pairs suffice: if a non-adjacent pair is that close, so is every adjacent pair between.
    A gap within a billionth of the threshold counts as on it, not below: 100 and 100.1 are exactly
    0.1 % apart, though their binary difference is 0.0999999….
    """
    pairs = []
    for low, high in itertools.pairwise(bids):
        gap = (high.amount - low.amount) / low.amount
        if 0 < gap < relative_gap_below * (1 - 1e-9) and low.bidder != high.bidder:
            pairs.append((low, high, gap))
    return pairs


def progressions(
    sorted_amounts: Sequence[float], *, min_terms: int, tolerance: float, rounding: float
) -> list[tuple[str, int, int, float]]:
    """Maximal runs of ≥ ``min_terms`` consecutive sorted bids in progression: (kind, first, last, step).

    ``kind`` is "arithmetic" (step = the common difference) or "geometric" (step = the common
    ratio); positions are 0-based and inclusive. Two consecutive steps agree when they differ by at
    most ``tolerance`` × the larger (+ ``rounding`` for differences, in the currency). A zero step
    (identical prices) never forms a progression. A geometric run whose bids are already an
    arithmetic run is not reported twice.
    """
    found: list[tuple[str, int, int, float]] = []
    diffs = [b - a for a, b in itertools.pairwise(sorted_amounts)]
    growths = [b / a - 1 for a, b in itertools.pairwise(sorted_amounts)]
    arithmetic = _runs(diffs, tolerance, rounding, min_terms)
    for first, last in arithmetic:
        found.append(("arithmetic", first, last, math.fsum(diffs[first:last]) / (last - first)))
    for first, last in _runs(growths, tolerance, 0.0, min_terms):
        if not any(a <= first and last <= b for a, b in arithmetic):
            found.append(("geometric", first, last, 1 + math.fsum(growths[first:last]) / (last - first)))
    return found


def _runs(steps: Sequence[float], tolerance: float, rounding: float, min_terms: int) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = 0  # the run covers bids start … i + 1 while steps start … i agree pairwise in sequence
    for i in range(1, len(steps) + 1):
        agrees = (
            i < len(steps)
            and steps[i] > 0
            and steps[i - 1] > 0
            and abs(steps[i] - steps[i - 1]) <= tolerance * max(steps[i], steps[i - 1]) + rounding
        )
        if not agrees:
            if steps and steps[start] > 0 and i - start + 1 >= min_terms:
                runs.append((start, i))
            start = i
    return runs


# --- the lot ------------------------------------------------------------------------------------------


def _sorted_valid(lot: LotBids) -> list[BidPrice]:
    for bid in lot.bids:
        amount = bid.amount
        # BidPrice refuses these when built; a value built around it (or a bool) is refused here.
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount <= 0:
            raise InvalidPrice(bid.bidder, amount)
    return sorted(lot.bids, key=lambda bid: (bid.amount, bid.bidder))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class _Scorer:
    """Collects findings and their points from the table (``points`` or ``points_mean_price``)."""

    def __init__(self, rules: RuleSet, *, mean_price: bool) -> None:
        self.rules = rules
        self.mean_price = mean_price
        self.findings: list[Finding] = []
        self.contributions: dict[str, float] = {}

    def points(self, rule_id: str, key: str = "points") -> float:
        rule = self.rules[rule_id]
        if rule.hard:
            return 0.0
        name = f"{key}_mean_price" if self.mean_price else key
        return float(rule.thresholds.get(name, rule.thresholds[key]))

    def add(
        self,
        rule_id: str,
        summary: str,
        evidence: Mapping[str, object],
        subjects: Sequence[str],
        *,
        severity: Severity | None = None,
        points_key: str = "points",
    ) -> None:
        rule = self.rules[rule_id]
        points = self.points(rule_id, points_key)
        if self.mean_price:
            summary += "（均价法标段，按均价法计分）"
        evidence = {**evidence, "points": points, "price_formula_mean": self.mean_price}
        self.findings.append(
            Finding(
                rule=rule.id,
                rule_version=rule.version,
                severity=severity or rule.severity,
                summary=summary,
                evidence=evidence,
                subjects=tuple(subjects),
                score=points,
                hard=rule.hard,
            )
        )
        if not rule.hard:
            self.contributions[rule.id] = self.contributions.get(rule.id, 0.0) + points


def screen_prices(lot: LotBids, rules: RuleSet) -> PriceScreening:
    """Every price screen of one lot, its findings and its combined score (see the module docstring)."""
    bids = _sorted_valid(lot)
    if lot.price_formula in PREDETERMINED_FORMULAS:
        names = (*SCREENS, "winner_to_estimate", *subset_names())
        return PriceScreening(
            values={**dict.fromkeys(names), "n": float(len(bids))},
            undefined=dict.fromkeys(names, "predetermined-price"),
            findings=(),
            score=0.0,
            flagged=False,
            contributions={},
            not_screened=f"predetermined-price:{lot.price_formula}",
        )
    amounts = [float(bid.amount) for bid in bids]
    n = len(amounts)
    values, undefined = screen_values(amounts)
    values["n"] = float(n)
    scorer = _Scorer(rules, mean_price=lot.price_formula in MEAN_PRICE_FORMULAS)
    everyone = [bid.bidder for bid in bids]

    _ceiling(lot, bids, values=values, undefined=undefined, rules=rules, scorer=scorer)
    sampling = _subsets(lot, amounts, values, undefined, rules)
    _dispersion(values, n, everyone, rules, scorer)
    _pairs(bids, rules, scorer)
    _progression(bids, amounts, rules, scorer)

    score = math.fsum(scorer.contributions.values())
    return PriceScreening(
        values=values,
        undefined=undefined,
        findings=tuple(scorer.findings),
        score=score,
        flagged=score >= rules.threshold("PRICE-LOT", "flag_at"),
        contributions=dict(scorer.contributions),
        sampling=sampling,
    )


def _ceiling(
    lot: LotBids,
    bids: Sequence[BidPrice],
    *,
    values: dict[str, float | None],
    undefined: dict[str, str],
    rules: RuleSet,
    scorer: _Scorer,
) -> None:
    winning = [bid for bid in bids if bid.bidder == lot.winner]
    ratio: float | None = None
    if lot.estimate is None or not math.isfinite(lot.estimate) or lot.estimate <= 0:
        undefined["winner_to_estimate"] = "no-estimate"
    elif lot.winner is None:
        undefined["winner_to_estimate"] = "no-winner"
    elif not winning:
        undefined["winner_to_estimate"] = "winner-not-among-valid-bids"
    else:
        ratio = winning[0].amount / lot.estimate
    values["winner_to_estimate"] = ratio
    at_least = rules.threshold("PRICE-CEILING", "ratio_at_least")
    if ratio is not None and len(bids) >= rules.threshold("PRICE-CEILING", "min_bids") and ratio >= at_least:
        scorer.add(
            "PRICE-CEILING",
            f"中标价为最高限价的 {ratio:.2%}（≥ {at_least:.0%}），有效报价 {len(bids)} 个。",
            {
                "winner": lot.winner,
                "winning_bid": winning[0].amount,
                "estimate": lot.estimate,
                "ratio": ratio,
                "ratio_at_least": at_least,
                "n": len(bids),
            },
            [winning[0].bidder],
        )


def _subsets(
    lot: LotBids,
    amounts: Sequence[float],
    values: dict[str, float | None],
    undefined: dict[str, str],
    rules: RuleSet,
) -> Mapping[str, object]:
    if len(amounts) < rules.threshold("PRICE-SUBSETS", "min_bids"):
        for name in subset_names():
            values[name] = None
            undefined[name] = f"n<{int(rules.threshold('PRICE-SUBSETS', 'min_bids'))}"
        return {}
    found, reasons, sampling = subset_summaries(
        amounts,
        ocid=lot.ocid,
        lot=lot.lot,
        exhaustive_up_to=int(rules.threshold("PRICE-SUBSETS", "exhaustive_up_to")),
        sample_size=int(rules.threshold("PRICE-SUBSETS", "sample_size")),
    )
    values.update(found)
    undefined.update(reasons)
    return sampling


def _dispersion(
    values: Mapping[str, float | None], n: int, everyone: Sequence[str], rules: RuleSet, scorer: _Scorer
) -> None:
    cv_value, rd_value, skew_value = values["cv"], values["rd"], values["skew"]
    if cv_value is not None and n >= rules.threshold("PRICE-CV", "min_bids"):
        red_below = rules.threshold("PRICE-CV", "red_below")
        amber_below = rules.threshold("PRICE-CV", "amber_below")
        if cv_value < amber_below:
            red = cv_value < red_below
            scorer.add(
                "PRICE-CV",
                f"{n} 个有效报价的变异系数 CV = {_fmt(cv_value)}，"
                f"低于 {red_below if red else amber_below:g}：报价离散度异常低。",
                {"cv": cv_value, "red_below": red_below, "amber_below": amber_below, "n": n},
                everyone,
                severity=Severity.RED if red else Severity.AMBER,
                points_key="points" if red else "points_amber",
            )
    if rd_value is not None and n >= rules.threshold("PRICE-RD", "min_bids"):
        above = rules.threshold("PRICE-RD", "above")
        if rd_value > above:
            scorer.add(
                "PRICE-RD",
                f"最低两价差距 RD = {_fmt(rd_value)}，大于 {above:g}：最低价与其余报价明显分开。",
                {"rd": rd_value, "above": above, "diffp": values["diffp"], "n": n},
                everyone,
            )
    cover_cv = rules.threshold("PRICE-COVER", "cv_below")
    cover_rd = rules.threshold("PRICE-COVER", "rd_above")
    if (
        cv_value is not None
        and rd_value is not None
        and n >= rules.threshold("PRICE-COVER", "min_bids")
        and cv_value < cover_cv
        and rd_value > cover_rd
    ):
        # The strong tier (calibrated on the simulator, `ggzy alerts evaluate`): covers far above a
        # tight cluster. It alone reaches the flag; the reference's tier alone does not.
        strong_cv = rules.threshold("PRICE-COVER", "strong_cv_below")
        strong_rd = rules.threshold("PRICE-COVER", "strong_rd_above")
        strong = cv_value < strong_cv and rd_value > strong_rd
        scorer.add(
            "PRICE-COVER",
            f"CV = {_fmt(cv_value)} < {cover_cv:g} 且 RD = {_fmt(rd_value)} > {cover_rd:g}：符合陪标报价模式"
            + (f"（强：CV < {strong_cv:g} 且 RD > {strong_rd:g}）。" if strong else "。"),
            {
                "cv": cv_value,
                "rd": rd_value,
                "cv_below": cover_cv,
                "rd_above": cover_rd,
                "strong_cv_below": strong_cv,
                "strong_rd_above": strong_rd,
                "strong": strong,
                "n": n,
            },
            everyone,
            severity=Severity.RED if strong else Severity.AMBER,
            points_key="points_strong" if strong else "points",
        )
    if skew_value is not None and n >= rules.threshold("PRICE-SKEW", "min_bids"):
        below = rules.threshold("PRICE-SKEW", "below")
        if skew_value < below:
            scorer.add(
                "PRICE-SKEW",
                f"报价分布偏度 = {_fmt(skew_value)} < {below:g}：最低价远离、其余报价聚集。",
                {"skew": skew_value, "below": below, "n": n},
                everyone,
            )


def _pairs(bids: Sequence[BidPrice], rules: RuleSet, scorer: _Scorer) -> None:
    if len(bids) >= rules.threshold("PRICE-IDENTICAL", "min_bids"):
        groups = identical_groups(bids)
        if groups:
            subjects = sorted({bidder for _, bidders in groups for bidder in bidders})
            scorer.add(
                "PRICE-IDENTICAL",
                f"{len(subjects)} 个不同投标人的报价完全相同（{len(groups)} 组）。",
                {"groups": [{"amount": amount, "bidders": list(bidders)} for amount, bidders in groups]},
                subjects,
            )
    if len(bids) >= rules.threshold("PRICE-NEAR-IDENTICAL", "min_bids"):
        below = rules.threshold("PRICE-NEAR-IDENTICAL", "relative_gap_below")
        pairs = near_identical_pairs(bids, below)
        if pairs:
            subjects = sorted({bid.bidder for low, high, _ in pairs for bid in (low, high)})
            # The strong tier: a gap of a few yuan on a lot, far below what honest bids reach by
            # chance even among twelve (calibrated on the simulator, `ggzy alerts evaluate`).
            strong_below = rules.threshold("PRICE-NEAR-IDENTICAL", "strong_gap_below")
            strong = min(gap for _, _, gap in pairs) < strong_below
            scorer.add(
                "PRICE-NEAR-IDENTICAL",
                f"{len(pairs)} 对不同投标人的报价相对差小于 {below:.2%}"
                + (f"，其中有相对差小于 {strong_below:.3%} 的。" if strong else "。"),
                {
                    "strong_gap_below": strong_below,
                    "strong": strong,
                    "relative_gap_below": below,
                    "pairs": [
                        {
                            "bidders": [low.bidder, high.bidder],
                            "amounts": [low.amount, high.amount],
                            "relative_gap": gap,
                        }
                        for low, high, gap in pairs
                    ],
                },
                subjects,
                severity=Severity.RED if strong else Severity.AMBER,
                points_key="points_strong" if strong else "points",
            )


def _progression(bids: Sequence[BidPrice], amounts: Sequence[float], rules: RuleSet, scorer: _Scorer) -> None:
    runs = progressions(
        amounts,
        min_terms=int(rules.threshold("PRICE-PROGRESSION", "min_terms")),
        tolerance=rules.threshold("PRICE-PROGRESSION", "tolerance"),
        rounding=rules.threshold("PRICE-PROGRESSION", "rounding"),
    )
    if not runs:
        return
    described: list[dict[str, object]] = []
    phrases: list[str] = []
    subjects: set[str] = set()
    for kind, first, last, step in runs:
        run = bids[first : last + 1]
        subjects.update(bid.bidder for bid in run)
        phrases.append(f"{len(run)} 个报价呈{'等差' if kind == 'arithmetic' else '等比'}数列")
        described.append(
            {
                "kind": kind,
                "step": step,
                "bidders": [bid.bidder for bid in run],
                "amounts": [bid.amount for bid in run],
            }
        )
    scorer.add(
        "PRICE-PROGRESSION",
        f"排序后的报价中，{'、'.join(phrases)}。",
        {
            "runs": described,
            "tolerance": rules.threshold("PRICE-PROGRESSION", "tolerance"),
            "rounding": rules.threshold("PRICE-PROGRESSION", "rounding"),
            "min_terms": rules.threshold("PRICE-PROGRESSION", "min_terms"),
        },
        sorted(subjects),
    )


# --- many lots at once --------------------------------------------------------------------------------

FloatArray = npt.NDArray[np.float64]

BATCH_SCREENS = ("cv", "spd", "diffp", "rd", "skew", "kurt")


def batch_values(amounts: npt.ArrayLike, lot_index: npt.ArrayLike) -> dict[str, FloatArray]:
    """cv, spd, diffp, rd, skew, kurt and n for lots 0 … max(lot_index), vectorised with NumPy.

    ``amounts[i]`` is a valid bid of lot ``lot_index[i]`` (any order). Each result has one entry
    per lot index; NaN where the scalar screen is undefined (too few bids, all or the losing bids
    equal) and for indices with no bids. A non-finite, zero or negative amount raises
    ``InvalidPrice`` naming its position ("bid #i of lot k"), as no screen can use it.
    """
    values = np.asarray(amounts, dtype=np.float64)
    lots = np.asarray(lot_index, dtype=np.int64)
    if values.shape != lots.shape or values.ndim != 1:
        raise ValueError(f"amounts {values.shape} and lot_index {lots.shape} must be 1-d and of the same length")
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidPrice(f"bid #{i} of lot {int(lots[i])}", float(values[i]))
    if lots.size and lots.min() < 0:
        raise ValueError("lot_index must be ≥ 0")
    size = int(lots.max()) + 1 if lots.size else 0
    order = np.lexsort((values, lots))
    b, g = values[order], lots[order]
    n = np.bincount(g, minlength=size).astype(np.float64)
    start = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64)
    present = n > 0
    first = np.where(present, start, 0)
    second = np.where(n >= MIN_N["diffp"], start + 1, 0)
    last = np.where(present, start + n.astype(np.int64) - 1, 0)
    b1, b2, bn = b[first], b[second], b[last]
    rank = np.arange(b.size) - start[g]  # position within the lot, 0 = the lowest bid

    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(g, weights=b, minlength=size) / n
        dev = b - mean[g]
        s = np.sqrt(np.bincount(g, weights=dev**2, minlength=size) / (n - 1))
        s = np.where(bn == b1, 0.0, s)
        losing = rank > 0
        n_l = n - 1
        mean_l = np.bincount(g[losing], weights=b[losing], minlength=size) / n_l
        dev_l = b[losing] - mean_l[g[losing]]
        s_l = np.sqrt(np.bincount(g[losing], weights=dev_l**2, minlength=size) / (n_l - 1))
        s_l = np.where(bn == b2, 0.0, s_l)
        z = dev / s[g]
        z3 = np.bincount(g, weights=z**3, minlength=size)
        z4 = np.bincount(g, weights=z**4, minlength=size)
        nan = np.nan
        result = {
            "n": n,
            "cv": np.where(n >= MIN_N["cv"], s / mean, nan),
            "spd": np.where(n >= MIN_N["spd"], (bn - b1) / b1, nan),
            "diffp": np.where(n >= MIN_N["diffp"], (b2 - b1) / b1, nan),
            "rd": np.where((n >= MIN_N["rd"]) & (s_l > 0), (b2 - b1) / s_l, nan),
            "skew": np.where((n >= MIN_N["skew"]) & (s > 0), n / ((n - 1) * (n - 2)) * z3, nan),
            "kurt": np.where(
                (n >= MIN_N["kurt"]) & (s > 0),
                n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * z4 - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)),
                nan,
            ),
        }
    return {name: np.asarray(column, dtype=np.float64) for name, column in result.items()}
