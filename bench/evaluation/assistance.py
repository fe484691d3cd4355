"""Evaluation assistance benchmark: `assess` over 300 bids, each with a 2,000-line priced bill.

Issue 15's aim: assistance on 300 bids × 2,000 lines in under 10 s. The floor, measured in the same
run on the same numbers: summing quantity × unit price of every line in a plain loop (Decimal, no
rounding, no comparison, no findings). Ratio = floor time / measured time (1.00x = as fast as the
floor). The responses are built and read (msgspec, the strict checks) before timing; reading them
is timed separately.

    .venv/bin/python bench/evaluation/assistance.py [--bids 300] [--lines 2000] [--runs 3]

Every 50th line of every bid carries an error (a line total, a decimal point), every 10th bid a
words/figures mismatch, so the findings path runs too.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bidding.evaluation.assistance.assess import assess  # noqa: E402
from bidding.evaluation.response.bid import Response, read_response  # noqa: E402
from bidding.evaluation.response.capitals import to_capitals  # noqa: E402
from bidding.evaluation.response.requirements import RequirementSet, read_requirements  # noqa: E402

AIM_S = 10.0
CENT = Decimal("0.01")


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(rng: random.Random, bids: int, lines: int) -> tuple[RequirementSet, list[bytes]]:
    quantities = [Decimal(rng.randrange(1, 10_000_000)) / 1000 for _ in range(lines)]
    codes = [f"0101{i:08d}" for i in range(lines)]
    requirements = {
        "format": "ggzy-requirements/1",
        "tender": "GC2027-BENCH",
        "lot": "1",
        "sector": "engineering",
        "deadline": "2027-03-15T09:30:00+08:00",
        "starItems": [{"code": "S1", "text": "工期"}],
        "bill": [
            {"code": c, "description": "清单项", "unit": "m³", "quantity": str(q)}
            for c, q in zip(codes, quantities, strict=True)
        ],
    }
    documents = []
    for b in range(bids):
        bill = []
        total = Decimal(0)
        for i, (code, quantity) in enumerate(zip(codes, quantities, strict=True)):
            price = Decimal(rng.randrange(100, 1_000_000)) / 100
            line_total = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
            if i % 50 == 1:
                line_total += 1  # a line total that the unit price corrects
            if i % 50 == 2:
                price = price.scaleb(1)  # a misplaced point in the unit price
            total += line_total
            bill.append(
                {"code": code, "quantity": str(quantity), "unitPrice": str(price), "lineTotal": str(line_total)}
            )
        words = to_capitals(total + (1 if b % 10 == 0 else 0))
        documents.append(
            json.dumps(
                {
                    "format": "ggzy-response/1",
                    "tender": "GC2027-BENCH",
                    "lot": "1",
                    "bidder": f"9111000010{b:07d}X",
                    "starResponses": [{"item": "S1", "response": "complies"}],
                    "bill": bill,
                    "total": str(total),
                    "totalInWords": words,
                },
                ensure_ascii=False,
            ).encode()
        )
    return read_requirements(json.dumps(requirements, ensure_ascii=False)), documents


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(15)  # noqa: S311 - synthetic prices
    requirements, documents = build(rng, args.bids, args.lines)
    size = sum(map(len, documents))
    start = time.perf_counter()
    responses: list[Response] = [read_response(doc) for doc in documents]
    read_s = time.perf_counter() - start

    def floor() -> Decimal:
        total = Decimal(0)
        for response in responses:
            for line in response.bill:
                total += line.quantity * line.unit_price
        return total

    result = assess(requirements, responses)
    assert len(result.corrected_prices) == args.bids
    assert sum(f.code == "unit-price-decimal-error" for f in result.findings) == args.bids * (args.lines // 50)
    floor_s = median_time(floor, args.runs)
    assess_s = median_time(lambda: assess(requirements, responses), args.runs)
    n = args.bids * args.lines
    print(f"assistance on {args.bids} bids x {args.lines:,} lines = {n:,} lines (median of {args.runs} runs):")
    print(f"  read the responses (msgspec + checks), {size / 1e6:,.0f} MB   {read_s:8.2f} s")
    print(f"  floor: sum quantity x unit price in a plain loop        {floor_s:8.2f} s")
    print(
        f"  assess (bill, words, bill of quantities, star, scores)  {assess_s:8.2f} s"
        f"   {floor_s / assess_s:5.2f}x floor"
        f"  ({len(result.findings):,} findings; aim < {AIM_S:.0f} s: {'met' if assess_s < AIM_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
