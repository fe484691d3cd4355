"""The session's defaults as shipped data (``data/session.json``): each state's time limit, the
extension granted when more than the configured share of current members ask for more time, the
share itself. Versioned; a deployment or a test passes its own `SessionRules`. Pure: no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, Final

from bidding.evaluation.models import SessionState

SHIPPED_PACKAGE: Final = "bidding.evaluation.session.data"
SHIPPED_FILE: Final = "session.json"


@dataclass(frozen=True, slots=True)
class SessionRules:
    version: str
    limits: Mapping[SessionState, timedelta | None]
    extension: timedelta
    extension_share: Fraction
    """More than this share of the current members asking extends the limit (exactly it does not)."""
    max_note: int = 2000
    max_reason: int = 500

    def limit(self, state: SessionState) -> timedelta | None:
        return self.limits.get(state)

    def extends(self, asking: int, members: int) -> bool:
        """Whether ``asking`` of ``members`` current members is more than the share (pure)."""
        return members > 0 and Fraction(asking, members) > self.extension_share


def parse(data: Mapping[str, Any]) -> SessionRules:
    """Rules from the shipped shape; raises ``ValueError`` naming what is wrong."""
    limits: dict[SessionState, timedelta | None] = {}
    raw_limits = data["limits_minutes"]
    for state in SessionState:
        minutes = raw_limits.get(state.value)
        if minutes is not None and (not isinstance(minutes, int) or minutes <= 0):
            msg = f"limits_minutes.{state.value}: a positive number of minutes or null"
            raise ValueError(msg)
        limits[state] = timedelta(minutes=minutes) if minutes is not None else None
    share = Fraction(int(data["extension_share"]["numerator"]), int(data["extension_share"]["denominator"]))
    if not 0 < share < 1:
        msg = "extension_share: strictly between 0 and 1"
        raise ValueError(msg)
    extension = int(data["extension_minutes"])
    if extension <= 0:
        msg = "extension_minutes: positive"
        raise ValueError(msg)
    return SessionRules(
        version=str(data["version"]),
        limits=limits,
        extension=timedelta(minutes=extension),
        extension_share=share,
        max_note=int(data.get("max_incident_note", 2000)),
        max_reason=int(data.get("max_reason", 500)),
    )


@cache
def shipped_rules() -> SessionRules:
    text = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    return parse(json.loads(text))
