"""Ledger benchmark: append throughput under 16 writers, verify throughput, against a SHA-256 floor.

Runs against PostgreSQL (``GGZY_BENCH_PG_URL``, default the local server's ``postgres`` user). It
creates a database of its own, migrates it with Alembic, and drops it at the end.

1. **Append**: 16 concurrent writers, each with its own session, each append in its own
   committed transaction (what a request does), first all on one chain (every writer queues on
   the same head row), then on 16 project chains (no shared lock).
2. **Verify**: ``verify_ledger`` over a ledger filled through ``append_entry``, in entries/s and
   MB/s of canonical preimage bytes hashed.
3. **Floor**: plain ``hashlib.sha256(preimage).digest()`` over exactly the same preimage bytes,
   held in memory, in the same run. Verify's ratio to it is the figure of merit (goal ≥ 0.3).

Usage: ``.venv/bin/python bench/ledger.py [--entries 100000] [--appends 150] [--keep]``

The default ledger (about 60 MB with its indexes) fits PostgreSQL's default 128 MB of
shared_buffers; a ledger larger than the buffer cache verifies at the rate the OS page cache can
feed it (the benchmark prints both sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

# The project root first: bench/ holds scripts named like packages (bench/certs.py), and the
# script's own directory would otherwise shadow the `certs` package.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine  # noqa: E402

from certs import keys  # noqa: E402
from trading.kernel.auth.identity import Actor, ActorKind  # noqa: E402
from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: E402
from trading.kernel.db.uow import transaction  # noqa: E402
from trading.ledger.preimage_repository import PreimageRepository  # noqa: E402
from trading.ledger.service import append_entry, create_checkpoint, verify_ledger  # noqa: E402
from trading.server.cli import alembic_config  # noqa: E402

SERVER_URL = os.environ.get("GGZY_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
WRITERS = 16
ACTIONS = (
    "bidding.tender_published",
    "bidding.bid_submitted",
    "bidding.bid_withdrawn",
    "bidding.opening_session_opened",
    "bidding.bid_decrypted",
    "parties.login_succeeded",
    "guarantees.guarantee_verified",
)


def _actor(number: int) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=uuid.uuid4(),
        username=f"bidder-{number:04d}",
        organisation_id=uuid.uuid4(),
        client_ip=f"10.{number % 250}.{number // 250 % 250}.17",
    )


async def _append_one(session: AsyncSession, actor: Actor, index: int, project_code: str | None) -> None:
    """One realistic entry: a bid-sized data digest and a summary like the services write."""
    await append_entry(
        session,
        actor=actor,
        action=ACTIONS[index % len(ACTIONS)],
        subject_type="bid",
        subject_id=f"BID-2026-{index:08d}",
        data={
            "tender": f"T-2026-{index // 40:06d}",
            "lot": index % 4 + 1,
            "price": Decimal(f"{1_000_000 + index}.50"),
            "ciphertext_sha256": hashlib.sha256(str(index).encode()).hexdigest(),
        },
        summary={"tender": f"T-2026-{index // 40:06d}", "lot": index % 4 + 1, "status": "received"},
        project_code=project_code,
    )


async def _writers(
    maker: async_sessionmaker[AsyncSession], appends: int, chain_of: Callable[[int], str | None]
) -> tuple[float, list[float]]:
    """16 writers, each appending ``appends`` entries one committed transaction at a time."""
    latencies: list[float] = []
    start = asyncio.Event()

    async def writer(number: int) -> None:
        actor = _actor(number)
        await start.wait()
        for index in range(appends):
            began = time.perf_counter()
            async with transaction(maker, lock=True) as session:
                await _append_one(session, actor, number * appends + index, chain_of(number))
            latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(writer(number)) for number in range(WRITERS)]
    await asyncio.sleep(0.1)
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - began, latencies


async def _fill(maker: async_sessionmaker[AsyncSession], entries: int, chains: int) -> None:
    """Fill the ledger through append_entry, 500 entries per transaction, one writer per chain."""
    per_chain = entries // chains

    async def filler(number: int) -> None:
        actor = _actor(number)
        code = f"FILL-{number:03d}"
        done = 0
        while done < per_chain:
            async with transaction(maker, lock=True) as session:
                for _ in range(min(500, per_chain - done)):
                    await _append_one(session, actor, done, code)
                    done += 1

    await asyncio.gather(*(filler(number) for number in range(chains)))


async def _preimages(maker: async_sessionmaker[AsyncSession]) -> list[bytes]:
    """Every entry's canonical preimage, exactly the bytes verify hashes."""
    result: list[bytes] = []
    async with maker() as session:
        async for _, batch in PreimageRepository(session).preimage_stream(5000):
            result.extend(p for p in batch.preimages if p is not None)
    return result


def _floor(preimages: list[bytes]) -> float:
    sha256 = hashlib.sha256
    began = time.perf_counter()
    for preimage in preimages:
        sha256(preimage).digest()
    return time.perf_counter() - began


async def _timed(runs: int, body: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await body()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


async def _admin(sql: str) -> None:
    engine = create_async_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(sql))
    await engine.dispose()


async def _append_phase(maker: async_sessionmaker[AsyncSession], appends: int) -> dict[str, float]:
    print(f"append: {WRITERS} writers, each its own session, {appends} appends each, one commit per append")
    await _writers(maker, 10, lambda _: "WARMUP")  # connections, prepared statements
    rates = {}
    total = WRITERS * appends
    for label, chain_of in (
        ("one chain (all 16 queue on one head)", lambda _: "CONTENDED"),
        ("16 project chains (no shared lock) ", lambda n: f"WRITER-{n:02d}"),
    ):
        elapsed, latencies = await _writers(maker, appends, chain_of)
        latencies.sort()
        rates[label] = total / elapsed
        p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
        print(f"  {label}: {total / elapsed:8.0f} entries/s   p50 {p50:5.1f} ms  p99 {p99:5.1f} ms")
    return rates


async def _verify_phase(maker: async_sessionmaker[AsyncSession], url: str, entries: int) -> float:
    began = time.perf_counter()
    await _fill(maker, entries, 8)
    print(f"filled {entries} entries through append_entry in {time.perf_counter() - began:.1f} s")
    # A ledger that size has long been vacuumed and analysed by autovacuum in production;
    # measure that state, not the moment right after a bulk load.
    vacuum = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with vacuum.connect() as connection:
        await connection.execute(text("VACUUM ANALYZE ledger_entries"))
        size, buffers = (
            await connection.execute(
                text(
                    "SELECT pg_size_pretty(pg_total_relation_size('ledger_entries')), current_setting('shared_buffers')"
                )
            )
        ).one()
    await vacuum.dispose()
    # Verify reads the whole table: beyond shared_buffers it reads through the OS page cache and
    # the rate drops with it. Print both so a figure is never read without its condition.
    print(f"ledger_entries with indexes: {size}; shared_buffers: {buffers}")
    key = keys.load_private_key(keys.generate_private_key_pem())
    async with transaction(maker, lock=True) as session:
        await create_checkpoint(session, private_key=key)

    async def verify() -> Any:
        async with maker() as session:
            return await verify_ledger(session, public_keys=[key.public_key()])

    async def reference() -> Any:
        async with maker() as session:
            return await verify_ledger(session, public_keys=[key.public_key()], assemble_in_python=True)

    verify_time, report = await _timed(5, verify)
    assert report.ok, report.summary()
    reference_time, _ = await _timed(1, reference)
    preimages = await _preimages(maker)
    size = sum(map(len, preimages))
    assert len(preimages) == report.entries
    assert size == report.bytes_hashed
    floor_time = statistics.median(_floor(preimages) for _ in range(5))

    count, mb = report.entries, size / 1e6
    floor_rate = count / floor_time
    print(
        f"verify: {count} entries in {len(report.chains)} chains, {mb:.1f} MB of preimages "
        f"({size / count:.0f} B/entry), {report.checkpoints_checked} checkpoint; medians of 5 runs (floor) / 5 (verify)"
    )
    print(f"  floor: sha256 per preimage      {floor_rate:10.0f} entries/s {mb / floor_time:8.1f} MB/s   1.00x")
    for label, elapsed in (
        ("verify (database-assembled)", verify_time),
        ("verify (python reference)  ", reference_time),
    ):
        rate = count / elapsed
        print(f"  {label}    {rate:10.0f} entries/s {mb / elapsed:8.1f} MB/s   {rate / floor_rate:.2f}x")
    return floor_rate


async def main(entries: int, appends: int, *, keep: bool = False) -> None:
    name = f"ggzy_bench_ledger_{uuid.uuid4().hex[:8]}"
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        engine = create_engine(url, pool_size=WRITERS)
        maker = create_session_maker(engine)
        print(f"database {name} (PostgreSQL, migrated with alembic)")
        try:
            rates = await _append_phase(maker, appends)
            floor_rate = await _verify_phase(maker, url, entries)
            for label, rate in rates.items():
                ratio, hashes = rate / floor_rate, floor_rate / rate
                print(f"  append, {label.strip()}: {ratio:.5f}x the floor ({hashes:.0f} hashes' time per append)")
        finally:
            await engine.dispose()
    finally:
        if not keep:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=100_000, help="ledger size for the verify run")
    parser.add_argument("--appends", type=int, default=150, help="appends per writer in the append runs")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database (to inspect it)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.entries, arguments.appends, keep=arguments.keep))
