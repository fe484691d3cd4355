"""The committee part's defaults, shipped as versioned data (``defaults.json``): how long a drawn
expert has to answer, how many reserves a group gets when the spec names none. A deployment
overrides single values with `CommitteeRules.with_overrides`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

MAX_ANSWER_HOURS = 24 * 14


@dataclass(frozen=True, slots=True)
class CommitteeRules:
    version: str
    answer_hours: int
    reserves_default: int
    evaluation_days: int

    @property
    def answer_window(self) -> timedelta:
        return timedelta(hours=self.answer_hours)

    def with_overrides(self, **overrides: Any) -> CommitteeRules:
        updated = replace(self, **overrides)
        updated.check()
        return updated

    def check(self) -> None:
        if not 1 <= self.answer_hours <= MAX_ANSWER_HOURS:
            msg = f"answer_hours: 1 to {MAX_ANSWER_HOURS}, got {self.answer_hours!r}"
            raise ValueError(msg)
        if not 0 <= self.reserves_default <= 99:  # noqa: PLR2004 - the draw's own bound
            msg = f"reserves_default: 0 to 99, got {self.reserves_default!r}"
            raise ValueError(msg)
        if not 1 <= self.evaluation_days <= 31:  # noqa: PLR2004 - the draw's own bound
            msg = f"evaluation_days: 1 to 31, got {self.evaluation_days!r}"
            raise ValueError(msg)


@lru_cache(maxsize=1)
def shipped_rules() -> CommitteeRules:
    raw = json.loads(resources.files(__package__ or __name__).joinpath("defaults.json").read_text("utf-8"))
    rules = CommitteeRules(
        version=str(raw["version"]),
        answer_hours=int(raw["answer_hours"]),
        reserves_default=int(raw["reserves_default"]),
        evaluation_days=int(raw["evaluation_days"]),
    )
    rules.check()
    return rules
