"""The assistance's configurable defaults, from a versioned data file (``data/thresholds-1.json``);
a tender (or a test) passes its own `Thresholds` to override them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "thresholds-1.json"


@dataclass(frozen=True)
class Thresholds:
    version: str
    abnormally_low_share: Decimal
    """A valid price below this share of the mean of the valid prices is abnormally low."""
    abnormally_low_minimum_bids: int
    """No mean (and no prompt) with fewer valid prices than this."""


@cache
def defaults() -> Thresholds:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    share = Decimal(raw["abnormallyLowShare"])
    if not Decimal(0) < share < 1:
        raise ValueError(f"{DATA}: abnormallyLowShare must lie between 0 and 1")
    return Thresholds(raw["version"], share, int(raw["abnormallyLowMinimumBids"]))
