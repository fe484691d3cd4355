"""Claims, releases, expiry and cash-bond refunds: each transition and each refusal (PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.guarantees.factories import SYSTEM, issued, organisation
from trading.guarantees import lifecycle, service
from trading.guarantees.errors import GuaranteeRefused, GuaranteeStateError
from trading.guarantees.models import ClaimStatus, ClaimTrigger, GuaranteeStatus, ReleaseReason
from trading.guarantees.rules import CHINA
from trading.kernel import clock
from trading.kernel.calendar import shipped_calendar
from trading.kernel.settings import Settings

TRIGGER = ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE


def rules(exc: pytest.ExceptionInfo[GuaranteeRefused]) -> set[tuple[str, str]]:
    return {(item["field"], item["rule"]) for item in exc.value.extra["errors"]}


async def test_claim_paid_out(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    guarantee, _, _, tenderee = await issued(session, settings, tmp_path)
    await service.mark_verified(session, SYSTEM, guarantee.id)
    claim = await lifecycle.file_claim(
        session,
        SYSTEM,
        guarantee.id,
        trigger=TRIGGER,
        claimant_organisation_id=tenderee.id,
        amount=Decimal("80000.00"),
        statement="开标后撤销投标",
    )
    assert guarantee.status == GuaranteeStatus.CLAIMED
    with pytest.raises(GuaranteeStateError) as state:  # one open claim at a time
        await lifecycle.file_claim(
            session,
            SYSTEM,
            guarantee.id,
            trigger=TRIGGER,
            claimant_organisation_id=tenderee.id,
            amount=Decimal(1),
            statement="x",
        )
    assert state.value.rule == "guarantee_status"
    await lifecycle.answer_claim(session, SYSTEM, claim.id, pay=True, answer="已赔付")
    assert (claim.status, guarantee.status) == (ClaimStatus.PAID, GuaranteeStatus.PAID_OUT)
    assert guarantee.next_check is None
    with pytest.raises(GuaranteeStateError) as state:
        await lifecycle.answer_claim(session, SYSTEM, claim.id, pay=False, answer="again")
    assert state.value.rule == "claim_status"
    with pytest.raises(GuaranteeStateError):  # paid out: nothing to release
        await lifecycle.request_release(session, SYSTEM, guarantee.id, ReleaseReason.NOT_AWARDED)


async def test_claim_rejected_leaves_the_guarantee_live(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    guarantee, _, _, tenderee = await issued(session, settings, tmp_path)
    await service.mark_verified(session, SYSTEM, guarantee.id)
    claim = await lifecycle.file_claim(
        session,
        SYSTEM,
        guarantee.id,
        trigger=ClaimTrigger.REFUSED_TO_SIGN,
        claimant_organisation_id=tenderee.id,
        amount=Decimal("100.00"),
        statement="拒签合同",
    )
    with pytest.raises(GuaranteeRefused) as exc:
        await lifecycle.answer_claim(session, SYSTEM, claim.id, pay=False, answer=" ")
    assert exc.value.rule == "required"
    await lifecycle.answer_claim(session, SYSTEM, claim.id, pay=False, answer="不符合索赔条件")
    assert (claim.status, guarantee.status) == (ClaimStatus.REJECTED, GuaranteeStatus.VERIFIED)
    assert [c.id for c in await lifecycle.claims_of(session, guarantee.id)] == [claim.id]


async def test_claim_refusals(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    guarantee, _, bidder, _ = await issued(session, settings, tmp_path)
    with pytest.raises(GuaranteeRefused) as exc:
        await lifecycle.file_claim(
            session,
            SYSTEM,
            guarantee.id,
            trigger=TRIGGER,
            claimant_organisation_id=bidder.id,
            amount=Decimal("80000.01"),
            statement="",
        )
    assert rules(exc) == {
        ("claimant_organisation_id", "claimant_beneficiary"),
        ("amount", "claim_amount"),
        ("statement", "required"),
    }
    assert guarantee.status == GuaranteeStatus.ISSUED


async def test_claim_after_validity_is_refused(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    today = (await clock.now(session)).astimezone(CHINA).date()
    guarantee, _, _, tenderee = await issued(
        session, settings, tmp_path, valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=1)
    )
    with clock.use_clock(clock.ShiftedClock(timedelta(days=3))), pytest.raises(GuaranteeRefused) as exc:
        await lifecycle.file_claim(
            session,
            SYSTEM,
            guarantee.id,
            trigger=TRIGGER,
            claimant_organisation_id=tenderee.id,
            amount=Decimal(1),
            statement="迟到",
        )
    assert rules(exc) == {("guarantee_id", "claim_after_validity")}


async def test_release_retried_until_acknowledged(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    guarantee, *_ = await issued(session, settings, tmp_path)
    with pytest.raises(GuaranteeStateError) as state:
        await lifecycle.acknowledge_release(session, SYSTEM, guarantee.id)
    assert state.value.rule == "release_status"
    release = await lifecycle.request_release(session, SYSTEM, guarantee.id, ReleaseReason.NOT_AWARDED)
    assert guarantee.status == GuaranteeStatus.RELEASED
    assert release.next_attempt_at is not None
    assert release.acknowledged_at is None
    assert await lifecycle.request_release(session, SYSTEM, guarantee.id, ReleaseReason.NOT_AWARDED) is release
    assert release.id in await lifecycle.releases_to_push(session)
    first = await lifecycle.record_release_attempt(session, release.id, error="connection refused")
    assert first.attempts == 1
    assert first.last_error == "connection refused"
    step_one = release.next_attempt_at
    await lifecycle.record_release_attempt(session, release.id, error="timeout")
    assert release.next_attempt_at is not None
    assert step_one is not None
    assert release.next_attempt_at > step_one  # backs off
    assert release.id not in await lifecycle.releases_to_push(session)  # backing off
    assert release.id not in {r.id for r in await lifecycle.overdue_releases(session)}
    with clock.use_clock(clock.ShiftedClock(timedelta(days=2))):
        assert release.id in {r.id for r in await lifecycle.overdue_releases(session)}
    await lifecycle.acknowledge_release(session, SYSTEM, guarantee.id)
    assert release.acknowledged_at is not None
    assert release.next_attempt_at is None
    await lifecycle.acknowledge_release(session, SYSTEM, guarantee.id)  # again: unchanged
    with pytest.raises(GuaranteeStateError):
        await lifecycle.expire(session, SYSTEM, guarantee.id)


async def test_expiry_by_the_sweep_handler(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    today = (await clock.now(session)).astimezone(CHINA).date()
    guarantee, *_ = await issued(
        session, settings, tmp_path, valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=1)
    )
    with pytest.raises(GuaranteeStateError) as state:
        await lifecycle.expire(session, SYSTEM, guarantee.id)
    assert state.value.rule == "not_yet_expired"
    handler = lifecycle.GuaranteeExpiry()
    now = await clock.now(session)
    assert guarantee.id not in await handler.due(session, now, 100)
    later = now + timedelta(days=3)
    assert guarantee.id in await handler.due(session, later, 100)
    with clock.use_clock(clock.ShiftedClock(timedelta(days=3))):
        assert await handler.run(session, guarantee.id, later) is True
        assert await handler.run(session, guarantee.id, later) is False  # a second sweep changes nothing
    assert guarantee.status == GuaranteeStatus.EXPIRED


async def test_cash_bond_refund_due_in_five_working_days_with_late_interest(
    session: AsyncSession, settings: Settings
) -> None:
    bidder = await organisation(session, settings)
    calendar = shipped_calendar()
    refund = await lifecycle.record_cash_bond_refund(
        session,
        SYSTEM,
        project_code="G-REFUND",
        lot_code="001",
        bidder_organisation_id=bidder.id,
        amount=Decimal("100000.00"),
        cause_date=date(2026, 9, 30),  # before the National Day holiday
        calendar=calendar,
    )
    assert refund.due_date == calendar.add_working_days(date(2026, 9, 30), 5)
    assert refund.due_date > date(2026, 10, 7)  # the holiday's days are not working days
    again = await lifecycle.record_cash_bond_refund(
        session,
        SYSTEM,
        project_code="G-REFUND",
        lot_code="001",
        bidder_organisation_id=bidder.id,
        amount=Decimal("100000.00"),
        cause_date=date(2026, 9, 30),
        calendar=calendar,
    )
    assert again is refund
    with pytest.raises(GuaranteeRefused) as exc:
        await lifecycle.mark_refunded(session, SYSTEM, refund.id, refunded_on=date(2026, 9, 1))
    assert exc.value.rule == "after_cause"
    late = refund.due_date + timedelta(days=10)
    await lifecycle.mark_refunded(session, SYSTEM, refund.id, refunded_on=late)
    assert refund.late_days == 10
    # 100 000 × 4.35 % × 1.2 × 10 / 360 = 145.00
    assert refund.late_interest == Decimal("145.00")
    assert refund.annual_rate_percent == Decimal("5.220")
    with pytest.raises(GuaranteeStateError) as state:
        await lifecycle.mark_refunded(session, SYSTEM, refund.id, refunded_on=late)
    assert state.value.rule == "refund_status"
    assert refund.id not in {r.id for r in await lifecycle.refunds_outstanding(session)}


async def test_refund_on_time_bears_no_interest(session: AsyncSession, settings: Settings) -> None:
    bidder = await organisation(session, settings)
    refund = await lifecycle.record_cash_bond_refund(
        session,
        SYSTEM,
        project_code=f"G-{uuid.uuid4().hex[:6]}",
        lot_code="001",
        bidder_organisation_id=bidder.id,
        amount=Decimal("5000.00"),
        cause_date=date(2026, 12, 7),
        calendar=shipped_calendar(),
    )
    with pytest.raises(GuaranteeRefused) as exc:
        await lifecycle.record_cash_bond_refund(
            session,
            SYSTEM,
            project_code="G-X",
            lot_code="001",
            bidder_organisation_id=bidder.id,
            amount=Decimal(-1),
            cause_date=date(2026, 12, 7),
            calendar=shipped_calendar(),
        )
    assert rules(exc) == {("amount", "amount_positive")}
    await lifecycle.mark_refunded(session, SYSTEM, refund.id, refunded_on=refund.due_date)
    assert (refund.late_days, refund.late_interest) == (0, Decimal("0.00"))
