"""Withdrawing a bid before the deadline: signed by the bidder over the withdrawal statement."""

from __future__ import annotations

from bidding.client import format as container_format
from bidding.guarantees_flow import detach_bid_guarantee
from bidding.intake.base import ActTarget, IntakeBase, Receipt
from bidding.models import (
    BidStatus,
    BidVersion,
    VersionKind,
)
from bidding.repository.bids import BidRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
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
        signature_der = self._act_signature(signature, "withdrawal")
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
            act = await self._signed_act(
                session, statement, signature_der, act="withdrawal", uscc=organisation.uscc, now=now
            )
            refers = {
                "withdraws": bid.current_version_id.hex if bid.current_version_id else None,
                "withdrawsReceiptNo": withdrawn.receipt_no,
            }

            async def detach(_receipt_no: str) -> None:
                await detach_bid_guarantee(session, actor, bid.id)  # free for another bid (issue 17)

            return await self._record_act(
                session,
                actor,
                ActTarget(tender, lot, bid, organisation),
                act,
                now=now,
                kind=VersionKind.WITHDRAWAL,
                status=BidStatus.WITHDRAWN,
                refers=refers,
                then=detach,
                action="bidding.bid_withdrawn",
                sealed=True,
            )
