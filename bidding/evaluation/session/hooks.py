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

from bidding.evaluation.models import Evaluation, SessionState


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


class EntryHook(Protocol):
    async def __call__(self, session: AsyncSession, evaluation: Evaluation, /) -> object:
        """Work another part does when the session enters a state, in the caller's transaction, after
        the state is set (e.g. the assistance on entering ``qualification-review``); must be idempotent.
        """
        ...


_entry_hooks: dict[SessionState, EntryHook] = {}


def use_entry_hook(state: SessionState, hook: EntryHook | None) -> EntryHook | None:
    """Register the hook run on entering ``state`` (None removes it); returns the previous one."""
    previous = _entry_hooks.pop(state, None)
    if hook is not None:
        _entry_hooks[state] = hook
    return previous


def entry_hook(state: SessionState) -> EntryHook | None:
    return _entry_hooks.get(state)
