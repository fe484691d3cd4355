"""All marketplace SQL. Repositories flush, never commit (the boundary owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.models import (
    Announcement,
    AnnouncementStatus,
    Blacklisting,
    BlacklistStatus,
    Delivery,
    Qualification,
    Rating,
    Registration,
    ServiceItem,
)
from trading.parties.models import Organisation


class MarketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    # --- service items -------------------------------------------------------------------------

    async def current_items(self) -> Sequence[ServiceItem]:
        return (
            await self.session.scalars(select(ServiceItem).where(ServiceItem.current).order_by(ServiceItem.code))
        ).all()

    async def item_versions(self, code: str) -> Sequence[ServiceItem]:
        rows = await self.session.scalars(
            select(ServiceItem).where(ServiceItem.code == code).order_by(ServiceItem.version)
        )
        return rows.all()

    async def current_item(self, code: str) -> ServiceItem | None:
        return await self.session.scalar(select(ServiceItem).where(ServiceItem.code == code, ServiceItem.current))

    async def retire_item(self, code: str) -> int:
        """Mark the current version of ``code`` superseded; returns the highest version number so far."""
        await self.session.execute(
            update(ServiceItem).where(ServiceItem.code == code, ServiceItem.current).values(current=False)
        )
        latest = await self.session.scalar(select(func.max(ServiceItem.version)).where(ServiceItem.code == code))
        return int(latest or 0)

    # --- qualifications ------------------------------------------------------------------------

    async def qualification(
        self, organisation_id: uuid.UUID, item_code: str, *, lock: bool = False
    ) -> Qualification | None:
        query = select(Qualification).where(
            Qualification.organisation_id == organisation_id, Qualification.item_code == item_code
        )
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def qualification_by_id(self, qualification_id: uuid.UUID, *, lock: bool = False) -> Qualification | None:
        query = select(Qualification).where(Qualification.id == qualification_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def qualifications_of(self, organisation_id: uuid.UUID) -> Sequence[Qualification]:
        rows = await self.session.scalars(
            select(Qualification)
            .where(Qualification.organisation_id == organisation_id)
            .order_by(Qualification.item_code)
        )
        return rows.all()

    async def qualified_organisations(self, limit: int) -> list[tuple[uuid.UUID, str, str]]:
        """(id, name, USCC) of organisations holding at least one qualification, by name."""
        held = select(Qualification.organisation_id).distinct()
        rows = await self.session.execute(
            select(Organisation.id, Organisation.name, Organisation.uscc)
            .where(Organisation.id.in_(held))
            .order_by(Organisation.name, Organisation.id)
            .limit(limit)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def due_qualifications(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Qualification.id)
            .where(Qualification.next_check.is_not(None), Qualification.next_check <= now)
            .order_by(Qualification.next_check)
            .limit(limit)
        )
        return list(rows)

    # --- announcements and registrations -------------------------------------------------------

    async def announcement(self, announcement_id: uuid.UUID, *, lock: bool = False) -> Announcement | None:
        query = select(Announcement).where(Announcement.id == announcement_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def announcements(
        self, *, status: AnnouncementStatus | None = None, limit: int = 100
    ) -> Sequence[Announcement]:
        query = select(Announcement).order_by(Announcement.created_at.desc(), Announcement.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Announcement.status == status)
        return (await self.session.scalars(query)).all()

    async def registrations(self, announcement_id: uuid.UUID) -> Sequence[Registration]:
        rows = await self.session.scalars(
            select(Registration)
            .where(Registration.announcement_id == announcement_id)
            .order_by(Registration.created_at, Registration.id)
        )
        return rows.all()

    async def registration(self, announcement_id: uuid.UUID, organisation_id: uuid.UUID) -> Registration | None:
        return await self.session.scalar(
            select(Registration).where(
                Registration.announcement_id == announcement_id, Registration.organisation_id == organisation_id
            )
        )

    # --- credit --------------------------------------------------------------------------------

    async def rating_for(self, announcement_id: uuid.UUID) -> Rating | None:
        return await self.session.scalar(select(Rating).where(Rating.announcement_id == announcement_id))

    async def ratings_of(self, organisation_id: uuid.UUID) -> Sequence[Rating]:
        rows = await self.session.scalars(
            select(Rating).where(Rating.organisation_id == organisation_id).order_by(Rating.created_at)
        )
        return rows.all()

    async def blacklisting(self, blacklisting_id: uuid.UUID, *, lock: bool = False) -> Blacklisting | None:
        query = select(Blacklisting).where(Blacklisting.id == blacklisting_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def effective_blacklisting(self, organisation_id: uuid.UUID, now: datetime) -> Blacklisting | None:
        return await self.session.scalar(
            select(Blacklisting)
            .where(
                Blacklisting.organisation_id == organisation_id,
                Blacklisting.status == BlacklistStatus.EFFECTIVE,
                Blacklisting.effective_until > now,
            )
            .limit(1)
        )

    async def due_blacklistings(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Blacklisting.id)
            .where(Blacklisting.next_check.is_not(None), Blacklisting.next_check <= now)
            .order_by(Blacklisting.next_check)
            .limit(limit)
        )
        return list(rows)

    # --- delivery ------------------------------------------------------------------------------

    async def delivery(self, announcement_id: uuid.UUID, *, lock: bool = False) -> Delivery | None:
        query = select(Delivery).where(Delivery.announcement_id == announcement_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def delivery_by_id(self, delivery_id: uuid.UUID, *, lock: bool = False) -> Delivery | None:
        query = select(Delivery).where(Delivery.id == delivery_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def overdue_count(self, organisation_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.organisation_id == organisation_id, Delivery.overdue)
        )
        return int(count or 0)

    async def due_deliveries(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Delivery.id)
            .where(Delivery.next_check.is_not(None), Delivery.next_check <= now)
            .order_by(Delivery.next_check)
            .limit(limit)
        )
        return list(rows)
