"""What the session's machine calls in other parts' code, plugged in by the server.

Entering ``report-signing`` computes the evaluation's result: the scoring part's
``bidding.evaluation.scoring.result.finalise(session, evaluation)`` (it refuses with rule
``art64_unresolved`` while an Art. 64 finding is open, and sets ``Evaluation.result``). The session
part does not import the scoring part; `trading.server.wiring.register_evaluation_hooks` hands it
over with `use_finaliser`. With none registered, entering ``report-signing`` is refused (rule
``result_finaliser``): a report without a computed result is never started.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Evaluation


class Finaliser(Protocol):
    async def __call__(self, session: AsyncSession, evaluation: Evaluation, /) -> object:
        """Compute and store ``evaluation.result`` in the caller's transaction, or raise a refusal."""
        ...


_finaliser: list[Finaliser] = []


def use_finaliser(finaliser: Finaliser | None) -> Finaliser | None:
    """Register the result's finaliser (None removes it); returns the previous one (tests restore it)."""
    previous = _finaliser[0] if _finaliser else None
    _finaliser.clear()
    if finaliser is not None:
        _finaliser.append(finaliser)
    return previous


def finaliser() -> Finaliser | None:
    return _finaliser[0] if _finaliser else None
