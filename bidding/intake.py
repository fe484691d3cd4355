"""Sealed bid intake: resumable uploads, the checks of a container, bid versions and receipts.

Unlike other services, `IntakeService` opens its own units of work: an upload spans a large
transfer and seconds of hashing, and no transaction (on SQLite: the database's one write lock)
should stay open across them. Each step is a short transaction:

1. ``start_upload`` — the tender is open by the database clock, the size within its limit.
2. ``receive`` — a chunk: the recorded offset is re-read under the file's lock, the bytes are
   written, the new offset recorded. An interrupted transfer resumes from the recorded offset.
3. ``submit`` — outside any transaction: the container's structure (four STORED entries, no
   overlap), its digests in one pass, the manifest, the envelopes' cleartext headers (bound to
   this tender, lot, bidder and deadline) and the manifest signature's integrity. Then one
   transaction: the signer's certificate is validated for ``bid-signature`` at the database time
   and must name the bidder; the tender row is locked FOR SHARE (the deadline sweep takes FOR
   UPDATE, so a bid either commits before the tender closes or sees it closed); the container is
   linked into the file store and fsynced with every directory up to the store's root *before* the
   receipt is signed (`FileStore.promote`; each chunk was fsynced before its offset was recorded),
   so a power cut cannot take back a receipted bid (the upload's copy is dropped after the commit,
   so a crash before it leaves a submittable upload); the version, its signed and timestamped
   receipt and the ledger entry commit together. A bid without a receipt was never accepted.

Refusals raise `BidRefused` (field and rule); the upload keeps the refusal as its record and its
bytes are deleted. Ledger entries naming a bidder go on the project's sealed chain.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as container_format
from bidding.errors import (
    BidRefused,
    DeadlinePassed,
    PackageTooLarge,
    SealedUntilDeadline,
    TenderStateConflict,
    UploadOffsetMismatch,
)
from bidding.models import (
    Bid,
    BidStatus,
    BidUpload,
    BidVersion,
    Lot,
    Tender,
    TenderStatus,
    UploadStatus,
    VersionKind,
)
from bidding.receipts import sign_receipt
from bidding.visibility import may_list_bidders
from certs.envelope.sealed_bid import BidBinding
from certs.errors import Refused
from certs.sign.cades import DetachedSignature, verify_detached
from certs.trustlist.model import Usage
from trading.credit.models import Activity
from trading.credit.service import may_take_part
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore, UploadBusy, UploadTooLarge
from trading.ledger.service import append_entry
from trading.parties.certificates.trust import signer_party
from trading.parties.models import Organisation

log = structlog.get_logger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
BLOB_NAMESPACE = "bids"


class ReceiptJson(TypedDict):
    """A receipt on the API: ``receipt`` is the exact signed bytes and ``signature`` the platform's
    detached signature over them, both base64; ``record`` is ``receipt`` parsed, for reading.
    """

    receiptNo: str
    record: dict[str, Any]
    receipt: str
    signature: str


@dataclass(frozen=True)
class Receipt:
    """A receipt as the bidder receives it: the exact signed bytes and the signature."""

    receipt_no: str
    record: dict[str, Any]
    receipt: bytes
    signature: bytes

    @classmethod
    def of(cls, version: BidVersion) -> Receipt:
        return cls(version.receipt_no, json.loads(version.receipt), version.receipt, version.receipt_signature)

    def to_json(self) -> ReceiptJson:
        return {
            "receiptNo": self.receipt_no,
            "record": self.record,
            "receipt": base64.b64encode(self.receipt).decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }


@dataclass(frozen=True)
class _TenderSnapshot:
    """What the checks outside the transaction compare against (re-checked inside it)."""

    tender_id: uuid.UUID
    code: str
    lot_id: uuid.UUID
    lot_code: str
    bidder_organisation_id: uuid.UUID
    bidder_uscc: str
    bidder_name: str
    deadline: datetime
    max_package_bytes: int
    holder_fingerprints: tuple[str, ...]
    threshold: int
    declared_sha256: str = ""
    """The digest the bidder announced when starting the upload; the received bytes must match it."""


@dataclass
class _Checked:
    """A container that passed every check that needs no database."""

    container_sha256: str
    container_size: int
    manifest: bytes
    manifest_sha256: str
    signature: bytes
    signed: DetachedSignature
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)


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


class IntakeService:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.store = store

    # --- lookups ---------------------------------------------------------------------------------

    @staticmethod
    async def _tender(session: AsyncSession, code: str, *, lock: str | None = None) -> Tender:
        statement = select(Tender).where(Tender.project_code == code)
        if lock == "share":
            statement = statement.with_for_update(read=True)
        elif lock == "update":
            statement = statement.with_for_update()
        tender = (await session.execute(statement)).scalar_one_or_none()
        if tender is None:
            raise NotFound(f"no tender {code}", field="tender", rule="exists")
        return tender

    @staticmethod
    async def _lot(session: AsyncSession, tender: Tender, lot_code: str) -> Lot:
        lot = (
            await session.execute(select(Lot).where(Lot.tender_id == tender.id, Lot.code == lot_code))
        ).scalar_one_or_none()
        if lot is None:
            raise NotFound(f"tender {tender.project_code} has no lot {lot_code}", field="lot", rule="exists")
        return lot

    @staticmethod
    def _bidder(actor: Actor) -> uuid.UUID:
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("only a bidder's user submits bids", field="organisation", rule="bidder")
        return actor.organisation_id

    @staticmethod
    def _check_open(tender: Tender, now: datetime) -> None:
        if tender.status is not TenderStatus.PUBLISHED:
            raise TenderStateConflict(
                f"tender {tender.project_code} is {tender.status.value}: it takes no bids",
                field="tender",
                rule="tender-open",
            )
        if tender.deadline is None or now >= tender.deadline:
            raise DeadlinePassed(
                f"the bid deadline {tender.deadline.isoformat() if tender.deadline else ''} has passed",
                field="deadline",
                rule="before-deadline",
            )

    async def _upload(
        self, session: AsyncSession, actor: Actor, upload_id: uuid.UUID, *, lock: bool = False
    ) -> BidUpload:
        statement = select(BidUpload).where(BidUpload.id == upload_id)
        if lock:
            statement = statement.with_for_update()
        upload = (await session.execute(statement)).scalar_one_or_none()
        if upload is None or upload.organisation_id != actor.organisation_id:
            # Another bidder's upload does not exist for this caller (no existence oracle).
            raise NotFound("no such upload", field="upload", rule="exists")
        return upload

    # --- 1. start --------------------------------------------------------------------------------

    async def start_upload(self, actor: Actor, code: str, lot_code: str, *, size: int, sha256: str) -> BidUpload:
        organisation_id = self._bidder(actor)
        sha256 = sha256.lower()
        if not _SHA256.fullmatch(sha256):
            raise BidRefused("sha256 must be 64 hexadecimal digits", field="sha256", rule="format")
        if size <= 0:
            raise BidRefused("size must be a positive number of bytes", field="size", rule="positive")
        async with transaction(self.session_maker, lock=True) as session:
            tender = await self._tender(session, code)
            lot = await self._lot(session, tender, lot_code)
            now = await clock.now(session)
            self._check_open(tender, now)
            # A bidder barred by a credit record in force (blacklist, serious violation …) is
            # refused before a byte is sent, with each record's reason and period.
            if not (eligibility := await may_take_part(session, organisation_id, Activity.BIDDING, now)).allowed:
                raise eligibility.refusal()
            if size > tender.max_package_bytes:
                raise PackageTooLarge(
                    f"the package is {size} bytes; this tender accepts at most {tender.max_package_bytes}",
                    field="size",
                    rule="max-package-bytes",
                )
            expires = now + timedelta(seconds=self.settings.bidding.upload_ttl_seconds)
            upload = BidUpload(
                tender_id=tender.id,
                lot_id=lot.id,
                organisation_id=organisation_id,
                user_id=actor.user_id,
                declared_size=size,
                declared_sha256=sha256,
                received=0,
                status=UploadStatus.RECEIVING,
                created_at=now,
                updated_at=now,
                expires_at=min(expires, tender.deadline) if tender.deadline else expires,
                next_check=min(expires, tender.deadline) if tender.deadline else expires,
            )
            session.add(upload)
            await session.flush()
            self.store.start(upload.id)
            return upload

    # --- 2. receive ------------------------------------------------------------------------------

    async def status(self, actor: Actor, upload_id: uuid.UUID) -> BidUpload:
        async with self.session_maker() as session:
            return await self._upload(session, actor, upload_id)

    async def receive(self, actor: Actor, upload_id: uuid.UUID, offset: int, chunks: AsyncIterator[bytes]) -> int:
        """Append one chunk at ``offset``; returns the new offset."""
        try:
            with self.store.exclusive(upload_id) as writer:
                async with self.session_maker() as session:
                    upload = await self._upload(session, actor, upload_id)
                    tender = await session.get_one(Tender, upload.tender_id)
                    self._check_receiving(upload)
                    self._check_open(tender, await clock.now(session))
                    declared = upload.declared_size
                if offset != upload.received:
                    raise UploadOffsetMismatch(
                        f"the server holds {upload.received} bytes; send from there",
                        field="Upload-Offset",
                        rule="matches-server-offset",
                        extra={"offset": upload.received},
                    )
                try:
                    new_size = await writer.write(offset, chunks, limit=declared)
                except UploadTooLarge:
                    raise BidRefused(
                        f"more bytes than the declared size {declared}", field="size", rule="declared-size"
                    ) from None
                async with transaction(self.session_maker, lock=True) as session:
                    upload = await self._upload(session, actor, upload_id, lock=True)
                    upload.received = new_size
                    upload.updated_at = await clock.now(session)
                return new_size
        except UploadBusy:
            raise Conflict(
                "this upload is being written by another request", field="upload", rule="one-writer"
            ) from None

    @staticmethod
    def _check_receiving(upload: BidUpload) -> None:
        if upload.status is not UploadStatus.RECEIVING:
            raise Conflict(f"the upload is {upload.status.value}", field="upload", rule="receiving")

    # --- 3. submit -------------------------------------------------------------------------------

    async def submit(self, actor: Actor, upload_id: uuid.UUID) -> Receipt:
        snapshot = await self._snapshot_for_submission(actor, upload_id)
        path = self.store.incoming_path(upload_id)
        try:
            checked = await asyncio.to_thread(self._check_container, path, snapshot, actor, upload_id)
            return await self._accept(actor, upload_id, snapshot, checked)
        except (BidRefused, DeadlinePassed, TenderStateConflict) as refusal:
            await self._refuse(actor, upload_id, snapshot, refusal)
            raise

    async def _snapshot_for_submission(self, actor: Actor, upload_id: uuid.UUID) -> _TenderSnapshot:
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
            holders = tender.key_holders or {}
            snapshot = _TenderSnapshot(
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
                declared_sha256=upload.declared_sha256,
            )
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

    def _check_container(self, path: Path, snapshot: _TenderSnapshot, actor: Actor, upload_id: uuid.UUID) -> _Checked:
        """Every check that needs no database (runs in a worker thread)."""
        del actor
        try:
            layout = container_format.inspect_container(path, max_package_bytes=snapshot.max_package_bytes)
            container_sha256, digests = container_format.digest_parts(path, layout)
            if snapshot.declared_sha256 and container_sha256 != snapshot.declared_sha256:
                raise BidRefused(
                    f"the received bytes have SHA-256 {container_sha256}, not the declared {snapshot.declared_sha256}",
                    field="sha256",
                    rule="declared-digest",
                )
            with path.open("rb") as stream:
                manifest_bytes = layout.read_small(stream, container_format.MANIFEST)
                signature = layout.read_small(stream, container_format.SIGNATURE)
                manifest = container_format.parse_manifest(manifest_bytes)
                self._check_manifest(manifest, snapshot)
                parts = self._check_parts(manifest, layout, digests, stream, snapshot)
        except container_format.ContainerRefused as refusal:
            raise BidRefused(refusal.message, field=refusal.field, rule=refusal.rule) from None
        del upload_id
        size = path.stat().st_size
        try:
            signed = verify_detached(manifest_bytes, signature)
        except Refused as refusal:
            raise BidRefused(
                f"the manifest signature does not verify: {refusal.text}", field="signature", rule=refusal.reason.value
            ) from None
        return _Checked(
            container_sha256=container_sha256,
            container_size=size,
            manifest=manifest_bytes,
            manifest_sha256=digests[container_format.MANIFEST],
            signature=signature,
            signed=signed,
            parts=parts,
        )

    @staticmethod
    def _check_manifest(manifest: dict[str, Any], snapshot: _TenderSnapshot) -> None:
        expected = {
            "tender": snapshot.code,
            "lot": snapshot.lot_code,
            "bidder": snapshot.bidder_uscc,
        }
        for key, value in expected.items():
            if manifest.get(key) != value:
                raise BidRefused(
                    f"the manifest names {key} {manifest.get(key)!r}, this upload is for {value!r}",
                    field=f"manifest.{key}",
                    rule="matches-upload",
                )

    @staticmethod
    def _check_parts(
        manifest: dict[str, Any],
        layout: container_format.ContainerLayout,
        digests: dict[str, str],
        stream: Any,
        snapshot: _TenderSnapshot,
    ) -> dict[str, dict[str, Any]]:
        parts: dict[str, dict[str, Any]] = {}
        bindings: list[BidBinding] = []
        for kind, name in container_format.PART_NAMES.items():
            declared = manifest["parts"][kind]
            entry = layout.entries[name]
            if declared.get("sha256") != digests[name] or declared.get("size") != entry.size:
                raise BidRefused(
                    f"{name} does not match the digest or size in the signed manifest",
                    field=f"parts.{kind}",
                    rule="digest-mismatch",
                )
            header = container_format.envelope_header(stream, entry)
            if header is None:
                raise BidRefused(
                    f"{name} is not a sealed envelope: unencrypted bids are refused (Order 20 Art. 26)",
                    field=f"parts.{kind}",
                    rule="not-sealed",
                )
            binding = container_format.envelope_binding(header)
            bindings.append(binding)
            differing = [
                key
                for key, value in (
                    ("tender", snapshot.code),
                    ("lot", snapshot.lot_code),
                    ("bidder", snapshot.bidder_uscc),
                )
                if getattr(binding, key) != value
            ]
            if binding.deadline != snapshot.deadline:
                differing.append("deadline")
            if differing:
                raise BidRefused(
                    f"{name} is sealed for another {', '.join(differing)}; seal it for this tender again",
                    field=f"parts.{kind}",
                    rule="binding-mismatch",
                )
            recipients = tuple(h.get("recipient") for h in header.get("holders", []))
            if snapshot.holder_fingerprints and (
                recipients != snapshot.holder_fingerprints or header.get("threshold") != snapshot.threshold
            ):
                raise BidRefused(
                    f"{name} is not split among this tender's key holders ({snapshot.threshold} of "
                    f"{len(snapshot.holder_fingerprints)})",
                    field=f"parts.{kind}",
                    rule="key-holders",
                )
            parts[kind] = {"name": name, "offset": entry.offset, "size": entry.size, "sha256": digests[name]}
        if bindings[0].manifest_sha256 != bindings[1].manifest_sha256:
            raise BidRefused("the two envelopes belong to different packages", field="parts", rule="binding-mismatch")
        return parts

    async def _accept(
        self, actor: Actor, upload_id: uuid.UUID, snapshot: _TenderSnapshot, checked: _Checked
    ) -> Receipt:
        async with transaction(self.session_maker, lock=True) as session:
            now = await clock.now(session)
            await self._check_signer(session, checked.signed, snapshot, now)
            tender = await self._tender(session, snapshot.code, lock="share")
            self._check_open(tender, now)
            if tender.deadline != snapshot.deadline:
                raise BidRefused(
                    "the deadline moved while the bid was checked; seal it again for the new deadline",
                    field="deadline",
                    rule="binding-mismatch",
                )
            upload = await self._upload(session, actor, upload_id, lock=True)
            self._check_receiving(upload)
            storage_key = await asyncio.to_thread(
                self.store.promote, upload_id, BLOB_NAMESPACE, checked.container_sha256
            )
            bid = await self._bid_for_update(session, snapshot, now)
            number = bid.versions + 1
            version_id = uuid.uuid4()
            receipt_no = _receipt_number(now)
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
                "signerCertificateSha256": _fingerprint(checked.signed.signer_certificate),
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
            )
            session.add(version)
            replaced = bid.status is BidStatus.SUBMITTED and bid.current_version_id is not None
            bid.versions = number
            bid.status = BidStatus.SUBMITTED
            bid.current_version_id = version_id
            bid.updated_at = now
            upload.status = UploadStatus.ACCEPTED
            upload.updated_at = now
            upload.next_check = None
            await session.flush()
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
        self.store.discard(upload_id)
        log.info("bidding.bid_accepted", tender=snapshot.code, receipt=receipt_no)
        return receipt

    async def _check_signer(
        self, session: AsyncSession, signed: DetachedSignature, snapshot: _TenderSnapshot, now: datetime
    ) -> None:
        """The manifest's signer validates for bid signatures now, and is the bidder."""
        try:
            party = await signer_party(session, self.settings, signed, usage=Usage.BID_SIGNATURE, at=now)
        except Refused as refusal:
            raise BidRefused(
                f"the signing certificate is not accepted: {refusal.text}", field="signature", rule=refusal.reason.value
            ) from None
        if party.identifier != snapshot.bidder_uscc:
            raise BidRefused(
                f"the package is signed by {party.name} ({party.identifier}), not by the bidder",
                field="signature",
                rule="signer-not-bidder",
            )

    @staticmethod
    async def _bid_for_update(session: AsyncSession, snapshot: _TenderSnapshot, now: datetime) -> Bid:
        """The bidder's bid row for the lot, locked; created on the first submission."""
        statement = (
            select(Bid)
            .where(Bid.lot_id == snapshot.lot_id, Bid.organisation_id == snapshot.bidder_organisation_id)
            .with_for_update()
        )
        bid = (await session.execute(statement)).scalar_one_or_none()
        if bid is not None:
            return bid
        savepoint = await session.begin_nested()
        try:
            bid = Bid(
                tender_id=snapshot.tender_id,
                lot_id=snapshot.lot_id,
                organisation_id=snapshot.bidder_organisation_id,
                status=BidStatus.SUBMITTED,
                versions=0,
                created_at=now,
                updated_at=now,
            )
            session.add(bid)
            await session.flush()
        except IntegrityError:  # another submission of the same bidder created it just now
            await savepoint.rollback()
            return (await session.execute(statement)).scalar_one()
        await savepoint.commit()
        return bid

    async def _refuse(
        self,
        actor: Actor,
        upload_id: uuid.UUID,
        snapshot: _TenderSnapshot,
        refusal: BidRefused | DeadlinePassed | TenderStateConflict,
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
        self.store.discard(upload_id)

    # --- withdrawal ------------------------------------------------------------------------------

    async def withdraw(self, actor: Actor, code: str, lot_code: str, signature: str) -> Receipt:
        """Withdraw (撤回) the bidder's bid for a lot before the deadline; earlier versions stay.

        A CA-bound action (domain-rules §1.6): ``signature`` is the bidder's detached CAdES (base64)
        over `format.withdrawal_statement` naming the tender, lot, bidder and the receipt of the
        version withdrawn, so it cannot be replayed against a later submission. The statement and
        signature are kept on the withdrawal's version and the receipt names the signer.
        """
        organisation_id = self._bidder(actor)
        try:
            signature_der = base64.b64decode(signature, validate=True)
        except ValueError:
            raise BidRefused("signature must be base64", field="signature", rule="base64") from None
        if not signature_der:
            raise BidRefused("a withdrawal is signed with the bidder's certificate", field="signature", rule="required")
        async with transaction(self.session_maker, lock=True) as session:
            now = await clock.now(session)
            tender = await self._tender(session, code, lock="share")
            lot = await self._lot(session, tender, lot_code)
            self._check_open(tender, now)
            bid = (
                await session.execute(
                    select(Bid).where(Bid.lot_id == lot.id, Bid.organisation_id == organisation_id).with_for_update()
                )
            ).scalar_one_or_none()
            if bid is None or bid.status is not BidStatus.SUBMITTED:
                raise Conflict("there is no submitted bid to withdraw", field="bid", rule="submitted")
            organisation = await session.get_one(Organisation, organisation_id)
            withdrawn = await session.get_one(BidVersion, bid.current_version_id)
            statement = container_format.withdrawal_statement(
                tender.project_code, lot.code, organisation.uscc, withdrawn.receipt_no
            )
            signed_by = await self._check_withdrawal_signature(
                session, statement, signature_der, uscc=organisation.uscc, now=now
            )
            number = bid.versions + 1
            receipt_no = _receipt_number(now)
            record = {
                "receiptNo": receipt_no,
                "kind": VersionKind.WITHDRAWAL.value,
                "tender": tender.project_code,
                "lot": lot.code,
                "bidder": organisation.uscc,
                "bidderName": organisation.name,
                "version": number,
                "receivedAt": now.isoformat(),
                "deadline": tender.deadline.isoformat() if tender.deadline else None,
                "withdraws": bid.current_version_id.hex if bid.current_version_id else None,
                "withdrawsReceiptNo": withdrawn.receipt_no,
                "signerSha256": signed_by,
            }
            signed = await sign_receipt(session, self.settings, record, client_ip=actor.client_ip, at=now)
            version = BidVersion(
                bid_id=bid.id,
                number=number,
                kind=VersionKind.WITHDRAWAL,
                receipt_no=receipt_no,
                received_at=now,
                submitted_by=actor.user_id,
                receipt=signed.data,
                receipt_signature=signed.signature,
                manifest=statement,
                manifest_signature=signature_der,
                signer_sha256=signed_by,
            )
            session.add(version)
            await session.flush()
            bid.versions = number
            bid.status = BidStatus.WITHDRAWN
            bid.current_version_id = version.id
            bid.updated_at = now
            await append_entry(
                session,
                actor=actor,
                action="bidding.bid_withdrawn",
                subject_type="bidding.bid",
                subject_id=str(bid.id),
                summary={"receipt": receipt_no, "lot": lot.code, "version": number},
                data=record,
                project_code=tender.project_code,
                sealed=True,
            )
            return Receipt(receipt_no, json.loads(signed.data), signed.data, signed.signature)

    async def _check_withdrawal_signature(
        self, session: AsyncSession, statement: bytes, signature: bytes, *, uscc: str, now: datetime
    ) -> str:
        """The withdrawal statement's signature verifies and its signer is the bidder; its SHA-256."""
        try:
            signed = verify_detached(statement, signature)
        except Refused as refusal:
            raise BidRefused(
                f"the withdrawal signature does not verify over the withdrawal statement: {refusal.text}",
                field="signature",
                rule=refusal.reason.value,
            ) from None
        try:
            party = await signer_party(session, self.settings, signed, usage=Usage.BID_SIGNATURE, at=now)
        except Refused as refusal:
            raise BidRefused(
                f"the signing certificate is not accepted: {refusal.text}", field="signature", rule=refusal.reason.value
            ) from None
        if party.identifier != uscc:
            raise BidRefused(
                f"the withdrawal is signed by {party.name} ({party.identifier}), not by the bidder",
                field="signature",
                rule="signer-not-bidder",
            )
        return signed.signer_certificate.fingerprint(hashes.SHA256()).hex()

    # --- reading ---------------------------------------------------------------------------------

    async def my_bids(self, actor: Actor, code: str | None = None) -> list[tuple[Tender, Lot, Bid, list[BidVersion]]]:
        """The caller's organisation's bids (every version, newest first), optionally for one tender."""
        organisation_id = self._bidder(actor)
        async with self.session_maker() as session:
            statement = (
                select(Bid, Tender, Lot)
                .join(Tender, Tender.id == Bid.tender_id)
                .join(Lot, Lot.id == Bid.lot_id)
                .where(Bid.organisation_id == organisation_id)
                .order_by(Bid.updated_at.desc())
            )
            if code is not None:
                statement = statement.where(Tender.project_code == code)
            rows = (await session.execute(statement)).all()
            result = []
            for bid, tender, lot in rows:
                versions = (
                    await session.execute(
                        select(BidVersion).where(BidVersion.bid_id == bid.id).order_by(BidVersion.number.desc())
                    )
                ).scalars()
                result.append((tender, lot, bid, list(versions)))
            return result

    async def receipt(self, actor: Actor, receipt_no: str) -> Receipt:
        """One of the caller's own receipts."""
        async with self.session_maker() as session:
            row = (
                await session.execute(
                    select(BidVersion, Bid)
                    .join(Bid, Bid.id == BidVersion.bid_id)
                    .where(BidVersion.receipt_no == receipt_no)
                )
            ).one_or_none()
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
            rows = (
                await session.execute(
                    select(Bid, Organisation, Lot, BidVersion)
                    .join(Organisation, Organisation.id == Bid.organisation_id)
                    .join(Lot, Lot.id == Bid.lot_id)
                    .outerjoin(BidVersion, BidVersion.id == Bid.current_version_id)
                    .where(Bid.tender_id == tender.id)
                    .order_by(Lot.position, Organisation.name)
                )
            ).all()
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

    async def count_current_bids(self, session: AsyncSession, tender_id: uuid.UUID) -> int:
        statement = (
            select(func.count()).select_from(Bid).where(Bid.tender_id == tender_id, Bid.status == BidStatus.SUBMITTED)
        )
        return int((await session.execute(statement)).scalar_one())


def _receipt_number(now: datetime) -> str:
    return f"BR{now:%Y%m%d%H%M%S}-{secrets.token_hex(5).upper()}"


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()
