"""From the experts' scores to per-bid totals, and from totals or prices to a ranking.

**Aggregation** (reference §4.4). Each expert scores every expert-scored criterion (objective and
subjective; the price criterion is computed by the method) of every valid bid. Per bid and
criterion the factor score is the **arithmetic mean** of the experts' scores (GP: 87号令 Art. 55
"aggregated"; the mean is standard practice, marked "to verify" in the reference). The engineering
variant (``trim=True``, reference §4.4 "to verify"), when the committee has at least
``aggregation.trim_min_members`` (7) members: per bid, each expert's weighted total Σ Fᵢ·Aᵢ is
computed, the expert with the highest and the expert with the lowest total are left out for that
bid (on equal totals: the greatest, respectively the smallest, expert key), and the means run over
the others. This reading drops whole experts per bid, so the components still add up to the total.

Objective criteria computed by the system or decided jointly (87号令 Art. 61: by majority) enter
with their one decided value instead of the experts' mean (``decided``).

Rounding: component_i = mean(Fᵢ) × Aᵢ rounded half up to 0.01; a bid's expert-scored subtotal is the
exact sum of its rounded components (so the report always adds up).

**Ranking.** By score: total descending, then the lower price (reference §4.3.6; 87号令 Art. 55),
then bids equal on both share a rank (并列; 87号令 Art. 55 as recalled, "得分且投标报价相同的并列",
to verify) and are listed by bid key (the deterministic listing rule). By price: evaluated price
ascending, then the lower price, then 并列 the same way (87号令 Art. 54). The first ``candidates``
(1-3, 12号令 Art. 45) bids in that order are the candidates; a 并列 group cut by that limit is
flagged ``tie_at_cutoff`` for the committee, and fewer valid bids than
``candidates.valid_bids_min`` (3) are flagged ``valid_bids_few`` (12号令 Art. 27: the committee
may reject all bids).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bidding.evaluation.methods.common import (
    ZERO,
    Criterion,
    CriterionKind,
    EvaluationRefused,
    ExpertScores,
    Flag,
    RankedBid,
    Ranking,
    exact,
    round_score,
)
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults


@dataclass(frozen=True, slots=True)
class BidScores:
    """A bid's aggregated expert scores."""

    key: str
    means: Mapping[str, Decimal]
    """criterion → mean factor score, rounded half up to 0.01 (for the record)."""
    components: Mapping[str, Decimal]
    """criterion → mean × weight, rounded half up to 0.01."""
    subtotal: Decimal
    """Σ components (exact)."""
    experts: tuple[str, ...]
    """The experts whose scores were averaged, sorted."""
    left_out: tuple[tuple[str, str], ...] = ()
    """(expert, highest | lowest) left out by the engineering trim."""


def scored_criteria(criteria: Sequence[Criterion]) -> tuple[Criterion, ...]:
    """The criteria the experts score (all but the price)."""
    return tuple(c for c in criteria if c.kind is not CriterionKind.PRICE)


def _matrix(
    criteria: Sequence[Criterion], scores: ExpertScores, bids: Sequence[str]
) -> dict[str, dict[str, tuple[Decimal, ...]]]:
    """Bid → expert → the expert's scores in criteria order; refuses missing or out-of-range scores."""
    out: dict[str, dict[str, tuple[Decimal, ...]]] = {bid: {} for bid in bids}
    for expert in sorted(scores):
        sheet = scores[expert]
        for bid in bids:
            row = sheet.get(bid)
            if row is None:
                raise EvaluationRefused(
                    f"expert {expert} has not scored bid {bid}", field=f"scores.{expert}.{bid}", rule="score_missing"
                )
            values = []
            for c in criteria:
                value = row.get(c.code)
                path = f"scores.{expert}.{bid}.{c.code}"
                if value is None:
                    raise EvaluationRefused(
                        f"expert {expert}: no score for {c.code} on {bid}", field=path, rule="score_missing"
                    )
                if not value.is_finite() or not c.low <= value <= c.high:
                    raise EvaluationRefused(
                        f"expert {expert}: {c.code} on {bid} = {value} is outside [{c.low}, {c.high}]",
                        field=path,
                        rule="score_range",
                    )
                values.append(value)
            out[bid][expert] = tuple(values)
    return out


Decided = Mapping[str, Mapping[str, Decimal]]
"""criterion code → bid key → the value decided for everyone (objective criteria only)."""


def _decided(criteria: Sequence[Criterion], decided: Decided, bids: Sequence[str]) -> None:
    """Decided values exist for objective criteria only, for every bid, within range."""
    by_code = {c.code: c for c in criteria}
    for code, values in decided.items():
        criterion = by_code.get(code)
        if criterion is None or criterion.kind is not CriterionKind.OBJECTIVE:
            raise EvaluationRefused(
                f"{code}: only objective criteria are decided jointly or by the system (87号令 Art. 62(4))",
                field=f"decided.{code}",
                rule="decided_objective_only",
            )
        for bid in bids:
            value = values.get(bid)
            if value is None:
                raise EvaluationRefused(
                    f"{code}: no decided value for bid {bid}", field=f"decided.{code}.{bid}", rule="decided_missing"
                )
            if not value.is_finite() or not criterion.low <= value <= criterion.high:
                raise EvaluationRefused(
                    f"{code} on {bid} = {value} is outside [{criterion.low}, {criterion.high}]",
                    field=f"decided.{code}.{bid}",
                    rule="score_range",
                )


def _left_out(rows: Mapping[str, tuple[Decimal, ...]], weights: Sequence[Decimal]) -> list[tuple[str, str]]:
    """The engineering trim: the experts with the highest and the lowest weighted total."""
    experts = sorted(rows)
    totals = {e: sum((v * w for v, w in zip(rows[e], weights, strict=True)), ZERO) for e in experts}
    high = max(totals.values())
    top = max(e for e in experts if totals[e] == high)
    rest = [e for e in experts if e != top]
    low = min(totals[e] for e in rest)
    bottom = min(e for e in rest if totals[e] == low)
    return [(top, "highest"), (bottom, "lowest")]


@exact
def aggregate(
    criteria: Sequence[Criterion],
    scores: ExpertScores,
    bids: Sequence[str],
    *,
    trim: bool = False,
    decided: Decided | None = None,
    defaults: Defaults = DEFAULTS,
) -> dict[str, BidScores]:
    """Per-bid aggregated scores of the expert-scored ``criteria`` over ``bids`` (module docstring).

    ``decided`` gives, for objective criteria computed by the system or decided jointly by the
    committee's majority (87号令 Art. 61), the one value of each bid; the experts' own scores for
    those criteria are then not needed and not used, and the trim looks at the other criteria only.

    Refuses (``EvaluationRefused``) no experts, a missing score (``score_missing``), a score
    outside its criterion's range (``score_range``) and a decided value for a subjective criterion
    (``decided_objective_only``): the Art. 64 checks catch bad scores first, with evidence;
    aggregation never guesses.
    """
    decided = decided or {}
    scored = scored_criteria(criteria)
    _decided(scored, decided, bids)
    by_experts = tuple(c for c in scored if c.code not in decided)
    if by_experts and not scores:
        raise EvaluationRefused("no expert has scored", field="scores", rule="scores_none")
    weights = [c.weight for c in by_experts]
    matrix = _matrix(by_experts, scores, bids) if by_experts else {bid: {} for bid in bids}
    trimming = trim and len(scores) >= defaults.trim_min_members and bool(by_experts)
    result: dict[str, BidScores] = {}
    for bid in bids:
        rows = matrix[bid]
        left_out = _left_out(rows, weights) if trimming else []
        dropped = {e for e, _ in left_out}
        experts = [e for e in sorted(rows) if e not in dropped]
        count = len(experts)
        sums = [ZERO] * len(by_experts)
        for e in experts:
            for i, v in enumerate(rows[e]):
                sums[i] += v
        mean = {c.code: s / count for c, s in zip(by_experts, sums, strict=True)}
        mean.update({code: values[bid] for code, values in decided.items()})
        result[bid] = BidScores(
            key=bid,
            means={c.code: round_score(mean[c.code], defaults) for c in scored},
            components=(components := {c.code: round_score(mean[c.code] * c.weight, defaults) for c in scored}),
            subtotal=sum(components.values(), ZERO),
            experts=tuple(experts),
            left_out=tuple(left_out),
        )
    return result


def _flags(order: list[RankedBid], candidates: int, valid: int, defaults: Defaults) -> list[Flag]:
    flags: list[Flag] = []
    if valid < defaults.valid_bids_min:
        flags.append(
            Flag(
                "valid_bids_few",
                "12号令 Art. 27",
                {"valid_bids": valid, "minimum": defaults.valid_bids_min},
            )
        )
    if 0 < candidates < len(order) and order[candidates - 1].rank == order[candidates].rank:
        tied = [r.key for r in order if r.rank == order[candidates].rank]
        flags.append(
            Flag("tie_at_cutoff", "87号令 Art. 55; 12号令 Art. 45", {"rank": order[candidates].rank, "bids": tied})
        )
    return flags


def _rank(
    entries: list[tuple[tuple[Decimal, Decimal], str, Decimal | None, Decimal]], candidates: int, defaults: Defaults
) -> Ranking:
    """``entries``: (sort key, bid key, total, price); equal sort keys share a rank (并列)."""
    entries.sort(key=lambda e: (e[0], e[1]))
    order: list[RankedBid] = []
    keys = [e[0] for e in entries]
    counts = Counter(keys)
    for position, (sort_key, bid, total, price) in enumerate(entries):
        rank = order[-1].rank if order and keys[position - 1] == sort_key else position + 1
        tied = counts[sort_key] > 1
        order.append(RankedBid(key=bid, rank=rank, total=total, price=price, tied=tied))
    return Ranking(
        order=tuple(order),
        candidates=tuple(r.key for r in order[:candidates]),
        flags=tuple(_flags(order, candidates, len(order), defaults)),
    )


@exact
def rank_by_score(
    totals: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    *,
    candidates: int = DEFAULTS.candidates_default,
    defaults: Defaults = DEFAULTS,
) -> Ranking:
    """Higher total first, then the lower price, then 并列 listed by bid key (module docstring)."""
    entries: list[tuple[tuple[Decimal, Decimal], str, Decimal | None, Decimal]] = [
        ((-totals[k], prices[k]), k, totals[k], prices[k]) for k in totals
    ]
    return _rank(entries, candidates, defaults)


@exact
def rank_by_price(
    evaluated: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    *,
    candidates: int = DEFAULTS.candidates_default,
    defaults: Defaults = DEFAULTS,
) -> Ranking:
    """Lower evaluated price first, then the lower price, then 并列 listed by bid key."""
    entries: list[tuple[tuple[Decimal, Decimal], str, Decimal | None, Decimal]] = [
        ((evaluated[k], prices[k]), k, None, prices[k]) for k in evaluated
    ]
    return _rank(entries, candidates, defaults)
