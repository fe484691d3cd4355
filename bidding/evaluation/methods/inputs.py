"""Input checks every method runs before its arithmetic (pure; refusals name field and rule)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bidding.evaluation.methods.common import (
    ONE,
    ZERO,
    Bid,
    EvaluationRefused,
    MethodCode,
    Violation,
    exact,
    refuse,
    round_money,
)
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from bidding.evaluation.methods.settings import MethodSettings, require_settings


def check_bids(bids: Sequence[Bid]) -> list[Violation]:
    """Unique keys, positive finite prices, deduction rates in [0, 1), finite adjustments."""
    out: list[Violation] = []
    seen: set[str] = set()
    for i, bid in enumerate(bids):
        path = f"bids[{i}]"
        if not bid.key or bid.key in seen:
            out.append(Violation(f"{path}.key", "bid_key_unique", f"bid key {bid.key!r} is empty or repeated"))
        seen.add(bid.key)
        if not bid.price.is_finite() or bid.price <= 0:
            out.append(
                Violation(f"{path}.price", "price_positive", f"bid {bid.key}: price {bid.price} is not positive")
            )
        if bid.quoted is not None and (not bid.quoted.is_finite() or bid.quoted <= 0):
            out.append(Violation(f"{path}.quoted", "price_positive", f"bid {bid.key}: quoted {bid.quoted}"))
        if not bid.deduction_rate.is_finite() or not ZERO <= bid.deduction_rate < ONE:
            out.append(
                Violation(
                    f"{path}.deduction_rate",
                    "deduction_rate_range",
                    f"bid {bid.key}: deduction rate {bid.deduction_rate} must lie in [0, 1)",
                )
            )
        for name, amount in bid.adjustments.items():
            if not amount.is_finite():
                out.append(Violation(f"{path}.adjustments.{name}", "adjustment_finite", f"bid {bid.key}: {name}"))
    return out


def prepare(settings: MethodSettings, method: MethodCode, bids: Sequence[Bid], defaults: Defaults = DEFAULTS) -> None:
    """The settings are for ``method`` and valid, and the bids are well formed; else refused."""
    if settings.method is not method:
        raise EvaluationRefused(
            f"the settings are for {settings.method.value}, not {method.value}", field="method", rule="method_mismatch"
        )
    require_settings(settings, defaults)
    refuse(check_bids(bids))


@exact
def deducted(bid: Bid, defaults: Defaults = DEFAULTS) -> Decimal:
    """The price after the policy deduction: price × (1 - rate), rounded half up to 0.01 yuan."""
    return round_money(bid.price * (ONE - bid.deduction_rate), defaults)
