"""Engineering base prices (评标基准价) and price scores: the presets F1-F4 of domain-rules §4.5.

Notation (reference §4.5): Pᵢ a bidder's evaluated price, n the number of valid prices, B the base
price, dev = (Pᵢ - B) / B. Every preset scores with one deduction form,

    score = full - 100 · k · |Pᵢ - B| / B,   k = k_below when Pᵢ < B, k_above when Pᵢ > B,

floored at 0 (the floor is this project's choice: the reference states no negative price score),
with the constants of ``defaults.toml`` ``[presets.Fx]``:

- **F1** (reference F1): base = the mean of the valid prices, n ≤ 5 all of them, n = 6 without the
  highest, n ≥ 7 without the highest and the lowest; B = mean × (1 + 浮动系数). full 100, k 0.8 below,
  1.2 above. The 浮动系数 is drawn in the opening hall (allowed range in the defaults; the reference
  gives only the example -5 %).
- **F2** (reference F2): S = (Σ - max - min)/(n - 2) when n ≥ 5, the plain mean when n < 5;
  Y = 60 - P × K × 100 with K = 0.2 above S, 0.1 below. The reference marks the reading of P as
  "to verify"; **this code reads P as the deviation rate |Pᵢ - S| / S**. No coefficient.
- **F3** (reference F3): above B: 30 - dev × 100 × 0.2; below B: 30 + dev × 100 × 0.1 (dev < 0, so
  the same deduction form with k 0.1 below, 0.2 above). B is "as set in the tender documents":
  **this code takes the base price the settings give (``given_base``), else the plain mean of all
  valid prices.** No coefficient.
- **F4** (reference F4): n ≤ 5: D = the mean; n > 5: drop one highest and one lowest, then drop the
  prices deviating more than 20 % from the mean (the reference marks the rest "to verify"; **this
  code measures the 20 % against the mean of the prices left after the highest and lowest are
  dropped, keeps a price at exactly 20 %, and falls back to that mean when every price deviates**),
  then B = D × K with K ∈ [0.90, 0.99] drawn in the hall. **This code applies K in both branches**
  (the reference's sentence can be read as applying it only for n > 5). The reference gives no score
  formula for F4; the defaults use F1's (full 100, k 0.8 / 1.2), marked as the project's choice.

Rounding: means and deviations are exact ``Decimal`` (28 digits); B is rounded half up to
``money_places`` (0.01 yuan) after the coefficient is applied, and the score is computed from the
rounded B and rounded half up to ``score_places`` (0.01). When the highest (lowest) price occurs
several times, one of them is dropped: the one with the greatest (smallest) bid key, which changes
no number, only which key the record lists as dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from bidding.evaluation.methods.common import (
    HUNDRED,
    ONE,
    ZERO,
    EvaluationRefused,
    exact,
    round_money,
    round_score,
)
from bidding.evaluation.methods.defaults import DEFAULTS, CoefficientRange, Defaults, PresetConstants


class Preset(StrEnum):
    F1 = "F1"
    F2 = "F2"
    F3 = "F3"
    F4 = "F4"


DROP_HIGHEST: Final = "highest"
DROP_LOWEST: Final = "lowest"
DROP_DEVIATION: Final = "deviation"


@dataclass(frozen=True, slots=True)
class BasePrice:
    """A computed base price and how it was reached (published with the result)."""

    preset: Preset
    base: Decimal
    """B, rounded half up to 0.01 yuan."""
    mean: Decimal
    """The mean the coefficient multiplies (rounded to 0.01 for the record; B uses the exact mean)."""
    used: tuple[str, ...]
    """The bid keys whose prices entered the mean, sorted."""
    dropped: tuple[tuple[str, str], ...]
    """(bid key, reason: highest | lowest | deviation), in the order they were dropped."""
    coefficient: Decimal | None = None


def constants(preset: Preset, defaults: Defaults = DEFAULTS) -> PresetConstants:
    return defaults.presets[preset.value]


def required_coefficient(preset: Preset, defaults: Defaults = DEFAULTS) -> CoefficientRange | None:
    """The random coefficient the preset needs (F1 浮动系数, F4 K), with its allowed range; None if none."""
    return constants(preset, defaults).coefficient


def _mean(prices: list[Decimal]) -> Decimal:
    return sum(prices, ZERO) / len(prices)


def _drop(pool: dict[str, Decimal], which: str, dropped: list[tuple[str, str]]) -> None:
    if which == DROP_HIGHEST:
        top = max(pool.values())
        key = max(k for k, v in pool.items() if v == top)
    else:
        bottom = min(pool.values())
        key = min(k for k, v in pool.items() if v == bottom)
    del pool[key]
    dropped.append((key, which))


def _check(
    preset: Preset,
    prices: Mapping[str, Decimal],
    coefficient: Decimal | None,
    given_base: Decimal | None,
    defaults: Defaults,
) -> None:
    if not prices:
        raise EvaluationRefused("a base price needs at least one valid price", field="bids", rule="valid_bids_none")
    for key, price in prices.items():
        if not price.is_finite() or price <= 0:
            raise EvaluationRefused(f"bid {key}: price {price} is not positive", field="bids", rule="price_positive")
    spec = required_coefficient(preset, defaults)
    if spec is None and coefficient is not None:
        raise EvaluationRefused(f"{preset} takes no coefficient", field="coefficients", rule="coefficient_unexpected")
    if spec is not None and (coefficient is None or not coefficient.is_finite() or not spec.contains(coefficient)):
        raise EvaluationRefused(
            f"{preset} needs its coefficient {spec.name} in [{spec.low}, {spec.high}] step {spec.step}, "
            f"got {coefficient}",
            field=f"coefficients.{spec.name}",
            rule="coefficient_missing" if coefficient is None else "coefficient_range",
        )
    if given_base is not None and preset is not Preset.F3:
        raise EvaluationRefused(f"{preset} computes its own base", field="given_base", rule="given_base_f3_only")
    if given_base is not None and (not given_base.is_finite() or given_base <= 0):
        raise EvaluationRefused("the given base price must be positive", field="given_base", rule="price_positive")


def _f1(pool: dict[str, Decimal], dropped: list[tuple[str, str]], consts: PresetConstants) -> Decimal:
    del consts
    n = len(pool)
    if n >= 6:  # noqa: PLR2004 - reference §4.5 F1: n = 6 drops the highest
        _drop(pool, DROP_HIGHEST, dropped)
    if n >= 7:  # noqa: PLR2004 - reference §4.5 F1: n >= 7 drops the lowest too
        _drop(pool, DROP_LOWEST, dropped)
    return _mean(list(pool.values()))


def _f2(pool: dict[str, Decimal], dropped: list[tuple[str, str]], consts: PresetConstants) -> Decimal:
    if len(pool) >= consts.drop_extremes_from:
        _drop(pool, DROP_HIGHEST, dropped)
        _drop(pool, DROP_LOWEST, dropped)
    return _mean(list(pool.values()))


def _f4(pool: dict[str, Decimal], dropped: list[tuple[str, str]], consts: PresetConstants) -> Decimal:
    if len(pool) > consts.trim_above:
        _drop(pool, DROP_HIGHEST, dropped)
        _drop(pool, DROP_LOWEST, dropped)
        trimmed = _mean(list(pool.values()))
        far = sorted(k for k, v in pool.items() if abs(v - trimmed) / trimmed > consts.deviation_max)
        if len(far) < len(pool):
            for key in far:
                del pool[key]
                dropped.append((key, DROP_DEVIATION))
    return _mean(list(pool.values()))


@exact
def base_price(
    preset: Preset,
    prices: Mapping[str, Decimal],
    *,
    coefficient: Decimal | None = None,
    given_base: Decimal | None = None,
    defaults: Defaults = DEFAULTS,
) -> BasePrice:
    """B for ``prices`` (bid key → evaluated price of each **valid** bid) under ``preset``.

    Refuses (``EvaluationRefused``) no prices, a non-positive price, a missing or out-of-range
    coefficient the preset needs, a coefficient it does not take, and ``given_base`` for any preset
    but F3.
    """
    _check(preset, prices, coefficient, given_base, defaults)
    consts = constants(preset, defaults)
    pool = dict(prices)
    dropped: list[tuple[str, str]] = []
    if preset is Preset.F3:
        mean = given_base if given_base is not None else _mean(list(pool.values()))
        if given_base is not None:
            pool = {}
    else:
        mean = {Preset.F1: _f1, Preset.F2: _f2, Preset.F4: _f4}[preset](pool, dropped, consts)
    multiplier = {Preset.F1: ONE + (coefficient or ZERO), Preset.F4: coefficient or ONE}.get(preset, ONE)
    base = round_money(mean * multiplier, defaults)
    return BasePrice(
        preset=preset,
        base=base,
        mean=round_money(mean, defaults),
        used=tuple(sorted(pool)),
        dropped=tuple(dropped),
        coefficient=coefficient,
    )


@exact
def price_score(preset: Preset, price: Decimal, base: Decimal, defaults: Defaults = DEFAULTS) -> Decimal:
    """Full - 100·k·|P - B|/B with k by side (module docstring), floored at 0, rounded half up to 0.01."""
    consts = constants(preset, defaults)
    if base <= 0:
        raise EvaluationRefused("the base price must be positive", field="base_price", rule="price_positive")
    k = consts.k_below if price < base else consts.k_above
    score = consts.full - HUNDRED * k * abs(price - base) / base
    return round_score(max(score, ZERO), defaults)
