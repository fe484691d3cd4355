"""The rating rules of the pool, as shipped data (``data/rules.json``), and what they decide.

An agency rates each expert after an evaluation (0–100). Over the rules' window the ratings decide
two things (domain-rules §3.3, the Zhejiang expert rules):

* an average below ``low_average.threshold`` over at least ``low_average.minimum_ratings`` ratings
  in ``low_average.window_days`` → the expert is suspended for ``suspension_days``
  (``action: "suspend"``), or only flagged for the centre to decide (``action: "propose"``);
* at least ``senior.minimum_ratings`` ratings in ``senior.window_days``, every one at least
  ``senior.minimum_score`` → 资深专家 (senior).

Every threshold is a default in the versioned file, never a constant in code. Pure: no database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any, Final

SHIPPED_PACKAGE: Final = "bidding.evaluation.pool.data"
SHIPPED_FILE: Final = "rules.json"
ACTIONS: Final = frozenset({"suspend", "propose"})


@dataclass(frozen=True, slots=True)
class RatingRules:
    version: str
    score_min: int
    score_max: int
    low_threshold: int
    low_window: timedelta
    low_minimum_ratings: int
    low_action: str
    suspension: timedelta
    senior_window: timedelta
    senior_minimum_ratings: int
    senior_minimum_score: int


def _int(section: dict[str, Any], key: str, low: int, high: int) -> int:
    value = section.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"rules: {key} must be a whole number in {low}–{high}")
    return value


def parse(data: bytes) -> RatingRules:
    document = json.loads(data.decode("utf-8"))
    low = document["low_average"]
    senior = document["senior"]
    score_min = _int(document, "score_min", 0, 0)
    score_max = _int(document, "score_max", 1, 1000)
    action = low.get("action")
    if action not in ACTIONS:
        raise ValueError(f"rules: low_average.action is one of {sorted(ACTIONS)}")
    return RatingRules(
        version=str(document["version"]),
        score_min=score_min,
        score_max=score_max,
        low_threshold=_int(low, "threshold", score_min, score_max),
        low_window=timedelta(days=_int(low, "window_days", 1, 3660)),
        low_minimum_ratings=_int(low, "minimum_ratings", 1, 1000),
        low_action=action,
        suspension=timedelta(days=_int(low, "suspension_days", 1, 3660)),
        senior_window=timedelta(days=_int(senior, "window_days", 1, 3660)),
        senior_minimum_ratings=_int(senior, "minimum_ratings", 1, 1000),
        senior_minimum_score=_int(senior, "minimum_score", score_min, score_max),
    )


def shipped() -> RatingRules:
    return parse(resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FILE).read_bytes())


@dataclass(frozen=True, slots=True)
class RatingVerdict:
    """What the ratings in the windows say, with the numbers that say it (shown on the pages)."""

    low_count: int
    low_average: Decimal | None
    low_average_breached: bool
    senior_count: int
    senior: bool


def judge(rules: RatingRules, ratings: Sequence[tuple[datetime, int]], now: datetime) -> RatingVerdict:
    """The verdict on ``(rated_at, score)`` pairs as of ``now``."""
    low = [score for at, score in ratings if now - rules.low_window < at <= now]
    average = (Decimal(sum(low)) / len(low)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if low else None
    breached = average is not None and len(low) >= rules.low_minimum_ratings and average < rules.low_threshold
    recent = [score for at, score in ratings if now - rules.senior_window < at <= now]
    senior = len(recent) >= rules.senior_minimum_ratings and all(s >= rules.senior_minimum_score for s in recent)
    return RatingVerdict(len(low), average, breached, len(recent), senior)
