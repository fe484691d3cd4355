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
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.after_commit import AfterCommit

log = structlog.get_logger(__name__)

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


def _deliver(events: list[tuple[str, dict[str, Any]]]) -> None:
    for evaluation_id, payload in events:
        recorded.append((evaluation_id, payload))
        for sink in _sinks:
            try:
                sink(evaluation_id, payload)
            except Exception:  # a listener's failure must not break the committed request
                log.exception(
                    "evaluation.session_event_sink_failed", evaluation=evaluation_id, type=payload.get("type")
                )


# Delivered on the outermost commit, not when a savepoint is released (the pages' `submit` runs
# each action in one; a live page re-reading the state then could see the old one).
_held: AfterCommit[tuple[str, dict[str, Any]]] = AfterCommit("ggzy.evaluation_session_events", _deliver)


def publish_after_commit(session: AsyncSession, evaluation_id: uuid.UUID, event: dict[str, Any]) -> None:
    """Publish ``event`` for the evaluation once ``session`` commits (never if it rolls back)."""
    payload = {key: _jsonable(value) for key, value in event.items()}
    payload.setdefault("evaluation", str(evaluation_id))
    _held.add(session, (str(evaluation_id), payload))


def pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    return _held.pending(session)
