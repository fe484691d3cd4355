"""Procurement benchmark: the supplier library search over 1,000,000 suppliers on PostgreSQL.

Issue 18's aim: a library search over 1,000,000 suppliers with p99 under 100 ms.

    .venv/bin/python bench/procurement/library_search.py [--suppliers 1000000] [--queries 300]

A scratch database migrated with alembic (so the indexes are the migration's: the trigram GIN
index on the name when ``pg_trgm`` is available, btree on name, region and size class, the unique
USCC), then the suppliers written in one ``INSERT … SELECT … FROM generate_series`` (untimed):
names like 南京华信瑞达科技有限公司 from 20 cities × 200 × 200 word pairs × 12 trades (so a
four-character word pair names ~25 suppliers, a trade word ~1/12 of them), a USCC-shaped key
(prefix 91 + region + sequence; the check character is not computed: the search does not read it),
a region among 20, an industry and a size class; then VACUUM ANALYZE.

Timed (wall time, PostgreSQL's work is in another process): ``service.search_suppliers`` on an
``AsyncSession`` exactly as the page and the API call it — the count (capped at 10,001) and the
first page of 20 by name — for a mix of queries drawn at random: a word pair (rare), a city + a
trade, a word pair + a size filter, a USCC prefix of 12 characters, a region + a trade. The
floor, alternated query by query on the same session: a primary-key look-up of one supplier
(``session.get``), the cheapest round trip through the same stack. Reported: p50, p99 and the
ratio p99 / floor p99. Two-character name searches (科技) are reported on their own: a trigram
index cannot serve a pattern shorter than three characters.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402

from bench.common import scratch_database  # noqa: E402
from procurement.libraries import service  # noqa: E402
from procurement.libraries.models import Supplier  # noqa: E402

CITIES = [
    "南京",
    "苏州",
    "无锡",
    "常州",
    "徐州",
    "扬州",
    "南通",
    "镇江",
    "泰州",
    "盐城",
    "淮安",
    "宿迁",
    "连云港",
    "杭州",
    "宁波",
    "合肥",
    "上海",
    "济南",
    "福州",
    "武汉",
]
REGIONS = [
    f"{code}"
    for code in (
        320100,
        320500,
        320200,
        320400,
        320300,
        321000,
        320600,
        321100,
        321200,
        320900,
        320800,
        321300,
        320700,
        330100,
        330200,
        340100,
        310100,
        370100,
        350100,
        420100,
    )
]
SYLLABLES = list(
    dict.fromkeys(
        "华信瑞达恒通宏远中天金鼎博创新宇盛泰嘉和鑫源永安长城东方百川海纳鸿运天成国泰安康德润智汇联众广厦振兴"
        "凯旋腾飞卓越精诚启明星辰锦程致远同创万和富邦润泽明阳立信正元建科弘毅瑞丰中科佳禾英华景天"
    )
)
TRADES = [
    "科技",
    "信息技术",
    "建设工程",
    "商贸",
    "物业管理",
    "医疗器械",
    "环保科技",
    "电子",
    "软件",
    "办公设备",
    "装饰工程",
    "餐饮管理",
]
INDUSTRIES = ["software", "construction", "wholesale", "retail", "property_management", "industry"]
SIZES = ["large", "medium", "small", "micro"]


def word(n: int) -> str:
    """The n-th of 200 two-character words."""
    return SYLLABLES[(n // len(SYLLABLES)) * 11 % len(SYLLABLES)] + SYLLABLES[n % len(SYLLABLES)]


async def load(url: str, count: int) -> None:
    words = [word(n) for n in range(200)]
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                """
                INSERT INTO procurement_suppliers (id, uscc, name, region_code, industry, employees, revenue,
                    assets, size_class, item_codes, catalogue_edition, source, registered_at)
                SELECT gen_random_uuid(),
                       '91' || (CAST(:regions AS text[]))[1 + (i / 12) % 20] || lpad(i::text, 9, '0') || 'X',
                       (CAST(:cities AS text[]))[1 + (i / 7) % 20]
                           || (CAST(:words AS text[]))[1 + (i * 31) % 200]
                           || (CAST(:words AS text[]))[1 + (i / 200) % 200]
                           || (CAST(:trades AS text[]))[1 + (i * 13) % 12] || '有限公司',
                       (CAST(:regions AS text[]))[1 + (i / 12) % 20],
                       (CAST(:industries AS text[]))[1 + i % 6],
                       i % 900, (i % 50000)::numeric, NULL,
                       (CAST(:sizes AS text[]))[1 + (i / 240) % 4],
                       '["A02010104"]'::jsonb, 1, 'import', now()
                FROM generate_series(1, :count) AS i
                """
            ),
            {
                "regions": REGIONS,
                "cities": CITIES,
                "words": words,
                "trades": TRADES,
                "industries": INDUSTRIES,
                "sizes": SIZES,
                "count": count,
            },
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE procurement_suppliers"))
        trgm = await conn.scalar(
            text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_procurement_suppliers_name_trgm'")
        )
    await engine.dispose()
    print(f"loaded {count:,} suppliers; trigram index: {'yes' if trgm else 'no (pg_trgm unavailable)'}")


def queries(rng: random.Random, count: int) -> list[tuple[str, service.SupplierFilter]]:
    """The mix of searches a purchaser or the office types."""
    made: list[tuple[str, service.SupplierFilter]] = []
    for n in range(count):
        kind = n % 5
        pair = word(rng.randrange(200)) + word(rng.randrange(200))
        if kind == 0:
            made.append(("word pair", service.SupplierFilter(text=pair)))
        elif kind == 1:
            made.append(("city + word", service.SupplierFilter(text=rng.choice(CITIES) + pair[:2])))
        elif kind == 2:
            made.append(("pair + size", service.SupplierFilter(text=pair, size_class=rng.choice(SIZES))))
        elif kind == 3:
            prefix = "91" + rng.choice(REGIONS) + f"{rng.randrange(10**9):09d}"[:4]
            made.append(("USCC prefix", service.SupplierFilter(text=prefix)))
        else:
            made.append(
                ("region + trade", service.SupplierFilter(text=rng.choice(TRADES[2:]), region=rng.choice(REGIONS)[:4]))
            )
    return made


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, count: int, runs: int) -> None:
    engine = create_async_engine(url, pool_size=1)
    rng = random.Random(18)  # noqa: S311 - a reproducible mix of queries, not a secret
    async with AsyncSession(engine) as session:
        ids = [
            row[0]
            for row in (
                await session.execute(text("SELECT id FROM procurement_suppliers TABLESAMPLE SYSTEM (1) LIMIT 1000"))
            ).all()
        ]
        mix = queries(rng, runs)
        for _, where in mix[:20]:  # warm-up: plans and caches
            await service.search_suppliers(session, where)
        timed: dict[str, list[float]] = {}
        floor: list[float] = []
        totals: dict[str, list[int]] = {}
        for label, where in mix:
            started = time.perf_counter()
            await session.get(Supplier, rng.choice(ids))
            floor.append(time.perf_counter() - started)
            session.expunge_all()
            started = time.perf_counter()
            page = await service.search_suppliers(session, where)
            timed.setdefault(label, []).append(time.perf_counter() - started)
            totals.setdefault(label, []).append(page.total)
            session.expunge_all()
        short: list[float] = []
        for trade in ("科技", "电子", "软件", "商贸"):
            started = time.perf_counter()
            await service.search_suppliers(session, service.SupplierFilter(text=trade))
            short.append(time.perf_counter() - started)
    await engine.dispose()
    every = [value for values in timed.values() for value in values]
    floor_p99 = percentile(floor, 0.99)
    print(f"{count:,} suppliers, {len(every)} searches (count capped at 10,001 + first page of 20 by name)")
    print(f"{'query':<16} {'n':>4} {'matches (median)':>17} {'p50 ms':>8} {'p99 ms':>8}")
    for label, values in timed.items():
        print(
            f"{label:<16} {len(values):>4} {statistics.median(totals[label]):>17,.0f} "
            f"{percentile(values, 0.5) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}"
        )
    print(
        f"{'all searches':<16} {len(every):>4} {'':>17} "
        f"{percentile(every, 0.5) * 1000:>8.1f} {percentile(every, 0.99) * 1000:>8.1f}"
    )
    print(
        f"{'floor: get by id':<16} {len(floor):>4} {'':>17} "
        f"{percentile(floor, 0.5) * 1000:>8.1f} {floor_p99 * 1000:>8.1f}"
    )
    print(
        f"p99 search / p99 floor: {percentile(every, 0.99) / floor_p99:.1f}x; aim p99 < 100 ms: "
        f"{'met' if percentile(every, 0.99) < 0.1 else 'NOT met'}"
    )
    print(f"two-character names (科技, 电子, 软件, 商贸; no trigram): {', '.join(f'{v * 1000:.0f}' for v in short)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    with scratch_database("ggzy_bench_procurement") as url:
        started = time.perf_counter()
        asyncio.run(load(url, args.suppliers))
        print(f"load: {time.perf_counter() - started:.0f} s (untimed)")
        asyncio.run(measure(url, args.suppliers, args.queries))


if __name__ == "__main__":
    main()
