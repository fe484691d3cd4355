"""What every step of sealed bid intake shares: the receipt as the bidder receives it, the
lookups and checks of the tender, lot and upload inside a step's own unit of work.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.errors import (
    BidRefused,
    DeadlinePassed,
    TenderStateConflict,
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
from bidding.repository.bids import BidRepository
from bidding.repository.tenders import TenderRepository
from bidding.rules import GOVERNMENT_PROCUREMENT_TYPES
from bidding.signers import signer_must_be, verified
from certs.trustlist.model import fingerprint
from trading.credit.models import Activity
from trading.credit.service import may_take_part
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry
from trading.parties.models import Organisation

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
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
class SignedAct:
    """A bidder's signed act on its bid (a withdrawal or a revocation): the statement signed, the
    detached signature over it and the signer certificate's SHA-256.
    """

    statement: bytes
    signature: bytes
    signer_sha256: str


@dataclass(frozen=True)
class ActTarget:
    """What a signed act is about, as its step found it in its unit of work (the bid locked)."""

    tender: Tender
    lot: Lot
    bid: Bid
    organisation: Organisation


class IntakeBase:
    """What every intake step shares: its own short units of work, the tender and upload lookups
    and the check that a tender takes bids now.
    """

    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.store = store

    async def now(self) -> datetime:
        """The database's clock, read in a short session of intake's own (no write lock): for a page
        whose route must not hold the request's unit of work while intake commits (on SQLite the
        request's ``BEGIN IMMEDIATE`` would be the one write lock intake waits for).
        """
        async with self.session_maker() as session:
            return await clock.now(session)

    # --- lookups ---------------------------------------------------------------------------------

    @staticmethod
    async def _tender(session: AsyncSession, code: str, *, shared_lock: bool = False) -> Tender:
        repository = TenderRepository(session)
        tender = await (repository.by_code_shared(code) if shared_lock else repository.by_code(code))
        if tender is None:
            raise NotFound(f"no tender {code}", field="tender", rule="exists")
        return tender

    @staticmethod
    async def _lot(session: AsyncSession, tender: Tender, lot_code: str) -> Lot:
        lot = await TenderRepository(session).lot(tender.id, lot_code)
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
        upload = await BidRepository(session).upload(upload_id, lock=lock)
        if upload is None or upload.organisation_id != actor.organisation_id:
            # Another bidder's upload does not exist for this caller (no existence oracle).
            raise NotFound("no such upload", field="upload", rule="exists")
        return upload

    # --- the bidder's signed acts on a bid (withdrawal, revocation) -----------------------------

    @staticmethod
    def _act_signature(signature: str, act: str) -> bytes:
        """The act's detached signature from its base64; refused (``signature``: ``base64``,
        ``required``) when it is not base64 or empty.
        """
        try:
            signature_der = base64.b64decode(signature, validate=True)
        except ValueError:
            raise BidRefused("signature must be base64", field="signature", rule="base64") from None
        if not signature_der:
            raise BidRefused(f"a {act} is signed with the bidder's certificate", field="signature", rule="required")
        return signature_der

    async def _signed_act(
        self, session: AsyncSession, statement: bytes, signature: bytes, *, act: str, uscc: str, now: datetime
    ) -> SignedAct:
        """The act's statement with its signature, which verifies and whose signer is the bidder."""
        what = f"the {act} signature does not verify over the {act} statement"
        signed = verified(statement, signature, refusal=BidRefused, what=what)
        await signer_must_be(
            session,
            self.settings,
            signed,
            uscc=uscc,
            at=now,
            refusal=BidRefused,
            signed_what=f"the {act} is signed",
            not_by="the bidder",
            rule="signer-not-bidder",
        )
        return SignedAct(statement, signature, fingerprint(signed.signer_certificate))

    async def _record_act(
        self,
        session: AsyncSession,
        actor: Actor,
        target: ActTarget,
        act: SignedAct,
        *,
        now: datetime,
        kind: VersionKind,
        status: BidStatus,
        refers: Mapping[str, Any],
        then: Callable[[str], Awaitable[None]],
        action: str,
        sealed: bool,
    ) -> Receipt:
        """Record a signed act on the bid: the platform's signed receipt (``refers`` names what the act
        acts on), the bid's new version of ``kind`` holding the statement and signature, the bid's
        new ``status``; then what the act does besides (``then``, given the receipt number), then
        the ledger entry ``action``.
        """
        tender, lot, bid, organisation = target.tender, target.lot, target.bid, target.organisation
        number = bid.versions + 1
        receipt_no = receipt_number(now)
        record = {
            "receiptNo": receipt_no,
            "kind": kind.value,
            "tender": tender.project_code,
            "lot": lot.code,
            "bidder": organisation.uscc,
            "bidderName": organisation.name,
            "version": number,
            "receivedAt": now.isoformat(),
            "deadline": tender.deadline.isoformat() if tender.deadline else None,
            **refers,
            "signerSha256": act.signer_sha256,
        }
        signed = await sign_receipt(session, self.settings, record, client_ip=actor.client_ip, at=now)
        version = BidVersion(
            bid_id=bid.id,
            number=number,
            kind=kind,
            receipt_no=receipt_no,
            received_at=now,
            submitted_by=actor.user_id,
            receipt=signed.data,
            receipt_signature=signed.signature,
            manifest=act.statement,
            manifest_signature=act.signature,
            signer_sha256=act.signer_sha256,
        )
        session.add(version)
        await session.flush()
        bid.versions = number
        bid.status = status
        bid.current_version_id = version.id
        bid.updated_at = now
        await then(receipt_no)
        await append_entry(
            session,
            actor=actor,
            action=action,
            subject_type="bidding.bid",
            subject_id=str(bid.id),
            summary={"receipt": receipt_no, "lot": lot.code, "version": number},
            data=record,
            project_code=tender.project_code,
            sealed=sealed,
        )
        return Receipt(receipt_no, json.loads(signed.data), signed.data, signed.signature)

    @staticmethod
    def _check_receiving(upload: BidUpload) -> None:
        if upload.status is not UploadStatus.RECEIVING:
            raise Conflict(f"the upload is {upload.status.value}", field="upload", rule="receiving")


def receipt_number(now: datetime) -> str:
    return f"BR{now:%Y%m%d%H%M%S}-{secrets.token_hex(5).upper()}"


def credit_activities(tender: Tender) -> tuple[Activity, ...]:
    """What a bidder's credit records are asked about for this tender: bidding always, and
    government procurement too when the tender runs under a GP rule set (a record barring a
    supplier from 政府采购 refuses it from a procurement tender, GP 实施条例 Art. 19/GP law Art. 77).
    """
    if tender.tender_type in GOVERNMENT_PROCUREMENT_TYPES:
        return (Activity.BIDDING, Activity.GOVERNMENT_PROCUREMENT)
    return (Activity.BIDDING,)


async def check_credit(
    session: AsyncSession, organisation_id: uuid.UUID, tender: Tender, now: datetime, *, uscc: str | None = None
) -> None:
    """Raise the credit refusal (403 ``Ineligible``: each record's reason and period) of the first
    activity of `credit_activities` the bidder is barred from. ``uscc``: the organisation's code as
    the caller read it earlier (intake's snapshot), so that credit does not read the row again.
    """
    for activity in credit_activities(tender):
        eligibility = await may_take_part(session, organisation_id, activity, now, uscc=uscc)
        if not eligibility.allowed:
            raise eligibility.refusal()
