"""intermediary_market benchmark: the seeded lottery, credit recomputation, the reference price.

Issue 6's aims: a lottery among 10,000 registrants drawn in under 50 ms; credit recomputed for
50,000 intermediaries in under 10 s. Each figure is printed next to a floor measured in the same
run on the same machine (the irreducible work of the same computation), and the ratio between
them (floor time / measured time, so 1.00x means "as fast as the floor") is what to compare
across machines.

    .venv/bin/python bench/intermediary.py [--registrants 10000] [--intermediaries 50000] [--runs 21]

Pure CPU, no database: ``selection.lottery``, ``selection.reference_price`` and ``credit.score``
are measured directly on inputs built before timing. In the service, ``MarketService.draw``
re-checks every registrant's eligibility and ``MarketService.credit_of`` reads one
intermediary's ratings and overdue count, each with its own queries; those round trips are not
measured here (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intermediary_market import credit, selection  # noqa: E402
from intermediary_market.selection import FundingType  # noqa: E402

DRAW_AIM_S = 0.050
CREDIT_AIM_S = 10.0


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
    text = f"  {name:<58} {seconds * 1000:>10,.2f} ms"
    if floor:
        text += f"   {floor / seconds:5.2f}x floor"
    if aim is not None:
        text += f"  (aim < {aim * 1000:,.0f} ms: {'met' if seconds < aim else 'NOT met'})"
    print(text)


def ids(rng: random.Random, n: int) -> list[str]:
    """``n`` organisation ids as the service passes them (``str(uuid)``), in registration order."""
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def lottery(rng: random.Random, registrants: int, runs: int) -> None:
    keys = ids(rng, registrants)
    seed = selection.new_seed()

    def floor() -> bytes:
        ordered = sorted(keys)
        return hashlib.sha256("\n".join([seed, "lottery", *ordered]).encode()).digest()

    def draw() -> selection.Outcome:
        return selection.lottery(seed, keys, FundingType.STATE)

    outcome = draw()
    ordered = sorted(keys)
    assert outcome.winner == ordered[int.from_bytes(floor(), "big") % len(ordered)]
    floor_s = median_time(floor, runs)
    draw_s = median_time(draw, runs)
    print(f"lottery among {registrants:,} registrants (median of {runs} runs):")
    row("floor: sort the ids + one SHA-256 over seed and ids", floor_s)
    row("selection.lottery (sort, draw, commitment, computation)", draw_s, floor_s, DRAW_AIM_S)


def population(rng: random.Random, n: int) -> list[dict]:
    """Synthetic credit inputs: ratings per intermediary are skewed (mean about 12, some unrated,
    a few busy firms with up to 200), mostly good scores; complaints and overdues are rare.
    """
    people = []
    for _ in range(n):
        count = min(int(rng.expovariate(1 / 12)), 200)
        ratings = [
            credit.OwnerRating(
                quality=rng.randint(60, 100),
                timeliness=rng.randint(50, 100),
                attitude=rng.randint(70, 100),
                fees=rng.randint(60, 100),
            )
            for _ in range(count)
        ]
        people.append(
            {
                "regulator": Decimal(rng.randint(50, 70)),
                "public_credit": Decimal(rng.randint(6, 10)),
                "ratings": ratings,
                "upheld_complaints": 1 if rng.random() < 0.05 else 0,
                "overdue_deliveries": min(int(rng.expovariate(1 / 0.3)), 5),
            }
        )
    return people


def recompute(rng: random.Random, intermediaries: int, runs: int) -> None:
    people = population(rng, intermediaries)
    total_ratings = sum(len(p["ratings"]) for p in people)

    def floor() -> list[float]:
        # Touch every rating once: the same objects, the four fields summed in a plain loop.
        shares = []
        for p in people:
            total = 0
            for r in p["ratings"]:
                total += r.quality + r.timeliness + r.attitude + r.fees
            shares.append(total / (4 * len(p["ratings"])) if p["ratings"] else 80.0)
        return shares

    def scores() -> list[credit.CreditScore]:
        return [credit.score(**p) for p in people]

    grades = dict.fromkeys("ABCD", 0)
    for s in scores():
        grades[s.grade] += 1
    floor_s = median_time(floor, runs)
    credit_s = median_time(scores, runs)
    print(
        f"credit recomputation for {intermediaries:,} intermediaries, {total_ratings:,} ratings "
        f"(mean {total_ratings / intermediaries:.1f}; grades {grades}; median of {runs} runs):"
    )
    row("floor: sum the same ratings' four fields in a plain loop", floor_s)
    row("credit.score for each intermediary", credit_s, floor_s, CREDIT_AIM_S)
    print(f"  {'per intermediary':<58} {credit_s / intermediaries * 1e6:>10,.2f} us")


def reference(rng: random.Random, bidders: int, runs: int) -> None:
    keys = ids(rng, bidders)
    bids = {key: Decimal(rng.randint(8_000_000, 12_000_000)) / 100 for key in keys}
    seed = selection.new_seed()

    def floor() -> bytes:
        ordered = sorted(bids.items(), key=lambda item: item[1])
        return hashlib.sha256("\n".join([seed, *(key for key, _ in ordered)]).encode()).digest()

    def select() -> selection.Outcome:
        return selection.reference_price(seed, bids, FundingType.STATE)

    floor_s = median_time(floor, runs)
    select_s = median_time(select, runs)
    print(f"reference-price selection among {bidders:,} bids (median of {runs} runs):")
    row("floor: sort the bids by price + one SHA-256", floor_s)
    row("selection.reference_price (with the published computation)", select_s, floor_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrants", type=int, default=10_000, help="lottery registrants and bids")
    parser.add_argument("--intermediaries", type=int, default=50_000, help="intermediaries to recompute")
    parser.add_argument("--runs", type=int, default=21, help="runs per draw figure (credit: a fifth of it)")
    args = parser.parse_args()
    print(f"bench/intermediary on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    rng = random.Random(6)  # noqa: S311 - synthetic data, reproducible on purpose
    lottery(rng, args.registrants, args.runs)
    recompute(rng, args.intermediaries, max(3, args.runs // 5))
    reference(rng, args.registrants, args.runs)


if __name__ == "__main__":
    main()
