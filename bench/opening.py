"""The opening hall: publish the price table, decrypt every package, render the opening record.

    .venv/bin/python bench/opening.py                  # 300 bids of 10 MB
    .venv/bin/python bench/opening.py --bids 50 --size-mb 2 --runs 3

On the services directly (no HTTP: submission is not what is measured), against a scratch
PostgreSQL database prepared with ``tests/bidding/harness.py`` (development PKI, trust lists, N
bidder organisations with signing and encryption certificates, one published tender, one lot).
Before timing: the sealed containers are built, submitted through `IntakeService` in-process,
the clock is shifted past the deadline (`ShiftedClock`), the sweep starts the opening, the host
opens the decryption window, and each bidder's content keys are unwrapped client-side
(`bidding.client.sdk.content_keys`: the private keys never reach the service).

Timed, with ``--concurrency`` decryptions in flight (the web process's view of N bidders at once):

1. all N price-summary decryptions (`Decryptions.decrypt`, every digest checked, each recorded
   in its own transaction under the session row's lock); when the last is recorded every price
   summary is settled and 唱标 starts, so the price table is in `HallView.view` — "time to
   publish the price table" runs from the first decryption to that view;
2. all N package decryptions (during 唱标, inside the decryption window); throughput = package
   ciphertext bytes / time, next to the floor: `AESGCM.decrypt` over ciphertexts of the same
   sizes, one thread, in this run;
3. the opening record of this N-bid opening (closed by the host): `record_data` + `render_record`
   (the kernel renderer, cached CJK subsets), median of ``--runs``, next to the floor: WeasyPrint
   rendering a one-page Latin document with its defaults (as ``bench/pdf.py``).

Aims (issue 5): price table under 5 s for 300 bids; decryption ≥ 0.5× raw AES-256-GCM; the
Chinese record under 3× the Latin floor.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import configured_storage, scratch_database
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pdf import PARAGRAPH_LA, one_page
from sqlalchemy import select

from bidding.client import format as fmt
from bidding.client.sdk import content_keys
from bidding.intake.service import IntakeService
from bidding.models import BidVersion
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import Stage
from bidding.opening.record import record_data, render_record
from bidding.opening.service import OpeningService
from tests.bidding.harness import (
    bidder_actor,
    build_bid,
    harness_settings,
    host_actor,
    prepare,
    sign_in_signature,
    submit_in_process,
)
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.logging import configure_logging
from trading.kernel.pdf import render
from trading.kernel.storage import open_store
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher, set_publisher

MIB = 1024 * 1024
LOT = "001"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--s3", action="store_true", help="the files in SeaweedFS (S3 backend), not on the local disk")
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8, help="decryptions in flight")
    parser.add_argument("--runs", type=int, default=5, help="renders of the record (median)")
    return parser.parse_args()


async def bounded(limit: int, calls: list[Any]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


def aes_floor(sizes: list[int]) -> float:
    """Seconds for `AESGCM.decrypt` over ciphertexts of these sizes (one thread, one key)."""
    aes = AESGCM(AESGCM.generate_key(bit_length=256))
    nonce = os.urandom(12)
    cache: dict[int, bytes] = {}
    for size in set(sizes):
        cache[size] = aes.encrypt(nonce, os.urandom(size), None)
    start = time.perf_counter()
    for size in sizes:
        aes.decrypt(nonce, cache[size], None)
    return time.perf_counter() - start


async def run(args: argparse.Namespace, db_url: str, var: Path, out: Path) -> dict[str, Any]:  # noqa: PLR0915 - one story
    size = int(args.size_mb * MIB)
    started = time.perf_counter()
    # The objection and confirmation windows are not measured here: zero, as in test_cli_opening.
    no_windows = {"opening_objection_minutes": 0, "opening_confirmation_minutes": 0}
    setup = await prepare(db_url, var, bidders=args.bids, lots=(LOT,), deadline_in=timedelta(hours=1), rules=no_windows)
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = list(pool.map(lambda b: build_bid(setup, b, LOT, out, size_bytes=size), setup.bidders))
    print(f"prepared {args.bids} bidders and built {args.bids} containers of {args.size_mb} MB "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    settings = harness_settings(db_url, var)
    set_publisher(RecordingPublisher())  # the close enqueues the record's rendering; timed here directly
    store = open_store(settings)  # GGZY_STORAGE_* (``--s3``: SeaweedFS started for the run)
    engine = create_engine(db_url, pool_size=args.concurrency + 4)
    session_maker = create_session_maker(engine)
    code = setup.tender.code
    try:
        intake = IntakeService(session_maker, settings, store)
        started = time.perf_counter()
        actors = {b.uscc: bidder_actor(b) for b in setup.bidders}
        await bounded(
            2,
            [
                lambda b=b, c=c: submit_in_process(intake, actors[b.uscc], code, LOT, c)
                for b, c in zip(setup.bidders, built, strict=True)
            ],
        )
        print(f"submitted in-process in {time.perf_counter() - started:.0f} s")
        for c in built:
            c.path.unlink(missing_ok=True)

        async with session_maker() as session:
            shift = setup.tender.deadline - await clock.now(session) + timedelta(seconds=1)
        shifted = clock.ShiftedClock(shift)
        with clock.use_clock(shifted):
            report = await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
            assert report.changed == {"bidding.tender_deadline": 1}, report
            opening = OpeningService(session_maker, settings, store)
            host = await host_actor(session_maker, setup)
            for bidder in setup.bidders:  # only a signed-in bidder decrypts (rule opening_sign_in_required)
                await opening.attendance.sign_in(actors[bidder.uscc], code, await sign_in_signature(bidder, code))
            await opening.host.advance(host, code, Stage.DECRYPTION)
            keys: dict[str, dict[str, bytes]] = {}
            for bidder in setup.bidders:
                [envelope] = await opening.decryption.envelopes(actors[bidder.uscc], code)
                keys[bidder.uscc] = content_keys(envelope, bidder.enc.key, tender=code, lot=LOT, bidder=bidder.uscc)  # type: ignore[arg-type]
            async with session_maker() as session:
                versions = await session.scalars(select(BidVersion).where(BidVersion.parts.is_not(None)))
                sizes = [int(v.parts[fmt.PACKAGE]["size"]) for v in versions if v.parts]

            def decrypt(uscc: str, part: str) -> Any:
                key = base64.b64encode(keys[uscc][part]).decode()
                return lambda: opening.decryption.decrypt(actors[uscc], code, LOT, part, key)

            start = time.perf_counter()
            await bounded(args.concurrency, [decrypt(b.uscc, fmt.PRICE_SUMMARY) for b in setup.bidders])
            price_seconds = time.perf_counter() - start
            view = await opening.hall.view(host, code)
            table_seconds = time.perf_counter() - start
            assert view["stage"] == Stage.PRICE_READING.value, view["stage"]
            assert len(view["priceTable"]) == args.bids
            assert all(line.get("totalPrice") for line in view["priceTable"])
            start_packages, cpu_packages = time.perf_counter(), time.process_time()
            await bounded(args.concurrency, [decrypt(b.uscc, fmt.PACKAGE) for b in setup.bidders])
            package_seconds = time.perf_counter() - start_packages
            package_cpu = time.process_time() - cpu_packages
            view = await opening.hall.view(host, code)
            assert all(line["outcome"] == "decrypted" for line in view["priceTable"])
            assert view["decryptionWindowOpen"] is False
            floor_seconds = aes_floor(sizes)

            await opening.host.advance(host, code, Stage.CONFIRMATION)
            await opening.host.advance(host, code, Stage.CLOSED)
            async with session_maker() as session:
                data = await record_data(session, code)
                now = await clock.now(session)
        render.warm_up()
        latin_html = one_page(PARAGRAPH_LA, "Opening record")
        import weasyprint

        weasyprint.HTML(string=latin_html).write_pdf()  # warm WeasyPrint's own caches
        render_record(data, generated_at=now)  # warm
        latin, chinese, pages = [], [], 0
        for _ in range(args.runs):
            t = time.perf_counter()
            weasyprint.HTML(string=latin_html).write_pdf()
            latin.append(time.perf_counter() - t)
            t = time.perf_counter()
            pdf = render_record(data, generated_at=now)
            chinese.append(time.perf_counter() - t)
            pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type/Page")
        return {
            "bids": args.bids,
            "size_mb": args.size_mb,
            "price_seconds": price_seconds,
            "package_seconds": package_seconds,
            "package_cpu": package_cpu,
            "table_seconds": table_seconds,
            "package_bytes": sum(sizes),
            "floor_seconds": floor_seconds,
            "latin": statistics.median(latin),
            "record": statistics.median(chinese),
            "record_bytes": len(pdf),
            "pages": pages,
        }
    finally:
        await engine.dispose()


def main() -> None:
    args = parse()
    configure_logging("WARNING", json=False)
    out = Path(tempfile.mkdtemp(prefix="ggzy-bench-opening-"))
    try:
        with scratch_database("ggzy_bench_opening") as db_url, configured_storage(out / "seaweedfs", s3=args.s3):
            r = asyncio.run(run(args, db_url, out / "var", out / "containers"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    mb = r["package_bytes"] / MIB
    rate, floor = mb / r["package_seconds"], mb / r["floor_seconds"]
    print(f"\n{r['bids']} bids of {r['size_mb']} MB, {os.cpu_count()} CPUs")
    print(
        f"price summaries decrypted and recorded: {r['price_seconds']:.2f} s ({r['bids'] / r['price_seconds']:.0f}/s)"
    )
    print(f"packages decrypted and recorded:        {r['package_seconds']:.2f} s, {mb:.0f} MB, {rate:.0f} MB/s"
          f" ({r['package_cpu'] / r['bids'] * 1000:.0f} ms CPU per package in this process)")  # fmt: skip
    print(f"price table in the view (唱标):          {r['table_seconds']:.2f} s after the first price summary")
    print(f"raw AES-256-GCM decrypt, same sizes:     {r['floor_seconds']:.2f} s, {floor:.0f} MB/s")
    print(f"decryption throughput / raw AES-GCM:    {rate / floor:.2f}×")
    print(f"Latin one page, WeasyPrint (floor):      {r['latin'] * 1000:.0f} ms")
    print(f"opening record ({r['bids']} bids, {r['record_bytes'] / 1024:.0f} kB): {r['record'] * 1000:.0f} ms, "
          f"{r['record'] / r['latin']:.1f}× the floor")  # fmt: skip
    print("aims:")
    print(f"  price table under 5 s: {'met' if r['table_seconds'] < 5 else 'NOT met'}")
    print(f"  decryption ≥ 0.5× raw AES-GCM: {'met' if rate / floor >= 0.5 else 'NOT met'}")
    print(f"  record under 3× the Latin floor: {'met' if r['record'] < 3 * r['latin'] else 'NOT met'}")


if __name__ == "__main__":
    main()
