"""Per-lot price screening benchmark: ``screen_prices`` on one 300-bid lot (issue 19's aim: < 1 s).

Pure CPU, no database. The lot (300 honest-looking bids within ±10 % of 1,000,000, rounded to the
fen, with an estimate and a winner) is built before timing; the 3- and 4-bid subset summaries run
on the lot's seeded sample (C(300, 3) + C(300, 4) ≈ 340 million subsets, so ``sample_size`` of
them). Floor, measured in the same run on the same 300 prices: ``numpy.sort`` plus ``std`` of the
array, the irreducible work of touching every price once in NumPy. Ratio = floor time / measured
time (1.00x = as fast as the floor); compare ratios across machines, not milliseconds.

    .venv/bin/python bench/alerts/lot_prices.py [--bids 300] [--runs 51]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bidding.integrity.screens.model import BidPrice, LotBids  # noqa: E402
from bidding.integrity.screens.prices import screen_prices  # noqa: E402
from bidding.integrity.screens.rules import load_catalogue  # noqa: E402

PER_LOT_AIM_S = 1.0


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--runs", type=int, default=51)
    args = parser.parse_args()
    rng = random.Random(19)  # noqa: S311 - reproducible prices
    bids = tuple(BidPrice(f"B{i:04d}", round(rng.uniform(9e5, 1.1e6), 2)) for i in range(args.bids))
    lot = LotBids(
        ocid="ocds-bench-1", lot="1", bids=bids, estimate=1.15e6, winner=min(bids, key=lambda b: b.amount).bidder
    )
    rules = load_catalogue()
    prices = np.array([bid.amount for bid in bids])

    measured = median_seconds(lambda: screen_prices(lot, rules), args.runs)
    floor = median_seconds(lambda: np.sort(prices).std(ddof=1), args.runs)
    screening = screen_prices(lot, rules)
    print(f"screen_prices, {args.bids} bids ({screening.sampling.get('method')} subsets), median of {args.runs} runs:")
    print(
        f"  {measured * 1000:8.2f} ms; floor (numpy sort + std) {floor * 1000:.4f} ms; "
        f"ratio {floor / measured:.5f}x floor; aim < {PER_LOT_AIM_S * 1000:.0f} ms: "
        f"{'met' if measured < PER_LOT_AIM_S else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
