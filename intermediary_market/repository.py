"""The marketplace's row access (items, qualifications, announcements, registrations, ratings,
blacklistings, deliveries, complaints, credit inputs) and the reads the pages show; the credit
aggregates are in :mod:`intermediary_market.credit_repository`. Together they hold all marketplace
SQL. Repositories flush, never commit (the boundary owns the transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.credit_repository import blacklisting_in_force
from intermediary_market.models import (
    Announcement,
    AnnouncementStatus,
    Blacklisting,
    BlacklistStatus,
    Complaint,
    ComplaintStatus,
    CreditInput,
    Delivery,
    Qualification,
    Rating,
    Registration,
    ServiceItem,
)
from trading.parties.models import Organisation, OrganisationKind


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

    async def organisation_exists(self, organisation_id: uuid.UUID) -> bool:
        found = await self.session.scalar(select(Organisation.id).where(Organisation.id == organisation_id))
        return found is not None

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

    async def due_qualifications(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Qualification.id)
            .where(Qualification.next_check.is_not(None), Qualification.next_check <= now)
            .order_by(Qualification.next_check)
            .limit(limit)
        )
        return list(rows)

    # --- announcements and registrations -------------------------------------------------------

    async def due_announcements(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Announcement.id)
            .where(
                Announcement.status == AnnouncementStatus.OPEN,
                Announcement.next_check.is_not(None),
                Announcement.next_check <= now,
            )
            .order_by(Announcement.next_check)
            .limit(limit)
        )
        return list(rows)

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
            .where(Blacklisting.organisation_id == organisation_id, blacklisting_in_force(now))
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

    async def unpublished_listings(self, published: set[str], limit: int) -> list[uuid.UUID]:
        """Decided listings (effective or expired) whose id is not among ``published`` credit
        references' ids: compared in Python, the references hold the id as text on every dialect.
        """
        rows = await self.session.scalars(
            select(Blacklisting.id)
            .where(
                Blacklisting.decided_at.is_not(None),
                Blacklisting.status.in_((BlacklistStatus.EFFECTIVE, BlacklistStatus.EXPIRED)),
            )
            .order_by(Blacklisting.decided_at, Blacklisting.id)
        )
        return [row for row in rows if str(row) not in published][:limit]

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

    # --- complaints ----------------------------------------------------------------------------

    async def complaint(self, complaint_id: uuid.UUID, *, lock: bool = False) -> Complaint | None:
        query = select(Complaint).where(Complaint.id == complaint_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def complaints(self, *, status: ComplaintStatus | None = None, limit: int = 500) -> Sequence[Complaint]:
        query = select(Complaint).order_by(Complaint.filed_at, Complaint.id).limit(limit)
        if status is not None:
            query = query.where(Complaint.status == status)
        return (await self.session.scalars(query)).all()

    async def upheld_count(self, organisation_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.organisation_id == organisation_id, Complaint.status == ComplaintStatus.UPHELD)
        )
        return int(count or 0)

    # --- credit inputs -------------------------------------------------------------------------

    async def credit_input(self, organisation_id: uuid.UUID, year: int, *, lock: bool = False) -> CreditInput | None:
        query = select(CreditInput).where(CreditInput.organisation_id == organisation_id, CreditInput.year == year)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def latest_credit_input(self, organisation_id: uuid.UUID) -> CreditInput | None:
        return await self.session.scalar(
            select(CreditInput)
            .where(CreditInput.organisation_id == organisation_id)
            .order_by(CreditInput.year.desc())
            .limit(1)
        )

    # --- what the pages show -------------------------------------------------------------------

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def intermediary_organisations(self, limit: int = 500) -> list[tuple[uuid.UUID, str]]:
        """``(id, name)`` of the organisations of the intermediary kind, by name (the centre's choices)."""
        rows = await self.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == OrganisationKind.INTERMEDIARY)
            .order_by(Organisation.name)
            .limit(limit)
        )
        return [(row_id, name) for row_id, name in rows.all()]

    async def organisation_names(self, ids: Iterable[object]) -> dict[str, str]:
        """``str(id) → name`` of the organisations named in ``ids`` (strings or UUIDs; others are skipped)."""
        wanted = set()
        for value in ids:
            try:
                wanted.add(uuid.UUID(str(value)))
            except ValueError:
                continue
        if not wanted:
            return {}
        rows = await self.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
        return {str(row_id): name for row_id, name in rows.all()}

    async def selections_won(self, organisation_id: uuid.UUID, limit: int = 100) -> Sequence[Announcement]:
        rows = await self.session.scalars(
            select(Announcement)
            .where(
                Announcement.winner_organisation_id == organisation_id,
                Announcement.status == AnnouncementStatus.SELECTED,
            )
            .order_by(Announcement.decided_at.desc(), Announcement.id)
            .limit(limit)
        )
        return rows.all()

    async def deliveries_of(self, organisation_id: uuid.UUID, limit: int = 100) -> list[tuple[Delivery, Announcement]]:
        """The deliveries assigned to an intermediary, with their announcements, newest first."""
        rows = await self.session.execute(
            select(Delivery, Announcement)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .where(Delivery.organisation_id == organisation_id)
            .order_by(Delivery.filed_at.desc(), Delivery.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows.all()]

    async def blacklistings(self, organisation_id: uuid.UUID | None = None, limit: int = 200) -> Sequence[Blacklisting]:
        """Blacklistings, newest notice first; only one intermediary's when ``organisation_id`` is given."""
        query = select(Blacklisting).order_by(Blacklisting.noticed_at.desc(), Blacklisting.id).limit(limit)
        if organisation_id is not None:
            query = query.where(Blacklisting.organisation_id == organisation_id)
        return (await self.session.scalars(query)).all()
