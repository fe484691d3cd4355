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

Rounding: component_i = mean(Fᵢ) × Aᵢ rounded half up to 0.01; a bid's expert-scored subtotal is the
exact sum of its rounded components (so the report always adds up).

**Ranking.** By score: total descending, then the lower price (87号令 Art. 65, reference §4.3.6),
then bids equal on both share a rank (并列, 87号令 Art. 65) and are listed by bid key (the
deterministic listing rule). By price: evaluated price ascending, then the lower price, then 并列
the same way (87号令 Art. 54). The first ``candidates`` (1-3, 12号令 Art. 45) bids in that order are the
candidates; a 并列 group cut by that limit is flagged ``tie_at_cutoff`` for the committee, and fewer
valid bids than ``candidates.valid_bids_min`` (3) are flagged ``valid_bids_few`` (12号令 Art. 27: the
committee may reject all bids).
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


@exact
def aggregate(
    criteria: Sequence[Criterion],
    scores: ExpertScores,
    bids: Sequence[str],
    *,
    trim: bool = False,
    defaults: Defaults = DEFAULTS,
) -> dict[str, BidScores]:
    """Per-bid aggregated scores of the expert-scored ``criteria`` over ``bids`` (module docstring).

    Refuses (``EvaluationRefused``) no experts, a missing score (``score_missing``) and a score
    outside its criterion's range (``score_range``): the Art. 64 checks catch those first, with
    evidence; aggregation never guesses.
    """
    if not scores:
        raise EvaluationRefused("no expert has scored", field="scores", rule="scores_none")
    scored = scored_criteria(criteria)
    weights = [c.weight for c in scored]
    matrix = _matrix(scored, scores, bids)
    trimming = trim and len(scores) >= defaults.trim_min_members
    result: dict[str, BidScores] = {}
    for bid in bids:
        rows = matrix[bid]
        experts = sorted(rows)
        left_out: list[tuple[str, str]] = []
        if trimming:
            totals = {e: sum((v * w for v, w in zip(rows[e], weights, strict=True)), ZERO) for e in experts}
            high = max(totals.values())
            top = max(e for e in experts if totals[e] == high)
            rest = [e for e in experts if e != top]
            low = min(totals[e] for e in rest)
            bottom = min(e for e in rest if totals[e] == low)
            left_out = [(top, "highest"), (bottom, "lowest")]
            experts = [e for e in rest if e != bottom]
        count = len(experts)
        sums = [ZERO] * len(scored)
        for e in experts:
            for i, v in enumerate(rows[e]):
                sums[i] += v
        means = {c.code: round_score(s / count, defaults) for c, s in zip(scored, sums, strict=True)}
        components = {c.code: round_score(s / count * c.weight, defaults) for c, s in zip(scored, sums, strict=True)}
        result[bid] = BidScores(
            key=bid,
            means=means,
            components=components,
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
            Flag("tie_at_cutoff", "87号令 Art. 65; 12号令 Art. 45", {"rank": order[candidates].rank, "bids": tied})
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
