"""The session's state-change events, delivered after commit to whoever listens (the live pages).

The same mechanism as the opening hall's (`bidding.opening.events`, which this package may not
import): services call `publish_after_commit(session, evaluation_id, event)`; the event waits on the
session and reaches the sinks only when the transaction commits (dropped on rollback). The server
plugs the live broker in (`trading.server.live`: Redis pub/sub, channel ``evaluation:<id>``).

Events are small and carry no confidential content — no names, no scores:
``{"type", "evaluation", "state", "at", …}``. A page that reconnects re-reads the state.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

_BUFFER_KEY: Final = "ggzy.evaluation_session_events"
Sink = Callable[[str, dict[str, Any]], None]
"""Called with (evaluation id, event) after the change committed; must not raise or block."""

_sinks: list[Sink] = []
recorded: deque[tuple[str, dict[str, Any]]] = deque(maxlen=1000)
"""The latest delivered events, newest last (diagnostics and tests)."""


def channel_of(evaluation_id: uuid.UUID | str) -> str:
    return f"evaluation:{evaluation_id}"


def add_sink(sink: Sink) -> None:
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def publish_after_commit(session: AsyncSession, evaluation_id: uuid.UUID, event: dict[str, Any]) -> None:
    """Publish ``event`` for the evaluation once ``session`` commits (never if it rolls back)."""
    payload = {key: _jsonable(value) for key, value in event.items()}
    payload.setdefault("evaluation", str(evaluation_id))
    session.sync_session.info.setdefault(_BUFFER_KEY, []).append((str(evaluation_id), payload))


def pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    return list(session.sync_session.info.get(_BUFFER_KEY, []))


@sa_event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    # SQLAlchemy also fires ``after_commit`` when a savepoint is released (the pages' `submit`
    # runs each action in one): the outer transaction has not committed yet, so a live page that
    # re-read the state now could see the old one. Keep the events for the outer commit.
    if session.in_nested_transaction():
        return
    events = session.info.pop(_BUFFER_KEY, None)
    for evaluation_id, payload in events or ():
        recorded.append((evaluation_id, payload))
        for sink in _sinks:
            try:
                sink(evaluation_id, payload)
            except Exception:  # a listener's failure must not break the committed request
                log.exception(
                    "evaluation.session_event_sink_failed", evaluation=evaluation_id, type=payload.get("type")
                )


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_BUFFER_KEY, None)
