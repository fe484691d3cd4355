"""Government procurement methods (87号令): 综合评分法 and 最低评标价法, pure and versioned.

**综合评分法** (``gp-comprehensive-scoring`` v1; 87号令 Art. 55, 65; reference §4.3):

- the evaluated price of a valid bid is its price after the arithmetic corrections (an input:
  ``Bid.price``) minus its policy deduction: ``round_money(price × (1 - deduction_rate))``;
- 低价优先法: 评标基准价 B = the lowest evaluated price among **all** valid bids — no price is ever
  dropped, highest or lowest (87号令 Art. 55; the function has no way to drop one);
- price factor F_price = B / Pᵢ × 100 (exact), recorded rounded half up to 0.01; its weighted
  component = F_price × A_price rounded half up to 0.01;
- the other criteria: the arithmetic mean of the experts' scores (``aggregation.aggregate``), each
  component mean × Aᵢ rounded half up to 0.01;
- total = Σ Fᵢ × Aᵢ = the exact sum of the rounded components; ranking by total, ties by the lower
  (corrected, pre-deduction) bid price, then 并列 (87号令 Art. 55's last paragraph, recalled; reference
  §4.3.6 states the lower-price rule).

**最低评标价法** (``gp-lowest-evaluated-price`` v1; 87号令 Art. 53-54; GP 实施条例 Art. 34): no price
adjustment except the arithmetic corrections (already in ``Bid.price``) and the policy deductions;
evaluated price = ``round_money(price × (1 - deduction_rate))``; ranking by evaluated price, then
the lower price, then 并列 ("投标报价相同的并列", Art. 54).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bidding.evaluation.methods.aggregation import Decided, aggregate, rank_by_price, rank_by_score
from bidding.evaluation.methods.common import (
    HUNDRED,
    METHODS,
    ZERO,
    Bid,
    BidRow,
    EvaluationRefused,
    ExpertScores,
    MethodCode,
    MethodResult,
    exact,
    round_score,
)
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from bidding.evaluation.methods.inputs import deducted, prepare
from bidding.evaluation.methods.settings import MethodSettings


@exact
def gp_price_scores(
    evaluated: dict[str, Decimal], weight: Decimal, defaults: Defaults = DEFAULTS
) -> tuple[Decimal, dict[str, Decimal], dict[str, Decimal]]:
    """(B, bid → F_price rounded, bid → weighted component) for the valid bids' evaluated prices.

    B = min of **every** valid price (87号令 Art. 55: never drop the highest or the lowest price).
    """
    base = min(evaluated.values())
    factors: dict[str, Decimal] = {}
    components: dict[str, Decimal] = {}
    for key, price in evaluated.items():
        factor = base / price * HUNDRED
        factors[key] = round_score(factor, defaults)
        components[key] = round_score(factor * weight, defaults)
    return base, factors, components


@exact
def comprehensive_scoring(
    settings: MethodSettings,
    bids: Sequence[Bid],
    scores: ExpertScores,
    defaults: Defaults = DEFAULTS,
    *,
    decided: Decided | None = None,
) -> MethodResult:
    """综合评分法 over ``bids`` with the experts' ``scores`` (module docstring for every step);
    ``decided``: objective criteria's values computed by the system or decided jointly
    (``aggregation.aggregate``).
    """
    prepare(settings, MethodCode.GP_COMPREHENSIVE, bids, defaults)
    price_criterion = settings.price_criterion
    if price_criterion is None:  # pragma: no cover - require_settings refuses it (price_criterion_count)
        raise EvaluationRefused("no price criterion", field="criteria", rule="price_criterion_count")
    valid = [b for b in bids if b.valid]
    evaluated = {b.key: deducted(b, defaults) for b in valid}
    base: Decimal | None = None
    factors: dict[str, Decimal] = {}
    weighted: dict[str, Decimal] = {}
    if valid:
        base, factors, weighted = gp_price_scores(evaluated, price_criterion.weight, defaults)
    keys = [b.key for b in valid]
    experts = aggregate(settings.criteria, scores, keys, decided=decided, defaults=defaults) if valid else {}
    rows = []
    totals: dict[str, Decimal] = {}
    for bid in bids:
        if not bid.valid:
            rows.append(BidRow(key=bid.key, price=bid.price, valid=False))
            continue
        components = {price_criterion.code: weighted[bid.key], **experts[bid.key].components}
        totals[bid.key] = sum(components.values(), ZERO)
        rows.append(
            BidRow(
                key=bid.key,
                price=bid.price,
                valid=True,
                evaluated_price=evaluated[bid.key],
                price_score=factors[bid.key],
                components=components,
                total=totals[bid.key],
                detail={
                    "deduction_rate": bid.deduction_rate,
                    "means": dict(experts[bid.key].means),
                    "experts": list(experts[bid.key].experts),
                },
            )
        )
    ranking = rank_by_score(totals, {b.key: b.price for b in valid}, candidates=settings.candidates, defaults=defaults)
    return MethodResult(
        method=METHODS[MethodCode.GP_COMPREHENSIVE].id,
        defaults_version=defaults.version,
        rows=tuple(rows),
        ranking=ranking,
        base_price=base,
        computation={
            "price_base": "lowest valid evaluated price (低价优先法, 87号令 Art. 55)",
            "price_weight": price_criterion.weight,
            "aggregation": "mean",
        },
    )


@exact
def lowest_evaluated_price(
    settings: MethodSettings, bids: Sequence[Bid], defaults: Defaults = DEFAULTS
) -> MethodResult:
    """最低评标价法 over ``bids`` (module docstring); refuses any other price adjustment."""
    prepare(settings, MethodCode.GP_LOWEST_PRICE, bids, defaults)
    for i, bid in enumerate(bids):
        if bid.adjustments:
            raise EvaluationRefused(
                f"bid {bid.key}: 最低评标价法 takes no price adjustment (87号令 Art. 54)",
                field=f"bids[{i}].adjustments",
                rule="gp_no_price_adjustment",
            )
    valid = [b for b in bids if b.valid]
    evaluated = {b.key: deducted(b, defaults) for b in valid}
    rows = []
    for bid in bids:
        detail: dict[str, Decimal | None] = {
            "quoted": bid.quoted,
            "correction": bid.price - bid.quoted if bid.quoted is not None else None,
            "deduction_rate": bid.deduction_rate,
        }
        if bid.valid:
            detail["deduction"] = bid.price - evaluated[bid.key]
        rows.append(
            BidRow(
                key=bid.key,
                price=bid.price,
                valid=bid.valid,
                evaluated_price=evaluated.get(bid.key),
                detail=detail,
            )
        )
    ranking = rank_by_price(
        evaluated, {b.key: b.price for b in valid}, candidates=settings.candidates, defaults=defaults
    )
    return MethodResult(
        method=METHODS[MethodCode.GP_LOWEST_PRICE].id,
        defaults_version=defaults.version,
        rows=tuple(rows),
        ranking=ranking,
        computation={"evaluated_price": "price × (1 - policy deduction rate), rounded half up to 0.01"},
    )
