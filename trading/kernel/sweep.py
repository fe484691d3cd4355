"""The periodic sweep that runs time-driven transitions (``next_check``).

Objects that change state with time (a membership that expires, later a bid deadline or a
publicity period) store when they next need a look in a ``next_check`` column. The sweep asks each
registered handler for the objects that are due and runs each one in its own unit of work.

Handlers must be idempotent: lock the row, re-check that it is still due, act, and move
``next_check`` on. That is what makes a sweep that runs twice, late, or on two workers at once
change nothing extra: the second one to get the lock finds the row no longer due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import structlog

from trading.kernel import clock
from trading.kernel.db.uow import transaction

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)


class DueHandler(Protocol):
    name: str

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        """Keys of objects whose ``next_check`` is at or before ``now``."""
        ...

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        """Lock the object, re-check it is due, transition it. True when something changed."""
        ...


@dataclass
class SweepReport:
    changed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


_handlers: dict[str, DueHandler] = {}


def register(handler: DueHandler) -> None:
    """Add ``handler`` to the sweep. Two different kinds of handler under one name is a wiring
    mistake (the bid deadline's core handler closes tenders without starting their opening; only
    the opening's subclass may be registered), so it fails at start-up instead of the last winning.
    """
    known = _handlers.get(handler.name)
    if known is not None and type(known) is not type(handler):
        msg = (
            f"sweep handler {handler.name!r} registered as {type(known).__qualname__} and {type(handler).__qualname__}"
        )
        raise ValueError(msg)
    _handlers[handler.name] = handler


def registered() -> list[DueHandler]:
    return list(_handlers.values())


async def run_sweep(
    session_maker: async_sessionmaker[AsyncSession],
    handlers: Sequence[DueHandler] | None = None,
    *,
    batch: int = 200,
) -> SweepReport:
    """Run every due transition once. Each object gets its own transaction, so one failure
    neither blocks nor rolls back the others; it is retried at the next sweep.
    """
    report = SweepReport()
    for handler in handlers if handlers is not None else registered():
        async with transaction(session_maker) as session:
            now = await clock.now(session)
            keys = list(await handler.due(session, now, batch))
        for key in keys:
            try:
                async with transaction(session_maker, lock=True) as session:
                    now = await clock.now(session)
                    changed = await handler.run(session, key, now)
            except Exception:
                log.exception("sweep.transition_failed", handler=handler.name, key=str(key))
                report.failed[handler.name] = report.failed.get(handler.name, 0) + 1
                continue
            if changed:
                report.changed[handler.name] = report.changed.get(handler.name, 0) + 1
    return report
