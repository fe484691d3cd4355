"""A bid in one request: the package that fits one chunk is announced, sent and submitted by one
``POST``, with the guarantees of the resumable path (issue 20, "a cheaper bid").

1. One transaction: the earlier outcome of the same request (the bidder's ``Idempotency-Key``
   names the upload: ``uuid5`` of the organisation and the key), or the tender open by the
   database clock, the size within the tender's limit, and a new upload row
   (status ``receiving``) with its file made durable — the start of the resumable path, plus what
   the submission's snapshot reads.
2. No transaction: the body is written to the upload's file and fsynced (S3: spooled to a private
   local file, `Store.receive_whole`), hashed as it passes (`bidding.intake.digests`), then the
   container's checks (`sealing`) read that local file and use those digests.
3. The submission's own transaction (`Submissions._accept`): signer, tender FOR SHARE and the
   deadline again by the database clock, the blob promoted and fsynced (S3: the one PUT of the
   bytes, ``If-None-Match: *``), the version with its
   signed receipt and the sealed ledger entry. A refusal is recorded on the upload, as for the
   resumable path.

A retried request (same key, same package) answers the receipt of the bid it made, or the
refusal it got, and makes no second bid; one that finds the upload still receiving (the first
attempt died mid-body) writes the body again from byte 0. The same key with another package or
lot is refused (``Idempotency-Key``, ``same-request``).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from bidding.errors import BidRefused, DeadlinePassed, PackageTooLarge, TenderStateConflict
from bidding.intake.base import SHA256_HEX, Receipt
from bidding.intake.digests import StreamDigest
from bidding.intake.sealing import TenderSnapshot
from bidding.intake.submission import Submissions, snapshot_of
from bidding.models import BidUpload, UploadStatus
from bidding.repository.bids import BidRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
from trading.kernel.storage import UploadBusy, UploadTooLarge
from trading.parties.models import Organisation

IDEMPOTENCY_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_KEYS: Final = uuid.UUID("0f6d1c52-3a57-4c8e-9f0b-2b1f4e6a8d31")
"""The namespace of upload ids derived from (organisation, idempotency key)."""

_REPLAYED_REFUSALS: Final[dict[str, type[BidRefused | DeadlinePassed | TenderStateConflict]]] = {
    "before-deadline": DeadlinePassed,
    "tender-open": TenderStateConflict,
}


def upload_id_for(organisation_id: uuid.UUID, key: str) -> uuid.UUID:
    """The upload a bidder's idempotency key names (another organisation's key names another)."""
    return uuid.uuid5(_KEYS, f"{organisation_id}/{key}")


class OneRequestBids(Submissions):
    """A package that fits one request: upload and submission in one call."""

    async def submit_whole(
        self,
        actor: Actor,
        code: str,
        lot_code: str,
        *,
        key: str,
        size: int,
        sha256: str,
        chunks: AsyncIterator[bytes],
    ) -> Receipt:
        organisation_id = self._bidder(actor)
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise BidRefused(
                "Idempotency-Key must be 16 to 64 letters, digits, '-' or '_' (a UUID will do)",
                field="Idempotency-Key",
                rule="format",
            )
        sha256 = sha256.lower()
        if not SHA256_HEX.fullmatch(sha256):
            raise BidRefused("Upload-Sha256 must be 64 hexadecimal digits", field="Upload-Sha256", rule="format")
        if size <= 0:
            raise BidRefused("Upload-Length must be a positive number of bytes", field="Upload-Length", rule="positive")
        upload_id = upload_id_for(organisation_id, key)
        replay, snapshot = await self._begin(actor, code, lot_code, upload_id, size=size, sha256=sha256)
        if replay is not None:
            return replay
        assert snapshot is not None  # noqa: S101 - no replay: a new or resumed upload
        try:
            return await self._receive(actor, upload_id, snapshot, size, chunks)
        except UploadBusy:
            raise Conflict(
                "this request is being received already; ask again for its receipt",
                field="Idempotency-Key",
                rule="one-writer",
            ) from None
        except Conflict as conflict:
            if conflict.rule != "receiving":
                raise
            # The same request, sent twice at once (S3: each spooled its own copy), was decided
            # by the other one meanwhile: answer its outcome, as a later retry would get.
            replay, _snapshot = await self._begin(actor, code, lot_code, upload_id, size=size, sha256=sha256)
            if replay is None:
                raise
            return replay

    async def _receive(
        self, actor: Actor, upload_id: uuid.UUID, snapshot: TenderSnapshot, size: int, chunks: AsyncIterator[bytes]
    ) -> Receipt:
        """The body received whole (hashed as it passes), checked and accepted, or refused."""
        digest = StreamDigest()
        async with self.store.receive_whole(upload_id) as whole:
            try:
                written = await whole.write(digest.through(chunks), limit=size)
            except UploadTooLarge:
                refusal = BidRefused(
                    f"more bytes than Upload-Length {size}", field="Upload-Length", rule="declared-size"
                )
                await self._refuse(actor, upload_id, snapshot, refusal, whole)
                raise refusal from None
            if written != size:
                refusal = BidRefused(
                    f"the body holds {written} of the declared {size} bytes", field="Upload-Length", rule="incomplete"
                )
                await self._refuse(actor, upload_id, snapshot, refusal, whole)
                raise refusal
            return await self._check_and_accept(actor, upload_id, snapshot, digest.result(), whole)

    async def _begin(
        self, actor: Actor, code: str, lot_code: str, upload_id: uuid.UUID, *, size: int, sha256: str
    ) -> tuple[Receipt | None, TenderSnapshot | None]:
        """The earlier answer to this request, or the upload (new or resumed) and the snapshot."""
        try:
            async with transaction(self.session_maker, lock=True) as session:
                repository = BidRepository(session)
                tender = await self._tender(session, code)
                lot = await self._lot(session, tender, lot_code)
                upload = await repository.upload(upload_id, lock=True)
                if upload is not None:
                    if (upload.tender_id, upload.lot_id, upload.declared_size, upload.declared_sha256) != (
                        tender.id,
                        lot.id,
                        size,
                        sha256,
                    ):
                        raise Conflict(
                            "this Idempotency-Key was used for another package or lot",
                            field="Idempotency-Key",
                            rule="same-request",
                        )
                    if upload.status is UploadStatus.ACCEPTED:
                        version = await repository.version_of_upload(upload_id)
                        if version is not None:
                            return Receipt.of(version), None
                    if upload.status is not UploadStatus.RECEIVING:
                        raise _replayed(upload)
                now = await clock.now(session)
                self._check_open(tender, now)
                # The bidder's credit is asked once, at acceptance (`Submissions._accept`), seconds
                # from here: the resumable path also asks at its start because an upload lives for
                # hours; a barred bidder's one request is refused there and the refusal recorded.
                if size > tender.max_package_bytes:
                    raise PackageTooLarge(
                        f"the package is {size} bytes; this tender accepts at most {tender.max_package_bytes}",
                        field="Upload-Length",
                        rule="max-package-bytes",
                    )
                if upload is None:
                    expires = now + timedelta(seconds=self.settings.bidding.upload_ttl_seconds)
                    until = min(expires, tender.deadline) if tender.deadline else expires
                    upload = BidUpload(
                        id=upload_id,
                        tender_id=tender.id,
                        lot_id=lot.id,
                        organisation_id=actor.organisation_id,
                        user_id=actor.user_id,
                        declared_size=size,
                        declared_sha256=sha256,
                        received=0,
                        status=UploadStatus.RECEIVING,
                        created_at=now,
                        updated_at=now,
                        expires_at=until,
                        next_check=until,
                    )
                    session.add(upload)
                    await session.flush()
                    # Its fsyncs (the file, its folder and each up to the root) off the event loop.
                    await asyncio.to_thread(self.store.start, upload_id)
                organisation = await session.get_one(Organisation, actor.organisation_id)
                return None, snapshot_of(tender, lot, organisation, sha256)
        except IntegrityError:  # the same request, sent twice at once, created the upload first
            raise Conflict(
                "this request is being received already; ask again for its receipt",
                field="Idempotency-Key",
                rule="one-writer",
            ) from None


def _replayed(upload: BidUpload) -> BidRefused | DeadlinePassed | TenderStateConflict:
    """The refusal a request got the first time, answered again to its retry."""
    refusal = upload.refusal or {}
    rule = str(refusal.get("rule") or "refused")
    kind: type[BidRefused | DeadlinePassed | TenderStateConflict] = _REPLAYED_REFUSALS.get(rule, BidRefused)
    return kind(
        str(refusal.get("message") or f"this request was {upload.status.value}"),
        field=str(refusal.get("field") or "upload"),
        rule=rule,
    )
