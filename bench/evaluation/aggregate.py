"""Evaluation benchmark: aggregate 50 bids × 9 experts × 20 criteria (issue 15's aim: < 50 ms).

Pure CPU, no database: the public functions of ``bidding.evaluation.methods`` and
``bidding.evaluation.scoring_checks`` on synthetic scores built before timing (every expert scores
every one of the 20 expert-scored criteria of every bid, as ``Decimal`` with two places; a 21st
criterion is the price, computed by the method). Each figure is printed next to a floor measured
in the same run on the same machine, and the ratio (floor time / measured time, so 1.00x means
"as fast as the floor") is what to compare across machines.

Floor: summing the same ``Decimal`` scores in a plain loop over the same nested dicts (expert →
bid → criterion), the irreducible work of touching every number once.

    .venv/bin/python bench/evaluation/aggregate.py [--bids 50] [--experts 9] [--criteria 20] [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bidding.evaluation.methods.aggregation import aggregate  # noqa: E402
from bidding.evaluation.methods.common import Bid, Criterion, CriterionKind, MethodCode, Sector  # noqa: E402
from bidding.evaluation.methods.gp import comprehensive_scoring  # noqa: E402
from bidding.evaluation.methods.settings import MethodSettings  # noqa: E402
from bidding.evaluation.scoring_checks import Sheet, run_checks  # noqa: E402

AGGREGATE_AIM_S = 0.050


def median_time(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls of ``fn`` (after one warm-up call), in seconds."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, seconds: float, floor: float | None = None, aim: float | None = None) -> None:
    text = f"  {name:<62} {seconds * 1000:>9,.2f} ms"
    if floor:
        text += f"   {floor / seconds:6.3f}x floor"
    if aim is not None:
        text += f"  (aim < {aim * 1000:,.0f} ms: {'met' if seconds < aim else 'NOT met'})"
    print(text)


def build(rng: random.Random, bids: int, experts: int, criteria: int) -> tuple[MethodSettings, list[Bid], dict]:
    """GP 综合评分法 settings (price 30 %, the rest shared equally), bids and the experts' scores."""
    share = (Decimal("0.70") / criteria).quantize(Decimal("0.0001"))
    weights = [share] * (criteria - 1) + [Decimal("0.70") - share * (criteria - 1)]
    scored = [
        Criterion(f"c{i:02d}", CriterionKind.OBJECTIVE if i % 4 == 0 else CriterionKind.SUBJECTIVE, weights[i])
        for i in range(criteria)
    ]
    settings = MethodSettings(
        MethodCode.GP_COMPREHENSIVE,
        Sector.GOODS,
        criteria=(Criterion("price", CriterionKind.PRICE, Decimal("0.30")), *scored),
    )
    offers = [Bid(f"bid{j:03d}", Decimal(rng.randint(80_000_000, 120_000_000)).scaleb(-2)) for j in range(bids)]
    scores = {
        f"expert{e}": {
            bid.key: {c.code: Decimal(rng.randint(4000, 10000)).scaleb(-2) for c in scored} for bid in offers
        }
        for e in range(experts)
    }
    return settings, offers, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=50)
    parser.add_argument("--experts", type=int, default=9)
    parser.add_argument("--criteria", type=int, default=20, help="expert-scored criteria (the price is one more)")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    print(f"bench/evaluation/aggregate on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    rng = random.Random(15)  # noqa: S311 - synthetic data, reproducible on purpose
    settings, offers, scores = build(rng, args.bids, args.experts, args.criteria)
    keys = [bid.key for bid in offers]
    sheets = [Sheet(expert, bid, scores[expert][bid]) for expert in scores for bid in keys]

    def floor() -> Decimal:
        total = Decimal(0)
        for per_bid in scores.values():
            for per_criterion in per_bid.values():
                for value in per_criterion.values():
                    total += value
        return total

    def aggregated() -> object:
        return aggregate(settings.criteria, scores, keys)

    def evaluated() -> object:
        return comprehensive_scoring(settings, offers, scores)

    def checked() -> object:
        return run_checks(settings.criteria, sheets)

    count = args.bids * args.experts * args.criteria
    print(
        f"{args.bids} bids × {args.experts} experts × {args.criteria} criteria = {count:,} scores "
        f"(median of {args.runs} runs):"
    )
    floor_s = median_time(floor, args.runs)
    row("floor: sum the same Decimal scores in a plain loop", floor_s)
    row("methods.aggregation.aggregate (means, components, subtotals)", median_time(aggregated, args.runs), floor_s)
    row(
        "gp.comprehensive_scoring (validate, price, aggregate, rank)",
        median_time(evaluated, args.runs),
        floor_s,
        AGGREGATE_AIM_S,
    )
    row("scoring_checks.run_checks (Art. 64: sums, ranges, objective, z)", median_time(checked, args.runs), floor_s)


if __name__ == "__main__":
    main()
