"""Bidding jobs: time-driven transitions run by the sweep (``trading.kernel.sweep``).

Each handler's ``run`` locks the row, re-checks that it is due and acts, so a sweep that runs
twice, late, or on two workers at once changes nothing extra.

* `TenderDeadline`: at the bid deadline (by the database clock) a published tender closes: no bid
  changes any more, the project's sealed ledger chain is opened (who downloaded, uploaded, bid),
  the counts of bids and downloads are recorded, and uploads still in progress are abandoned.
  In the same transaction what ``at_close`` names begins: the platform runs the opening's
  subclass (`bidding.opening.jobs.TenderDeadline`), whose ``at_close`` starts the opening (a
  session in sign-in, or — with fewer than ``rules["min_bidders"]`` bids in every lot — 流标). Core
  does not import the opening (import contract): the opening plugs itself in here.
* `AbandonedUploads`: an upload not completed by its ``expires_at`` is abandoned and its partial
  bytes deleted; it never counted as a bid.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import objections
from bidding.models import Tender, TenderStatus, UploadStatus
from bidding.repository.bids import BidRepository
from bidding.repository.objections import ObjectionRepository
from bidding.repository.tenders import TenderRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import get_settings
from trading.kernel.storage import Store, open_store
from trading.ledger.service import append_entry, unseal_chain

AtClose = Callable[[AsyncSession, Tender, datetime], Awaitable[object]]
"""What begins in a tender's closing transaction (the opening, `bidding.opening.stages.start_opening`)."""


def _uuid(key: object) -> uuid.UUID:
    if not isinstance(key, uuid.UUID):
        msg = f"keys are UUIDs, got {type(key).__name__}"
        raise TypeError(msg)
    return key


def _default_store() -> Store:
    return open_store(get_settings())


class _WithStore:
    """Handlers delete partial uploads from the file store; the default is the configured one."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = _default_store()
        return self._store


async def close_tender_if_due(
    session: AsyncSession, tender_id: uuid.UUID, now: datetime, store: Store, at_close: Sequence[AtClose] = ()
) -> bool:
    """Close a published tender whose deadline has passed, then begin what ``at_close`` names in the
    same transaction; True when it changed.
    """
    tender = await TenderRepository(session).by_id(tender_id, lock=True)
    if tender is None or tender.next_check is None or tender.next_check > now:
        return False
    if tender.status is not TenderStatus.PUBLISHED or tender.deadline is None:
        tender.next_check = None
        await session.flush()
        return False
    if tender.deadline > now:
        # Extended since it was scheduled: look again at the new deadline.
        tender.next_check = tender.deadline
        await session.flush()
        return False
    if await objections.has_unanswered(session, tender.id):
        # Suspended by an unanswered objection to the documents (实施条例 Art. 22): not closed; the
        # answer moves the deadline, and the sweep looks again meanwhile.
        tender.next_check = now + objections.RECHECK_SUSPENDED
        await session.flush()
        return False
    tender.status = TenderStatus.CLOSED
    tender.closed_at = now
    tender.next_check = None
    tender.updated_at = now
    bids_repo = BidRepository(session)
    uploads = await bids_repo.receiving_uploads_locked(tender.id)
    for upload in uploads:
        # An incomplete transmission at the deadline is deemed withdrawn (Order 20 Art. 27).
        upload.status = UploadStatus.ABANDONED
        upload.next_check = None
        upload.updated_at = now
    await session.flush()
    await unseal_chain(session, tender.project_code, now)
    bids = await bids_repo.submitted_count(tender.id)
    downloads, downloaders = await TenderRepository(session).download_counts(tender.id)
    # The counts were secret until now (Order 20 Art. 21); at the deadline they are published.
    summary = {"bids": bids, "downloads": downloads, "downloaders": downloaders}
    await append_entry(
        session,
        actor=Actor.system(),
        action="bidding.tender_closed",
        subject_type="bidding.tender",
        subject_id=str(tender.id),
        data={**summary, "deadline": tender.deadline, "abandoned_uploads": [str(u.id) for u in uploads]},
        summary={**summary, "abandoned_uploads": len(uploads)},
        project_code=tender.project_code,
    )
    for begin in at_close:
        await begin(session, tender, now)
    for upload in uploads:
        store.discard(upload.id)
    return True


async def abandon_upload_if_due(session: AsyncSession, upload_id: uuid.UUID, now: datetime, store: Store) -> bool:
    """Abandon an upload still receiving at its expiry and delete its partial bytes."""
    upload = await BidRepository(session).upload(upload_id, lock=True)
    if upload is None or upload.next_check is None or upload.next_check > now:
        return False
    if upload.status is not UploadStatus.RECEIVING:
        upload.next_check = None
        await session.flush()
        return False
    if upload.expires_at > now:
        upload.next_check = upload.expires_at
        await session.flush()
        return False
    upload.status = UploadStatus.ABANDONED
    upload.next_check = None
    upload.updated_at = now
    await session.flush()
    project_code = await TenderRepository(session).project_code(upload.tender_id)
    # Sealed: the upload names a prospective bidder.
    await append_entry(
        session,
        actor=Actor.system(),
        action="bidding.upload_abandoned",
        subject_type="bidding.upload",
        subject_id=str(upload.id),
        data={"organisation_id": str(upload.organisation_id), "received": upload.received},
        summary={"rule": "upload_expired"},
        project_code=project_code,
        sealed=True,
    )
    store.discard(upload.id)
    return True


class TenderDeadline(_WithStore):
    """Bid deadline → closed: unseal the project's ledger chain, publish the counts."""

    name = "bidding.tender_deadline"
    at_close: ClassVar[tuple[AtClose, ...]] = ()

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await TenderRepository(session).due_for_deadline(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await close_tender_if_due(session, _uuid(key), now, self.store, self.at_close)


class AbandonedUploads(_WithStore):
    """An upload not completed by its expiry is abandoned (never a bid)."""

    name = "bidding.abandoned_uploads"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await BidRepository(session).uploads_due(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await abandon_upload_if_due(session, _uuid(key), now, self.store)


class DocumentObjectionAnswerDue:
    """An objection to the documents unanswered at its limit is recorded as overdue, once."""

    name = "bidding.document_objection_answer_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await ObjectionRepository(session).answer_checks_due(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await objections.record_overdue_if_due(session, _uuid(key), now)


SWEEP_HANDLERS = (AbandonedUploads(), DocumentObjectionAnswerDue())
"""The deadline's handler is the opening's (`bidding.opening.jobs.SWEEP_HANDLERS`): it starts the opening."""
