"""Evaluation-behaviour screens (issue 19 §5; anomaly-screens.md §6.2 and §7 E): pure functions over
one panel's scores, or a history of panels, returning advisory findings about experts.

Subjects are expert ids (on ggzy the pool's expert id, stable across tenders). Thresholds come from
``catalogue/experts.toml`` through the ``RuleSet``, never from constants here.

Conventions, so the tests' hand-computed values can follow them:

- **Robust z** (EXPERT-DEVIATION) is ``bidding.panel_deviation.leave_one_out_z``, the same
  function the expert's inline prompt uses: z = (s − median₋ₑ) / max(1.4826 · MAD₋ₑ, floor), with
  floor = ``floor_share`` × the criterion's maximum. MAD₋ₑ = 0 (the other experts agree) is handled
  by the floor; a criterion whose maximum is 0 gives no z (the deviation rate still applies).
  The deviation rate is |s − mean₋ₑ| / mean₋ₑ, skipped when mean₋ₑ = 0.
- **An expert's total** for a bid is the sum of their scores over the criteria they scored; the
  **panel's total** is Σ over criteria of the mean across experts, plus ``Panel.fixed_points`` (the
  points no expert gives, e.g. the price score). The winner is the highest panel total; a tie has no
  winner, so a pivotal expert is one whose removal turns one winner into another or into a tie.
- **Kendall τ** (EXPERT-RANKING) is τ-a: (concordant − discordant) / (n(n−1)/2) between the
  expert's totals and the mean totals of the others; a tie in either counts as neither.
- **Standardised residual** (EXPERT-FAVOUR, EXPERT-LENIENCY) of an expert on a bid:
  (t − mean₋ₑ) / max(pstdev₋ₑ, floor_share × the bid's maximum total), over the totals of the bid.
- **Timing** (EXPERT-FAST): per expert and bid, the seconds from the first opening of the bid's
  documents to the last score, divided by the documents' pages. A score given with no recorded
  opening, or before it, fires as well (evidence ``opened`` false / negative seconds).
- **Late edits** (EXPERT-LATE-EDIT): a score's last change or any edit within ``window_minutes``
  before the report was signed.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bidding.integrity.screens.model import Finding, Severity
from bidding.integrity.screens.rules import RuleSet
from bidding.panel_deviation import leave_one_out_z

DEVIATION = "EXPERT-DEVIATION"
OBJECTIVE = "EXPERT-OBJECTIVE"
PIVOTAL = "EXPERT-PIVOTAL"
RANKING = "EXPERT-RANKING"
FAVOUR = "EXPERT-FAVOUR"
LENIENCY = "EXPERT-LENIENCY"
FAST = "EXPERT-FAST"
LATE_EDIT = "EXPERT-LATE-EDIT"


class InvalidScore(ValueError):
    """A score no screen can use: not finite, negative, or above its maximum. Refused by name."""

    def __init__(self, expert: str, bidder: str, criterion: str, field_name: str, value: object) -> None:
        self.field = field_name
        super().__init__(
            f"score of expert {expert!r} on bid {bidder!r}, criterion {criterion!r}: "
            f"{field_name} {value!r} must be a finite number ≥ 0 (and score ≤ max_score)"
        )


@dataclass(frozen=True, slots=True)
class ExpertScore:
    """One expert's score of one bid on one criterion, with when it was given."""

    expert: str
    bidder: str
    criterion: str
    score: float
    max_score: float
    objective: bool = False  # objective items (87号令 Art. 64(3)) must agree across the panel
    scored_at: datetime | None = None  # the score's last change
    first_opened_at: datetime | None = None  # the expert's first reading of this bid's documents
    edits: tuple[datetime, ...] = ()  # earlier recorded changes (e.g. corrections)
    reason: str = ""  # the expert's written reason, when one was given

    def __post_init__(self) -> None:
        for name in ("score", "max_score"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InvalidScore(self.expert, self.bidder, self.criterion, name, value)
        if self.score > self.max_score:
            raise InvalidScore(self.expert, self.bidder, self.criterion, "score", self.score)


@dataclass(frozen=True, slots=True)
class Panel:
    """The scores of one evaluation (one lot or lot group) and what the screens need around them."""

    ocid: str
    lot: str | None
    scores: tuple[ExpertScore, ...]
    signed_at: datetime | None = None  # when the report was signed (the first signature)
    pages: Mapping[str, int] = field(default_factory=dict)  # bidder → pages of its documents
    winner: str | None = None  # the awarded / first-ranked bidder, when known
    fixed_points: Mapping[str, float] = field(default_factory=dict)  # bidder → points no expert gives

    def experts(self) -> list[str]:
        return sorted({s.expert for s in self.scores})

    def bidders(self) -> list[str]:
        return sorted({s.bidder for s in self.scores})


def _grid(scores: Iterable[ExpertScore]) -> dict[tuple[str, str], dict[str, ExpertScore]]:
    """(bidder, criterion) → expert → score."""
    grid: dict[tuple[str, str], dict[str, ExpertScore]] = defaultdict(dict)
    for s in scores:
        grid[s.bidder, s.criterion][s.expert] = s
    return grid


def _r(value: float) -> float:
    return round(value, 4)


def _finding(
    rules: RuleSet,
    rule_id: str,
    summary: str,
    evidence: Mapping[str, object],
    subjects: tuple[str, ...],
    *,
    severity: Severity | None = None,
) -> Finding:
    rule = rules[rule_id]
    return Finding(
        rule=rule.id,
        rule_version=rule.version,
        severity=severity or rule.severity,
        summary=summary,
        evidence=dict(evidence),
        subjects=subjects,
        score=rules.threshold(rule_id, "points") if "points" in rule.thresholds else 0.0,
        hard=rule.hard,
    )


def robust_deviation(
    score: float, others: Sequence[float], max_score: float, rules: RuleSet
) -> dict[str, float] | None:
    """The numbers behind EXPERT-DEVIATION for one score: z (or None) and the deviation rate (or None)."""
    if not others:
        return None
    robust = leave_one_out_z(
        Decimal(str(score)),
        [Decimal(str(v)) for v in others],
        floor=Decimal(str(rules.threshold(DEVIATION, "floor_share"))) * Decimal(str(max_score)),
        mad_scale=Decimal(str(rules.threshold(DEVIATION, "mad_scale"))),
    )
    mean = statistics.fmean(others)
    out: dict[str, float] = {"score": score, "mean_others": _r(mean)}
    if robust is not None:
        centre, mad, scale, z = robust
        out |= {"median_others": float(centre), "mad_others": float(mad), "scale": _r(float(scale)), "z": _r(float(z))}
    if mean > 0:
        out["rate"] = _r(abs(score - mean) / mean)
    return out


def deviation(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-DEVIATION: scores far from the rest of the panel (|z| ≥ z, or rate > max_rate)."""
    z_limit, rate_limit = rules.threshold(DEVIATION, "z"), rules.threshold(DEVIATION, "max_rate")
    min_panel = rules.threshold(DEVIATION, "min_panel")
    items: dict[str, list[dict[str, object]]] = defaultdict(list)
    for (bidder, criterion), by_expert in sorted(_grid(s for s in panel.scores if not s.objective).items()):
        if len(by_expert) < min_panel:
            continue
        for expert, s in sorted(by_expert.items()):
            numbers = robust_deviation(
                s.score, [o.score for e, o in by_expert.items() if e != expert], s.max_score, rules
            )
            if numbers is None:
                continue
            far = abs(numbers.get("z", 0.0)) >= z_limit or numbers.get("rate", 0.0) > rate_limit
            if far:
                items[expert].append({"bidder": bidder, "criterion": criterion, **numbers, "reason": s.reason})
    return [
        _finding(
            rules,
            DEVIATION,
            f"专家 {expert} 有 {len(found)} 项评分明显偏离其他专家",
            {"items": found, "z": z_limit, "max_rate": rate_limit},
            (expert,),
        )
        for expert, found in sorted(items.items())
    ]


def objective_disagreement(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-OBJECTIVE: an objective item scored differently; the experts off the strict majority
    (every expert of the item when there is none) are the subjects.
    """
    items: dict[str, list[dict[str, object]]] = defaultdict(list)
    for (bidder, criterion), by_expert in sorted(_grid(s for s in panel.scores if s.objective).items()):
        values = [s.score for s in by_expert.values()]
        if len(set(values)) < 2:  # noqa: PLR2004 - everyone agrees
            continue
        top = max(set(values), key=lambda v: (values.count(v), -v))
        majority = top if values.count(top) * 2 > len(values) else None
        panel_values = {e: s.score for e, s in sorted(by_expert.items())}
        for expert, s in sorted(by_expert.items()):
            if majority is None or s.score != majority:
                items[expert].append(
                    {
                        "bidder": bidder,
                        "criterion": criterion,
                        "score": s.score,
                        "majority": majority,
                        "panel": panel_values,
                    }
                )
    return [
        _finding(
            rules, OBJECTIVE, f"专家 {expert} 对 {len(found)} 项客观评分与其他专家不一致", {"items": found}, (expert,)
        )
        for expert, found in sorted(items.items())
    ]


def _totals(scores: Iterable[ExpertScore]) -> dict[str, dict[str, float]]:
    """Expert → bidder → the expert's total."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in scores:
        totals[s.expert][s.bidder] += s.score
    return totals


def panel_totals(panel: Panel, without: str | None = None) -> dict[str, float]:
    """Bidder → fixed points + Σ over criteria of the mean score across experts (``without`` left out)."""
    totals = {b: float(panel.fixed_points.get(b, 0.0)) for b in panel.bidders()}
    for (bidder, _criterion), by_expert in _grid(s for s in panel.scores if s.expert != without).items():
        totals[bidder] += statistics.fmean(s.score for s in by_expert.values())
    return totals


def leader(totals: Mapping[str, float]) -> str | None:
    """The bidder with the highest total; None on a tie at the top or no bidder."""
    if not totals:
        return None
    best = max(totals.values())
    top = [b for b, t in totals.items() if math.isclose(t, best, abs_tol=1e-9)]
    return top[0] if len(top) == 1 else None


def pivotal(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-PIVOTAL: removing one expert's scores changes the winner. Red when that expert also
    deviates (|z| ≥ ``combined_z``) on the winner or the runner-up.
    """
    experts = panel.experts()
    if len(experts) < rules.threshold(PIVOTAL, "min_panel"):
        return []
    full = panel_totals(panel)
    winner = leader(full)
    if winner is None:
        return []
    ranked = sorted(full, key=lambda b: -full[b])
    contenders = set(ranked[:2])
    combined_z = rules.threshold(PIVOTAL, "combined_z")
    out = []
    for expert in experts:
        without = panel_totals(panel, without=expert)
        other = leader(without)
        if other == winner:
            continue
        grid = _grid(s for s in panel.scores if not s.objective and s.bidder in contenders)
        deviations = []
        for (bidder, criterion), by_expert in sorted(grid.items()):
            if expert not in by_expert:
                continue
            numbers = robust_deviation(
                by_expert[expert].score,
                [o.score for e, o in by_expert.items() if e != expert],
                by_expert[expert].max_score,
                rules,
            )
            if numbers and abs(numbers.get("z", 0.0)) >= combined_z:
                deviations.append({"bidder": bidder, "criterion": criterion, "z": numbers["z"]})
        out.append(
            _finding(
                rules,
                PIVOTAL,
                f"去掉专家 {expert} 的评分后，第一名由 {winner} 变为 {other or '并列'}",
                {
                    "winner": winner,
                    "winner_without": other,
                    "totals": {b: _r(t) for b, t in sorted(full.items())},
                    "totals_without": {b: _r(t) for b, t in sorted(without.items())},
                    "deviations": deviations,
                },
                (expert,),
                severity=Severity.RED if deviations else Severity.AMBER,
            )
        )
    return out


def kendall_tau(xs: Sequence[float], ys: Sequence[float]) -> float:
    """τ-a of two paired sequences (module docstring); needs at least 2 pairs."""
    n = len(xs)
    score = 0
    for i in range(n):
        for j in range(i + 1, n):
            product = (xs[i] - xs[j]) * (ys[i] - ys[j])
            score += (product > 0) - (product < 0)
    return score / (n * (n - 1) / 2)


def ranking_inversion(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-RANKING: the expert's ranking of the bids against the others' (Kendall τ < max_tau)."""
    max_tau, min_bids = rules.threshold(RANKING, "max_tau"), rules.threshold(RANKING, "min_bids")
    totals = _totals(panel.scores)
    out = []
    for expert in panel.experts():
        others = [e for e in totals if e != expert]
        bidders = sorted(b for b in totals[expert] if others and all(b in totals[e] for e in others))
        if len(bidders) < min_bids:
            continue
        own = [totals[expert][b] for b in bidders]
        consensus = [statistics.fmean(totals[e][b] for e in others) for b in bidders]
        tau = kendall_tau(own, consensus)
        if tau < max_tau:
            out.append(
                _finding(
                    rules,
                    RANKING,
                    f"专家 {expert} 对投标人的排序与其他专家相反（τ = {tau:.2f}）",
                    {
                        "tau": _r(tau),
                        "bidders": bidders,
                        "own": [_r(t) for t in own],
                        "others": [_r(t) for t in consensus],
                    },
                    (expert,),
                )
            )
    return out


def residuals(panel: Panel, floor_share: float) -> list[tuple[str, str, float]]:
    """(expert, bidder, standardised residual) for every expert and bid with ≥ 2 other experts."""
    totals = _totals(panel.scores)
    maxima: dict[tuple[str, str], float] = {}
    for s in panel.scores:
        maxima[s.bidder, s.criterion] = max(maxima.get((s.bidder, s.criterion), 0.0), s.max_score)
    bid_max: dict[str, float] = defaultdict(float)
    for (bidder, _c), high in maxima.items():
        bid_max[bidder] += high
    out = []
    for bidder in panel.bidders():
        scored = {e: t[bidder] for e, t in totals.items() if bidder in t}
        for expert, total in sorted(scored.items()):
            others = [t for e, t in scored.items() if e != expert]
            if len(others) < 2:  # noqa: PLR2004 - no spread from a single other expert
                continue
            scale = max(statistics.pstdev(others), floor_share * bid_max[bidder])
            if scale > 0:
                out.append((expert, bidder, (total - statistics.fmean(others)) / scale))
    return out


def favouritism(history: Sequence[Panel], rules: RuleSet) -> list[Finding]:
    """EXPERT-FAVOUR: an expert scoring the same bidder above the panel across tenders."""
    floor = rules.threshold(FAVOUR, "floor_share")
    pairs: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for panel in history:
        for expert, bidder, r in residuals(panel, floor):
            pairs[expert, bidder].append((panel.ocid, r))
    min_n, min_mean = rules.threshold(FAVOUR, "min_encounters"), rules.threshold(FAVOUR, "min_mean_residual")
    out = []
    for (expert, bidder), seen in sorted(pairs.items()):
        mean = statistics.fmean(r for _, r in seen)
        if len(seen) >= min_n and mean > min_mean:
            out.append(
                _finding(
                    rules,
                    FAVOUR,
                    f"专家 {expert} 在 {len(seen)} 次评标中对投标人 {bidder} 的评分持续高于其他专家",
                    {
                        "bidder": bidder,
                        "encounters": len(seen),
                        "mean_residual": _r(mean),
                        "residuals": {ocid: _r(r) for ocid, r in seen},
                    },
                    (expert,),
                )
            )
    return out


def leniency(history: Sequence[Panel], rules: RuleSet) -> list[Finding]:
    """EXPERT-LENIENCY: an expert persistently above (lenient) or below (severe) the panels."""
    floor = rules.threshold(LENIENCY, "floor_share")
    by_expert: dict[str, list[float]] = defaultdict(list)
    for panel in history:
        for expert, _bidder, r in residuals(panel, floor):
            by_expert[expert].append(r)
    min_n, min_mean = rules.threshold(LENIENCY, "min_bids"), rules.threshold(LENIENCY, "min_abs_mean_residual")
    out = []
    for expert, values in sorted(by_expert.items()):
        mean = statistics.fmean(values)
        if len(values) >= min_n and abs(mean) > min_mean:
            kind = "宽松" if mean > 0 else "严苛"
            out.append(
                _finding(
                    rules,
                    LENIENCY,
                    f"专家 {expert} 在 {len(values)} 个投标上的评分持续{kind}",
                    {"bids": len(values), "mean_residual": _r(mean), "direction": "lenient" if mean > 0 else "severe"},
                    (expert,),
                )
            )
    return out


def too_fast(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-FAST: a bid scored in fewer seconds per page than ``min_seconds_per_page``, or
    scored without (or before) opening its documents. Bids without a page count are skipped.
    """
    limit = rules.threshold(FAST, "min_seconds_per_page")
    per_bid: dict[tuple[str, str], list[ExpertScore]] = defaultdict(list)
    for s in panel.scores:
        per_bid[s.expert, s.bidder].append(s)
    items: dict[str, list[dict[str, object]]] = defaultdict(list)
    for (expert, bidder), scores in sorted(per_bid.items()):
        pages = panel.pages.get(bidder)
        times = [s.scored_at for s in scores if s.scored_at is not None]
        if not pages or pages <= 0 or not times:
            continue
        opened = [s.first_opened_at for s in scores if s.first_opened_at is not None]
        if not opened:
            items[expert].append({"bidder": bidder, "pages": pages, "opened": False})
            continue
        seconds = (max(times) - min(opened)).total_seconds()
        if seconds / pages < limit:
            items[expert].append(
                {
                    "bidder": bidder,
                    "pages": pages,
                    "opened": True,
                    "seconds": seconds,
                    "seconds_per_page": _r(seconds / pages),
                }
            )
    return [
        _finding(
            rules,
            FAST,
            f"专家 {expert} 对 {len(found)} 个投标的评审用时与文件篇幅不相称",
            {"items": found, "min_seconds_per_page": limit},
            (expert,),
        )
        for expert, found in sorted(items.items())
    ]


def late_edits(panel: Panel, rules: RuleSet) -> list[Finding]:
    """EXPERT-LATE-EDIT: scores changed within ``window_minutes`` before the report was signed."""
    if panel.signed_at is None:
        return []
    window = rules.threshold(LATE_EDIT, "window_minutes") * 60
    items: dict[str, list[dict[str, object]]] = defaultdict(list)
    for s in sorted(panel.scores, key=lambda x: (x.expert, x.bidder, x.criterion)):
        changes = [*s.edits, *([s.scored_at] if s.scored_at is not None else [])]
        late = sorted({t for t in changes if 0 <= (panel.signed_at - t).total_seconds() <= window})
        if late:
            items[s.expert].append(
                {
                    "bidder": s.bidder,
                    "criterion": s.criterion,
                    "minutes_before_signing": [_r((panel.signed_at - t).total_seconds() / 60) for t in late],
                }
            )
    return [
        _finding(
            rules,
            LATE_EDIT,
            f"专家 {expert} 在报告签署前不久修改了 {len(found)} 项评分",
            {"items": found, "window_minutes": window / 60},
            (expert,),
        )
        for expert, found in sorted(items.items())
    ]


def screen_panel(panel: Panel, rules: RuleSet) -> list[Finding]:
    """Every one-panel screen."""
    return [
        *deviation(panel, rules),
        *objective_disagreement(panel, rules),
        *pivotal(panel, rules),
        *ranking_inversion(panel, rules),
        *too_fast(panel, rules),
        *late_edits(panel, rules),
    ]


def screen_history(history: Sequence[Panel], rules: RuleSet) -> list[Finding]:
    """Every across-tender screen."""
    return [*favouritism(history, rules), *leniency(history, rules)]
