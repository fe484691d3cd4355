"""What every assistance check returns: findings with their evidence, never a decision.

A finding names its ``code`` (the labels table `bidding.evaluation.assistance.labels` gives the
English sentence, translated in the zh_CN catalogue, formatted with ``params``), its severity, the
bid (the bidder's USCC as the response names it), where in the response it points (a JSON path
such as ``$.bill[12].lineTotal``, and the bill line's code), the numbers as strings in ``params``
and, for arithmetic, the corrected amount the law's precedence gives. ``basis`` names the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    """To confirm or note (a proposed objective score, a corrected amount)."""
    WARNING = "warning"
    """The committee should look: an arithmetic error, an abnormally low price (ask for an explanation)."""
    SERIOUS = "serious"
    """A ground for rejection if confirmed: a missing or deviating ★ response, a qualification not met,
    a blocking credit record."""


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    bid: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    line: str | None = None
    corrected: Decimal | None = None
    basis: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "bid": self.bid,
            "path": self.path,
            "line": self.line,
            "params": dict(self.params),
            "corrected": None if self.corrected is None else str(self.corrected),
            "basis": self.basis,
        }


def money(value: Decimal) -> str:
    """An amount as the findings show it: two decimals, thousands separated (1,234.50)."""
    return f"{value:,.2f}"
