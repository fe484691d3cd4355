"""Submitting an upload: `Submissions.submit` is the entry point. The container is checked outside
any transaction (`bidding.intake.sealing`), then accepted in one: signer, tender FOR SHARE, the
blob promoted and fsynced, the version with its signed receipt and the sealed ledger entry.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client_address import recorded_address
from bidding.errors import (
    BidRefused,
    DeadlinePassed,
    TenderStateConflict,
)
from bidding.guarantees_flow import attach_bid_guarantee, check_bid_guarantee
from bidding.intake.base import BLOB_NAMESPACE, IntakeBase, Receipt, check_credit, receipt_number
from bidding.intake.digests import HASH_STATES, StreamedDigests
from bidding.intake.sealing import CheckedContainer, TenderSnapshot, check_container
from bidding.models import (
    Bid,
    BidStatus,
    BidVersion,
    Lot,
    Tender,
    UploadStatus,
    VersionKind,
)
from bidding.receipts import sign_receipt
from bidding.repository.bids import BidRepository
from bidding.signers import signer_must_be
from bidding.tenders.security import lot_terms
from certs.sign.cades import DetachedSignature
from certs.trustlist.model import fingerprint
from trading.credit.errors import Ineligible
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.storage import Assembled, WholeUpload
from trading.ledger.service import append_entry
from trading.parties.models import Organisation

log = structlog.get_logger(__name__)


class Submissions(IntakeBase):
    """Step 3: check the complete container, then accept it with a signed receipt or refuse it."""

    async def submit(self, actor: Actor, upload_id: uuid.UUID) -> Receipt:
        snapshot = await self._snapshot_for_submission(actor, upload_id)
        # The digests taken while the chunks were received, when this process has them
        # (`bidding.intake.digests`); without them the checks hash the file in one pass.
        return await self._check_and_accept(actor, upload_id, snapshot, HASH_STATES.finished(upload_id))

    async def _check_and_accept(
        self,
        actor: Actor,
        upload_id: uuid.UUID,
        snapshot: TenderSnapshot,
        streamed: StreamedDigests | None,
        whole: WholeUpload | None = None,
    ) -> Receipt:
        """Check and accept the upload's bytes: those the store keeps for a resumable upload, or
        ``whole``, the one request's own (a local file already, on S3 too: no copy back).
        """
        if whole is None:  # S3: the pieces copied once to a local file, the blob written from it
            async with self.store.assembled(upload_id) as assembled:
                return await self._check_and_accept_file(actor, upload_id, snapshot, streamed, assembled)
        return await self._check_and_accept_file(actor, upload_id, snapshot, streamed, whole)

    async def _check_and_accept_file(
        self,
        actor: Actor,
        upload_id: uuid.UUID,
        snapshot: TenderSnapshot,
        streamed: StreamedDigests | None,
        upload: Assembled,
    ) -> Receipt:
        try:
            checked = await asyncio.to_thread(check_container, upload.path, snapshot, streamed)
            return await self._accept(actor, upload_id, snapshot, checked, upload)
        except (BidRefused, DeadlinePassed, TenderStateConflict, Ineligible) as refusal:
            await self._refuse(actor, upload_id, snapshot, refusal, upload)
            raise

    async def _snapshot_for_submission(self, actor: Actor, upload_id: uuid.UUID) -> TenderSnapshot:
        async with self.session_maker() as session:
            upload = await self._upload(session, actor, upload_id)
            self._check_receiving(upload)
            tender = await session.get_one(Tender, upload.tender_id)
            lot = await session.get_one(Lot, upload.lot_id)
            organisation = await session.get_one(Organisation, upload.organisation_id)
            now = await clock.now(session)
            if tender.deadline is None:  # a draft: it never had an open upload
                self._check_open(tender, now)
            assert tender.deadline is not None  # noqa: S101 - refused just above
            snapshot = snapshot_of(tender, lot, organisation, upload.declared_sha256)
            refusal: BidRefused | DeadlinePassed | TenderStateConflict | None = None
            try:
                self._check_open(tender, now)
            except (DeadlinePassed, TenderStateConflict) as closed:
                refusal = closed
            if refusal is None and upload.received != upload.declared_size:
                refusal = BidRefused(
                    f"the upload holds {upload.received} of the declared {upload.declared_size} bytes",
                    field="upload",
                    rule="incomplete",
                )
        if refusal is not None:  # kept as the upload's record, not just answered
            await self._refuse(actor, upload_id, snapshot, refusal)
            raise refusal
        return snapshot

    async def _accept(
        self,
        actor: Actor,
        upload_id: uuid.UUID,
        snapshot: TenderSnapshot,
        checked: CheckedContainer,
        upload_bytes: Assembled,
    ) -> Receipt:
        async with transaction(self.session_maker, lock=True) as session:
            now = await clock.now(session)
            await self._check_signer(session, checked.signed, snapshot, now)
            tender = await self._tender(session, snapshot.code, shared_lock=True)
            self._check_open(tender, now)
            if tender.deadline != snapshot.deadline:
                raise BidRefused(
                    "the deadline moved while the bid was checked; seal it again for the new deadline",
                    field="deadline",
                    rule="binding-mismatch",
                )
            # Asked again at acceptance, not only when the upload started: an upload lives for
            # hours, and a bidder barred meanwhile gets no receipt (the same refusal as at start).
            await check_credit(session, snapshot.bidder_organisation_id, tender, now, uscc=snapshot.bidder_uscc)
            upload = await self._upload(session, actor, upload_id, lock=True)
            self._check_receiving(upload)
            # Issue 17: a guarantee named as the bid security must be on the platform, verify for this
            # tender, lot and bidder, and secure no other bid (checked before the bytes are promoted).
            guarantee = await check_bid_guarantee(
                session,
                self.settings,
                self.store,
                tender_code=snapshot.code,
                lot_code=snapshot.lot_code,
                bidder_uscc=snapshot.bidder_uscc,
                bidder_organisation_id=snapshot.bidder_organisation_id,
                manifest=checked.manifest,
            )
            # Durable (fsynced, or the S3 PUT returned) before the receipt is signed and committed.
            storage_key = await asyncio.to_thread(upload_bytes.promote, BLOB_NAMESPACE, checked.container_sha256)
            bid = await self._bid_for_update(session, snapshot, now)
            number = bid.versions + 1
            version_id = uuid.uuid4()
            receipt_no = receipt_number(now)
            record = {
                "receiptNo": receipt_no,
                "kind": VersionKind.SUBMISSION.value,
                "tender": snapshot.code,
                "lot": snapshot.lot_code,
                "bidder": snapshot.bidder_uscc,
                "bidderName": snapshot.bidder_name,
                "version": number,
                "receivedAt": now.isoformat(),
                "deadline": snapshot.deadline.isoformat(),
                "containerSha256": checked.container_sha256,
                "containerSize": checked.container_size,
                "manifestSha256": checked.manifest_sha256,
                "parts": {kind: {"sha256": p["sha256"], "size": p["size"]} for kind, p in checked.parts.items()},
                "signerCertificateSha256": fingerprint(checked.signed.signer_certificate),
                "replaces": bid.current_version_id.hex
                if bid.current_version_id and bid.status is BidStatus.SUBMITTED
                else None,
            }
            signed = await sign_receipt(session, self.settings, record, client_ip=actor.client_ip, at=now)
            version = BidVersion(
                id=version_id,
                bid_id=bid.id,
                number=number,
                kind=VersionKind.SUBMISSION,
                receipt_no=receipt_no,
                received_at=now,
                submitted_by=actor.user_id,
                upload_id=upload_id,
                container_sha256=checked.container_sha256,
                container_size=checked.container_size,
                storage_key=storage_key,
                manifest=checked.manifest,
                manifest_signature=checked.signature,
                signer_sha256=record["signerCertificateSha256"],
                parts=checked.parts,
                receipt=signed.data,
                receipt_signature=signed.signature,
                submit_ip=recorded_address(actor.client_ip),  # issue 19: for the integrity screens (same IP)
            )
            session.add(version)
            replaced = bid.status is BidStatus.SUBMITTED and bid.current_version_id is not None
            bid.versions = number
            bid.status = BidStatus.SUBMITTED
            bid.current_version_id = version_id
            bid.updated_at = now
            upload.received = checked.container_size  # the one-request path records it only here
            upload.status = UploadStatus.ACCEPTED
            upload.updated_at = now
            upload.next_check = None
            await session.flush()
            # Sealed chain, like the bid. A first version's bid row was made in this transaction, so
            # no guarantee holds it yet: without one to attach there is nothing to look up.
            if guarantee is not None or number > 1:
                await attach_bid_guarantee(session, actor, bid.id, guarantee)
            await append_entry(
                session,
                actor=actor,
                action="bidding.bid_replaced" if replaced else "bidding.bid_submitted",
                subject_type="bidding.bid",
                subject_id=str(bid.id),
                summary={"receipt": receipt_no, "lot": snapshot.lot_code, "version": number},
                data=record,
                project_code=snapshot.code,
                sealed=True,
            )
            receipt = Receipt(receipt_no, json.loads(signed.data), signed.data, signed.signature)
        # Committed: the blob is the bid's now; the upload's own link to the bytes can go.
        upload_bytes.discard()
        log.info("bidding.bid_accepted", tender=snapshot.code, receipt=receipt_no)
        return receipt

    async def _check_signer(
        self, session: AsyncSession, signed: DetachedSignature, snapshot: TenderSnapshot, now: datetime
    ) -> None:
        """The manifest's signer validates for bid signatures now, and is the bidder."""
        await signer_must_be(
            session,
            self.settings,
            signed,
            uscc=snapshot.bidder_uscc,
            at=now,
            refusal=BidRefused,
            signed_what="the package is signed",
            not_by="the bidder",
            rule="signer-not-bidder",
        )

    @staticmethod
    async def _bid_for_update(session: AsyncSession, snapshot: TenderSnapshot, now: datetime) -> Bid:
        """The bidder's bid row for the lot, locked; created on the first submission."""
        first = Bid(
            tender_id=snapshot.tender_id,
            lot_id=snapshot.lot_id,
            organisation_id=snapshot.bidder_organisation_id,
            status=BidStatus.SUBMITTED,
            versions=0,
            created_at=now,
            updated_at=now,
        )
        return await BidRepository(session).bid_locked_or_new(first)

    async def _refuse(
        self,
        actor: Actor,
        upload_id: uuid.UUID,
        snapshot: TenderSnapshot,
        refusal: BidRefused | DeadlinePassed | TenderStateConflict | Ineligible,
        upload_bytes: Assembled | None = None,
    ) -> None:
        """Keep the refusal as the upload's record (and in the sealed ledger), delete the bytes."""
        async with transaction(self.session_maker, lock=True) as session:
            upload = await self._upload(session, actor, upload_id, lock=True)
            if upload.status is not UploadStatus.RECEIVING:
                return
            now = await clock.now(session)
            upload.status = UploadStatus.REFUSED
            upload.refusal = {"field": refusal.field, "rule": refusal.rule, "message": refusal.message}
            upload.updated_at = now
            upload.next_check = None
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.bid_refused",
                subject_type="bidding.upload",
                subject_id=str(upload_id),
                summary={"field": refusal.field, "rule": refusal.rule},
                data={"upload": str(upload_id), "refusal": upload.refusal},
                project_code=snapshot.code,
                sealed=True,
            )
        if upload_bytes is None:
            self.store.discard(upload_id)
        else:
            upload_bytes.discard()


def snapshot_of(tender: Tender, lot: Lot, organisation: Organisation, declared_sha256: str) -> TenderSnapshot:
    """What the checks outside the transaction compare against (the tender has a deadline)."""
    assert tender.deadline is not None  # noqa: S101 - the callers refused a draft
    holders = tender.key_holders or {}
    security = lot_terms(tender, lot)
    return TenderSnapshot(
        tender_id=tender.id,
        code=tender.project_code,
        lot_id=lot.id,
        lot_code=lot.code,
        bidder_organisation_id=organisation.id,
        bidder_uscc=organisation.uscc,
        bidder_name=organisation.name,
        deadline=tender.deadline,
        max_package_bytes=tender.max_package_bytes,
        holder_fingerprints=tuple(h["sha256"] for h in holders.get("holders", [])),
        threshold=int(holders.get("threshold") or 0),
        declared_sha256=declared_sha256,
        security_forms=security.forms if security.required else None,
    )
