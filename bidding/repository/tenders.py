"""The SQL of tenders: lots, documents, downloads, questions, the keyset-paged search and the
deadline sweep's queue.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import (
    DocumentDownload,
    DocumentKind,
    Lot,
    Question,
    Tender,
    TenderCategory,
    TenderDocument,
    TenderStatus,
)
from trading.kernel.errors import ValidationFailed
from trading.parties.models import Organisation

PUBLIC_STATUSES: Final = frozenset(
    {TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.OPENING, TenderStatus.FAILED, TenderStatus.CANCELLED}
)
"""Tenders anyone may see (drafts only their owners)."""


class TenderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str, *, lock: bool = False) -> Tender | None:
        statement = sa.select(Tender).where(Tender.project_code == code)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def by_code_shared(self, code: str) -> Tender | None:
        """The tender locked FOR SHARE: the deadline sweep takes FOR UPDATE, so a bid commits either
        before the tender closes or sees it closed.
        """
        return await self.session.scalar(
            sa.select(Tender).where(Tender.project_code == code).with_for_update(read=True)
        )

    async def by_id(self, tender_id: uuid.UUID, *, lock: bool = False) -> Tender | None:
        statement = sa.select(Tender).where(Tender.id == tender_id)
        if lock:
            # Re-read the row under the lock, also when the session already holds it.
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def code_taken(self, code: str) -> bool:
        return await self.session.scalar(sa.select(sa.exists().where(Tender.project_code == code))) or False

    async def project_code(self, tender_id: uuid.UUID) -> str | None:
        return await self.session.scalar(sa.select(Tender.project_code).where(Tender.id == tender_id))

    async def due_for_deadline(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Published tenders whose next check (the deadline, or a re-check) has come."""
        statement = (
            sa.select(Tender.id)
            .where(Tender.next_check <= now, Tender.status == TenderStatus.PUBLISHED)
            .order_by(Tender.next_check)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    async def lot(self, tender_id: uuid.UUID, code: str) -> Lot | None:
        return await self.session.scalar(sa.select(Lot).where(Lot.tender_id == tender_id, Lot.code == code))

    async def lots(self, tender_id: uuid.UUID) -> list[Lot]:
        statement = sa.select(Lot).where(Lot.tender_id == tender_id).order_by(Lot.position)
        return list(await self.session.scalars(statement))

    async def delete_lots(self, tender_id: uuid.UUID) -> None:
        await self.session.execute(sa.delete(Lot).where(Lot.tender_id == tender_id))

    async def documents(self, tender_id: uuid.UUID, *, published_only: bool) -> list[TenderDocument]:
        statement = sa.select(TenderDocument).where(TenderDocument.tender_id == tender_id)
        if published_only:
            statement = statement.where(TenderDocument.published_at.is_not(None))
        return list(await self.session.scalars(statement.order_by(TenderDocument.created_at, TenderDocument.id)))

    async def document(self, tender_id: uuid.UUID, document_id: uuid.UUID) -> TenderDocument | None:
        return await self.session.scalar(
            sa.select(TenderDocument).where(TenderDocument.id == document_id, TenderDocument.tender_id == tender_id)
        )

    async def publish_documents(self, tender_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            sa.update(TenderDocument)
            .where(TenderDocument.tender_id == tender_id, TenderDocument.published_at.is_(None))
            .values(published_at=now)
        )

    async def has_downloaded_tender_document(self, tender_id: uuid.UUID, organisation_id: uuid.UUID) -> bool:
        statement = sa.select(
            sa.exists()
            .where(
                DocumentDownload.tender_id == tender_id,
                DocumentDownload.organisation_id == organisation_id,
                DocumentDownload.document_id == TenderDocument.id,
            )
            .where(TenderDocument.kind == DocumentKind.TENDER_DOCUMENT)
        )
        return await self.session.scalar(statement) or False

    async def download_counts(self, tender_id: uuid.UUID) -> tuple[int, int]:
        """How many downloads, and by how many organisations."""
        statement = sa.select(
            sa.func.count(DocumentDownload.id), sa.func.count(sa.distinct(DocumentDownload.organisation_id))
        ).where(DocumentDownload.tender_id == tender_id)
        downloads, downloaders = (await self.session.execute(statement)).one()
        return int(downloads or 0), int(downloaders or 0)

    async def questions(self, tender_id: uuid.UUID, organisation_id: uuid.UUID | None = None) -> list[Question]:
        statement = sa.select(Question).where(Question.tender_id == tender_id)
        if organisation_id is not None:
            statement = statement.where(Question.organisation_id == organisation_id)
        return list(await self.session.scalars(statement.order_by(Question.asked_at, Question.id)))

    async def question_for_answer(self, tender_id: uuid.UUID, question_id: uuid.UUID) -> Question | None:
        """One question of the tender, locked: it is about to be answered."""
        return await self.session.scalar(
            sa.select(Question).where(Question.id == question_id, Question.tender_id == tender_id).with_for_update()
        )

    async def downloaders(self, tender_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str, int, datetime]]:
        statement = (
            sa.select(
                Organisation.id,
                Organisation.name,
                Organisation.uscc,
                sa.func.count(DocumentDownload.id),
                sa.func.min(DocumentDownload.downloaded_at),
            )
            .join(Organisation, Organisation.id == DocumentDownload.organisation_id)
            .where(DocumentDownload.tender_id == tender_id)
            .group_by(Organisation.id, Organisation.name, Organisation.uscc)
            .order_by(sa.func.min(DocumentDownload.downloaded_at), Organisation.id)
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in await self.session.execute(statement)]

    async def owned_by(self, organisation_id: uuid.UUID, *, limit: int) -> list[Tender]:
        """The tenders (drafts included) the organisation runs as tenderee or as agency, newest first."""
        statement = (
            sa.select(Tender)
            .where(
                sa.or_(
                    Tender.tenderee_organisation_id == organisation_id,
                    Tender.agency_organisation_id == organisation_id,
                )
            )
            .order_by(Tender.created_at.desc(), Tender.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    async def search(
        self,
        *,
        organisation_id: uuid.UUID | None,
        q: str | None,
        status: TenderStatus | None,
        category: TenderCategory | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[Tender]:
        visible: sa.ColumnElement[bool] = Tender.status.in_(PUBLIC_STATUSES)
        if organisation_id is not None:
            own = sa.or_(
                Tender.tenderee_organisation_id == organisation_id, Tender.agency_organisation_id == organisation_id
            )
            visible = sa.or_(visible, sa.and_(Tender.status == TenderStatus.DRAFT, own))
        statement = sa.select(Tender).where(visible)
        if q:
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            statement = statement.where(
                sa.or_(Tender.title.ilike(pattern, escape="\\"), Tender.project_code.ilike(pattern, escape="\\"))
            )
        if status is not None:
            statement = statement.where(Tender.status == status)
        if category is not None:
            statement = statement.where(Tender.category == category)
        if after is not None:
            statement = statement.where(sa.tuple_(Tender.created_at, Tender.id) < sa.tuple_(*after))
        statement = statement.order_by(Tender.created_at.desc(), Tender.id.desc()).limit(limit)
        return list(await self.session.scalars(statement))


# --- cursors -------------------------------------------------------------------------------------


def encode_cursor(tender: Tender) -> str:
    raw = f"{tender.created_at.isoformat()}|{tender.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, tender_id = raw.split("|")
        return datetime.fromisoformat(when), uuid.UUID(tender_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not one this API returned", field="cursor", rule="cursor") from exc


# --- results -------------------------------------------------------------------------------------
