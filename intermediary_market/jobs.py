"""Marketplace jobs: time-driven transitions run by the sweep (``trading.kernel.sweep``), and the
daily credit recomputation run by beat (``tasks.recompute_credit``).

Each handler's ``run`` locks the row, re-checks that it is due and acts (``service``), so a sweep
that runs twice or on two workers at once changes nothing extra. The recomputation rewrites every
snapshot from the records, so running it again changes nothing but ``computed_at``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.blacklist import (
    BLACKLISTING_PREFIX,
    backfill_listing_if_unpublished,
    expire_blacklisting_if_due,
)
from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import advance_delivery_clock_if_due
from intermediary_market.draw import advance_selection_if_due
from intermediary_market.qualifications import suspend_qualification_if_due
from intermediary_market.repository import MarketRepository
from trading.credit.repository import CreditRepository as SharedCreditRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.ledger.service import append_entry


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


class BlacklistCreditBackfill:
    """Listings decided before ``trading.credit`` existed reach it: registration reads only the
    shared records, so a listing missing there would stop barring. Due while any decided listing
    has no shared record; after the first pass after the upgrade, nothing is due again.
    """

    name = "intermediary_market.blacklist_credit_backfill"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:  # noqa: ARG002 - the sweep's protocol; not time-driven
        published = await SharedCreditRepository(session).refs_with_prefix(BLACKLISTING_PREFIX)
        ids = {ref.removeprefix(BLACKLISTING_PREFIX) for ref in published}
        return await MarketRepository(session).unpublished_listings(ids, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:  # noqa: ARG002 - as above
        return await backfill_listing_if_unpublished(session, _uuid(key))


class DeliveryClock:
    """限时办结: a warning before the committed deadline, the overdue mark at it."""

    name = "intermediary_market.delivery_clock"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MarketRepository(session).due_deliveries(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await advance_delivery_clock_if_due(session, _uuid(key), now)


class SelectionClock:
    """The selection's timetable: the list frozen at the close, the draw after the reveal window."""

    name = "intermediary_market.selection_clock"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MarketRepository(session).due_announcements(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await advance_selection_if_due(session, _uuid(key), now)


SWEEP_HANDLERS = (
    QualificationExpiry(),
    BlacklistExpiry(),
    BlacklistCreditBackfill(),
    DeliveryClock(),
    SelectionClock(),
)


async def recompute_credit(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Recompute every intermediary's credit snapshot in one unit of work (idempotent)."""
    async with transaction(session_maker, lock=True) as session:
        now = await clock.now(session)
        count = await CreditService(session).recompute_all(now)
        await append_entry(
            session,
            actor=Actor.system(),
            action="intermediary_market.credit_recomputed",
            subject_type="credit",
            subject_id="all",
            data={"recomputed": count, "at": now.isoformat()},
            summary={"recomputed": count},
        )
        return {"recomputed": count}
