"""The SQL of sealed bids: uploads in progress, bids and their versions (receipts), the listing of
who bid, and the sweep's queue of expiring uploads.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidStatus, BidUpload, BidVersion, Lot, Tender, UploadStatus
from trading.kernel.db.types import uuid7
from trading.parties.models import Organisation


class BidRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- uploads ---------------------------------------------------------------------------------

    async def upload(self, upload_id: uuid.UUID, *, lock: bool = False) -> BidUpload | None:
        statement = sa.select(BidUpload).where(BidUpload.id == upload_id)
        if lock:
            # Re-read under the lock: another request may have moved the offset meanwhile.
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def receiving_uploads_locked(self, tender_id: uuid.UUID) -> list[BidUpload]:
        """The tender's uploads still receiving bytes, locked (the deadline abandons them)."""
        statement = (
            sa.select(BidUpload)
            .where(BidUpload.tender_id == tender_id, BidUpload.status == UploadStatus.RECEIVING)
            .with_for_update()
        )
        return list(await self.session.scalars(statement))

    async def uploads_due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Uploads still receiving whose next check (their expiry) has come."""
        statement = (
            sa.select(BidUpload.id)
            .where(BidUpload.next_check <= now, BidUpload.status == UploadStatus.RECEIVING)
            .order_by(BidUpload.next_check)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    # --- bids ------------------------------------------------------------------------------------

    def _bid_of(self, lot_id: uuid.UUID, organisation_id: uuid.UUID) -> sa.Select[Bid]:
        return sa.select(Bid).where(Bid.lot_id == lot_id, Bid.organisation_id == organisation_id).with_for_update()

    async def bid_locked(self, lot_id: uuid.UUID, organisation_id: uuid.UUID) -> Bid | None:
        """The organisation's bid for the lot, locked."""
        return await self.session.scalar(self._bid_of(lot_id, organisation_id))

    async def bid_locked_or_new(self, new: Bid) -> Bid:
        """The bid row of ``new``'s lot and organisation, locked; ``new``'s values inserted when
        there is none. A first bid is one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (the new row
        is this transaction's until it commits, as good as locked), not a savepoint around a flush:
        two round trips fewer. A concurrent first submission of the same bidder that inserted first
        makes ours insert nothing; then its row is read and locked (waiting for that transaction).
        """
        existing = await self.bid_locked(new.lot_id, new.organisation_id)
        if existing is not None:
            return existing
        columns = {attribute.key: getattr(new, attribute.key) for attribute in sa.inspect(Bid).column_attrs}
        columns["id"] = columns["id"] or uuid7()
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(Bid)
            .values(columns)
            .on_conflict_do_nothing(index_elements=[Bid.lot_id, Bid.organisation_id])
            .returning(Bid)
        )
        inserted: Bid | None = await self.session.scalar(statement)
        if inserted is not None:
            return inserted
        return (await self.session.execute(self._bid_of(new.lot_id, new.organisation_id))).scalar_one()

    async def submitted_count(self, tender_id: uuid.UUID) -> int:
        statement = sa.select(sa.func.count(Bid.id)).where(
            Bid.tender_id == tender_id, Bid.status == BidStatus.SUBMITTED
        )
        return int(await self.session.scalar(statement) or 0)

    async def bids_of_organisation(
        self, organisation_id: uuid.UUID, code: str | None = None
    ) -> list[tuple[Bid, Tender, Lot]]:
        """An organisation's bids with their tender and lot, most recently changed first."""
        statement = (
            sa.select(Bid, Tender, Lot)
            .join(Tender, Tender.id == Bid.tender_id)
            .join(Lot, Lot.id == Bid.lot_id)
            .where(Bid.organisation_id == organisation_id)
            .order_by(Bid.updated_at.desc())
        )
        if code is not None:
            statement = statement.where(Tender.project_code == code)
        return [(bid, tender, lot) for bid, tender, lot in await self.session.execute(statement)]

    async def versions_newest_first(self, bid_id: uuid.UUID) -> list[BidVersion]:
        statement = sa.select(BidVersion).where(BidVersion.bid_id == bid_id).order_by(BidVersion.number.desc())
        return list(await self.session.scalars(statement))

    async def version_of_upload(self, upload_id: uuid.UUID) -> BidVersion | None:
        """The version an upload became (a retried one-request bid answers its receipt again)."""
        return await self.session.scalar(sa.select(BidVersion).where(BidVersion.upload_id == upload_id))

    async def version_by_receipt(self, receipt_no: str) -> tuple[BidVersion, Bid] | None:
        statement = (
            sa.select(BidVersion, Bid).join(Bid, Bid.id == BidVersion.bid_id).where(BidVersion.receipt_no == receipt_no)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def bidders_of_tender(self, tender_id: uuid.UUID) -> list[tuple[Bid, Organisation, Lot, BidVersion | None]]:
        """Every bid of the tender with its bidder, lot and current version, by lot and name."""
        statement = (
            sa.select(Bid, Organisation, Lot, BidVersion)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(Lot, Lot.id == Bid.lot_id)
            .outerjoin(BidVersion, BidVersion.id == Bid.current_version_id)
            .where(Bid.tender_id == tender_id)
            .order_by(Lot.position, Organisation.name)
        )
        return [
            (bid, organisation, lot, version)
            for bid, organisation, lot, version in await self.session.execute(statement)
        ]
