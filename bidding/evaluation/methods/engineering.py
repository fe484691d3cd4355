"""Engineering methods (12号令): 综合评估法 with the base-price presets, 经评审的最低投标价法.

**综合评估法** (``eng-comprehensive-evaluation`` v1; 12号令 Art. 34-37; reference §4.1, §4.5):

- B = ``base_price.base_price(preset, valid prices, coefficient, given_base)`` over the corrected
  prices (``Bid.price``; 12号令 Art. 19 corrections are inputs) of the valid bids, with the preset's
  rules (F1-F4, see ``base_price``'s docstring, including which "to verify" readings it takes);
- F_price = ``base_price.price_score`` (the preset's own scale: F1/F4 100, F2 60, F3 30; the
  settings' price criterion spans ``[0, full]``), component = F_price × A_price rounded half up
  to 0.01;
- the other criteria: the experts' mean (or the trimmed mean when the settings ask for it and the
  committee has ≥ 7 members, ``aggregation``), component = mean × Aᵢ rounded half up to 0.01;
- total = exact sum of the rounded components (the 综合评估比较表); ranking by total, ties by the
  lower price, then 并列; 1-3 candidates (12号令 Art. 45).

**经评审的最低投标价法** (``eng-reviewed-lowest-price`` v1; 12号令 Art. 30-33): evaluated price =
corrected price + Σ the named price adjustments the documents define (Art. 31: + raises, - lowers;
the technical part is not monetised), rounded half up to 0.01 yuan; the 标价比较表 lists quoted
price, correction, every adjustment and the evaluated price (Art. 33); ranking by evaluated price,
then the lower price, then 并列.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from bidding.evaluation.methods.aggregation import Decided, aggregate, rank_by_price, rank_by_score
from bidding.evaluation.methods.base_price import base_price, price_score
from bidding.evaluation.methods.common import (
    METHODS,
    ZERO,
    Bid,
    BidRow,
    EvaluationRefused,
    ExpertScores,
    MethodCode,
    MethodResult,
    exact,
    round_money,
    round_score,
)
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from bidding.evaluation.methods.inputs import prepare
from bidding.evaluation.methods.settings import MethodSettings


@exact
def comprehensive_evaluation(
    settings: MethodSettings,
    bids: Sequence[Bid],
    scores: ExpertScores,
    coefficients: Mapping[str, Decimal] | None = None,
    defaults: Defaults = DEFAULTS,
    *,
    decided: Decided | None = None,
) -> MethodResult:
    """综合评估法 (module docstring). ``coefficients`` are the values drawn in the opening hall
    (F1 ``float``, F4 ``K``); when omitted, the settings' ``coefficients`` are used. ``decided``:
    objective criteria's values computed by the system or decided jointly (``aggregation.aggregate``).
    """
    prepare(settings, MethodCode.ENG_COMPREHENSIVE, bids, defaults)
    preset, price_criterion = settings.preset, settings.price_criterion
    if preset is None or price_criterion is None:  # pragma: no cover - require_settings refuses both
        raise EvaluationRefused("no preset or price criterion", field="price_base", rule="price_base_preset")
    drawn = dict(settings.coefficients if coefficients is None else coefficients)
    spec = defaults.presets[preset.value].coefficient
    for name in sorted(drawn):
        if spec is None or name != spec.name:
            raise EvaluationRefused(
                f"{preset.value} takes no coefficient {name!r}",
                field=f"coefficients.{name}",
                rule="coefficient_unknown",
            )
    coefficient = drawn.get(spec.name) if spec is not None else None
    valid = [b for b in bids if b.valid]
    if not valid:  # nothing to price or rank: the committee sees every bid rejected (12号令 Art. 27)
        return MethodResult(
            method=METHODS[MethodCode.ENG_COMPREHENSIVE].id,
            defaults_version=defaults.version,
            rows=tuple(BidRow(key=b.key, price=b.price, valid=False) for b in bids),
            ranking=rank_by_score({}, {}, candidates=settings.candidates, defaults=defaults),
            computation={"preset": preset.value},
        )
    base = base_price(
        preset,
        {b.key: b.price for b in valid},
        coefficient=coefficient,
        given_base=settings.given_base,
        defaults=defaults,
    )
    experts = aggregate(
        settings.criteria,
        scores,
        [b.key for b in valid],
        trim=settings.trim_expert_scores,
        decided=decided,
        defaults=defaults,
    )
    rows = []
    totals: dict[str, Decimal] = {}
    for bid in bids:
        if not bid.valid:
            rows.append(BidRow(key=bid.key, price=bid.price, valid=False))
            continue
        score = price_score(preset, bid.price, base.base, defaults)
        dev = (bid.price - base.base) / base.base
        components = {
            price_criterion.code: round_score(score * price_criterion.weight, defaults),
            **experts[bid.key].components,
        }
        totals[bid.key] = sum(components.values(), ZERO)
        rows.append(
            BidRow(
                key=bid.key,
                price=bid.price,
                valid=True,
                evaluated_price=bid.price,
                price_score=score,
                components=components,
                total=totals[bid.key],
                detail={
                    "deviation_percent": round_score(dev * 100, defaults),
                    "means": dict(experts[bid.key].means),
                    "experts": list(experts[bid.key].experts),
                    "left_out": [list(pair) for pair in experts[bid.key].left_out],
                },
            )
        )
    ranking = rank_by_score(totals, {b.key: b.price for b in valid}, candidates=settings.candidates, defaults=defaults)
    return MethodResult(
        method=METHODS[MethodCode.ENG_COMPREHENSIVE].id,
        defaults_version=defaults.version,
        rows=tuple(rows),
        ranking=ranking,
        base_price=base.base,
        coefficients={spec.name: coefficient} if spec is not None and coefficient is not None else {},
        computation={
            "preset": preset.value,
            "mean": base.mean,
            "used": list(base.used),
            "dropped": [list(pair) for pair in base.dropped],
            "aggregation": "trimmed" if settings.trim_expert_scores else "mean",
        },
    )


@exact
def reviewed_lowest_price(settings: MethodSettings, bids: Sequence[Bid], defaults: Defaults = DEFAULTS) -> MethodResult:
    """经评审的最低投标价法 and its 标价比较表 (module docstring); refuses adjustments the settings
    do not name (``adjustment_unknown``).
    """
    prepare(settings, MethodCode.ENG_LOWEST_PRICE, bids, defaults)
    allowed = set(settings.adjustments)
    for i, bid in enumerate(bids):
        for name in bid.adjustments:
            if name not in allowed:
                raise EvaluationRefused(
                    f"bid {bid.key}: adjustment {name!r} is not one the tender documents define (12号令 Art. 31)",
                    field=f"bids[{i}].adjustments.{name}",
                    rule="adjustment_unknown",
                )
    evaluated = {b.key: round_money(b.price + sum(b.adjustments.values(), ZERO), defaults) for b in bids if b.valid}
    rows = [
        BidRow(
            key=b.key,
            price=b.price,
            valid=b.valid,
            evaluated_price=evaluated.get(b.key),
            detail={
                "quoted": b.quoted,
                "correction": b.price - b.quoted if b.quoted is not None else None,
                "adjustments": {name: b.adjustments.get(name, ZERO) for name in settings.adjustments},
            },
        )
        for b in bids
    ]
    ranking = rank_by_price(
        evaluated, {b.key: b.price for b in bids if b.valid}, candidates=settings.candidates, defaults=defaults
    )
    return MethodResult(
        method=METHODS[MethodCode.ENG_LOWEST_PRICE].id,
        defaults_version=defaults.version,
        rows=tuple(rows),
        ranking=ranking,
        computation={"evaluated_price": "corrected price + Σ adjustments, rounded half up to 0.01 (标价比较表)"},
    )
