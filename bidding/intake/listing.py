"""Reading bids: the bidder's own bids and receipts, and who bid for the tender's owners and
overseers once the deadline has passed (a refused attempt is recorded).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from bidding.errors import (
    SealedUntilDeadline,
)
from bidding.intake.base import IntakeBase, Receipt
from bidding.models import (
    Bid,
    BidStatus,
    BidVersion,
    Lot,
    Tender,
    TenderStatus,
)
from bidding.repository.bids import BidRepository
from bidding.visibility import may_list_bidders
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import NotFound, PermissionDenied
from trading.ledger.service import append_entry


@dataclass(frozen=True)
class BidListing:
    organisation_id: uuid.UUID
    organisation_name: str
    uscc: str
    lot_code: str
    status: BidStatus
    versions: int
    receipt_no: str | None
    received_at: datetime | None
    container_sha256: str | None


class BidListings(IntakeBase):
    """The bidder's own bids and receipts; who bid, for the owners after the deadline."""

    async def my_bids(self, actor: Actor, code: str | None = None) -> list[tuple[Tender, Lot, Bid, list[BidVersion]]]:
        """The caller's organisation's bids (every version, newest first), optionally for one tender."""
        organisation_id = self._bidder(actor)
        async with self.session_maker() as session:
            repository = BidRepository(session)
            return [
                (tender, lot, bid, await repository.versions_newest_first(bid.id))
                for bid, tender, lot in await repository.bids_of_organisation(organisation_id, code)
            ]

    async def receipt(self, actor: Actor, receipt_no: str) -> Receipt:
        """One of the caller's own receipts."""
        async with self.session_maker() as session:
            row = await BidRepository(session).version_by_receipt(receipt_no)
            if row is None or row[1].organisation_id != actor.organisation_id:
                raise NotFound("no such receipt", field="receipt", rule="exists")
            return Receipt.of(row[0])

    async def list_bids(self, actor: Actor, code: str) -> list[BidListing]:
        """Who bid: for the tender's owners and overseers (`bidding.visibility.may_list_bidders`),
        after the deadline only. Any other organisation, and before the deadline every role, is
        refused, and the attempt is recorded (committed before the refusal is raised, so the
        audit survives the error).
        """
        async with transaction(self.session_maker, lock=True) as session:
            tender = await self._tender(session, code)
            now = await clock.now(session)
            owner = may_list_bidders(
                actor, tenderee=tender.tenderee_organisation_id, agency=tender.agency_organisation_id
            )
            sealed = tender.status in {TenderStatus.DRAFT, TenderStatus.PUBLISHED} or (
                tender.deadline is not None and now < tender.deadline
            )
            if not owner or sealed:
                await append_entry(
                    session,
                    actor=actor,
                    action="bidding.bids_list_refused",
                    subject_type="bidding.tender",
                    subject_id=str(tender.id),
                    summary={
                        "rule": "owner-or-overseer" if not owner else "sealed-until-deadline",
                        "roles": sorted(r.value for r in actor.roles),
                    },
                    project_code=tender.project_code,
                )
        if not owner:
            raise PermissionDenied(
                "only the tenderee, its agency and the supervisors see who bid; this attempt is recorded",
                field="code",
                rule="owner",
            )
        if sealed:
            raise SealedUntilDeadline(
                "who bid stays secret until the bid deadline (Order 20 Art. 27); this attempt is recorded",
                field="tender",
                rule="sealed-until-deadline",
            )
        async with self.session_maker() as session:
            rows = await BidRepository(session).bidders_of_tender(tender.id)
            return [
                BidListing(
                    organisation_id=organisation.id,
                    organisation_name=organisation.name,
                    uscc=organisation.uscc,
                    lot_code=lot.code,
                    status=bid.status,
                    versions=bid.versions,
                    receipt_no=version.receipt_no if version else None,
                    received_at=version.received_at if version else None,
                    container_sha256=version.container_sha256 if version else None,
                )
                for bid, organisation, lot, version in rows
            ]
