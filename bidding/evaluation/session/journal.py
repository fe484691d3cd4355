"""What every session change shares: loading the evaluation with its tender, the current members,
and writing the change three ways in the caller's transaction — a `SessionEvent` row (the journal
the live views show), a ledger entry on the tender's project chain, and an event published after
commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    Evaluation,
    EventKind,
    Member,
    MemberStatus,
    SessionEvent,
    SessionState,
)
from bidding.evaluation.session.errors import EvaluationMissing
from bidding.evaluation.session.events import publish_after_commit
from bidding.evaluation.session.repository import SessionRepository
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.ledger.service import append_entry

SUBJECT = "evaluation.session"


def current(members: Iterable[Member]) -> list[Member]:
    """The members that count now (CONTRACTS15): not voided, confirmed or signed in."""
    return [m for m in members if m.voided_at is None and m.status in {MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN}]


def remaining_seconds(evaluation: Evaluation, now: datetime) -> int | None:
    """What is left of the current state's time limit (kept while paused); None without a limit."""
    if evaluation.paused_at is not None:
        return evaluation.remaining_seconds
    if evaluation.state_ends_at is None:
        return None
    return max(0, int((evaluation.state_ends_at - now).total_seconds()))


def overrun_seconds(evaluation: Evaluation, now: datetime) -> int | None:
    """How long the current state has run past its time limit (0 within it); None while paused or
    without a limit (the time does not run then).
    """
    if evaluation.paused_at is not None or evaluation.state_ends_at is None:
        return None
    return max(0, int((now - evaluation.state_ends_at).total_seconds()))


async def load(repo: SessionRepository, evaluation_id: uuid.UUID, *, lock: bool = True) -> tuple[Evaluation, Tender]:
    evaluation = await repo.evaluation(evaluation_id, lock=lock)
    if evaluation is None:
        raise EvaluationMissing("no such evaluation", field="evaluation", rule="exists")
    tender = await repo.tender(evaluation.tender_id)
    assert tender is not None  # noqa: S101 - a foreign key
    return evaluation, tender


async def ledger(
    session: AsyncSession,
    actor: Actor,
    action: str,
    evaluation: Evaluation,
    tender: Tender,
    *,
    summary: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=str(evaluation.id),
        summary={"state": evaluation.state.value, **(summary or {})},
        data=data or {},
        project_code=tender.project_code,
    )


async def journal(
    session: AsyncSession,
    evaluation: Evaluation,
    kind: EventKind,
    *,
    actor: Actor,
    now: datetime,
    note: str = "",
    member: Member | None = None,
    details: Mapping[str, Any] | None = None,
    from_state: SessionState | None = None,
    to_state: SessionState | None = None,
) -> SessionEvent:
    """A `SessionEvent` row (``details.state``: the state it happened in) and its live event."""
    row = SessionEvent(
        id=uuid7(),
        evaluation_id=evaluation.id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        member_id=member.id if member is not None else None,
        actor_id=actor.user_id,
        note=note,
        details={"state": (from_state or evaluation.state).value, **(details or {})},
        at=now,
    )
    session.add(row)
    await session.flush()
    announce(session, evaluation, kind.value, now)
    return row


def announce(session: AsyncSession, evaluation: Evaluation, kind: str, now: datetime) -> None:
    """The live event: the kind of change and the state, never names or scores."""
    publish_after_commit(
        session,
        evaluation.id,
        {"type": kind, "state": evaluation.state.value, "paused": evaluation.paused_at is not None, "at": now},
    )
