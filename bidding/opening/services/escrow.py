"""The key holders' escrow, the tender's remedy for a platform-side failure to decrypt: when the host
recorded an incident for a bid and the tender names key holders, each holder reads that bid's
envelope headers (its wrapped share is in them) and releases its shares, signed; k of n open the
bid ("opened via escrow (k of n)"). Shares are accepted only while the window's stages run (解密,
唱标), from a signer matching a listed holder (its certificate, or the same subject and issuer: the
sign/encrypt pair).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as fmt
from bidding.errors import OpeningRefused
from bidding.models import Tender
from bidding.opening import decryption, repository
from bidding.opening.decryption import OpenFailed, StoredBid
from bidding.opening.events import publish_after_commit
from bidding.opening.models import OpeningBid, OpeningSession, Outcome, PartStatus, ReleasedShare
from bidding.opening.services.base import HallPart, audited, b64decode, json_object
from bidding.opening.services.decrypting import after_opening, files_of, parties_of, store_part
from bidding.opening.stages import WINDOW_STAGES
from certs.envelope.threshold import Share
from certs.errors import Refused
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, PermissionDenied
from trading.ledger.service import append_entry


class KeyEscrow(HallPart):
    """The key holders' side of the hall: a bid's envelope headers, and their signed shares."""

    @audited("envelopes")
    async def holder_envelopes(
        self,
        actor: Actor,  # noqa: ARG002 - `audited` records the actor's refused attempts
        code: str,
        *,
        lot: str,
        bidder: str,
    ) -> list[dict[str, Any]]:
        """One bid's envelope headers for a key holder (its wrapped share is in them); only for a bid
        the escrow may open (the host recorded an incident and the tender names the remedy).
        """
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            row = await self.row_of(session, opening, lot, bidder, lock=False)
            if not tender.key_holders.get("remedy") or row.incident is None:
                raise OpeningRefused(
                    "the escrow opens only a bid for which the host recorded a platform-side cause",
                    field="bidder",
                    rule="escrow-not-applicable",
                )
            return await self.envelope_listing(session, tender, [row])

    @audited("share")
    async def release_shares(  # noqa: C901 - one check after another
        self, actor: Actor, code: str, *, lot: str, bidder: str, shares: Mapping[str, str], signature: str
    ) -> OpeningBid:
        """A key holder releases its shares of one bid (signed); k of them open it (the tender's remedy)."""
        if set(shares) != set(fmt.PART_NAMES):
            raise OpeningRefused("release one share per part: price-summary and package", field="shares", rule="parts")
        decoded = {kind: b64decode(value, f"shares.{kind}") for kind, value in shares.items()}
        signature_der = b64decode(signature, "signature")
        statement = fmt.share_release_statement(code, lot, bidder, shares)
        if actor.user_id is None:
            raise PermissionDenied("a key holder releases shares from its own login", field="actor", rule="user")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            now = await clock.now(session)
            holders = list(tender.key_holders.get("holders", []))
            k = int(tender.key_holders.get("threshold") or 0)
            if not tender.key_holders.get("remedy") or not holders:
                raise OpeningRefused("this tender names no escrow remedy", field="tender", rule="no-remedy")
            if opening.stage not in WINDOW_STAGES:
                raise OpeningRefused(
                    "shares are released during the decryption stage (and 唱标, for a package)",
                    field="stage",
                    rule="decryption-window",
                )
            row = await self.row_of(session, opening, lot, bidder, lock=True)
            if row.incident is None or row.outcome not in {Outcome.PENDING, Outcome.ESCROW_PENDING}:
                raise OpeningRefused(
                    "the escrow opens only a bid for which the host recorded a platform-side cause",
                    field="bidder",
                    rule="escrow-not-applicable",
                )
            signed, _ = await self.verify_signer(session, statement, signature_der, now, "signature")
            position = self._holder_position(holders, signed.signer_certificate)
            stored = await self.stored(session, row, tender)
            headers = await asyncio.to_thread(decryption.envelope_headers, stored)
            try:
                for kind, data in decoded.items():
                    decryption.check_share(stored, kind, headers[kind], Share.from_bytes(data), position)
            except Refused as refusal:
                raise OpeningRefused(refusal.text, field="shares", rule=refusal.reason.value) from None
            except OpenFailed as failed:
                raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
            holder_sha256 = str(holders[position]["sha256"])
            existing = await repository.released_share(session, row.id, holder_sha256)
            if existing is not None:
                raise Conflict(
                    "this key holder already released its share of this bid", field="shares", rule="released-once"
                )
            session.add(
                ReleasedShare(
                    opening_bid_id=row.id,
                    holder_sha256=holder_sha256,
                    holder_index=position + 1,
                    signer_sha256=fingerprint(signed.signer_certificate),
                    statement=statement,
                    signature=signature_der,
                    released_by=actor.user_id,
                    released_at=now,
                )
            )
            await session.flush()
            released = await repository.released_shares(session, row.id)
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_share_released",
                subject_type="bidding.opening_bid",
                subject_id=str(row.id),
                summary={
                    "bidder": row.bidder_uscc,
                    "lot": lot,
                    "holder": position + 1,
                    "released": len(released),
                    "k": k,
                },
                data={
                    "statementSha256": hashlib.sha256(statement).hexdigest(),
                    "signer": fingerprint(signed.signer_certificate),
                },
                project_code=code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "share-released", "state": opening.stage.value, "at": now, "released": len(released)},
            )
            if len(released) >= k:
                await self._open_by_escrow(
                    session,
                    opening,
                    tender,
                    row,
                    stored=stored,
                    released=released,
                    k=k,
                    n=len(holders),
                    now=now,
                    actor=actor,
                )
            return row

    @staticmethod
    def _holder_position(holders: Sequence[Mapping[str, Any]], signer: x509.Certificate) -> int:
        """Which listed key holder signed: its own certificate, or its signing certificate paired with
        the listed encryption certificate (same subject, same issuer: the dual-certificate pair).
        """
        signer_sha256 = fingerprint(signer)
        for position, holder in enumerate(holders):
            if holder.get("sha256") == signer_sha256:
                return position
            listed = x509.load_pem_x509_certificate(str(holder["certificate"]).encode())
            if listed.subject == signer.subject and listed.issuer == signer.issuer:
                return position
        raise OpeningRefused(
            "the signer is not one of this tender's key holders", field="signature", rule="not-a-key-holder"
        )

    async def _open_by_escrow(
        self,
        session: AsyncSession,
        opening: OpeningSession,
        tender: Tender,
        row: OpeningBid,
        *,
        stored: StoredBid,
        released: Sequence[ReleasedShare],
        k: int,
        n: int,
        now: datetime,
        actor: Actor,
    ) -> None:
        statements = [json_object(r.statement) for r in released]
        try:
            for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
                status = row.price_status if kind == fmt.PRICE_SUMMARY else row.package_status
                if status is PartStatus.OPENED:
                    continue
                shares = [Share.from_bytes(base64.b64decode(s["shares"][kind])) for s in statements]
                opened = await asyncio.to_thread(decryption.open_with_escrow, stored, kind, shares)
                summary = decryption.price_summary_of(opened.plaintext, stored) if kind == fmt.PRICE_SUMMARY else None
                await store_part(session, row, kind, opened=opened, summary=summary, now=now)
                if kind == fmt.PACKAGE:  # issue 19: the files' digests and metadata; no bidder address here
                    row.package_files = await asyncio.to_thread(files_of, opened.plaintext)
                    row.declared_parties = await asyncio.to_thread(parties_of, opened.plaintext)
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        cause = (row.incident or {}).get("cause", "")
        row.outcome = Outcome.ESCROW
        row.cause = f"opened via escrow ({k} of {n}) after a platform-side cause: {cause}"
        row.updated_at = now
        await session.flush()
        await append_entry(
            session,
            actor=actor,
            action="bidding.opening_opened_by_escrow",
            subject_type="bidding.opening_bid",
            subject_id=str(row.id),
            summary={"bidder": row.bidder_uscc, "k": k, "n": n, "holders": sorted(r.holder_index for r in released)},
            data={"cause": row.cause, "priceSummary": row.price_summary, "packageSha256": row.package_sha256},
            project_code=tender.project_code,
        )
        await after_opening(session, opening, tender.project_code, now, actor)
