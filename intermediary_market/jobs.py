"""Marketplace jobs: time-driven transitions run by the sweep (``trading.kernel.sweep``).

Each handler's ``run`` locks the row, re-checks that it is due and acts (``service``), so a sweep
that runs twice or on two workers at once changes nothing extra.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import expire_blacklisting_if_due
from intermediary_market.delivery import advance_delivery_clock_if_due
from intermediary_market.repository import MarketRepository
from intermediary_market.service import suspend_qualification_if_due


def _uuid(key: object) -> uuid.UUID:
    if not isinstance(key, uuid.UUID):
        msg = f"keys are UUIDs, got {type(key).__name__}"
        raise TypeError(msg)
    return key


class QualificationExpiry:
    """An expired qualification suspends the intermediary for that item until it is renewed."""

    name = "intermediary_market.qualification_expiry"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MarketRepository(session).due_qualifications(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await suspend_qualification_if_due(session, _uuid(key), now)


class BlacklistExpiry:
    """An effective blacklisting ends at ``effective_until``."""

    name = "intermediary_market.blacklist_expiry"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MarketRepository(session).due_blacklistings(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await expire_blacklisting_if_due(session, _uuid(key), now)


class DeliveryClock:
    """限时办结: a warning before the committed deadline, the overdue mark at it."""

    name = "intermediary_market.delivery_clock"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MarketRepository(session).due_deliveries(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await advance_delivery_clock_if_due(session, _uuid(key), now)


SWEEP_HANDLERS = (QualificationExpiry(), BlacklistExpiry(), DeliveryClock())
