"""Time limits that act without moving the state (issue 15 item 3): when a state's time runs out
while the session is not paused, the overrun is recorded — never acted on by moving the state, the
committee decides how to go on, and the record is what the domain rules want.

``Evaluation.next_check`` follows ``state_ends_at``: set on entering a state (`machine`), cleared on
pause, restored on resume and on an extension (`conduct`). The sweep's handler `TimeLimitDue` takes
each due evaluation in its own unit of work; `record_if_exceeded` locks the row, re-checks and acts
once: a `SessionEvent` of kind ``time-exceeded`` in the session journal (which also publishes the
live event on ``evaluation:<id>``), the ledger entry ``evaluation.time_exceeded``, and an inbox
notice (``evaluation.time_exceeded``) to the chair and to the hosting organisation.

**Once per allowance** (the rule chosen): a state's allowance of time starts when the state is
entered and again with every extension (more than 1/3 of the members asked); at most one exceedance
is recorded per allowance. A pause and a resume do not open a new allowance: a session paused after
its time ran out and resumed with nothing left records nothing more. An extension that then runs
out again records a second exceedance, for the new end. The journal is the memory of that rule
(`exceeded`: a ``time-exceeded`` event after the state's last ``extension``), so a repeated or
concurrent sweep, or a ``next_check`` restored by a resume, changes nothing extra.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Evaluation, EventKind, SessionEvent, SessionState
from bidding.evaluation.session.journal import journal, ledger
from bidding.evaluation.session.repository import SessionRepository
from trading.kernel.auth.identity import Actor
from trading.notifications import service as notifications

ACTION: Final = "evaluation.time_exceeded"
NOTICE: Final = "evaluation.time_exceeded"
HANDLER: Final = "evaluation.session_time_due"


def exceeded(events: Iterable[SessionEvent], state: SessionState) -> SessionEvent | None:
    """The exceedance recorded for ``state``'s current allowance, if any (pure): the latest
    ``time-exceeded`` event of the state when no ``extension`` came after it.
    """
    latest: SessionEvent | None = None
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        if event.details.get("state") != state.value:
            continue
        if event.kind is EventKind.EXTENSION:
            latest = None
        elif event.kind is EventKind.TIME_EXCEEDED:
            latest = event
    return latest


def _still_due(evaluation: Evaluation, now: datetime) -> bool:
    """Re-check under the lock; puts ``next_check`` where it belongs when the row is not due."""
    ends = evaluation.state_ends_at
    if evaluation.paused_at is not None or ends is None or evaluation.state is SessionState.COMPLETED:
        evaluation.next_check = None  # paused or without a limit: resume/extension set it again
        return False
    if ends > now:
        evaluation.next_check = ends  # extended meanwhile: due at the new end
        return False
    evaluation.next_check = None
    return True


async def record_if_exceeded(session: AsyncSession, evaluation_id: uuid.UUID, now: datetime) -> bool:
    """Record the overrun of ``evaluation_id``'s current state once (see the module docstring);
    True when this call recorded it. Never changes the state.
    """
    repo = SessionRepository(session)
    evaluation = await repo.evaluation(evaluation_id, lock=True)
    if evaluation is None or evaluation.next_check is None or evaluation.next_check > now:
        return False  # another sweep got here first, or the row moved on
    if not _still_due(evaluation, now):
        await session.flush()
        return False
    state_events = await repo.state_events(
        evaluation.id, evaluation.state, (EventKind.TIME_EXCEEDED, EventKind.EXTENSION)
    )
    if exceeded(state_events, evaluation.state) is not None:
        await session.flush()
        return False  # this allowance's overrun is recorded already (e.g. a resume with nothing left)
    tender = await repo.tender(evaluation.tender_id)
    assert tender is not None  # noqa: S101 - a foreign key
    ends = evaluation.state_ends_at
    assert ends is not None  # noqa: S101 - `_still_due`
    overrun = int((now - ends).total_seconds())
    allowance = 1 + sum(1 for e in state_events if e.kind is EventKind.EXTENSION)
    await session.flush()
    system = Actor.system()
    await journal(
        session,
        evaluation,
        EventKind.TIME_EXCEEDED,
        actor=system,
        now=now,
        details={"ends_at": ends.isoformat(), "overrun_seconds": overrun, "allowance": allowance},
    )
    await ledger(
        session,
        system,
        ACTION,
        evaluation,
        tender,
        summary={"allowance": allowance, "overrun_seconds": overrun},
        data={"ends_at": ends.isoformat()},
    )
    params = {
        "project_code": tender.project_code,
        "title": tender.title,
        "state": evaluation.state.value,
        "ends_at": ends.isoformat(),
    }
    key = f"{NOTICE}:{evaluation.id}:{evaluation.state.value}:{allowance}"
    base = f"/evaluation/e/{evaluation.id}"
    recipients = [(notifications.Recipient.organisation(evaluation.host_organisation_id), f"{base}/host")]
    chair = await repo.member(evaluation.chair_member_id) if evaluation.chair_member_id else None
    if chair is not None and chair.voided_at is None and chair.user_id is not None:
        recipients.append((notifications.Recipient.user(chair.user_id), f"{base}/session"))
    for recipient, path in recipients:
        await notifications.publish(
            session,
            recipient=recipient,
            template=NOTICE,
            key=key,
            params={**params, "path": path},
            project_code=tender.project_code,
        )
    return True


class TimeLimitDue:
    """The sweep's handler: evaluations whose ``next_check`` (the state's end) has come."""

    name = HANDLER

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await SessionRepository(session).due_time_limits(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"evaluation keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await record_if_exceeded(session, key, now)
