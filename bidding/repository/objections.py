"""The SQL of objections to the tender documents."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import DocumentObjection


class ObjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_answer(self, tender_id: uuid.UUID, objection_id: uuid.UUID) -> DocumentObjection | None:
        """One objection to the tender, locked: it is about to be answered."""
        return await self.session.scalar(
            sa.select(DocumentObjection)
            .where(DocumentObjection.id == objection_id, DocumentObjection.tender_id == tender_id)
            .with_for_update()
        )

    async def locked(self, objection_id: uuid.UUID) -> DocumentObjection | None:
        """An objection re-read under its lock (the sweep's check of its answer limit)."""
        return await self.session.scalar(
            sa.select(DocumentObjection)
            .where(DocumentObjection.id == objection_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def of_tender(
        self, tender_id: uuid.UUID, organisation_id: uuid.UUID | None = None
    ) -> list[DocumentObjection]:
        """The tender's objections in filing order, or only those of one organisation."""
        statement = sa.select(DocumentObjection).where(DocumentObjection.tender_id == tender_id)
        if organisation_id is not None:
            statement = statement.where(DocumentObjection.organisation_id == organisation_id)
        return list(await self.session.scalars(statement.order_by(DocumentObjection.filed_at)))

    async def has_unanswered(self, tender_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            sa.select(DocumentObjection.id)
            .where(DocumentObjection.tender_id == tender_id, DocumentObjection.answered_at.is_(None))
            .limit(1)
        )
        return found is not None

    async def answer_checks_due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Objections whose answer limit has come (answered or not: the sweep re-checks)."""
        statement = (
            sa.select(DocumentObjection.id)
            .where(DocumentObjection.next_check <= now)
            .order_by(DocumentObjection.next_check)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))
