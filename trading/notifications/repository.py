"""All SQL of notifications: notices, deliveries, addresses, and who belongs to an organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from trading.notifications.models import (
    DeliveryStatus,
    EmailAddress,
    EmailDelivery,
    Notice,
    NoticeReading,
    RecipientKind,
)
from trading.parties.models import Membership, MembershipStatus, User


def _visible_to(user_id: uuid.UUID, organisation_id: uuid.UUID | None) -> sa.ColumnElement[bool]:
    mine = sa.and_(Notice.recipient_kind == RecipientKind.USER, Notice.recipient_id == user_id)
    if organisation_id is None:
        return mine
    ours = sa.and_(Notice.recipient_kind == RecipientKind.ORGANISATION, Notice.recipient_id == organisation_id)
    return sa.or_(mine, ours)


def _read_by(user_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(NoticeReading.notice_id == Notice.id, NoticeReading.user_id == user_id)


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def notice_for_event(self, event_key: str, kind: RecipientKind, recipient_id: uuid.UUID) -> Notice | None:
        return await self.session.scalar(
            sa.select(Notice).where(
                Notice.event_key == event_key, Notice.recipient_kind == kind, Notice.recipient_id == recipient_id
            )
        )

    async def inbox(
        self, user_id: uuid.UUID, organisation_id: uuid.UUID | None, *, limit: int, offset: int
    ) -> list[tuple[Notice, datetime | None]]:
        """Each notice with ``user_id``'s own reading time (None: unread to them)."""
        statement = (
            sa.select(Notice, NoticeReading.read_at)
            .outerjoin(NoticeReading, _read_by(user_id))
            .where(_visible_to(user_id, organisation_id))
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [(notice, read_at) for notice, read_at in await self.session.execute(statement)]

    async def unread_count(self, user_id: uuid.UUID, organisation_id: uuid.UUID | None) -> int:
        statement = (
            sa.select(sa.func.count())
            .select_from(Notice)
            .where(_visible_to(user_id, organisation_id), ~sa.exists().where(_read_by(user_id)))
        )
        return int(await self.session.scalar(statement) or 0)

    async def read_at(self, notice_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        return await self.session.scalar(
            sa.select(NoticeReading.read_at).where(
                NoticeReading.notice_id == notice_id, NoticeReading.user_id == user_id
            )
        )

    async def visible_notice(
        self, notice_id: uuid.UUID, user_id: uuid.UUID, organisation_id: uuid.UUID | None, *, lock: bool = False
    ) -> Notice | None:
        statement = sa.select(Notice).where(Notice.id == notice_id, _visible_to(user_id, organisation_id))
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def notice(self, notice_id: uuid.UUID) -> Notice | None:
        return await self.session.get(Notice, notice_id)

    # --- e-mail ---------------------------------------------------------------------------------

    async def active_member_ids(self, organisation_id: uuid.UUID) -> list[uuid.UUID]:
        statement = (
            sa.select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.status == MembershipStatus.ACTIVE,
                User.active.is_(True),
            )
            .distinct()
        )
        return list(await self.session.scalars(statement))

    async def addresses(self, user_ids: Sequence[uuid.UUID]) -> list[EmailAddress]:
        if not user_ids:
            return []
        statement = sa.select(EmailAddress).where(EmailAddress.user_id.in_(user_ids)).order_by(EmailAddress.user_id)
        return list(await self.session.scalars(statement))

    async def address_of(self, user_id: uuid.UUID, *, lock: bool = False) -> EmailAddress | None:
        statement = sa.select(EmailAddress).where(EmailAddress.user_id == user_id)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def user_locale(self, user_id: uuid.UUID) -> str | None:
        return await self.session.scalar(sa.select(User.locale).where(User.id == user_id))

    async def locked_delivery(self, delivery_id: uuid.UUID) -> EmailDelivery | None:
        return await self.session.scalar(
            sa.select(EmailDelivery)
            .where(EmailDelivery.id == delivery_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def due_deliveries(self, now: datetime, limit: int) -> list[uuid.UUID]:
        statement = (
            sa.select(EmailDelivery.id)
            .where(EmailDelivery.status == DeliveryStatus.PENDING, EmailDelivery.next_check <= now)
            .order_by(EmailDelivery.next_check)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    async def deliveries_of(self, notice_id: uuid.UUID) -> list[EmailDelivery]:
        statement = sa.select(EmailDelivery).where(EmailDelivery.notice_id == notice_id).order_by(EmailDelivery.address)
        return list(await self.session.scalars(statement))
