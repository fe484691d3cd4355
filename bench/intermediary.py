"""intermediary_market benchmark: the seeded lottery, credit recomputation, the reference price.

Issue 6's aims: a lottery among 10,000 registrants drawn in under 50 ms; credit recomputed for
50,000 intermediaries in under 10 s. Each figure is printed next to a floor measured in the same
run on the same machine (the irreducible work of the same computation), and the ratio between
them (floor time / measured time, so 1.00x means "as fast as the floor") is what to compare
across machines.

    .venv/bin/python bench/intermediary.py [--registrants 10000] [--intermediaries 50000] [--runs 21]

``selection.lottery``, ``selection.reference_price`` and ``credit.score`` are measured directly
(pure CPU) on inputs built before timing. Then the service-level recomputation: a scratch
PostgreSQL database (``common.scratch_database``, migrated by Alembic) is filled with Core
``insert()`` executemany with the same synthetic population (50,000 intermediary organisations
with valid USCCs, one announcement per rating, the ratings, upheld complaints, overdue deliveries
and one year's credit inputs each), and ``CreditService.recompute_all`` is timed end to end in
its unit of work (aggregate queries, ``credit.score`` per organisation, batched upserts, commit).
``--no-db`` skips it. ``MarketService.close_registration`` checks every registrant's eligibility
(as of the close) with its own queries; that is not measured here (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import scratch_database  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from intermediary_market import credit, selection  # noqa: E402
from intermediary_market.credit_records import CreditService  # noqa: E402
from intermediary_market.models import (  # noqa: E402
    Announcement,
    AnnouncementStatus,
    Complaint,
    ComplaintStatus,
    CreditInput,
    CreditRecord,
    Delivery,
    Rating,
)
from intermediary_market.selection import FundingType, SelectionMethod  # noqa: E402
from trading.kernel import clock  # noqa: E402
from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: E402
from trading.kernel.db.uow import transaction  # noqa: E402
from trading.parties.identifiers import USCC_CHARSET, uscc_check_char  # noqa: E402
from trading.parties.models import Organisation, OrganisationKind  # noqa: E402

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


def uscc(number: int) -> str:
    """The ``number``-th valid USCC of a synthetic series (base-31 organisation code, check char)."""
    body = ""
    for _ in range(9):
        number, digit = divmod(number, len(USCC_CHARSET))
        body = USCC_CHARSET[digit] + body
    first17 = "91320812" + body
    return first17 + uscc_check_char(first17)


def _rows(people: list[dict[str, Any]], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Core insert rows for the population: one announcement per rating (and per overdue delivery
    or complaint beyond the ratings), all won by the intermediary and owned by one owner.
    """
    owner = uuid.uuid4()
    tables: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("organisations", "announcements", "ratings", "deliveries", "complaints", "inputs")
    }
    tables["organisations"].append(
        {"id": owner, "uscc": uscc(0), "name": "业主", "kind": OrganisationKind.PURCHASER_UNIT, "region_code": "320812"}
    )
    decided = now - timedelta(days=200)
    for number, person in enumerate(people, start=1):
        org = uuid.uuid4()
        person["organisation_id"] = org
        tables["organisations"].append(
            {
                "id": org,
                "uscc": uscc(number),
                "name": f"中介机构 {number}",
                "kind": OrganisationKind.INTERMEDIARY,
                "region_code": "320812",
            }
        )
        ratings, overdue, complaints = person["ratings"], person["overdue_deliveries"], person["upheld_complaints"]
        deals = [uuid.uuid4() for _ in range(max(len(ratings), overdue, complaints))]
        for deal in deals:
            tables["announcements"].append(
                {
                    "id": deal,
                    "owner_organisation_id": owner,
                    "project_name": "项目",
                    "item_code": "BENCH",
                    "method": SelectionMethod.RANDOM,
                    "funding": FundingType.STATE,
                    "budget": Decimal(1000),
                    "max_level": 3,
                    "time_limit_days": 30,
                    "registration_opens": decided - timedelta(days=10),
                    "registration_closes": decided,
                    "seed": "0" * 64,
                    "seed_sha256": "0" * 64,
                    "status": AnnouncementStatus.SELECTED,
                    "winner_organisation_id": org,
                    "decided_at": decided,
                    "created_at": decided - timedelta(days=10),
                }
            )
        for deal, r in zip(deals, ratings, strict=False):
            tables["ratings"].append(
                {
                    "id": uuid.uuid4(),
                    "announcement_id": deal,
                    "organisation_id": org,
                    "quality": r.quality,
                    "timeliness": r.timeliness,
                    "attitude": r.attitude,
                    "fees": r.fees,
                    "created_at": decided,
                }
            )
        for deal in deals[:overdue]:
            tables["deliveries"].append(
                {
                    "id": uuid.uuid4(),
                    "announcement_id": deal,
                    "organisation_id": org,
                    "contract_no": "HT",
                    "filed_at": decided,
                    "due_at": decided + timedelta(days=30),
                    "overdue": True,
                }
            )
        for deal in deals[:complaints]:
            tables["complaints"].append(
                {
                    "id": uuid.uuid4(),
                    "announcement_id": deal,
                    "organisation_id": org,
                    "complainant_organisation_id": owner,
                    "text": "投诉",
                    "filed_at": decided,
                    "status": ComplaintStatus.UPHELD,
                    "reason": "属实",
                    "decided_at": decided,
                }
            )
        tables["inputs"].append(
            {
                "id": uuid.uuid4(),
                "organisation_id": org,
                "year": now.year,
                "regulator_score": person["regulator"],
                "regulator_source": "考评",
                "public_credit_score": person["public_credit"],
                "public_credit_source": "信用中国",
                "recorded_at": now,
            }
        )
    return tables


async def _timed_async(body: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await body()
    return time.perf_counter() - start, result


async def _service(url: str, people: list[dict[str, Any]], runs: int) -> tuple[float, float, dict[str, int]]:
    engine = create_engine(url, pool_size=2)
    maker = create_session_maker(engine)
    try:
        start = time.perf_counter()
        async with transaction(maker) as session:
            now = await clock.now(session)
        tables = _rows(people, now)
        models = {
            "organisations": Organisation,
            "announcements": Announcement,
            "ratings": Rating,
            "deliveries": Delivery,
            "complaints": Complaint,
            "inputs": CreditInput,
        }
        async with engine.begin() as conn:
            for name, model in models.items():
                rows = tables[name]
                for at in range(0, len(rows), 10_000):
                    await conn.execute(insert(model.__table__), rows[at : at + 10_000])
            await conn.exec_driver_sql("ANALYZE")
        counts = {name: len(rows) for name, rows in tables.items()}
        print(f"  (setup: {counts} inserted with Core executemany in {time.perf_counter() - start:,.1f} s)")

        async def recompute() -> int:
            async with transaction(maker, lock=True) as session:
                return await CreditService(session).recompute_all(await clock.now(session))

        first, count = await _timed_async(recompute)
        assert count == len(people), count
        times = [(await _timed_async(recompute))[0] for _ in range(runs)]
        async with maker() as session:
            grades: dict[str, int] = dict.fromkeys("ABCD", 0)
            for (grade,) in await session.execute(select(CreditRecord.grade)):
                grades[grade] += 1
        return first, statistics.median(times), grades
    finally:
        await engine.dispose()


def service_recompute(rng: random.Random, intermediaries: int, runs: int) -> None:
    people = population(rng, intermediaries)
    expected: dict[str, int] = dict.fromkeys("ABCD", 0)
    for p in people:
        expected[credit.score(**p).grade] += 1

    def floor() -> list[float]:
        shares = []
        for p in people:
            total = 0
            for r in p["ratings"]:
                total += r.quality + r.timeliness + r.attitude + r.fees
            shares.append(total / (4 * len(p["ratings"])) if p["ratings"] else 80.0)
        return shares

    pure_s = median_time(lambda: [credit.score(**p) for p in people], runs)
    floor_s = median_time(floor, runs)
    with scratch_database("ggzy_bench_credit") as url:
        first, median, grades = asyncio.run(_service(url, people, runs))
    assert grades == expected, (grades, expected)  # the service agrees with the pure function
    total_ratings = sum(len(p["ratings"]) for p in people)
    print(
        f"service recomputation (CreditService.recompute_all, PostgreSQL) for {intermediaries:,} intermediaries, "
        f"{total_ratings:,} ratings (grades {grades}, equal to the pure function's):"
    )
    row("floor: sum the same ratings' four fields in a plain loop", floor_s)
    row("pure credit.score for each intermediary (in memory)", pure_s, floor_s)
    row("recompute_all, first run (inserts 50,000 snapshots)", first, floor_s, CREDIT_AIM_S)
    row(f"recompute_all, median of {runs} further runs (upserts)", median, floor_s, CREDIT_AIM_S)


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
    parser.add_argument("--no-db", action="store_true", help="skip the service-level recomputation")
    args = parser.parse_args()
    print(f"bench/intermediary on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    rng = random.Random(6)  # noqa: S311 - synthetic data, reproducible on purpose
    lottery(rng, args.registrants, args.runs)
    recompute(rng, args.intermediaries, max(3, args.runs // 5))
    reference(rng, args.registrants, args.runs)
    if not args.no_db:
        service_recompute(random.Random(7), args.intermediaries, 3)  # noqa: S311 - synthetic data


if __name__ == "__main__":
    main()
