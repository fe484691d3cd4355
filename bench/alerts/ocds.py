"""OCDS reader benchmark: throughput and peak memory of ``read_lots`` for two package sizes.

Issue 19's aim: the OCDS command over a 1,000,000-bid package with memory flat in package size.
For each size the simulator's streamed writer (``iter_simulated(texts=False)`` →
``to_ocds_package``) writes a release package to a temporary file; then, each in a fresh process so
its peak resident memory (``ru_maxrss``) is its own:

- read: ``read_lots`` over the file, counting lots and bids;
- floor: ijson's raw event iteration over the same file (``ijson.parse``, nothing built) — the least
  any streaming reader does. The ratio read / floor is what to compare across machines.

Memory is flat when the larger package's peak RSS is about the smaller one's (printed as a ratio).

    .venv/bin/python bench/alerts/ocds.py                 # 100,000 and 300,000 bids (~1 min)
    .venv/bin/python bench/alerts/ocds.py --full          # 300,000 and 1,000,000 bids
    .venv/bin/python bench/alerts/ocds.py --sizes 20000 50000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import ijson  # noqa: E402

from bidding.integrity.ocds import Unusable, read_lots  # noqa: E402
from bidding.integrity.simulator import SimulatedLot, iter_simulated, party_names, to_ocds_package  # noqa: E402

DEFAULT_SIZES = (100_000, 300_000)
FULL_SIZES = (300_000, 1_000_000)


def lots_with_bids(target: int, seed: int) -> Iterator[SimulatedLot]:
    """Simulated lots until ``target`` bids are reached (memory flat: one lot at a time)."""
    bids = 0
    for item in iter_simulated(seed, lots=10**8, texts=False):
        yield item
        bids += len(item.bids.bids)
        if bids >= target:
            return


def write(path: Path, target: int, seed: int) -> float:
    start = time.perf_counter()
    with path.open("wb") as sink:
        for chunk in to_ocds_package(lots_with_bids(target, seed), names=party_names(seed)):
            sink.write(chunk)
    return time.perf_counter() - start


def child(mode: str, path: Path) -> None:
    """Runs in its own process; prints one JSON line."""
    wall, cpu = time.perf_counter(), time.process_time()
    lots = bids = unusable = events = 0
    with path.open("rb") as stream:
        if mode == "read":
            for result in read_lots(stream):
                if isinstance(result, Unusable):
                    unusable += 1
                else:
                    lots += 1
                    bids += len(result.bids)
        else:
            for _event in ijson.parse(stream):
                events += 1
    out = {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "lots": lots,
        "bids": bids,
        "unusable": unusable,
        "events": events,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }
    print(json.dumps(out))


def measure(mode: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="300,000 and 1,000,000 bids")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    sizes = tuple(args.sizes) if args.sizes else FULL_SIZES if args.full else DEFAULT_SIZES
    print(f"backend: ijson {ijson.backend}; sizes: {', '.join(f'{size:,}' for size in sizes)} bids")
    peaks = []
    with tempfile.TemporaryDirectory(prefix="ggzy-bench-ocds-") as folder:
        for size in sizes:
            path = Path(folder) / f"package-{size}.json"
            wrote = write(path, size, args.seed)
            read = measure("read", path)
            floor = measure("floor", path)
            peaks.append(read["maxrss_mb"])
            print(
                f"{size:>9,} bids  {path.stat().st_size / 2**20:7.1f} MiB  written in {wrote:5.1f} s | "
                f"read_lots {read['bids']:,.0f} bids in {read['lots']:,.0f} lots ({read['unusable']:.0f} unusable): "
                f"{read['wall']:5.1f} s wall, {read['cpu']:5.1f} s CPU, {read['bids'] / read['wall']:,.0f} bids/s wall "
                f"({read['bids'] / read['cpu']:,.0f} per CPU s), "
                f"peak RSS {read['maxrss_mb']:.0f} MiB | floor (ijson events) {floor['cpu']:4.1f} s CPU, "
                f"peak RSS {floor['maxrss_mb']:.0f} MiB | ratio read/floor (CPU) {read['cpu'] / floor['cpu']:.1f}×"
            )
            path.unlink()
    print(f"peak RSS, larger / smaller package: {peaks[-1] / peaks[0]:.2f} (flat ≈ 1.0)")


if __name__ == "__main__":
    main()
