"""Evaluation benchmark: aggregate 50 bids × 9 experts × 20 criteria (issue 15's aim: < 50 ms).

Pure CPU, no database: the public functions of ``bidding.evaluation.methods`` and
``bidding.evaluation.scoring_checks`` on synthetic scores built before timing (every expert scores
every one of the 20 expert-scored criteria of every bid, as ``Decimal`` with two places; a 21st
criterion is the price, computed by the method). Scores look like a real panel's: objective
criteria (one in four) agree, subjective ones lie within ±5 of the bid's quality, and one
subjective score in 20 is 30 points off (what the Art. 64 checks should find). Each figure is
printed next to a floor measured in the same run on the same machine, and the ratio (floor time /
measured time, so 1.00x means "as fast as the floor") is what to compare across machines. Wall
time and the process's CPU time are both printed: on a shared machine the wall time includes
waiting for a core, the CPU time does not.

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


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU time of ``runs`` calls of ``fn`` (after one warm-up call), in seconds."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def row(
    name: str, seconds: tuple[float, float], floor: tuple[float, float] | None = None, aim: float | None = None
) -> None:
    wall, cpu = seconds
    text = f"  {name:<62} {wall * 1000:>8,.2f} ms (CPU {cpu * 1000:>7,.2f} ms)"
    if floor:
        text += f"  {floor[0] / wall:6.3f}x floor (CPU {floor[1] / cpu:6.3f}x)"
    if aim is not None:
        text += f"  (aim < {aim * 1000:,.0f} ms: {'met' if wall < aim else 'NOT met'})"
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
    # Each bid has a quality per criterion (40-95); objective criteria are scored alike by everyone,
    # subjective ones within ±5 of it; one expert in 20 scores a subjective criterion 30 points off.
    quality = {(bid.key, c.code): rng.randint(4000, 9500) for bid in offers for c in scored}

    def score(bid: str, c: Criterion) -> Decimal:
        base = quality[bid, c.code]
        if c.kind is CriterionKind.SUBJECTIVE:
            base += rng.randint(-500, 500) + (rng.choice((-3000, 3000)) if rng.random() < 0.05 else 0)
        return Decimal(min(max(base, 0), 10000)).scaleb(-2)

    scores = {
        f"expert{e}": {bid.key: {c.code: score(bid.key, c) for c in scored} for bid in offers} for e in range(experts)
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
    print(f"  {'Art. 64 findings':<62} {len(run_checks(settings.criteria, sheets)):>9,}")


if __name__ == "__main__":
    main()
