"""评定分离 (``eng-evaluation-separation`` v1): the committee recommends candidates without ranking
them, and the tenderer decides by its published 定标 rules (reference §4.1; local pilots such as
Huangshi 2021).

The committee evaluates with one of the ranking methods (its ``MethodResult``); this step keeps
the first ``settings.recommend`` bids of that ranking (``separation.min``-``max`` in the defaults,
3 by default) and publishes them **sorted by bid key, without ranks, totals or scores**. When a
并列 group straddles the limit, every bid of the group is recommended (so the order inside a tie
never decides who is recommended) and the recommendation is flagged ``recommend_tie_extended``;
fewer valid bids than the limit recommend them all (flag ``valid_bids_few`` carried over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bidding.evaluation.methods.common import (
    METHODS,
    EvaluationRefused,
    Flag,
    MethodCode,
    MethodId,
    MethodResult,
)
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from bidding.evaluation.methods.settings import MethodSettings, require_settings


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Unranked candidates (sorted by key) and the evaluation they come from."""

    method: MethodId
    defaults_version: str
    source: MethodId
    candidates: tuple[str, ...]
    flags: tuple[Flag, ...] = ()

    def as_record(self) -> dict[str, Any]:
        return {
            "method": self.method.code.value,
            "method_version": self.method.version,
            "defaults_version": self.defaults_version,
            "source_method": self.source.code.value,
            "source_method_version": self.source.version,
            "ranked": False,
            "candidates": list(self.candidates),
            "flags": [{"code": f.code, "rule": f.rule, "detail": dict(f.detail)} for f in self.flags],
        }


def recommend(settings: MethodSettings, evaluation: MethodResult, defaults: Defaults = DEFAULTS) -> Recommendation:
    """The unranked recommendation drawn from ``evaluation``'s ranking (module docstring)."""
    if settings.method is not MethodCode.SEPARATION:
        raise EvaluationRefused("the settings are not for 评定分离", field="method", rule="method_mismatch")
    require_settings(settings, defaults)
    order = evaluation.ranking.order
    limit = settings.recommend
    chosen = list(order[:limit])
    flags = [f for f in evaluation.ranking.flags if f.code == "valid_bids_few"]
    if 0 < limit < len(order) and order[limit - 1].rank == order[limit].rank:
        extra = [r for r in order[limit:] if r.rank == order[limit - 1].rank]
        chosen += extra
        flags.append(
            Flag(
                "recommend_tie_extended",
                "reference §4.1 (评定分离)",
                {"limit": limit, "recommended": len(chosen), "bids": [r.key for r in extra]},
            )
        )
    return Recommendation(
        method=METHODS[MethodCode.SEPARATION].id,
        defaults_version=defaults.version,
        source=evaluation.method,
        candidates=tuple(sorted(r.key for r in chosen)),
        flags=tuple(flags),
    )
