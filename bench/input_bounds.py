"""The request-level JSON check (trading.kernel.api.bounds) on hostile 2 MB bodies, against a floor.

It runs for every route before any guard, for anybody, so its cost on the largest accepted body
is a denial-of-service bound. Floor: ``json.loads`` of the same bytes (what parsing alone costs).

    .venv/bin/python bench/input_bounds.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from trading.kernel.api.bounds import MAX_TEXT_BODY_BYTES, _check_json
from trading.kernel.errors import DomainError


def _fill(unit: bytes, *, head: bytes = b"[", tail: bytes = b"]") -> bytes:
    count = (MAX_TEXT_BODY_BYTES - len(head) - len(tail)) // (len(unit) + 1)
    return head + b",".join([unit] * count) + tail


BODIES = {
    "small arrays [[1],[1],...]": _fill(b"[1]"),
    "small arrays + one escaped NUL (forces the walk)": _fill(b"[1]", head=b'["\\u0000",'),
    "nested 32 deep, repeated": _fill(b"[" * 31 + b"1" + b"]" * 31),
    "one 2 MB string": b'"' + b"x" * (MAX_TEXT_BODY_BYTES - 2) + b'"',
    "short strings": _fill(b'"ab"'),
    "escaped surrogate pairs": _fill(b'"\\ud83d\\ude00"'),
}


def best_of(runs: int, call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(DomainError):
            call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print(f"{'body':52} {'bytes':>9} {'check ms':>9} {'json.loads ms':>14}")
    for name, body in BODIES.items():
        check = best_of(5, lambda body=body: _check_json(body))
        floor = best_of(5, lambda body=body: json.loads(body))
        print(f"{name:52} {len(body):>9} {check * 1000:>9.1f} {floor * 1000:>14.1f}")


if __name__ == "__main__":
    main()
