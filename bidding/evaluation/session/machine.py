"""The evaluation session's state machine on the database clock (issue 15 item 3).

preparing → signed-in → qualification-review → detailed-review → scoring → report-signing →
completed: only forward, one step at a time (rule ``forward_one_step``), never while paused
(``not_paused``). Each state gets its time limit from `rules.SessionRules` (``state_ends_at``;
none for preparing and completed) and ``next_check`` with it: when the limit runs out, the sweep
records the overrun (`timelimit`); nothing moves the state by itself.

Preconditions of leaving ``preparing`` and of every later step: at least one current member,
every current member signed in at their seat and no drawn or called member still to answer
(``all_signed_in``: a replacement must confirm and sign in before the session goes on), no seat
left open for a supplementary draw (``committee_places_open``), and a chair elected
(``chair_elected``). Entering ``report-signing``
calls the registered finaliser (`hooks`: the scoring part's ``result.finalise``), which may
refuse; entering ``completed`` needs a report signature (or recorded refusal) of every current
member (``all_signed_report``). After the move, the hook registered for the new state runs in the
same transaction (`hooks.use_entry_hook`: the assistance on entering ``qualification-review``).

Who drives (``chair_drives``): the chair; the platform itself (a system actor: jobs); and for
``completed`` any current member (the report part calls `enter` when the last member signs).
Every transition is a `SessionEvent`, a ledger entry ``evaluation.state_entered`` and a live event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.supplement import open_places
from bidding.evaluation.models import (
    SESSION_ORDER,
    Evaluation,
    EventKind,
    Member,
    MemberStatus,
    SessionEvent,
    SessionState,
)
from bidding.evaluation.session import hooks
from bidding.evaluation.session.errors import NotSessionParty, SessionRefused, SessionStateConflict
from bidding.evaluation.session.journal import current, journal, ledger, load
from bidding.evaluation.session.repository import SessionRepository
from bidding.evaluation.session.rules import SessionRules, shipped_rules
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind


def next_state(state: SessionState) -> SessionState | None:
    index = SESSION_ORDER.index(state)
    return SESSION_ORDER[index + 1] if index + 1 < len(SESSION_ORDER) else None


def check_step(state: SessionState, target: SessionState) -> None:
    """Only forward, one state at a time (pure)."""
    if state is SessionState.COMPLETED:
        raise SessionStateConflict("the session is completed", field="state", rule="forward_only")
    if SESSION_ORDER.index(target) <= SESSION_ORDER.index(state):
        raise SessionStateConflict(f"{target.value} is not after {state.value}", field="state", rule="forward_only")
    if target is not next_state(state):
        raise SessionStateConflict(
            f"{target.value} skips a state after {state.value}", field="state", rule="forward_one_step"
        )


def _driver(actor: Actor, evaluation: Evaluation, members: list[Member], target: SessionState) -> None:
    if actor.kind is ActorKind.SYSTEM:
        return
    chair = next((m for m in members if m.id == evaluation.chair_member_id), None)
    if chair is not None and actor.user_id is not None and chair.user_id == actor.user_id:
        return
    if target is SessionState.COMPLETED and any(m.user_id == actor.user_id for m in members if actor.user_id):
        return
    raise NotSessionParty("only the committee's chair moves the session on", field="actor", rule="chair_drives")


def _ready(evaluation: Evaluation, members: list[Member], awaiting: Sequence[Member] = ()) -> None:
    """``awaiting``: members drawn or called (a reserve, a supplementary draw's expert) who have not
    confirmed yet: they will sit, so the session waits for them as for a member not signed in.
    """
    if not members:
        raise SessionRefused("the committee has no current member", field="members", rule="committee_seated")
    waiting = [m for m in members if m.signed_in_at is None] + list(awaiting)
    if waiting:
        raise SessionRefused(
            f"{len(waiting)} member(s) have not signed in at their seat",
            field="members",
            rule="all_signed_in",
            extra={"waiting": len(waiting)},
        )
    if evaluation.chair_member_id is None or evaluation.chair_member_id not in {m.id for m in members}:
        raise SessionRefused("the committee has not elected its chair", field="chair", rule="chair_elected")


async def _no_open_places(session: AsyncSession, evaluation: Evaluation) -> None:
    """A seat left open when its group's reserves ran out holds the session until a supplementary
    draw (补抽, `committee.supplement`) has filled it.
    """
    repo = CommitteeRepository(session)
    first = await repo.latest_draw(evaluation.id)
    if first is None or first.drawn_at is None:
        return
    places = open_places(first, await repo.supplements(first.id))
    if places:
        raise SessionRefused(
            f"{sum(places.values())} place(s) of the committee are open: a supplementary draw fills them",
            field="members",
            rule="committee_places_open",
            extra={"open": places},
        )


async def enter(
    session: AsyncSession,
    evaluation: Evaluation,
    target: SessionState,
    *,
    actor: Actor,
    rules: SessionRules | None = None,
) -> SessionEvent:
    """Move ``evaluation`` to ``target`` (the next state) in the caller's transaction (see the module
    docstring for the checks); returns the journal's transition event.
    """
    repo = SessionRepository(session)
    evaluation, tender = await load(repo, evaluation.id, lock=True)
    check_step(evaluation.state, target)
    if evaluation.paused_at is not None:
        raise SessionStateConflict("the session is paused", field="state", rule="not_paused")
    everyone = await repo.members(evaluation.id)
    members = current(everyone)
    _driver(actor, evaluation, members, target)
    _ready(evaluation, members, [m for m in everyone if m.voided_at is None and m.status is MemberStatus.NOTIFIED])
    if target is not SessionState.COMPLETED:
        await _no_open_places(session, evaluation)
    if target is SessionState.REPORT_SIGNING:
        finalise = hooks.finaliser()
        if finalise is None:
            raise SessionRefused(
                "no result finaliser is registered on this platform", field="state", rule="result_finaliser"
            )
        await finalise(session, evaluation)
    if target is SessionState.COMPLETED:
        signed = await repo.signatures(evaluation.id)
        missing = [m for m in members if m.id not in signed]
        if missing:
            raise SessionRefused(
                f"{len(missing)} member(s) have not signed the report",
                field="report",
                rule="all_signed_report",
                extra={"missing": len(missing)},
            )
    now = await clock.now(session)
    event = await _move(
        session, evaluation, target, actor=actor, now=now, rules=rules or shipped_rules(), tender=tender
    )
    on_entry = hooks.entry_hook(target)
    if on_entry is not None:
        await on_entry(session, evaluation)
    return event


async def _move(
    session: AsyncSession,
    evaluation: Evaluation,
    target: SessionState,
    *,
    actor: Actor,
    now: datetime,
    rules: SessionRules,
    tender: Tender,
) -> SessionEvent:
    previous = evaluation.state
    limit = rules.limit(target)
    evaluation.state = target
    evaluation.state_entered_at = now
    evaluation.state_ends_at = now + limit if limit is not None else None
    evaluation.next_check = evaluation.state_ends_at  # the sweep records an overrun (`timelimit`)
    evaluation.paused_at = None
    evaluation.remaining_seconds = None
    evaluation.updated_at = now
    if target is SessionState.COMPLETED:
        evaluation.completed_at = now
        for attendance in await SessionRepository(session).attendances(evaluation.id):
            attendance.finished_at = attendance.finished_at or now
    await session.flush()
    event = await journal(
        session,
        evaluation,
        EventKind.TRANSITION,
        actor=actor,
        now=now,
        from_state=previous,
        to_state=target,
        details={"limit_seconds": int(limit.total_seconds()) if limit is not None else None},
    )
    await ledger(
        session,
        actor,
        "evaluation.state_entered",
        evaluation,
        tender,
        summary={"from": previous.value, "rules_version": rules.version},
        data={"ends_at": evaluation.state_ends_at.isoformat() if evaluation.state_ends_at else None},
    )
    return event
