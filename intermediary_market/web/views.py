"""What the marketplace pages show beside the services' rows: the delivery clock, and the reads
the pages need that no service offers yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import WARNING_BEFORE
from intermediary_market.models import Announcement, AnnouncementStatus, Blacklisting, Delivery
from intermediary_market.service import MarketService
from trading.parties.models import Organisation

# --- the delivery clock ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockView:
    state: str
    """``running``, ``warning``, ``overdue``, ``completed`` or ``completed_late`` (:data:`CLOCK_LABELS`)."""
    remaining: timedelta
    """Until the deadline (negative once past)."""

    @property
    def days(self) -> int:
        return int(self.remaining.total_seconds() // 86400)

    @property
    def hours(self) -> int:
        return int(abs(self.remaining.total_seconds()) % 86400 // 3600)


def clock_view(delivery: Delivery, now: datetime) -> ClockView:
    remaining = delivery.due_at - now
    if delivery.completed_at is not None:
        return ClockView("completed_late" if delivery.overdue else "completed", delivery.due_at - delivery.completed_at)
    if delivery.overdue or now >= delivery.due_at:
        return ClockView("overdue", remaining)
    if delivery.warned_at is not None or now >= delivery.due_at - WARNING_BEFORE:
        return ClockView("warning", remaining)
    return ClockView("running", remaining)


# --- credit as the pages show it ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditView:
    """An intermediary's credit as the pages show it: the snapshot when there is one, else computed."""

    score: Decimal
    grade: str
    components: dict[str, Any] = field(default_factory=dict)
    red_listed: bool = False
    blacklisted: bool = False
    computed_at: datetime | None = None


async def credit_view(
    session: AsyncSession, market: MarketService, organisation_id: uuid.UUID, now: datetime
) -> CreditView:
    line = await CreditService(session).line(organisation_id, now)
    if line is not None:
        return CreditView(
            line.score, line.grade, dict(line.components), line.red_listed, line.blacklisted, line.computed_at
        )
    score = await market.credit_of(organisation_id)
    listed = await market.repo.effective_blacklisting(organisation_id, now) is not None
    return CreditView(
        score.total,
        score.grade,
        {
            "regulator": str(score.regulator),
            "public_credit": str(score.public_credit),
            "social": str(score.social),
            "overdue_deduction": str(score.overdue_deduction),
        },
        blacklisted=listed,
    )


# --- reads no service offers yet -------------------------------------------------------------------


async def organisation_names(session: AsyncSession, ids: Iterable[object]) -> dict[str, str]:
    """``str(id) → name`` of the organisations named in ``ids`` (strings or UUIDs)."""
    wanted = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return {}
    rows = await session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return {str(row_id): name for row_id, name in rows.all()}


async def organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def selections_won(session: AsyncSession, organisation_id: uuid.UUID, limit: int = 100) -> Sequence[Announcement]:
    rows = await session.scalars(
        sa.select(Announcement)
        .where(
            Announcement.winner_organisation_id == organisation_id,
            Announcement.status == AnnouncementStatus.SELECTED,
        )
        .order_by(Announcement.decided_at.desc(), Announcement.id)
        .limit(limit)
    )
    return rows.all()


async def deliveries_of(session: AsyncSession, organisation_id: uuid.UUID) -> list[tuple[Delivery, Announcement]]:
    """The deliveries assigned to an intermediary, with their announcements, newest first."""
    rows = await session.execute(
        sa.select(Delivery, Announcement)
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .where(Delivery.organisation_id == organisation_id)
        .order_by(Delivery.filed_at.desc(), Delivery.id)
        .limit(100)
    )
    return [(row[0], row[1]) for row in rows.all()]


async def blacklistings(session: AsyncSession, organisation_id: uuid.UUID | None = None) -> Sequence[Blacklisting]:
    """Blacklistings, newest notice first; only one intermediary's when ``organisation_id`` is given."""
    query = sa.select(Blacklisting).order_by(Blacklisting.noticed_at.desc(), Blacklisting.id).limit(200)
    if organisation_id is not None:
        query = query.where(Blacklisting.organisation_id == organisation_id)
    return (await session.scalars(query)).all()
