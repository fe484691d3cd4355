"""Sealed bid submission: the deadline rush, and server memory as the file size grows.

    .venv/bin/python bench/submission.py                      # 500 bids of 5 MB, 100 clients
    .venv/bin/python bench/submission.py --bids 100 --clients 20 --size-mb 2 --memory-sizes 1,20

Creates and migrates its own PostgreSQL database and prepares it with ``tests/bidding/harness.py``
(development PKI, trust lists, one bidder organisation per client with signing and encryption
certificates and a bearer token, one published tender with ``bids / clients`` lots), then runs
``ggzy serve`` (one uvicorn process) on it. Containers are built before the timed part, in a
temporary directory deleted at the end.

Part 1, the rush: every client uploads and submits its bids one after another (one per lot, 8 MB
chunks; a package that fits one chunk goes in one request, ``POST …/lots/{lot}/bids``, unless
``--resumable``), all clients at once. Reported: accepted bids/s, receipt latency (from the first byte of
``POST …/uploads`` to the receipt) p50/p99, the server's peak RSS (``VmHWM``), and ingest MB/s
next to the floor, plain single-threaded ``hashlib.sha256`` over the same container files read
from disk in this run. Aims: ingest ≥ 0.3× the SHA-256 floor, p99 < 2 s.

Part 2, memory: one bid each of 1, 50 and 200 MB, each to a freshly started server, printing the
server's peak RSS after each. Aim: flat as the file size grows.

Part 0, the receipt's cost: ``--receipt-samples`` receipts signed as intake signs them (CAdES-B-T
with the platform TSA's token, each in its own transaction on the bench's database), CPU and wall
per receipt, and the same signature without the timestamp; printed before the rush.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import math
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from common import scratch_database

from bidding.client.sdk import BuiltBid
from bidding.receipts import receipt_identity, sign_receipt
from certs.sign.cades import sign_record
from tests.bidding.harness import (
    Attempt,
    ServerProcess,
    SubmissionSetup,
    build_bid,
    harness_settings,
    prepare,
    submit_bid,
)
from tests.seaweedfs import running_seaweedfs
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction

REDIS_URL = os.environ.get("GGZY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
MIB = 1024 * 1024
CHUNK = 8 * MIB


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bids", type=int, default=500)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--memory-sizes", default="1,50,200", help="MB per single bid in part 2; empty skips it")
    parser.add_argument("--resumable", action="store_true", help="always announce, PATCH and submit (3+ requests)")
    parser.add_argument("--compare", action="store_true", help="the rush twice: resumable, then one request per bid")
    parser.add_argument("--receipt-samples", type=int, default=200, help="receipts signed in part 0; 0 skips it")
    parser.add_argument("--workers", type=int, default=1, help="web processes (`ggzy serve --workers N`, with Redis)")
    parser.add_argument("--s3", action="store_true", help="the files in SeaweedFS through the S3 backend, not on disk")
    return parser.parse_args()


def sha256_floor(paths: list[Path]) -> tuple[float, int]:
    """Seconds and bytes of plain SHA-256 over the files (read from disk, one thread)."""
    total = 0
    start = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(MIB):
                digest.update(chunk)
                total += len(chunk)
        digest.hexdigest()
    return time.perf_counter() - start, total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def prebuild(setup: SubmissionSetup, plan: list[tuple[int, str]], size: int, out: Path) -> list[BuiltBid]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: build_bid(setup, setup.bidders[job[0]], job[1], out, size_bytes=size), plan))


async def rush(
    base_url: str, setup: SubmissionSetup, per_client: list[list[tuple[str, BuiltBid]]], *, whole: bool
) -> list[Attempt]:
    limits = httpx.Limits(max_connections=len(per_client) + 10, max_keepalive_connections=len(per_client) + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=30.0), limits=limits) as http:

        async def client(index: int, bids: list[tuple[str, BuiltBid]]) -> list[Attempt]:
            done = []
            for lot, built in bids:
                attempt = Attempt(setup.bidders[index], lot, built)
                done.append(await submit_bid(http, base_url, attempt, chunk_size=CHUNK, whole=whole))
            return done

        results = await asyncio.gather(*(client(i, bids) for i, bids in enumerate(per_client)))
    return [attempt for attempts in results for attempt in attempts]


def part_rush(  # noqa: PLR0917 - the run's facts
    setup: SubmissionSetup,
    work: Path,
    args: argparse.Namespace,
    lots: list[str],
    env: dict[str, str],
    store_pid: int | None,
    *,
    whole: bool,
) -> None:
    size = int(args.size_mb * MIB)
    plan = [(i % args.clients, lots[i // args.clients]) for i in range(args.bids)]
    start = time.perf_counter()
    built = prebuild(setup, plan, size, work / "bids")
    print(f"prebuilt {len(built)} containers of {size / MIB:.1f} MB in {time.perf_counter() - start:.1f} s")
    per_client: list[list[tuple[str, BuiltBid]]] = [[] for _ in range(args.clients)]
    for (client, lot), container in zip(plan, built, strict=True):
        per_client[client].append((lot, container))

    floor_seconds, floor_bytes = sha256_floor([b.path for b in built])
    server = ServerProcess(setup, work / "server.log", env, workers=args.workers)
    server.start(timeout=60.0 * args.workers)
    try:
        idle_rss = server.rss_mib()
        server_cpu_before, client_cpu_before = server_cpu_seconds(server.pid), _own_cpu_seconds()
        store_cpu_before = server_cpu_seconds(store_pid) if store_pid else 0.0
        with server.sampling_rss() as samples:
            start = time.perf_counter()
            attempts = asyncio.run(rush(server.base_url, setup, per_client, whole=whole))
            elapsed = time.perf_counter() - start
        server_cpu = server_cpu_seconds(server.pid) - server_cpu_before
        store_cpu = (server_cpu_seconds(store_pid) - store_cpu_before) if store_pid else 0.0
        client_cpu = _own_cpu_seconds() - client_cpu_before
        peak_rss = server.peak_rss_mib()
        sampled = max(samples, default=math.nan)
    finally:
        server.stop()
    accepted = [a for a in attempts if a.receipt is not None]
    failed = [a for a in attempts if a.receipt is None]
    for attempt in failed[:5]:
        print(f"  failed: {attempt.error}")
    ingest_bytes = sum(a.built.size for a in accepted)
    ingest = ingest_bytes / MIB / elapsed
    floor = floor_bytes / MIB / floor_seconds
    latencies = [a.latency for a in accepted]
    p50, p99 = (percentile(latencies, 0.5), percentile(latencies, 0.99)) if latencies else (math.nan, math.nan)
    ratio = ingest / floor
    print(
        f"rush ({'one request per bid that fits a chunk' if whole else 'resumable, 3+ requests'}; "
        f"{args.workers} web process{'es' if args.workers > 1 else ''}, "
        f"files {'in SeaweedFS (S3)' if args.s3 else 'on disk'}): "
        f"{args.bids} bids of {args.size_mb:g} MB from {args.clients} clients: "
        f"{len(accepted)} accepted, {len(failed)} failed, in {elapsed:.1f} s"
    )
    print(f"accepted bids/s                     {len(accepted) / elapsed:10.1f}")
    print(
        f"receipt latency p50 / p99           {p50:10.2f} s / {p99:.2f} s  (mean {statistics.fmean(latencies):.2f} s; "
        f"aim p99 < 2 s: {'met' if p99 < 2 else 'NOT MET'})"
    )
    print(
        f"server RSS during the rush (max)    {sampled:10.0f} MiB  (idle after start {idle_rss:.0f} MiB; "
        f"VmHWM {peak_rss:.0f} MiB)"
    )
    print(f"plain SHA-256, same files, 1 thread {floor:10.0f} MB/s  (floor)")
    print(
        f"ingest                              {ingest:10.0f} MB/s  ratio {ratio:.2f}x "
        f"(aim >= 0.30: {'met' if ratio >= 0.3 else 'NOT MET'})"
    )
    per_bid_ms = server_cpu / max(len(accepted), 1) * 1000
    print(
        f"CPU during the rush                  server {server_cpu:.1f} s ({per_bid_ms:.0f} ms per bid), "
        f"client {client_cpu:.1f} s, wall {elapsed:.1f} s on {os.cpu_count()} CPUs"
    )
    if store_pid:
        per_bid_store_ms = store_cpu / max(len(accepted), 1) * 1000
        print(f"CPU of the S3 server (weed)          {store_cpu:.1f} s ({per_bid_store_ms:.0f} ms per bid)")
    print(f"load average at the end              {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    shutil.rmtree(work / "bids", ignore_errors=True)


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process group led by ``pid`` (the server was started in a session of
    its own, so uvicorn's worker processes are in it): ``/proc/<pid>/stat`` fields 14 and 15 of
    every live member, in clock ticks."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we read
            continue
        if int(fields[2]) == pid:  # field 5, the process group
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def part_receipt_cost(setup: SubmissionSetup, samples: int) -> None:
    """CPU and wall per receipt as intake signs it (CAdES-B-T, the platform TSA's token and its
    serial row, one transaction each), and per signature without the timestamp."""
    settings = harness_settings(setup.db_url, setup.var)
    record = {"receiptNo": "BR-BENCH", "tender": setup.tender.code, "containerSha256": "0" * 64, "parts": {}}

    async def run() -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        engine = create_engine(setup.db_url)
        session_maker = create_session_maker(engine)
        try:
            async with transaction(session_maker, lock=True) as session:  # warm: keys, TSA identity
                await sign_receipt(session, settings, record, client_ip=None, at=await clock.now(session))
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(samples):
                async with transaction(session_maker, lock=True) as session:
                    await sign_receipt(session, settings, record, client_ip=None, at=await clock.now(session))
            stamped = (time.perf_counter() - wall, time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(samples):  # the same transaction without the receipt: what it shares with intake's
                async with transaction(session_maker, lock=True) as session:
                    await clock.now(session)
            empty = (time.perf_counter() - wall, time.process_time() - cpu)
            identity = receipt_identity(settings)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(samples):
                await sign_record(record, identity)
            bare = (time.perf_counter() - wall, time.process_time() - cpu)
        finally:
            await engine.dispose()
        return stamped, empty, bare

    stamped, empty, bare = asyncio.run(run())
    ms = 1000 / samples
    print(
        f"receipt, CAdES-B-T + TSA token in a transaction: {stamped[1] * ms:.2f} ms CPU "
        f"({stamped[0] * ms:.1f} ms wall); the transaction alone {empty[1] * ms:.2f} ms CPU "
        f"({empty[0] * ms:.1f} ms wall); CAdES without timestamp {bare[1] * ms:.2f} ms CPU: "
        f"the receipt's own cost {(stamped[1] - empty[1]) * ms:.2f} ms CPU per bid ({samples} each)"
    )


def part_memory(setup: SubmissionSetup, work: Path, sizes_mb: list[float]) -> None:
    print("memory vs file size (one bid per freshly started server):")
    rows = []
    for index, size_mb in enumerate(sizes_mb):
        bidder = setup.bidders[index % len(setup.bidders)]
        built = build_bid(setup, bidder, setup.tender.lots[0], work / "single", size_bytes=int(size_mb * MIB))
        server = ServerProcess(setup, work / "server.log")
        server.start()
        try:
            idle = server.rss_mib()
            attempt = Attempt(bidder, setup.tender.lots[0], built)

            async def one(base: str = server.base_url, attempt: Attempt = attempt) -> Attempt:
                async with httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=30.0)) as http:
                    return await submit_bid(http, base, attempt, chunk_size=CHUNK)

            with server.sampling_rss() as samples:
                asyncio.run(one())
            peak = max(samples, default=math.nan)
            hwm = server.peak_rss_mib()
        finally:
            server.stop()
        built.path.unlink(missing_ok=True)
        status = "accepted" if attempt.receipt is not None else f"FAILED {attempt.error}"
        rows.append((size_mb, idle, peak))
        print(
            f"  {size_mb:6g} MB bid: server RSS max {peak:7.0f} MiB (idle {idle:.0f} MiB, "
            f"+{peak - idle:.0f} MiB; VmHWM {hwm:.0f} MiB) in {attempt.latency:.2f} s, {status}"
        )
    if len(rows) > 1:
        growth = max(r[2] - r[1] for r in rows) - min(r[2] - r[1] for r in rows)
        span = rows[-1][0] - rows[0][0]
        print(
            f"  RSS growth above idle varied by {growth:.0f} MiB while the file grew {span:g} MB "
            f"(aim: flat; {'met' if growth < 0.1 * span else 'NOT MET'})"
        )


def main() -> None:
    args = parse()
    sizes_mb = [float(s) for s in args.memory_sizes.split(",") if s.strip()]
    lot_count = max(1, math.ceil(args.bids / args.clients))
    lots = [f"{i + 1:03d}" for i in range(lot_count * (2 if args.compare else 1))]
    largest = max([args.size_mb, *sizes_mb])
    with scratch_database("ggzy_bench_submission") as url, tempfile.TemporaryDirectory(prefix="ggzy-bench-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        setup = asyncio.run(
            prepare(
                url,
                work / "var",
                bidders=args.clients,
                lots=lots,
                max_package_bytes=int((largest + 8) * MIB),
                test_clock=False,  # measured as it runs in production, without the test clock file
            )
        )
        print(f"prepared {args.clients} bidders and {len(lots)} lots in {time.perf_counter() - start:.1f} s")
        if args.receipt_samples:
            part_receipt_cost(setup, args.receipt_samples)
        with contextlib.ExitStack() as stack:
            env, store_pid = server_environment(setup, args, work, stack)
            if args.compare:  # each mode on lots of its own: first submissions both times
                part_rush(setup, work, args, lots[:lot_count], env, store_pid, whole=False)
                part_rush(setup, work, args, lots[lot_count:], env, store_pid, whole=True)
            else:
                part_rush(setup, work, args, lots, env, store_pid, whole=not args.resumable)
        if sizes_mb:
            part_memory(setup, work, sizes_mb)


def server_environment(
    setup: SubmissionSetup, args: argparse.Namespace, work: Path, stack: contextlib.ExitStack
) -> tuple[dict[str, str], int | None]:
    """The web processes' environment, and the S3 server's process id with ``--s3``: several
    processes share rate limits and live events through Redis (``ggzy serve`` refuses N > 1
    without it); ``--s3`` starts SeaweedFS for the run and points the processes at it."""
    env = setup.env
    if args.workers > 1:
        env = env | {"GGZY_REDIS_URL": REDIS_URL, "GGZY_CELERY_BROKER_URL": REDIS_URL}
    if not args.s3:
        return env, None
    root = work / "seaweedfs"
    root.mkdir()
    s3 = stack.enter_context(running_seaweedfs(root))
    return env | s3.environment(), s3.pid


if __name__ == "__main__":
    main()
