"""Claims (索赔) on a bid guarantee, filed by the tenderee through the platform (issue 17 point 5).

A claim needs a statutory trigger that bidding's own records show (domain rules §6.1): a withdrawal
(撤销) received after the deadline, the opening's ruling that the bid was not decrypted by the
bidder's fault (deemed 撤销, Order 20 Art. 31), or the award's pass-over of the winner for refusing
the contract / giving up (实施条例 Art. 74) or for giving no performance security. The claim itself is
`trading.guarantees.lifecycle.file_claim` (claimant: the tenderee, the guarantee's beneficiary).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.models import Award
from bidding.guarantees_flow import manifest_guarantee
from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender, VersionKind
from bidding.tenders.security import lot_terms
from trading.guarantees import lifecycle
from trading.guarantees.models import ClaimTrigger, GuaranteeClaim
from trading.guarantees.notices import notify_guarantee
from trading.guarantees.repository import GuaranteesRepository
from trading.kernel import tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed

_OPENING_BIDS = sa.table(
    "bidding_opening_bids",
    sa.column("id", sa.Uuid()),
    sa.column("bid_id", sa.Uuid()),
    sa.column("outcome", sa.String()),
)
"""The opening's bids, read as a table (the opening is not imported by later stages: import contract)."""
REVOKED = "revoked"
"""`bidding.opening.models.Outcome.REVOKED`: not decrypted by the bidder's fault, deemed 撤销."""


CLAIM_WORDS: dict[ClaimTrigger, str] = {
    ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE: "投标截止后撤销投标文件 (withdrawal after the deadline)",
    ClaimTrigger.DECRYPTION_FAILURE: "因投标人原因未解密，视为撤销投标 (decryption failure)",
    ClaimTrigger.REFUSED_TO_SIGN: "中标人无正当理由不与招标人订立合同 (refused to sign)",
    ClaimTrigger.NO_PERFORMANCE_SECURITY: "中标人未按要求提交履约担保 (no performance security)",
}
"""The trigger as a notice states it (notices are plain text in both languages)."""


# --- claims -------------------------------------------------------------------------------------------


_CLAIM_DROP_REASONS: dict[ClaimTrigger, frozenset[str]] = {
    # 实施条例 Art. 74: the winner refuses to sign (放弃中标 included) or gives no performance security.
    ClaimTrigger.REFUSED_TO_SIGN: frozenset({"refused_contract", "gave_up"}),
    ClaimTrigger.NO_PERFORMANCE_SECURITY: frozenset({"no_performance_security"}),
}


async def trigger_happened(session: AsyncSession, bid: Bid, tender: Tender, trigger: ClaimTrigger) -> bool:
    """Whether bidding's own records show ``trigger`` for ``bid``."""
    if trigger is ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE:
        # The bidder's signed revocation (撤销, `bidding.intake.revocation`), or any withdrawal version
        # received at or after the deadline (撤销, not 撤回).
        received = await session.scalar(
            sa.select(sa.func.min(BidVersion.received_at)).where(
                BidVersion.bid_id == bid.id,
                BidVersion.kind.in_((VersionKind.WITHDRAWAL, VersionKind.REVOCATION)),
            )
        )
        return received is not None and tender.deadline is not None and received >= tender.deadline
    opening_bids = (
        await session.execute(
            sa.select(_OPENING_BIDS.c.id, _OPENING_BIDS.c.outcome).where(_OPENING_BIDS.c.bid_id == bid.id)
        )
    ).all()
    if trigger is ClaimTrigger.DECRYPTION_FAILURE:
        # The opening ruled the bid not decrypted by the bidder's fault: deemed 撤销 (Order 20 Art. 31).
        return any(outcome == REVOKED for _, outcome in opening_bids)
    reasons = _CLAIM_DROP_REASONS[trigger]
    opening_ids = {str(opening_id) for opening_id, _ in opening_bids}
    awards = (await session.scalars(sa.select(Award).where(Award.tender_id == tender.id))).all()
    return any(
        d.get("bid") in opening_ids and d.get("reason") in reasons
        for award in awards
        for d in (award.passed_over or {}).get("dropped", [])
    )


async def file_security_claim(
    session: AsyncSession,
    actor: Actor,
    *,
    tender_code: str,
    bid_id: uuid.UUID,
    trigger: ClaimTrigger,
    statement: str,
    amount: Decimal | None = None,
) -> GuaranteeClaim:
    """The tenderee claims on the guarantee securing ``bid_id`` for ``trigger`` (amount: the whole
    guarantee unless given). Refused: ``owner`` (the caller is not the tender's tenderee or agency),
    ``trigger_not_recorded`` (bidding's records do not show the trigger), ``no_guarantee``; the rest
    is `lifecycle.file_claim`'s (claimant = the tenderee, the beneficiary).
    """
    tender = await session.scalar(sa.select(Tender).where(Tender.project_code == tender_code))
    bid = await session.get(Bid, bid_id)
    if tender is None or bid is None or bid.tender_id != tender.id:
        raise NotFound("no such bid on this tender", field="bid", rule="exists")
    owners = {tender.tenderee_organisation_id, getattr(tender, "agency_organisation_id", None)} - {None}
    if actor.organisation_id not in owners:
        raise PermissionDenied("only the tenderee or its agency files a claim", field="tender", rule="owner")
    if not await trigger_happened(session, bid, tender, trigger):
        raise ValidationFailed(
            f"the tender's records do not show {trigger.value} for this bid",
            field="trigger",
            rule="trigger_not_recorded",
        )
    guarantee = await GuaranteesRepository(session).guarantee_of_bid(bid.id)
    if guarantee is None:
        raise ValidationFailed(
            "the bid is not secured by a guarantee on this platform", field="bid", rule="no_guarantee"
        )
    claim = await lifecycle.file_claim(
        session,
        actor,
        guarantee.id,
        trigger=trigger,
        claimant_organisation_id=tender.tenderee_organisation_id,
        amount=guarantee.amount if amount is None else amount,
        statement=statement,
    )
    await notify_guarantee(session, guarantee, "guarantees.claim_filed", reason=CLAIM_WORDS[trigger])
    return claim


# --- the release event's facts --------------------------------------------------------------------------


async def bid_securities(session: AsyncSession, tender: Tender) -> list[dict[str, str]]:
    """Each submitted bid's security as its signed manifest names it, with the lot's required amount:
    what ``guarantees.release_bid_securities`` releases (a guarantee) or records a refund for (cash).
    """
    rows = await session.execute(
        sa.select(Bid, Lot)
        .join(Lot, Lot.id == Bid.lot_id)
        .where(Bid.tender_id == tender.id, Bid.status == BidStatus.SUBMITTED)
        .order_by(Lot.code, Bid.id)
    )
    securities: list[dict[str, str]] = []
    for bid, lot in rows:
        version = await session.get(BidVersion, bid.current_version_id) if bid.current_version_id else None
        form, reference = manifest_guarantee(version.manifest if version else None)
        terms = lot_terms(tender, lot)
        if not terms.required or form not in {"cash", "guarantee"}:
            continue
        securities.append(
            {
                "bid_id": str(bid.id),
                "organisation_id": str(bid.organisation_id),
                "lot": lot.code,
                "form": form,
                "reference": reference,
                "amount": str(terms.amount),
            }
        )
    return securities


RELEASE_TASK = "guarantees.release_bid_securities"
"""`trading.guarantees.release_jobs.RELEASE_TASK` (enqueued by name: bidding never imports tasks)."""


async def release_losers_at_notice(session: AsyncSession, award: Award, tender: Tender, now: datetime) -> None:
    """87号令 Art. 38: the bidders not awarded get their security back promptly after the award
    notices are issued (cash within 5 working days of the notice): the release event for every
    bidder but the winner leaves after this commit. The contract's event repeats them harmlessly.
    """
    winner = str(award.chosen_organisation_id) if award.chosen_organisation_id else None
    losers = [s for s in await bid_securities(session, tender) if s["organisation_id"] != winner]
    if losers and winner is not None:
        tasks.enqueue(
            session,
            RELEASE_TASK,
            tender=tender.project_code,
            award_id=str(award.id),
            winner_organisation_id=winner,
            notice_issued_at=now.isoformat(),
            securities=losers,
        )
