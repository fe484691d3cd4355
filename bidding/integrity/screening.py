"""The screening plumbing: which lot screeners run when, and what starts them.

A screener is any async callable ``(session, lot) -> findings`` (`LotScreener`). The integrator
registers each with the moment it runs at (`Trigger`) and the scope its findings belong to::

    register_screener(Trigger.OPENING, Scope.LOT_PRICES, price_screener)

Four moments:

* ``Trigger.OPENING``: once a tender's opening is closed (the opening's ``stage``/``closed`` event,
  delivered after commit), for every lot of the tender (``lot.lot`` is None for a single-lot one).
* ``Trigger.EVALUATION``: once an evaluation enters ``report-signing`` (its scores are all in and
  the result is computed), for the evaluation (``lot.evaluation_id`` set).
* ``Trigger.AWARD``: once the award decides a winner (confirmed, or the next candidate after one
  was passed over): the award enqueues ``integrity.screen_award`` by name in its unit of work (it
  leaves after commit), for each lot the award covers, with the winner known (PRICE-CEILING).
* ``Trigger.MARKET``: the batch task ``integrity.recompute_market`` (beat, daily) and, per newly
  opened lot, ``integrity.screen_opening`` runs the market screeners for that tender's lots too.

The opening and the evaluation may not import integrity (import contract); their events reach
`on_opening_event` and `on_evaluation_event`, which `plug` adds as sinks (the server calls it in
web and worker processes). A sink only publishes a task by name; the job (`bidding.integrity.jobs`)
does the work in its own unit of work, and records each screener's findings idempotently.
While no screener is registered for a moment, its sink publishes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.session import events as evaluation_events
from bidding.integrity.screens.model import Finding, Scope
from bidding.integrity.screens.rules import RuleSet
from bidding.opening import events as opening_events
from trading.kernel import tasks

log = structlog.get_logger(__name__)

SCREEN_OPENING_TASK = "integrity.screen_opening"
SCREEN_EVALUATION_TASK = "integrity.screen_evaluation"
RECOMPUTE_MARKET_TASK = "integrity.recompute_market"
SCREEN_AWARD_TASK = "integrity.screen_award"  # `bidding.award.award.SCREEN_AWARD_TASK`, by name


class Trigger(StrEnum):
    OPENING = "opening"
    EVALUATION = "evaluation"
    MARKET = "market"
    AWARD = "award"


@dataclass(frozen=True, slots=True)
class LotContext:
    """What a screener is asked about: one lot of one tender (or the market, ``ocid`` "market")."""

    trigger: Trigger
    ocid: str  # the tender's project code
    lot: str | None  # the lot's code; None for a single-lot tender or the market
    rules: RuleSet  # the rules in force (each rule's current stored version)
    tender_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
    evaluation_id: uuid.UUID | None = None
    award_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class LotScore:
    """A screener's combined score of the lot, recorded for the market's distributions."""

    score: float
    flagged: bool
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """What a screener may return instead of bare findings: the findings and the lot's score."""

    findings: Sequence[Finding] = ()
    lot_score: LotScore | None = None


class LotScreener(Protocol):
    async def __call__(self, session: AsyncSession, lot: LotContext, /) -> Sequence[Finding] | ScreenResult:
        """Screen ``lot`` (read only; the job records what it returns). Must not commit."""
        ...


@dataclass(frozen=True, slots=True)
class Registered:
    trigger: Trigger
    scope: Scope
    screener: LotScreener
    name: str


_screeners: list[Registered] = []


def register_screener(trigger: Trigger, scope: Scope, screener: LotScreener, *, name: str = "") -> None:
    """Run ``screener`` at ``trigger``; its findings are recorded under ``scope``. Registering the
    same screener for the same moment twice keeps one.
    """
    label = name or getattr(screener, "__qualname__", type(screener).__name__)
    if any(r.trigger is trigger and r.screener is screener for r in _screeners):
        return
    _screeners.append(Registered(trigger, scope, screener, label))


def unregister_screener(screener: LotScreener) -> None:
    _screeners[:] = [r for r in _screeners if r.screener is not screener]


def screeners(trigger: Trigger) -> list[Registered]:
    return [r for r in _screeners if r.trigger is trigger]


# --- the stages' events ---------------------------------------------------------------------------


def on_opening_event(tender_code: str, event: dict[str, Any]) -> None:
    """The opening closed (after commit): screen the tender's lots in a task."""
    if event.get("type") == "stage" and event.get("state") == "closed" and screeners(Trigger.OPENING):
        tasks.publish_now(SCREEN_OPENING_TASK, code=tender_code)


def on_evaluation_event(evaluation_id: str, event: dict[str, Any]) -> None:
    """The evaluation's scores are all in (it entered ``report-signing``): screen it in a task."""
    if event.get("state") == "report-signing" and screeners(Trigger.EVALUATION):
        tasks.publish_now(SCREEN_EVALUATION_TASK, evaluation_id=evaluation_id)


def plug() -> None:
    """Listen to the opening's and the evaluation's events (idempotent)."""
    opening_events.add_sink(on_opening_event)
    evaluation_events.add_sink(on_evaluation_event)
