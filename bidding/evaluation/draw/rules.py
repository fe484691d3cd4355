"""The draw's thresholds: versioned defaults shipped as data (``draw_rules.json``), never constants.

The file names its ``version`` and where each default comes from; a draw records the version it ran
under (`DrawRules.version`), so a later change of the defaults never changes how an earlier draw is
judged. A deployment overrides single values with `DrawRules.with_overrides` (the pool's settings).
Pure: reading the shipped file is the only I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Final

RULES_FILE: Final = "draw_rules.json"


class DrawRulesError(ValueError):
    """A rules file or override that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class DrawRules:
    version: str
    conflict_lookback_years_engineering: int
    """A declared conflict counts when its period reaches into this many years before the evaluation
    (0: only a conflict in force on an evaluation day)."""
    conflict_lookback_years_gp: int
    max_draws_per_tenderee: int
    """N: an expert already drawn N times for the same tenderee within the window is avoided
    (a further draw would make it more than N)."""
    frequency_months: int
    """M: the window, in calendar months ending on the draw day."""
    draw_earliest_working_days_engineering: int | None
    """The draw is not earlier than this many working days before the evaluation (None: no rule)."""
    draw_earliest_working_days_gp: int | None

    def conflict_lookback_years(self, *, government_procurement: bool) -> int:
        return self.conflict_lookback_years_gp if government_procurement else self.conflict_lookback_years_engineering

    def draw_earliest_working_days(self, *, government_procurement: bool) -> int | None:
        if government_procurement:
            return self.draw_earliest_working_days_gp
        return self.draw_earliest_working_days_engineering

    def with_overrides(self, overrides: Mapping[str, Any]) -> DrawRules:
        """These rules with single values replaced (keys are the field names; ``version`` should
        change with them so draws record which edition they ran under).
        """
        known = set(self.__dataclass_fields__)
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise DrawRulesError(f"unknown draw rule(s): {', '.join(unknown)}")
        updated = replace(self, **dict(overrides))
        updated.check()
        return updated

    def check(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise DrawRulesError("version: name the edition of the rules")
        for name in (
            "conflict_lookback_years_engineering",
            "conflict_lookback_years_gp",
            "max_draws_per_tenderee",
            "frequency_months",
        ):
            _non_negative(name, getattr(self, name))
        if self.frequency_months < 1 or self.max_draws_per_tenderee < 1:
            raise DrawRulesError("frequency: max_draws and months are at least 1")
        for name in ("draw_earliest_working_days_engineering", "draw_earliest_working_days_gp"):
            value = getattr(self, name)
            if value is not None:
                _non_negative(name, value)


def _non_negative(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DrawRulesError(f"{name}: a whole number ≥ 0, got {value!r}")


def parse_rules(data: Any) -> DrawRules:
    """Read a rules document (the layout of ``draw_rules.json``)."""
    try:
        lookback, frequency, earliest = (
            data["conflict_lookback_years"],
            data["frequency"],
            data["draw_earliest_working_days"],
        )
        rules = DrawRules(
            version=data["version"],
            conflict_lookback_years_engineering=lookback["engineering"],
            conflict_lookback_years_gp=lookback["government_procurement"],
            max_draws_per_tenderee=frequency["max_draws"],
            frequency_months=frequency["months"],
            draw_earliest_working_days_engineering=earliest["engineering"],
            draw_earliest_working_days_gp=earliest["government_procurement"],
        )
    except (KeyError, TypeError) as exc:
        raise DrawRulesError(f"the draw rules miss {exc}") from exc
    rules.check()
    return rules


def shipped_rules() -> DrawRules:
    """The defaults shipped with the platform."""
    raw = resources.files(__package__ or "bidding.evaluation.draw").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(json.loads(raw))
