"""Revoking a bid after the deadline (撤销): a signed act of the bidder, with its own receipt.

撤回 (withdrawal, `withdrawal.py`) is the bidder's right before the deadline and costs nothing; 撤销
after the deadline, within the bid validity period, is still possible but the tenderee may keep the
bid security (实施条例 Art. 35; GP: 87号令 Art. 23). The bidder signs a statement that says so
(`format.revocation_statement`, with `format.REVOCATION_CONSEQUENCE`); the receipt records it, the bid
leaves the opening, the evaluation and the award (status ``revoked``), and its guarantee stays bound
to it, so the tenderee's claim (`bidding.award.securities`, trigger ``withdrawal_after_deadline``)
finds both the trigger and the guarantee.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as container_format
from bidding.errors import TenderStateConflict
from bidding.intake.base import ActTarget, IntakeBase, Receipt
from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender, TenderStatus, VersionKind
from bidding.repository.bids import BidRepository
from bidding.tenders.security import validity_end
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
from trading.notifications import service as notifications
from trading.parties.models import Organisation

_AWARDS = sa.table("award_awards", sa.column("id", sa.Uuid()), sa.column("tender_id", sa.Uuid()))
_CONTRACTS = sa.table(
    "award_contracts",
    sa.column("award_id", sa.Uuid()),
    sa.column("winner_organisation_id", sa.Uuid()),
    sa.column("winner_signed_at", sa.DateTime(timezone=True)),
    sa.column("tenderee_signed_at", sa.DateTime(timezone=True)),
    sa.column("voided_at", sa.DateTime(timezone=True)),
)
"""The award's contracts, read as tables (the award is not imported by earlier parts: import contract)."""


class RevocationHook(Protocol):
    async def __call__(
        self, session: AsyncSession, bid: Bid, *, receipt_no: str, now: datetime, actor: Actor, code: str
    ) -> None:
        """What a later stage does, in the revocation's transaction, for a bid just revoked (the opening:
        a bid still waiting for its decryption gets the outcome ``revoked``); must be idempotent.
        """
        ...


_hooks: list[RevocationHook] = []


def use_revocation_hook(hook: RevocationHook | None) -> RevocationHook | None:
    """Register what runs when a bid is revoked (None removes it); returns the previous one. The
    opening plugs itself in through `trading.server.wiring` (core never imports the opening).
    """
    previous = _hooks[0] if _hooks else None
    _hooks.clear()
    if hook is not None:
        _hooks.append(hook)
    return previous


_ENDED = frozenset({TenderStatus.DRAFT, TenderStatus.CANCELLED, TenderStatus.FAILED})
"""A tender whose bids bind nobody: never published, cancelled, or 流标 (the securities are returned)."""


class Revocations(IntakeBase):
    """A signed revocation (撤销) after the deadline, within the bid validity period, before the contract."""

    async def revocation_statement(self, actor: Actor, code: str, lot_code: str) -> bytes:
        """The statement the caller's revocation of its bid for the lot signs (for the API and pages)."""
        organisation_id = self._bidder(actor)
        async with self.session_maker() as session:
            tender = await self._tender(session, code)
            lot = await self._lot(session, tender, lot_code)
            bid = await session.scalar(
                sa.select(Bid).where(Bid.lot_id == lot.id, Bid.organisation_id == organisation_id)
            )
            if bid is None or bid.status is not BidStatus.SUBMITTED or bid.current_version_id is None:
                raise Conflict("there is no submitted bid to revoke", field="bid", rule="revocable")
            organisation = await session.get_one(Organisation, organisation_id)
            current = await session.get_one(BidVersion, bid.current_version_id)
            return container_format.revocation_statement(
                tender.project_code, lot.code, organisation.uscc, current.receipt_no
            )

    async def revoke(self, actor: Actor, code: str, lot_code: str, signature: str) -> Receipt:
        """Revoke (撤销) the bidder's bid for the lot after the deadline.

        Refused, naming field and rule: before the deadline (``deadline``/``after-deadline``: that is a
        withdrawal, 撤回), after the bid validity period (``deadline``/``within-validity``), a tender
        cancelled or failed (``tender``/``tender-active``), once the contract is signed (``bid``/
        ``before-contract``), with no submitted bid or one already withdrawn or revoked (``bid``/
        ``revocable``), without the bidder's signature over `format.revocation_statement`
        (``signature``: ``required``, ``base64``, ``signature``, ``signer-not-bidder``).
        """
        organisation_id = self._bidder(actor)
        signature_der = self._act_signature(signature, "revocation")
        async with transaction(self.session_maker, lock=True) as session:
            now = await clock.now(session)
            tender = await self._tender(session, code, shared_lock=True)
            lot = await self._lot(session, tender, lot_code)
            self._check_revocable(tender, now)
            bid = await BidRepository(session).bid_locked(lot.id, organisation_id)
            if bid is None or bid.current_version_id is None or bid.status is not BidStatus.SUBMITTED:
                state = "no submitted bid" if bid is None else f"the bid is {bid.status.value}"
                raise Conflict(f"there is no submitted bid to revoke: {state}", field="bid", rule="revocable")
            await _check_no_contract(session, tender, organisation_id)
            organisation = await session.get_one(Organisation, organisation_id)
            revoked = await session.get_one(BidVersion, bid.current_version_id)
            statement = container_format.revocation_statement(
                tender.project_code, lot.code, organisation.uscc, revoked.receipt_no
            )
            act = await self._signed_act(
                session, statement, signature_der, act="revocation", uscc=organisation.uscc, now=now
            )
            refers = {
                "revokes": revoked.id.hex,
                "revokesReceiptNo": revoked.receipt_no,
                "consequence": container_format.REVOCATION_CONSEQUENCE,
            }

            async def run_hooks(receipt_no: str) -> None:
                for hook in _hooks:
                    await hook(session, bid, receipt_no=receipt_no, now=now, actor=actor, code=tender.project_code)
                # The guarantee stays bound to the bid: a revoked bid's security may be claimed, not freed.

            receipt = await self._record_act(
                session,
                actor,
                ActTarget(tender, lot, bid, organisation),
                act,
                now=now,
                kind=VersionKind.REVOCATION,
                status=BidStatus.REVOKED,
                refers=refers,
                then=run_hooks,
                action="bidding.bid_revoked",
                sealed=False,
            )
            await _notify_owners(session, actor, tender, lot, organisation, receipt_no=receipt.receipt_no, now=now)
            return receipt

    @staticmethod
    def _check_revocable(tender: Tender, now: datetime) -> None:
        if tender.status in _ENDED:
            raise TenderStateConflict(
                f"tender {tender.project_code} is {tender.status.value}: its bids bind nobody",
                field="tender",
                rule="tender-active",
            )
        if tender.deadline is None or now < tender.deadline:
            raise Conflict(
                "before the bid deadline a bid is withdrawn (撤回), not revoked: use the withdrawal",
                field="deadline",
                rule="after-deadline",
            )
        end = validity_end(tender)
        if end is not None and now >= end:
            raise Conflict(
                f"the bid validity period ended at {end.isoformat()}: the bid binds the bidder no longer",
                field="deadline",
                rule="within-validity",
            )


async def _check_no_contract(session: AsyncSession, tender: Tender, organisation_id: uuid.UUID) -> None:
    """Refuse once the tender's contract is concluded (both signed), or the bidder signed it as the winner."""
    c = _CONTRACTS
    signed = await session.scalar(
        sa.select(sa.func.count())
        .select_from(c.join(_AWARDS, _AWARDS.c.id == c.c.award_id))
        .where(
            _AWARDS.c.tender_id == tender.id,
            c.c.voided_at.is_(None),
            sa.or_(
                c.c.tenderee_signed_at.is_not(None),
                sa.and_(c.c.winner_organisation_id == organisation_id, c.c.winner_signed_at.is_not(None)),
            ),
        )
    )
    if signed:
        raise Conflict(
            "the contract is signed: a bid is revoked only before the contract", field="bid", rule="before-contract"
        )


REVOKED_TEMPLATE: Final = "bidding.bid_revoked"


async def _notify_owners(
    session: AsyncSession,
    actor: Actor,
    tender: Tender,
    lot: Lot,
    organisation: Organisation,
    *,
    receipt_no: str,
    now: datetime,
) -> None:
    """Serve the tenderee and its agency a notice of the revocation (legal: they may keep or claim the
    bid security, and, when the bidder was the winner, choose between the next candidate and a new
    tender), naming the tender, the lot, the bidder and the time, linking to the tender's page.
    """
    owners = {o for o in (tender.tenderee_organisation_id, tender.agency_organisation_id) if o is not None}
    for owner in sorted(owners):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(owner),
            template=REVOKED_TEMPLATE,
            key=f"{REVOKED_TEMPLATE}:{receipt_no}:{owner}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "lot": lot.code,
                "lot_name": lot.name,
                "bidder": organisation.name,
                "revoked_at": now.isoformat(),
                "receipt_no": receipt_no,
                "path": f"/bidding/manage/tenders/{tender.project_code}",
            },
            legal=True,
            project_code=tender.project_code,
            actor=actor,
        )
