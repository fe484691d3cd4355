"""``may_take_part``: which records block, when, and for what; publishing and its history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.credit.factories import organisation, record
from trading.credit.models import Activity, CreditKind, CreditRecord, CreditRecordChange, CreditStatus
from trading.credit.service import DISPLAY_TZ, CreditService, may_take_part
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry


async def test_a_blacklist_entry_in_scope_blocks_with_its_reason_and_period(
    session: AsyncSession, settings: Settings
) -> None:
    org = await organisation(session, settings)
    now = await clock.now(session)
    row = await record(session, org.id, now - timedelta(days=10))
    eligibility = await may_take_part(session, org.id, "bidding", now)
    assert not eligibility.allowed
    assert [b.record_id for b in eligibility.blocking] == [row.id]
    refusal = eligibility.refusal()
    assert (refusal.status_code, refusal.rule) == (403, "credit-blacklisted")
    assert "提供虚假材料骗取中标" in refusal.message
    assert "宁建罚〔2026〕17号" in refusal.message
    assert row.valid_until is not None
    until = row.valid_until.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    assert f"until {until} UTC+08:00" in refusal.message
    assert refusal.extra["records"][0]["reason"] == "提供虚假材料骗取中标"
    assert refusal.extra["records"][0]["valid_until"] == row.valid_until.isoformat()


async def test_what_does_not_block(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    now = await clock.now(session)
    await record(session, org.id, now - timedelta(days=10), scope=(Activity.GOVERNMENT_PROCUREMENT,))  # other scope
    await record(session, org.id, now - timedelta(days=400), days=30)  # ran out long ago
    await record(session, org.id, now + timedelta(days=5))  # not yet in force
    await record(session, org.id, now - timedelta(days=1), status=CreditStatus.WITHDRAWN)  # withdrawn
    await record(session, org.id, now - timedelta(days=1), kind=CreditKind.COMMENDATION, scope=(Activity.ALL,))
    await record(
        session, org.id, now - timedelta(days=1), kind=CreditKind.PERFORMANCE_EVALUATION, scope=(Activity.ALL,)
    )
    await record(session, org.id, now - timedelta(days=1), kind=CreditKind.ADMINISTRATIVE_PENALTY, scope=())
    eligibility = await may_take_part(session, org.id, Activity.BIDDING, now)
    assert eligibility.allowed
    assert eligibility.blocking == ()
    procurement = await may_take_part(session, org.id, Activity.GOVERNMENT_PROCUREMENT, now)
    assert len(procurement.blocking) == 1  # the government-procurement bar does block there


async def test_scope_all_and_open_ended_records_block_everything(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    now = await clock.now(session)
    row = await record(
        session, org.id, now - timedelta(days=1), kind=CreditKind.SERIOUS_VIOLATION, scope=(Activity.ALL,), days=None
    )
    for activity in Activity:
        eligibility = await may_take_part(session, org.id, activity, now + timedelta(days=3650))
        assert [b.record_id for b in eligibility.blocking] == [row.id]
        assert eligibility.refusal().rule == "credit-serious-violation"


async def test_an_expired_record_still_counts_for_a_moment_within_its_period(
    session: AsyncSession, settings: Settings
) -> None:
    """Judged from the period, like the market's close judged late: expiry changes the status only."""
    org = await organisation(session, settings)
    now = await clock.now(session)
    row = await record(session, org.id, now - timedelta(days=40), days=30)
    assert await CreditService(session).expire_if_due(row.id, now)
    assert row.status is CreditStatus.EXPIRED
    assert not (await may_take_part(session, org.id, "bidding", now - timedelta(days=20))).allowed
    assert (await may_take_part(session, org.id, "bidding", now)).allowed
    withdrawn = await CreditService(session).set_status(row.source_ref, CreditStatus.WITHDRAWN, actor=Actor.system())
    assert withdrawn is not None
    assert (await may_take_part(session, org.id, "bidding", now - timedelta(days=20))).allowed


async def test_republishing_updates_one_record_and_keeps_its_history(session: AsyncSession, settings: Settings) -> None:
    org = await organisation(session, settings)
    now = await clock.now(session)
    first = await record(session, org.id, now, ref="test:same")
    again = await record(session, org.id, now, ref="test:same")  # the same facts: nothing moves
    changed = await record(session, org.id, now, ref="test:same", reason="串通投标")
    assert first.id == again.id == changed.id
    count = await session.scalar(
        select(func.count()).select_from(CreditRecord).where(CreditRecord.source_ref == "test:same")
    )
    assert count == 1
    history = (await CreditService(session).history([changed]))[changed.id]
    assert [c.action for c in history] == ["published", "updated"]
    assert history[1].changes == {"reason": ["提供虚假材料骗取中标", "串通投标"]}
    entries = (
        (
            await session.execute(
                select(LedgerEntry.action).where(
                    LedgerEntry.subject_type == "credit_record", LedgerEntry.subject_id == str(first.id)
                )
            )
        )
        .scalars()
        .all()
    )
    assert sorted(entries) == ["credit.record_published", "credit.record_updated"]
    changes = await session.scalar(
        select(func.count()).select_from(CreditRecordChange).where(CreditRecordChange.record_id == first.id)
    )
    assert changes == 2
