"""The market batch on PostgreSQL at the issue's size, against the NumPy floor in the same run.

    .venv/bin/python bench/alerts/batch_postgres.py                 # 100,000 tenders (≈ 1.1 M bids)
    .venv/bin/python bench/alerts/batch_postgres.py --tenders 3000 --db ggzy_bench_alerts_small

The database (``--db``, default ``ggzy_bench_alerts``) is created from the migrations when missing
and loaded by ``bench/alerts/pg_load.py`` in a subprocess when it holds fewer tenders than asked
(load time printed, not in the ratio); it is kept between runs (``--fresh`` reloads it).

Timed, in a transaction rolled back afterwards (nothing of the bench database changes):

1. batch: the platform's market screener in the daily batch,
   ``screeners.market_behaviour`` with ``ocid`` "market" — the one streamed read of every opened
   lot's bids (`market_batch.read_market`, which also computes every lot's price screens with
   `prices.batch_values`), the state kept (`to_bytes`, one row), the market findings with their
   network pictures, the experts' history;
2. its parts, run again one by one: the reader's steps, findings, network pictures, keeping;
3. the floor: `prices.batch_values` over the same bids from an in-memory array (median of 3).

Prints the times, the ratio batch / floor and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from bench.alerts.pg_load import BENCH_DB, ensure_database, loaded_tenders  # noqa: E402
from bidding.integrity import market_batch, screeners, service  # noqa: E402
from bidding.integrity.screening import LotContext, Trigger  # noqa: E402
from bidding.integrity.screens import prices  # noqa: E402
from bidding.integrity.screens.market import MarketState  # noqa: E402
from bidding.integrity.screens.rules import load_catalogue  # noqa: E402
from trading.kernel.db.engine import create_engine  # noqa: E402


async def run(url: str) -> None:
    # The worker's pool size (the default): the batch's reads take three connections of their own.
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    maker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with maker() as session:
            await session.begin()
            rules = await service.current_rules(session)
            context = LotContext(trigger=Trigger.MARKET, ocid="market", lot=None, rules=rules)
            began = time.perf_counter()
            found = await screeners.market_behaviour(session, context)
            batch_s = time.perf_counter() - began
            await session.rollback()
        async with maker() as session:
            await session.begin()
            parts = await _parts(session)
            await session.rollback()
    finally:
        await engine.dispose()
    batch = parts.pop("_batch")
    assert isinstance(batch, market_batch.MarketBatch)
    floor = []
    for _ in range(3):
        mark = time.perf_counter()
        prices.batch_values(batch.amounts, batch.lot_of_bid)
        floor.append(time.perf_counter() - mark)
    floor_s = statistics.median(floor)
    by_rule: dict[str, int] = {}
    for finding in found:
        by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    pairs = len(batch.state.pair_arrays()[0])
    print(f"market    {batch.state.lot_count:,} lots with bids, {batch.bids:,} valid bids, {pairs:,} co-bidding pairs")
    print(f"batch     {batch_s:8.2f} s   screeners.market_behaviour (the daily batch), {len(found)} findings")
    print(f"          {dict(sorted(by_rule.items()))}")
    for name, seconds in parts.items():
        assert isinstance(seconds, float)
        print(f"  {name:<22}{seconds:8.2f} s")
    print(f"floor     {floor_s:8.3f} s   prices.batch_values over the same {batch.bids:,} bids in memory")
    print(f"ratio     {batch_s / floor_s:8.1f}×  batch / floor")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS  {peak:8.0f} MiB   load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


async def _parts(session: AsyncSession) -> dict[str, object]:
    parts: dict[str, object] = {}
    rules = load_catalogue()
    mark = time.perf_counter()
    batch = await market_batch.read_market(session)
    parts["read_market"] = time.perf_counter() - mark
    for name, seconds in batch.timings.items():
        parts[f"  {name}"] = seconds
    mark = time.perf_counter()
    found = batch.state.findings(rules)
    parts["findings"] = time.perf_counter() - mark
    mark = time.perf_counter()
    screeners.with_networks(found, batch.state, rules)
    parts["network pictures"] = time.perf_counter() - mark
    mark = time.perf_counter()
    data = batch.state.to_bytes()
    parts["to_bytes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    await screeners._keep(session, batch.state)  # noqa: SLF001 - the screener's own step, timed alone
    parts["keep (to_bytes + write)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    await screeners.scored_tenders(session)
    parts["experts' history"] = time.perf_counter() - mark
    parts["_batch"] = batch
    mark = time.perf_counter()
    MarketState.from_bytes(data)
    parts["from_bytes (an opening's load)"] = time.perf_counter() - mark
    print(f"state     {len(data) / 1e6:.1f} MB binary (format 3: no pairs, counted again on load)")
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    url = asyncio.run(ensure_database(args.db, fresh=args.fresh))
    have = asyncio.run(loaded_tenders(url))
    if have < args.tenders:
        if have:
            sys.exit(f"{args.db} holds {have:,} tenders, fewer than {args.tenders:,}: run with --fresh")
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("pg_load.py")), "--tenders", str(args.tenders),
             "--seed", str(args.seed), "--db", args.db],
            check=True,
        )  # fmt: skip
        print(f"load      {time.perf_counter() - began:8.1f} s   (not timed in the ratio)")
    else:
        print(f"load      kept: {have:,} tenders already in {args.db}")
    asyncio.run(run(url))


if __name__ == "__main__":
    main()
