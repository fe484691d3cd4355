"""The market screens in memory: fold a generated market into `MarketState`, then its findings.

    .venv/bin/python bench/alerts/market.py                    # 10,000 lots / 100,000 bids (~1 min loaded)
    .venv/bin/python bench/alerts/market.py --lots 100000      # the issue's 100,000 lots / 1,000,000 bids

The market: ``--markets`` regional markets of 100 firms each; every lot draws ``--bidders`` of its
market's firms (so co-bidding pairs repeat, as they do where firms are local), a random winner and
one of 50 buyers of that market. Planted in it: one three-firm rotating ring per 20 markets and one
cover bidder per 10 markets (so the findings have something to say), with shared devices.
Generation (the arrays and the `LotBids` values) is not timed: a reader builds those anyway.

Timed, each the median of ``--runs``:

1. fold: `MarketState.add_lot` over every lot, from an empty state (the batch recompute);
2. findings: `MarketState.findings` over the catalogue's rules;
3. round trip: `to_json` then `from_json` (what the platform does between incremental runs);
4. the floor, in this run: ``numpy.bincount`` of bids per bidder and of wins per bidder over the
   same bids as int arrays: the least any per-bidder count over the market can cost.

Prints the times, bids per second and the ratio of (fold + findings) to the floor. The ratio is
large by construction: the state also keeps every co-bidding pair (10 bidders per lot → 45 pairs),
which a bincount does not; the aim (issue 19, bench/alerts) is the batch under 30 s at full size.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

from bidding.integrity.screens.market import MarketState
from bidding.integrity.screens.model import BidPrice, BidSignals, LotBids
from bidding.integrity.screens.rules import load_catalogue

FIRMS_PER_MARKET = 100


def generate(
    lots: int, bidders: int, markets: int, seed: int
) -> tuple[list[tuple[LotBids, tuple[BidSignals, ...]]], np.ndarray, np.ndarray]:
    """The lots with their signals, and the flat arrays (bidder id per bid, winner id per lot)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible market
    start = date(2025, 1, 1)
    result: list[tuple[LotBids, tuple[BidSignals, ...]]] = []
    bid_ids: list[int] = []
    win_ids: list[int] = []
    for n in range(lots):
        market = n % markets
        base = market * FIRMS_PER_MARKET
        chosen = rng.sample(range(base, base + FIRMS_PER_MARKET), bidders)
        winner = rng.choice(chosen)
        signals: tuple[BidSignals, ...] = ()
        if market % 20 == 0 and (n // markets) % 3 == 0:
            ring = [base, base + 1, base + 2]  # the ring bids together and wins in turn
            chosen = ring + [firm for firm in chosen if firm not in ring][: bidders - 3]
            winner = ring[(n // markets // 3) % 3]
            # two ring members bid from the same computer
            signals = tuple(BidSignals(f"F{firm}", device_hash=f"ring-{market}") for firm in ring[:2])
        if market % 10 == 5:  # firm 99 of the market bids in every lot and never wins
            if base + 99 not in chosen:
                chosen[chosen.index(winner) - 1] = base + 99
            if winner == base + 99:
                winner = next(firm for firm in chosen if firm != base + 99)
        bid_ids.extend(chosen)
        win_ids.append(winner)
        result.append(
            (
                LotBids(
                    ocid=f"ocds-bench-{n:07}",
                    lot=None,
                    bids=tuple(BidPrice(f"F{firm}", 1000.0 + i) for i, firm in enumerate(chosen)),
                    winner=f"F{winner}",
                    buyer=f"B{market}-{rng.randrange(50)}",
                    market=f"M{market}",
                    date=start + timedelta(days=n % 365),
                ),
                signals,
            )
        )
    return result, np.asarray(bid_ids, dtype=np.int64), np.asarray(win_ids, dtype=np.int64)


def timed(function: Callable[[], object], runs: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(runs):
        began = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lots", type=int, default=10_000)
    parser.add_argument("--bidders", type=int, default=10, help="valid bids per lot")
    parser.add_argument("--markets", type=int, default=0, help="regional markets (default: lots / 500)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    markets = args.markets or max(1, args.lots // 500)
    rules = load_catalogue()

    began = time.perf_counter()
    lots, bid_ids, win_ids = generate(args.lots, args.bidders, markets, args.seed)
    print(
        f"generated {len(lots):,} lots / {bid_ids.size:,} bids in {markets} markets "
        f"in {time.perf_counter() - began:.1f} s (not timed)"
    )

    def fold() -> MarketState:
        state = MarketState()
        for lot, signals in lots:
            state.add_lot(lot, signals)
        return state

    fold_s, state_value = timed(fold, args.runs)
    assert isinstance(state_value, MarketState)
    state = state_value
    findings_s, found = timed(lambda: state.findings(rules), args.runs)
    text = state.to_json()
    round_s, _ = timed(lambda: MarketState.from_json(state.to_json()), args.runs)

    def floor() -> tuple[np.ndarray, np.ndarray]:
        return np.bincount(bid_ids), np.bincount(win_ids, minlength=int(bid_ids.max()) + 1)

    floor_s, _ = timed(floor, max(3, args.runs))
    assert isinstance(found, list)
    by_rule: dict[str, int] = {}
    for finding in found:
        by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    print(
        f"fold      {fold_s:8.2f} s   {bid_ids.size / fold_s:12,.0f} bids/s   {len(state.co_bids()):,} co-bidding pairs"
    )
    print(f"findings  {findings_s:8.2f} s   {sum(by_rule.values())} findings: {dict(sorted(by_rule.items()))}")
    print(f"json      {round_s:8.2f} s   to_json + from_json, {len(text) / 1e6:.1f} MB")
    rings = {
        (f"F{m * FIRMS_PER_MARKET}", f"F{m * FIRMS_PER_MARKET + 1}", f"F{m * FIRMS_PER_MARKET + 2}")
        for m in range(0, markets, 20)
    }
    covers = {(f"F{m * FIRMS_PER_MARKET + 99}",) for m in range(5, markets, 10)}
    rotating = {f.subjects for f in found if f.rule == "MARKET-ROTATION"}
    covered = {f.subjects for f in found if f.rule == "MARKET-COVER-BIDDER"}
    print(
        f"planted   rings found {len(rings & rotating)}/{len(rings)} (+{len(rotating - rings)} other), "
        f"cover bidders found {len(covers & covered)}/{len(covers)} (+{len(covered - covers)} other)"
    )
    print(f"floor     {floor_s * 1e3:8.2f} ms  numpy.bincount of bids and wins per bidder")
    print(f"ratio     {(fold_s + findings_s) / floor_s:8.0f}×  (fold + findings) / floor")


if __name__ == "__main__":
    main()
