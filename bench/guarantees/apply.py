"""1,000 concurrent guarantee applications through the bidder's API, against a bare endpoint, same run.

    .venv/bin/python bench/guarantees/apply.py
    .venv/bin/python bench/guarantees/apply.py --applications 1000 --bidders 100 --concurrency 50

Untimed preparation on a scratch PostgreSQL database (`common.scratch_database`): a guarantor (a
bank with a certificate) and its bid product, a tenderee, and ``--bidders`` bidder organisations,
each with a user holding the bidder role; the server (`trading.server.asgi:app`, one uvicorn
worker, as in production per process) issues each a bearer token through ``POST /api/v1/auth/tokens``.

Timed: ``--applications`` ``POST /api/v1/guarantees/applications`` spread round-robin over the
bidders' tokens, ``--concurrency`` in flight at once (asyncio + one `httpx.AsyncClient`, keep-alive),
each a different project code. Each request's latency is taken from send to full answer; the run's
throughput is the count over the wall time. Every answer must be 201.

The floors, in this run, with the same client, count and concurrency (each after a warm-up of
2 × concurrency requests): ``GET /ping`` of ``bench/bare_app.py`` (Litestar with one JSON endpoint,
nothing else) under uvicorn, and ``GET /healthz`` of the same ggzy server (its whole middleware
stack and one database round trip, no token, no ledger).

Afterwards the database must hold exactly ``--applications`` applications: nothing lost, nothing twice.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from common import scratch_database, uvicorn_server  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.trading.guarantees.factories import bid_product, guarantor, organisation  # noqa: E402
from tests.trading.parties.factories import create_account  # noqa: E402
from trading.guarantees.models import GuaranteeApplication, GuaranteeProduct  # noqa: E402
from trading.kernel.auth.roles import Role  # noqa: E402
from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: E402
from trading.kernel.settings import Settings  # noqa: E402
from trading.parties.models import Organisation, OrganisationKind  # noqa: E402

API = "/api/v1/guarantees/applications"


@dataclass(frozen=True)
class World:
    product: GuaranteeProduct
    tenderee: Organisation
    usernames: list[str]
    password: str


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--bidders", type=int, default=100, help="bidder organisations (tokens)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight at once")
    return parser.parse_args()


async def prepare(db_url: str, settings: Settings, bidders: int) -> World:
    engine = create_engine(db_url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session, session.begin():
            row, _ = await guarantor(session, settings)
            product = await bid_product(session, row)
            tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
        accounts = [await create_account(session_maker, settings, Role.BIDDER) for _ in range(bidders)]
    finally:
        await engine.dispose()
    return World(product, tenderee, [a.username for a in accounts], accounts[0].password)


async def ready(base: str, path: str, seconds: float = 120) -> None:
    """Wait for the server: `common.uvicorn_server` waits 10 s, too short for the app on a loaded machine."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while True:
            try:
                if (await client.get(path)).status_code < 500:
                    return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)


async def tokens(base: str, world: World) -> list[str]:
    await ready(base, "/healthz")
    # A few logins at a time: each holds a pooled connection across its password hash, and 100 at once
    # exhaust the server's pool (10 + 10 overflow, 30 s timeout) on a loaded machine.
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one(username: str) -> str:
            async with gate:
                response = await client.post(
                    "/api/v1/auth/tokens", json={"username": username, "password": world.password}
                )
            assert response.status_code == 201, response.text
            return str(response.json()["token"])

        return list(await asyncio.gather(*(one(name) for name in world.usernames)))


async def load(base: str, requests: list[tuple[str, str, dict[str, str], Any]], concurrency: int) -> dict[str, Any]:
    """Send ``requests`` (method, path, headers, JSON body) with ``concurrency`` in flight; latencies and wall time."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[str, str, dict[str, str], Any]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                method, path, headers, body = queue.get_nowait()
                start = time.perf_counter()
                response = await client.request(method, path, headers=headers, json=body)
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return {"count": len(latencies), "wall": wall, "p50": cuts[49], "p99": cuts[98], "statuses": statuses}


def body(world: World, number: int) -> dict[str, str]:
    return {
        "product_id": str(world.product.id),
        "beneficiary_name": world.tenderee.name,
        "beneficiary_uscc": world.tenderee.uscc,
        "project_code": f"BENCH-{number:06d}",
        "lot_code": "001",
        "lot_name": "第一标段",
        "amount": "80000.00",
        "valid_from": "2026-12-01",
        "valid_until": "2027-03-31",
    }


async def count_applications(db_url: str, product_id: uuid.UUID) -> int:
    engine = create_engine(db_url)
    try:
        async with create_session_maker(engine)() as session:
            query = select(func.count()).select_from(GuaranteeApplication)
            return int(await session.scalar(query.where(GuaranteeApplication.product_id == product_id)) or 0)
    finally:
        await engine.dispose()


def main() -> None:
    args = parse()
    with scratch_database("ggzy_bench_gapply") as db_url, tempfile.TemporaryDirectory() as var:
        settings = Settings(db={"url": db_url}, var_dir=var)  # type: ignore[arg-type]
        started = time.perf_counter()
        world = asyncio.run(prepare(db_url, settings, args.bidders))
        with uvicorn_server("bench.bare_app:app") as bare:
            asyncio.run(ready(bare, "/ping"))
            pings = [("GET", "/ping", {}, None)] * args.applications
            asyncio.run(load(bare, pings[: args.concurrency * 2], args.concurrency))  # warm-up
            floor = asyncio.run(load(bare, pings, args.concurrency))
        env = {"GGZY_DB_URL": db_url, "GGZY_VAR_DIR": var, "GGZY_LOG_LEVEL": "WARNING"}
        with uvicorn_server("trading.server.asgi:app", env=env) as ggzy:
            bearer = [{"Authorization": f"Bearer {token}"} for token in asyncio.run(tokens(ggzy, world))]
            print(f"prepared {args.bidders} bidders with tokens in {time.perf_counter() - started:.0f} s", flush=True)
            health = [("GET", "/healthz", {}, None)] * args.applications
            asyncio.run(load(ggzy, health[: args.concurrency * 2], args.concurrency))  # warm-up
            same_server = asyncio.run(load(ggzy, health, args.concurrency))
            posts = [("POST", API, bearer[n % len(bearer)], body(world, n)) for n in range(args.applications)]
            measured = asyncio.run(load(ggzy, posts, args.concurrency))
        stored = asyncio.run(count_applications(db_url, world.product.id))
    report(args, {"floor": floor, "same_server": same_server, "measured": measured}, stored)


def report(args: argparse.Namespace, runs: dict[str, dict[str, Any]], stored: int) -> None:
    floor, measured = runs["floor"], runs["measured"]
    print(f"{args.applications} requests, {args.concurrency} in flight, {args.bidders} bidder tokens")
    print(f"{'':44}{'req/s':>10}{'p50':>10}{'p99':>10}{'ratio':>9}")
    floor_rps = floor["count"] / floor["wall"]
    rows = (
        ("bare Litestar GET /ping (floor)", floor),
        ("ggzy GET /healthz (same server, one DB ping)", runs["same_server"]),
        (f"POST {API}", measured),
    )
    for name, r in rows:
        rps = r["count"] / r["wall"]
        print(f"{name:44}{rps:>10.0f}{r['p50'] * 1000:>8.1f}ms{r['p99'] * 1000:>8.1f}ms{rps / floor_rps:>8.3f}×")
    print(f"answers: {measured['statuses']}; applications stored: {stored} (expected {args.applications})")
    assert measured["statuses"] == {201: args.applications}, measured["statuses"]
    assert stored == args.applications, "applications lost or doubled"


if __name__ == "__main__":
    main()
