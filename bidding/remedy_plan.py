"""The decryption-failure remedy plan a tender publishes (解密失败补救方案, Order 20 Art. 31).

Part of the public tender data (the tender API and page), so a bidder knows before bidding which
remedies it can count on: the key holders' escrow (k of n) and the backup channel. Core tender
data, read by the opening (`bidding.opening.remedy` runs the backup channel, the escrow is
`bidding.opening.services.escrow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def remedy_plan(key_holders: Mapping[str, Any], rules: Mapping[str, Any] | None) -> dict[str, Any]:
    """Which remedies this tender offers when a bid cannot be decrypted, as published."""
    holders = list(key_holders.get("holders", []))
    escrow = bool(key_holders.get("remedy")) and bool(holders)
    return {
        "escrow": escrow,
        "escrowThreshold": key_holders.get("threshold") if escrow else None,
        "keyHolders": len(holders) if escrow else 0,
        "backup": bool((rules or {}).get("decryption_backup_allowed", True)),
        "backupWindow": "decryption",
    }
