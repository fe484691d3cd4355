"""After issue: claims (索赔), releases (注销), expiry and the refunds of cash bonds.

Plain async functions, like ``trading.guarantees.service``: they flush, append a ledger entry per
state change and leave the commit to the boundary. The flows that call them (bidding's events,
the sweep, the worker pushing releases to the guarantor's callback URL) are built on top.

Guarantee states::

    issued → verified → claimed → paid_out
       │        │          └──(claim rejected)→ back to issued/verified
       └────────┴──→ released | expired
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.errors import GuaranteeRefused, GuaranteeStateError
from trading.guarantees.issuance import guarantee_entry
from trading.guarantees.models import (
    CashBondRefund,
    ClaimStatus,
    ClaimTrigger,
    Guarantee,
    GuaranteeClaim,
    GuaranteeRelease,
    GuaranteeStatus,
    ReleaseReason,
)
from trading.guarantees.repository import LIVE, GuaranteesRepository
from trading.guarantees.rules import CENT, Problems, check_amount, ledger_entry, required_row
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import WorkingCalendar
from trading.kernel.errors import NotFound

REFUND_WORKING_DAYS = 5
"""政府采购货物和服务招标投标管理办法 (财政部令第87号) Art. 38: bid bonds are refunded within 5
working days (of the contract's signing, or of the tender's end for those not awarded)."""

PBOC_ANNUAL_RATE_PERCENT = Decimal("4.35")
"""The PBOC's benchmark one-year loan rate (中国人民银行 一年期贷款基准利率, 4.35 % since
2015-10-24), the "同期贷款基准利率" 87号令 Art. 38 names. Callers pass the rate in force when it
changes; the rate used is stored with each figure."""

LATE_MARKUP = Decimal("1.2")
"""87号令 Art. 38: late refunds bear interest at the PBOC rate raised by 20 % (上浮20%)."""

DAYS_PER_YEAR = Decimal(360)
"""Day rate = annual rate / 360, the Chinese banks' interest-calculation convention."""

RELEASE_RETRY_BASE = timedelta(minutes=1)
RELEASE_RETRY_MAX = timedelta(hours=6)
RELEASE_ACK_DEADLINE = timedelta(days=1)
"""A release not acknowledged by the guarantor's system within a day is shown as overdue."""


# --- claims ------------------------------------------------------------------------------------------


async def file_claim(
    session: AsyncSession,
    actor: Actor,
    guarantee_id: uuid.UUID,
    *,
    trigger: ClaimTrigger,
    claimant_organisation_id: uuid.UUID,
    amount: Decimal,
    statement: str,
    claim_signature_key: str | None = None,
) -> GuaranteeClaim:
    """The beneficiary claims on a statutory trigger (§6.1): a live guarantee → claimed.

    Refused: ``claimant_beneficiary`` (the claimant is not the beneficiary named on the guarantee),
    ``claim_amount`` (more than the guarantee), ``claim_after_validity`` (after its last day),
    ``statement``/``required``, ``guarantee_status`` (not live, or a claim is open).
    """
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.status not in LIVE:
        raise GuaranteeStateError(
            f"the guarantee is {guarantee.status.value}", field="guarantee_id", rule="guarantee_status"
        )
    claimant = await repo.organisation(claimant_organisation_id)
    if claimant is None:
        raise NotFound("no such organisation", field="claimant_organisation_id", rule="exists")
    now = await clock.now(session)
    problems = Problems()
    if claimant.uscc != guarantee.beneficiary_uscc:
        problems.add(
            "claimant_organisation_id", "claimant_beneficiary", "only the beneficiary named on the guarantee claims"
        )
    check_amount(problems, "amount", amount)
    if amount.is_finite() and amount > guarantee.amount:
        problems.add("amount", "claim_amount", "a claim is at most the guarantee's amount")
    if not statement.strip():
        problems.add("statement", "required", "state the facts of the claim")
    if guarantee.next_check is not None and now >= guarantee.next_check:
        problems.add("guarantee_id", "claim_after_validity", "the guarantee's validity has ended")
    problems.raise_any()
    claim = GuaranteeClaim(
        guarantee_id=guarantee.id,
        trigger=trigger,
        claimant_organisation_id=claimant.id,
        amount=amount,
        statement=statement.strip(),
        filed_by=actor.user_id,
        filed_at=now,
        status=ClaimStatus.FILED,
        claim_signature_key=claim_signature_key,
    )
    await repo.add(claim)
    guarantee.status = GuaranteeStatus.CLAIMED
    await session.flush()
    await guarantee_entry(session, actor, "claim_filed", guarantee, trigger=trigger.value, amount=str(amount))
    return claim


async def answer_claim(
    session: AsyncSession,
    actor: Actor,
    claim_id: uuid.UUID,
    *,
    pay: bool,
    answer: str,
    answer_signature_key: str | None = None,
) -> GuaranteeClaim:
    """The guarantor answers a filed claim: paid (the guarantee is paid out) or rejected (it is live
    again, as it was before the claim). Refused: ``claim_status`` when already answered.
    """
    repo = GuaranteesRepository(session)
    claim: GuaranteeClaim = await required_row(repo, GuaranteeClaim, claim_id, "claim_id")
    if claim.status != ClaimStatus.FILED:
        raise GuaranteeStateError(f"the claim is {claim.status.value}", field="claim_id", rule="claim_status")
    if not answer.strip():
        raise GuaranteeRefused("the answer is required", field="answer", rule="required")
    guarantee: Guarantee = await required_row(repo, Guarantee, claim.guarantee_id, "guarantee_id")
    now = await clock.now(session)
    claim.status = ClaimStatus.PAID if pay else ClaimStatus.REJECTED
    claim.answer = answer.strip()
    claim.answered_at = now
    claim.answer_signature_key = answer_signature_key
    if pay:
        guarantee.status = GuaranteeStatus.PAID_OUT
        guarantee.ended_at = now
        guarantee.next_check = None
    else:
        guarantee.status = GuaranteeStatus.VERIFIED if guarantee.verified_at else GuaranteeStatus.ISSUED
    await session.flush()
    await guarantee_entry(session, actor, "claim_paid" if pay else "claim_rejected", guarantee, claim_id=str(claim.id))
    return claim


async def claims_of(session: AsyncSession, guarantee_id: uuid.UUID) -> Sequence[GuaranteeClaim]:
    return await GuaranteesRepository(session).claims_of(guarantee_id)


# --- releases ----------------------------------------------------------------------------------------


async def request_release(
    session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID, reason: ReleaseReason
) -> GuaranteeRelease:
    """Release a live guarantee (注销): it is released now, and the release waits for the worker to
    push it to the guarantor (``next_attempt_at``). Releasing a released guarantee returns its
    release unchanged; one claimed, paid out or expired is refused (``guarantee_status``).
    """
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.status == GuaranteeStatus.RELEASED:
        existing = await repo.release_of(guarantee.id)
        if existing is not None:
            return existing
    if guarantee.status not in LIVE:
        raise GuaranteeStateError(
            f"the guarantee is {guarantee.status.value}", field="guarantee_id", rule="guarantee_status"
        )
    now = await clock.now(session)
    release = GuaranteeRelease(
        guarantee_id=guarantee.id,
        reason=reason,
        requested_by=actor.user_id,
        requested_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    await repo.add(release)
    guarantee.status = GuaranteeStatus.RELEASED
    guarantee.ended_at = now
    guarantee.next_check = None
    await session.flush()
    await guarantee_entry(session, actor, "release_requested", guarantee, reason=reason.value)
    return release


async def record_release_attempt(
    session: AsyncSession, release_id: uuid.UUID, *, error: str | None
) -> GuaranteeRelease:
    """The worker tried to push a release and failed: count it and back off (1 min doubling, at
    most 6 h). No ledger entry: a failed delivery changes no legal state.
    """
    repo = GuaranteesRepository(session)
    release: GuaranteeRelease = await required_row(repo, GuaranteeRelease, release_id, "release_id")
    if release.acknowledged_at is not None:
        return release
    now = await clock.now(session)
    release.attempts += 1
    release.last_error = (error or "")[:2000] or None
    release.next_attempt_at = now + min(RELEASE_RETRY_BASE * 2 ** min(release.attempts - 1, 20), RELEASE_RETRY_MAX)
    await session.flush()
    return release


async def acknowledge_release(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID) -> GuaranteeRelease:
    """The guarantor's system acknowledged the release; acknowledging again changes nothing."""
    repo = GuaranteesRepository(session)
    release = await repo.release_of(guarantee_id, lock=True)
    if release is None:
        raise GuaranteeStateError("the guarantee has not been released", field="guarantee_id", rule="release_status")
    if release.acknowledged_at is not None:
        return release
    release.acknowledged_at = await clock.now(session)
    release.next_attempt_at = None
    release.last_error = None
    await session.flush()
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id", lock=False)
    await guarantee_entry(session, actor, "release_acknowledged", guarantee)
    return release


async def releases_to_push(session: AsyncSession, limit: int = 100) -> Sequence[uuid.UUID]:
    """Ids of unacknowledged releases whose next push is due: the worker's queue."""
    return await GuaranteesRepository(session).releases_to_push(await clock.now(session), limit)


async def overdue_releases(session: AsyncSession) -> Sequence[GuaranteeRelease]:
    """Releases the guarantor has not acknowledged within ``RELEASE_ACK_DEADLINE`` (supervisor page)."""
    now = await clock.now(session)
    return await GuaranteesRepository(session).unacknowledged_releases(now - RELEASE_ACK_DEADLINE)


# --- expiry ------------------------------------------------------------------------------------------


async def expire(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID) -> Guarantee:
    """A live guarantee whose validity has ended expires. Refused before its end
    (``not_yet_expired``) or when it is no longer live; expiring an expired one changes nothing.
    """
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.status == GuaranteeStatus.EXPIRED:
        return guarantee
    if guarantee.status not in LIVE:
        raise GuaranteeStateError(
            f"the guarantee is {guarantee.status.value}", field="guarantee_id", rule="guarantee_status"
        )
    now = await clock.now(session)
    if guarantee.next_check is None or now < guarantee.next_check:
        raise GuaranteeStateError("the guarantee is still valid", field="guarantee_id", rule="not_yet_expired")
    guarantee.status = GuaranteeStatus.EXPIRED
    guarantee.ended_at = now
    guarantee.next_check = None
    await session.flush()
    await guarantee_entry(session, actor, "expired", guarantee)
    return guarantee


class GuaranteeExpiry:
    """Sweep handler: live guarantees past their last day expire (``next_check`` = its end)."""

    name = "guarantees.expiry"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await GuaranteesRepository(session).due_to_expire(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        del now  # `expire` reads the database clock itself and re-checks under the lock
        assert isinstance(key, uuid.UUID)  # noqa: S101 - `due` returns ids
        guarantee = await GuaranteesRepository(session).get(Guarantee, key, lock=True)
        if guarantee is None or guarantee.status not in LIVE:
            return False
        try:
            await expire(session, Actor.system(), key)
        except GuaranteeStateError:
            return False
        return True


# --- cash bonds --------------------------------------------------------------------------------------


async def record_cash_bond_refund(
    session: AsyncSession,
    actor: Actor,
    *,
    project_code: str,
    lot_code: str,
    bidder_organisation_id: uuid.UUID,
    amount: Decimal,
    cause_date: date,
    calendar: WorkingCalendar,
) -> CashBondRefund:
    """A cash bond became refundable on ``cause_date``: due on the 5th working day after it.
    Recording the same bidder's bond of the same lot again returns the first record.
    """
    repo = GuaranteesRepository(session)
    existing = await repo.refund_of(project_code, lot_code, bidder_organisation_id)
    if existing is not None:
        return existing
    problems = Problems()
    check_amount(problems, "amount", amount)
    if await repo.organisation(bidder_organisation_id) is None:
        problems.add("bidder_organisation_id", "exists", "no such organisation")
    problems.raise_any()
    refund = CashBondRefund(
        project_code=project_code,
        lot_code=lot_code,
        bidder_organisation_id=bidder_organisation_id,
        amount=amount,
        cause_date=cause_date,
        due_date=calendar.add_working_days(cause_date, REFUND_WORKING_DAYS),
        recorded_at=await clock.now(session),
    )
    await repo.add(refund)
    summary = {
        "organisation_id": str(bidder_organisation_id),
        "lot_code": lot_code,
        "due_date": refund.due_date.isoformat(),
    }
    await ledger_entry(
        session, actor, "cash_bond_refund_recorded", "cash_bond_refund", refund.id, summary, project_code=project_code
    )
    return refund


def late_interest(amount: Decimal, late_days: int, annual_rate_percent: Decimal) -> Decimal:
    """Interest for ``late_days`` at ``annual_rate_percent`` × 1.2, day rate = annual / 360, to the cent."""
    if late_days <= 0:
        return Decimal("0.00")
    rate = annual_rate_percent * LATE_MARKUP / Decimal(100)
    return (amount * rate * late_days / DAYS_PER_YEAR).quantize(CENT, rounding=ROUND_HALF_UP)


async def mark_refunded(
    session: AsyncSession,
    actor: Actor,
    refund_id: uuid.UUID,
    *,
    refunded_on: date,
    annual_rate_percent: Decimal = PBOC_ANNUAL_RATE_PERCENT,
) -> CashBondRefund:
    """The bond was refunded on ``refunded_on``: late days are the calendar days after the due date,
    with the late interest figure (87号令 Art. 38). Refused when already refunded (``refund_status``)
    or dated before the cause (``refunded_on``/``after_cause``).
    """
    repo = GuaranteesRepository(session)
    refund: CashBondRefund = await required_row(repo, CashBondRefund, refund_id, "refund_id")
    if refund.refunded_at is not None:
        raise GuaranteeStateError("the bond is already refunded", field="refund_id", rule="refund_status")
    if refunded_on < refund.cause_date:
        raise GuaranteeRefused("the refund is dated before its cause", field="refunded_on", rule="after_cause")
    late_days = max((refunded_on - refund.due_date).days, 0)
    refund.refunded_on = refunded_on
    refund.refunded_at = await clock.now(session)
    refund.late_days = late_days
    refund.annual_rate_percent = annual_rate_percent * LATE_MARKUP
    refund.late_interest = late_interest(refund.amount, late_days, annual_rate_percent)
    await session.flush()
    summary = {"late_days": late_days, "late_interest": str(refund.late_interest)}
    await ledger_entry(
        session, actor, "cash_bond_refunded", "cash_bond_refund", refund.id, summary, project_code=refund.project_code
    )
    return refund


async def refunds_outstanding(session: AsyncSession) -> Sequence[CashBondRefund]:
    return await GuaranteesRepository(session).refunds_outstanding()
