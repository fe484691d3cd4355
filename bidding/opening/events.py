"""State-change events of the opening hall, delivered after commit to whoever listens.

Services call `publish_after_commit(session, tender_code, event)` after a change: the event is
buffered on the session and handed to the sinks only when the transaction commits (dropped on
rollback), the same way `trading.kernel.tasks.enqueue` holds tasks back. The live hall (SSE over
Redis pub/sub or in-process) plugs itself in with `add_sink`; by default nothing listens, and
`recorded` keeps the last events for tests and diagnostics.

Events are small and carry no confidential content: ``{"type", "tender", "state", "at", …}``.
A client that reconnects catches up from the current state (``GET /opening/{code}``), not from
a replay of events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.after_commit import AfterCommit

log = structlog.get_logger(__name__)

Sink = Callable[[str, dict[str, Any]], None]
"""Called with (tender code, event) after the change committed; must not raise or block."""

_sinks: list[Sink] = []
recorded: deque[tuple[str, dict[str, Any]]] = deque(maxlen=1000)
"""The latest published events, newest last (diagnostics and tests)."""


def add_sink(sink: Sink) -> None:
    """Plug a listener in (the live hall's pub/sub)."""
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _deliver(events: list[tuple[str, dict[str, Any]]]) -> None:
    for tender_code, payload in events:
        recorded.append((tender_code, payload))
        for sink in _sinks:
            try:
                sink(tender_code, payload)
            except Exception:  # a listener's failure must not break the committed request
                log.exception("opening.event_sink_failed", tender=tender_code, type=payload.get("type"))


_held: AfterCommit[tuple[str, dict[str, Any]]] = AfterCommit("ggzy.opening_events", _deliver)


def publish_after_commit(session: AsyncSession, tender_code: str, event: dict[str, Any]) -> None:
    """Publish ``event`` for ``tender_code`` once ``session`` commits (never if it rolls back)."""
    payload = {key: _jsonable(value) for key, value in event.items()}
    payload.setdefault("tender", tender_code)
    _held.add(session, (tender_code, payload))


def pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    return _held.pending(session)
