#!/usr/bin/env python3
"""Recompute a published intermediary-marketplace lottery (随机选取) from its result JSON.

Standard library only, independent of the platform's code: anyone can check a draw. Usage:

    python scripts/recompute_lottery.py result.json

The result JSON carries ``seed``, ``seed_sha256`` (published before the draw), ``registrants``
and ``winner`` (at the top level or under ``computation``). The script checks that the seed
matches its commitment and that

    index = int(SHA-256(seed LF "lottery" LF registrant_1 LF … registrant_n), big-endian) mod n

over the registrants sorted as strings names the published winner. Exit status 0 when it does.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def recompute(seed: str, registrants: list[str]) -> str:
    ordered = sorted(registrants)
    message = "\n".join([seed, "lottery", *ordered]).encode()
    index = int.from_bytes(hashlib.sha256(message).digest(), "big") % len(ordered)
    return ordered[index]


def main(argv: list[str]) -> int:
    if len(argv) != 2:  # noqa: PLR2004 - the program name and one path
        print("usage: recompute_lottery.py RESULT.json", file=sys.stderr)
        return 2
    document = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    result = document.get("computation", document)
    seed, registrants = result["seed"], result["registrants"]
    if hashlib.sha256(seed.encode()).hexdigest() != result["seed_sha256"]:
        print("MISMATCH: the seed does not match its published SHA-256")
        return 1
    winner = recompute(seed, registrants)
    print(json.dumps({"registrants": len(registrants), "winner": winner}))
    if winner != result["winner"]:
        print(f"MISMATCH: published winner {result['winner']}, recomputed {winner}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
