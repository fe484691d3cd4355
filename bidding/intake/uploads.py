"""Resumable uploads: start one (the tender open by the database clock, the size within its limit)
and receive chunks at the recorded offset, each written and fsynced before the offset is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from bidding.errors import (
    BidRefused,
    PackageTooLarge,
    UploadOffsetMismatch,
)
from bidding.intake.base import SHA256_HEX, IntakeBase, check_credit
from bidding.intake.digests import HASH_STATES
from bidding.models import (
    BidUpload,
    Tender,
    UploadStatus,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
from trading.kernel.storage import UploadBusy, UploadTooLarge


class UploadSessions(IntakeBase):
    """Steps 1 and 2: start an upload, receive its chunks, say where it stands."""

    async def start_upload(self, actor: Actor, code: str, lot_code: str, *, size: int, sha256: str) -> BidUpload:
        organisation_id = self._bidder(actor)
        sha256 = sha256.lower()
        if not SHA256_HEX.fullmatch(sha256):
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
            await check_credit(session, organisation_id, tender, now)
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
                # Hashed while written (`bidding.intake.digests`); the state is kept for the next
                # chunk only once the new offset is recorded.
                digest = HASH_STATES.take(upload_id, offset)
                stream = digest.through(chunks) if digest is not None else chunks
                try:
                    new_size = await writer.write(offset, stream, limit=declared)
                except UploadTooLarge:
                    raise BidRefused(
                        f"more bytes than the declared size {declared}", field="size", rule="declared-size"
                    ) from None
                async with transaction(self.session_maker, lock=True) as session:
                    upload = await self._upload(session, actor, upload_id, lock=True)
                    upload.received = new_size
                    upload.updated_at = await clock.now(session)
                if digest is not None and digest.position == new_size:
                    HASH_STATES.keep(upload_id, digest)
                return new_size
        except UploadBusy:
            raise Conflict(
                "this upload is being written by another request", field="upload", rule="one-writer"
            ) from None
