"""Recompute the opening hall's random coefficients (浮动系数, K) from the revealed seeds, with the
standard library only (the bidder's machine, an outside verifier).

A restatement of `bidding.coefficients` (the platform's, on `trading.kernel.draws`); a test holds
them equal. For each coefficient the hall publishes ``low``, ``high``, ``step``, ``purpose``, the
seed's SHA-256 (``seedCommitment``, from the opening's start) and, once drawn, ``seed`` and
``value``::

    grid  = [low + step·i for i in 0 … (high - low) / step]      (each as str(Decimal))
    index = int(SHA-256(seed LF purpose LF grid_0 LF … grid_{n-1}), big-endian) mod n
    value = grid[index]
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def grid(low: Decimal, high: Decimal, step: Decimal) -> list[Decimal]:
    count = int((high - low) / step) + 1
    return [low + step * i for i in range(count)]


def recompute(seed: str, purpose: str, low: Decimal, high: Decimal, step: Decimal) -> Decimal:
    values = grid(low, high, step)
    message = "\n".join([seed, purpose, *(str(v) for v in values)]).encode()
    return values[int.from_bytes(hashlib.sha256(message).digest(), "big") % len(values)]


def check(coefficient: Mapping[str, Any]) -> dict[str, Any]:
    """One published coefficient checked: ``commitmentMatches`` (the seed hashes to the commitment
    published before the prices), ``recomputed`` and ``valueMatches`` (None before the draw).
    """
    seed = coefficient.get("seed")
    if not seed:
        return {"name": coefficient.get("name"), "drawn": False, "commitmentMatches": None, "valueMatches": None}
    low, high, step = (Decimal(str(coefficient[key])) for key in ("low", "high", "step"))
    recomputed = recompute(str(seed), str(coefficient["purpose"]), low, high, step)
    digest = hashlib.sha256(str(seed).encode()).hexdigest()
    return {
        "name": coefficient.get("name"),
        "drawn": True,
        "value": coefficient.get("value"),
        "recomputed": str(recomputed),
        "commitmentMatches": hmac.compare_digest(digest, str(coefficient.get("seedCommitment") or "")),
        "valueMatches": coefficient.get("value") is not None and Decimal(str(coefficient["value"])) == recomputed,
    }
