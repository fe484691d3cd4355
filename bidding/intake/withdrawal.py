"""Withdrawing a bid before the deadline: signed by the bidder over the withdrawal statement."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as container_format
from bidding.errors import (
    BidRefused,
)
from bidding.guarantees_flow import detach_bid_guarantee
from bidding.intake.base import IntakeBase, Receipt, receipt_number
from bidding.models import (
    BidStatus,
    BidVersion,
    VersionKind,
)
from bidding.receipts import sign_receipt
from bidding.repository.bids import BidRepository
from bidding.signers import signer_must_be, verified
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
from trading.ledger.service import append_entry
from trading.parties.models import Organisation


class Withdrawals(IntakeBase):
    """A signed withdrawal (撤回) before the deadline, with its own receipt."""

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
            tender = await self._tender(session, code, shared_lock=True)
            lot = await self._lot(session, tender, lot_code)
            self._check_open(tender, now)
            bid = await BidRepository(session).bid_locked(lot.id, organisation_id)
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
            receipt_no = receipt_number(now)
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
            await detach_bid_guarantee(session, actor, bid.id)  # free for another bid (issue 17)
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
        what = "the withdrawal signature does not verify over the withdrawal statement"
        signed = verified(statement, signature, refusal=BidRefused, what=what)
        await signer_must_be(
            session,
            self.settings,
            signed,
            uscc=uscc,
            at=now,
            refusal=BidRefused,
            signed_what="the withdrawal is signed",
            not_by="the bidder",
            rule="signer-not-bidder",
        )
        return fingerprint(signed.signer_certificate)
