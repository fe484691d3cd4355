"""The four selection methods (domain-rules §7.2) as pure functions: no database, no clock.

Every random choice is a *seeded draw* of ``trading.kernel.draws``: the ``seed`` these functions
take is the draw seed, which mixes the platform's committed seed, the list frozen at the close and
the participants' revealed contributions (the service derives it, ``draws.draw_seed``). Then

    digest = SHA-256(seed LF purpose LF candidate_1 LF … candidate_n)   (UTF-8)
    index  = int(digest, big-endian) mod n

over the candidates sorted as strings. ``scripts/recompute_lottery.py`` restates it with the
standard library alone.

Money is ``Decimal``; the reference price is rounded half up to two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from intermediary_market.errors import SelectionFailed
from trading.kernel import draws

REFERENCE_COEFFICIENTS: tuple[int, ...] = (95, 96, 97, 98)
"""The base percentage r of the reference-price method is drawn from these (percent)."""

MIN_REGISTRANTS_STATE_FUNDED = 3
CENT = Decimal("0.01")


class SelectionMethod(StrEnum):
    DIRECT = "direct"  # 直接选取
    RANDOM = "random"  # 随机选取 (摇号)
    LOWEST_PRICE = "lowest_price"  # 竞价选取: 最低价中选
    REFERENCE_PRICE = "reference_price"  # 竞价选取: 最优价中选 (95–98 % reference price)
    MERIT = "merit"  # 择优选取 (panel scoring)


class FundingType(StrEnum):
    STATE = "state"  # 财政性资金项目
    SOCIAL = "social"  # 社会性资金项目


PRICED_METHODS = frozenset({SelectionMethod.LOWEST_PRICE, SelectionMethod.REFERENCE_PRICE})


new_seed = draws.new_secret
commitment = draws.commitment
draw_index = draws.draw_index


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Outcome:
    """The winner (a registrant key) and the published computation."""

    winner: str
    computation: dict[str, Any] = field(default_factory=dict)


def _tie_break(seed: str, purpose: str, tied: Sequence[str], computation: dict[str, Any]) -> str:
    ordered = sorted(tied)
    if len(ordered) == 1:
        return ordered[0]
    winner = ordered[draw_index(seed, purpose, ordered)]
    computation["tie_break"] = {"purpose": purpose, "candidates": ordered, "winner": winner}
    return winner


def check_count(count: int, funding: FundingType) -> None:
    """A state-funded selection needs at least three eligible registrants; any selection needs one."""
    if funding is FundingType.STATE and count < MIN_REGISTRANTS_STATE_FUNDED:
        raise SelectionFailed(
            f"a state-funded selection needs at least {MIN_REGISTRANTS_STATE_FUNDED} eligible registrants, got {count}",
            field="registrations",
            rule="state_funded_min_registrants",
        )
    if count < 1:
        raise SelectionFailed("nobody registered", field="registrations", rule="no_registrants")


def direct(chosen: str, registrants: Sequence[str]) -> Outcome:
    if chosen not in registrants:
        raise SelectionFailed(
            "the directly chosen intermediary has not registered", field="chosen", rule="direct_not_registered"
        )
    return Outcome(chosen, {"method": SelectionMethod.DIRECT.value, "registrants": sorted(registrants)})


def lottery(seed: str, registrants: Sequence[str], funding: FundingType) -> Outcome:
    """随机选取: one of the sorted registrants by the seeded draw ``"lottery"``."""
    check_count(len(registrants), funding)
    ordered = sorted(registrants)
    winner = ordered[draw_index(seed, "lottery", ordered)]
    return Outcome(
        winner,
        {
            "method": SelectionMethod.RANDOM.value,
            "draw_seed": seed,
            "purpose": "lottery",
            "registrants": ordered,
            "winner": winner,
        },
    )


def _price_table(bids: Mapping[str, Decimal]) -> list[dict[str, str]]:
    return [{"registrant": key, "price": str(bids[key])} for key in sorted(bids)]


def lowest_price(seed: str, bids: Mapping[str, Decimal], funding: FundingType) -> Outcome:
    """最低价中选: the lowest valid bid; equal lowest bids are split by the seeded draw ``"tie"``."""
    check_count(len(bids), funding)
    low = min(bids.values())
    computation: dict[str, Any] = {
        "method": SelectionMethod.LOWEST_PRICE.value,
        "draw_seed": seed,
        "bids": _price_table(bids),
        "lowest": str(low),
    }
    winner = _tie_break(seed, "tie", [key for key, price in bids.items() if price == low], computation)
    computation["winner"] = winner
    return Outcome(winner, computation)


def reference_price(seed: str, bids: Mapping[str, Decimal], funding: FundingType) -> Outcome:
    """最优价中选: drop the highest and the lowest bid, M = mean of the rest, r drawn from 95–98 %,
    R = round_half_up(M × r, 2); the remaining bid closest to R (absolute difference) wins, ties
    by the seeded draw ``"tie"``. When several bids share the lowest (or highest) price, which one
    is dropped is drawn too (``"drop_lowest"``, ``"drop_highest"``). A socially funded selection
    with a single bid awards it; otherwise fewer than three bids fail (the dropping needs three).
    """
    check_count(len(bids), funding)
    base: dict[str, Any] = {
        "method": SelectionMethod.REFERENCE_PRICE.value,
        "draw_seed": seed,
        "bids": _price_table(bids),
    }
    if len(bids) == 1:
        (winner,) = bids
        return Outcome(winner, {**base, "single_bid": True, "winner": winner})
    if len(bids) < MIN_REGISTRANTS_STATE_FUNDED:
        raise SelectionFailed(
            "the reference price needs at least 3 bids (the highest and the lowest are dropped)",
            field="registrations",
            rule="reference_price_min_bids",
        )
    # Equal extreme bids: which one is dropped is drawn (purposes "drop_lowest", "drop_highest"),
    # never left to the order of the keys (which would favour one bidder every time).
    low, high = min(bids.values()), max(bids.values())
    dropped_low = draws.draw(seed, "drop_lowest", [key for key, price in bids.items() if price == low])
    dropped_high = draws.draw(
        seed, "drop_highest", [key for key, price in bids.items() if price == high and key != dropped_low]
    )
    lowest, highest = (dropped_low, bids[dropped_low]), (dropped_high, bids[dropped_high])
    kept = [(key, price) for key, price in sorted(bids.items()) if key not in {dropped_low, dropped_high}]
    mean = sum((price for _, price in kept), Decimal(0)) / len(kept)
    r = REFERENCE_COEFFICIENTS[draw_index(seed, "coefficient", [str(c) for c in REFERENCE_COEFFICIENTS])]
    reference = round_half_up(mean * Decimal(r) / 100)
    distance = {key: abs(price - reference) for key, price in kept}
    closest = min(distance.values())
    computation: dict[str, Any] = {
        **base,
        "dropped": {"lowest": lowest[0], "highest": highest[0]},
        "mean": str(round_half_up(mean)),
        "coefficient_percent": r,
        "reference_price": str(reference),
        "distances": {key: str(value) for key, value in sorted(distance.items())},
    }
    winner = _tie_break(seed, "tie", [key for key, value in distance.items() if value == closest], computation)
    computation["winner"] = winner
    return Outcome(winner, computation)


def merit(seed: str, scores: Mapping[str, Sequence[Decimal]], funding: FundingType) -> Outcome:
    """择优选取: each registrant's score is the mean of the panel's scores; the highest wins, ties by
    the seeded draw ``"tie"``.
    """
    check_count(len(scores), funding)
    if any(not panel for panel in scores.values()):
        raise SelectionFailed("every registrant needs the panel's scores", field="scores", rule="merit_scores_missing")
    means = {key: round_half_up(sum(panel, Decimal(0)) / len(panel)) for key, panel in scores.items()}
    best = max(means.values())
    computation: dict[str, Any] = {
        "method": SelectionMethod.MERIT.value,
        "draw_seed": seed,
        "means": {key: str(value) for key, value in sorted(means.items())},
    }
    winner = _tie_break(seed, "tie", [key for key, value in means.items() if value == best], computation)
    computation["winner"] = winner
    return Outcome(winner, computation)
