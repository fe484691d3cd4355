"""All SQL of the archive builder: the tender, its published documents and receipts, its ledger
chains and the checkpoints that sign them, earlier archives.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidVersion, Lot, Tender, TenderDocument
from trading.ledger.models import LedgerCheckpoint, LedgerEntry
from trading.ledger.repository import LedgerRepository
from trading.parties.models import Organisation


class ArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tender_for_update(self, code: str) -> Tender | None:
        """The tender row, locked: two builds of one tender queue up (the second sees the first's entry)."""
        return await self.session.scalar(sa.select(Tender).where(Tender.project_code == code).with_for_update())

    async def organisation_name(self, organisation_id: uuid.UUID | None) -> str | None:
        if organisation_id is None:
            return None
        return await self.session.scalar(sa.select(Organisation.name).where(Organisation.id == organisation_id))

    async def published_documents(self, tender_id: uuid.UUID) -> Sequence[TenderDocument]:
        query = (
            sa.select(TenderDocument)
            .where(TenderDocument.tender_id == tender_id, TenderDocument.published_at.is_not(None))
            .order_by(TenderDocument.published_at, TenderDocument.created_at, TenderDocument.id)
        )
        return (await self.session.scalars(query)).all()

    async def bid_versions(self, tender_id: uuid.UUID) -> Sequence[tuple[BidVersion, str]]:
        """Every accepted submission and withdrawal with its lot's code, in the order received."""
        query = (
            sa.select(BidVersion, Lot.code)
            .join(Bid, Bid.id == BidVersion.bid_id)
            .join(Lot, Lot.id == Bid.lot_id)
            .where(Bid.tender_id == tender_id)
            .order_by(BidVersion.received_at, BidVersion.receipt_no)
        )
        return [(version, lot) for version, lot in (await self.session.execute(query)).all()]

    async def unsealed(self, chain: str) -> bool:
        return chain in await LedgerRepository(self.session).unsealed_among([chain])

    async def entries(self, chain: str) -> Sequence[LedgerEntry]:
        query = sa.select(LedgerEntry).where(LedgerEntry.chain == chain).order_by(LedgerEntry.seq)
        return (await self.session.scalars(query)).all()

    async def checkpoints_naming(self, chains: Sequence[str]) -> list[LedgerCheckpoint]:
        """The format-2 checkpoints whose published heads name one of ``chains``, oldest first."""
        wanted = set(chains)
        return [
            checkpoint
            async for checkpoint in LedgerRepository(self.session).checkpoints()
            if checkpoint.format >= 2 and wanted & set(checkpoint.heads)  # noqa: PLR2004 - the format
        ]
