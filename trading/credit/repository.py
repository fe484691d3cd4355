"""Row access for credit records: every query of the package lives here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.models import BLOCKING_KINDS, CreditRecord, CreditRecordChange, CreditStatus
from trading.parties.models import Organisation


class CreditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: CreditRecord | CreditRecordChange) -> None:
        self.session.add(row)
        await self.session.flush()

    async def record(self, record_id: uuid.UUID, *, lock: bool = False) -> CreditRecord | None:
        query = select(CreditRecord).where(CreditRecord.id == record_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_ref(self, source_ref: str, *, lock: bool = False) -> CreditRecord | None:
        query = select(CreditRecord).where(CreditRecord.source_ref == source_ref)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def effective_refs(self, refs: Sequence[str] | None, *, prefix: str) -> set[str]:
        """Which of ``refs`` (or, when None, of the references starting with ``prefix``) name an
        effective record: a source's view of what it has published and not yet ended.
        """
        query = select(CreditRecord.source_ref).where(CreditRecord.status == CreditStatus.EFFECTIVE)
        if refs is None:
            query = query.where(CreditRecord.source_ref.startswith(prefix, autoescape=True))
        else:
            query = query.where(CreditRecord.source_ref.in_(list(refs)))
        return set((await self.session.execute(query)).scalars().all())

    async def refs_with_prefix(self, prefix: str) -> set[str]:
        """Every reference a source has published under ``prefix``, whatever the record's status."""
        query = select(CreditRecord.source_ref).where(CreditRecord.source_ref.startswith(prefix, autoescape=True))
        return set((await self.session.execute(query)).scalars().all())

    async def of_uscc(
        self, uscc: str, *, effective_only: bool = False, in_force_at: datetime | None = None
    ) -> Sequence[CreditRecord]:
        """The organisation's records, newest decision first; ``in_force_at``: only the effective
        records whose period holds that moment (what the public may see: not yet, no longer, not).
        """
        query = select(CreditRecord).where(CreditRecord.uscc == uscc)
        if effective_only or in_force_at is not None:
            query = query.where(CreditRecord.status == CreditStatus.EFFECTIVE)
        if in_force_at is not None:
            query = query.where(
                CreditRecord.valid_from <= in_force_at,
                sa.or_(CreditRecord.valid_until.is_(None), CreditRecord.valid_until > in_force_at),
            )
        query = query.order_by(CreditRecord.valid_from.desc(), CreditRecord.id)
        return (await self.session.execute(query)).scalars().all()

    async def in_force(self, uscc: str, at: datetime) -> Sequence[CreditRecord]:
        """Records of a blocking kind in force at ``at``, judged from their period, not their
        status alone: ``at`` may lie in the past (a registration close judged late), when a
        record the sweep has since marked expired still counted. Withdrawn never counts.
        """
        query = (
            select(CreditRecord)
            .where(
                CreditRecord.uscc == uscc,
                CreditRecord.kind.in_(BLOCKING_KINDS),
                CreditRecord.status != CreditStatus.WITHDRAWN,
                CreditRecord.valid_from <= at,
                sa.or_(CreditRecord.valid_until.is_(None), CreditRecord.valid_until > at),
            )
            .order_by(CreditRecord.valid_from, CreditRecord.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def changes(self, record_ids: Iterable[uuid.UUID]) -> Sequence[CreditRecordChange]:
        query = (
            select(CreditRecordChange)
            .where(CreditRecordChange.record_id.in_(list(record_ids)))
            .order_by(CreditRecordChange.at, CreditRecordChange.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def organisation_ids(self, usccs: Iterable[str]) -> dict[str, uuid.UUID]:
        codes = sorted(set(usccs))
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Organisation.uscc, Organisation.id).where(Organisation.uscc.in_(codes))
        )
        return {row.uscc: row.id for row in rows}

    async def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        query = (
            select(CreditRecord.id)
            .where(CreditRecord.next_check.is_not(None), CreditRecord.next_check <= now)
            .order_by(CreditRecord.next_check)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars().all())
