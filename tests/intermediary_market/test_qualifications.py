"""The service-item list (versioned) and dynamic qualifications (expiry sweep, renewal)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.errors import RegistrationRefused
from intermediary_market.jobs import QualificationExpiry
from intermediary_market.models import QualificationStatus
from intermediary_market.schemas import QualificationRecord, ServiceItemCreate
from intermediary_market.selection import SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    ITEM,
    actor_in_new_organisation,
    announcement_form,
    publish_item,
    qualified_intermediary,
)
from tests.trading.parties.factories import ledger_entries
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.sweep import run_sweep


async def test_items_are_versioned(session: AsyncSession) -> None:
    service = MarketService(session)
    await publish_item(session)
    await service.publish_item(
        ServiceItemCreate(
            code=ITEM,
            name="环境影响评价报告书编制",
            legal_basis="《环境影响评价法》",
            approval="环评审批",
            required_qualification="环评单位能力",
            fee_basis="市场调节价",
            standard_days=20,
        ),
        actor=Actor.system(),
    )
    current = [item for item in await service.items() if item.code == ITEM]
    assert [(item.version, item.standard_days) for item in current] == [(2, 20)]
    versions = await service.item_versions(ITEM)
    assert [(v.version, v.current) for v in versions] == [(1, False), (2, True)]


async def test_expiry_suspends_for_the_item_and_renewal_reinstates(session: AsyncSession, settings: Settings) -> None:
    service = MarketService(session)
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    intermediary = await qualified_intermediary(session, settings, valid_for=timedelta(days=10))
    assert intermediary.organisation_id is not None
    form = await announcement_form(session, SelectionMethod.RANDOM, window=timedelta(days=30))
    announcement = await service.announce(form, actor=owner)
    handler = QualificationExpiry()

    with use_clock(ShiftedClock(timedelta(days=11))):
        now = await clock.now(session)
        due = await handler.due(session, now, 100)
        assert len(due) >= 1
        changed = [await handler.run(session, key, now) for key in due]
        assert any(changed)
        assert not any([await handler.run(session, key, now) for key in due])  # idempotent
        (qualification,) = await service.qualifications_of(intermediary.organisation_id)
        assert qualification.status is QualificationStatus.SUSPENDED
        with pytest.raises(RegistrationRefused) as caught:
            await service.register(announcement.id, price=None, actor=intermediary)
        assert caught.value.rule == "qualification_suspended"

        renewed = await service.record_qualification(
            QualificationRecord(
                organisation_id=intermediary.organisation_id,
                item_code=ITEM,
                level=2,
                certificate_no="HP-RENEWED",
                valid_until=now + timedelta(days=365),
            ),
            actor=Actor.system(),
        )
        assert renewed.status is QualificationStatus.ACTIVE
        registration = await service.register(announcement.id, price=None, actor=intermediary)
        assert registration.organisation_id == intermediary.organisation_id
    assert renewed.id == qualification.id


async def test_ledger_records_the_suspension(session_maker, settings: Settings) -> None:
    async with session_maker() as session:
        await publish_item(session)
        intermediary = await qualified_intermediary(session, settings, valid_for=timedelta(days=1))
        assert intermediary.organisation_id is not None
        (qualification,) = await MarketService(session).qualifications_of(intermediary.organisation_id)
        await session.commit()
    with use_clock(ShiftedClock(timedelta(days=2))):
        report = await run_sweep(session_maker, [QualificationExpiry()])
    assert report.changed.get(QualificationExpiry.name, 0) >= 1
    entries = await ledger_entries(
        session_maker, action="intermediary_market.qualification_suspended", subject_id=qualification.id
    )
    assert len(entries) == 1


async def test_no_qualification_is_refused(session: AsyncSession, settings: Settings) -> None:
    service = MarketService(session)
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    unqualified = await actor_in_new_organisation(session, settings, Role.INTERMEDIARY)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    with pytest.raises(RegistrationRefused) as caught:
        await service.register(announcement.id, price=None, actor=unqualified)
    assert caught.value.rule == "no_qualification"
    assert caught.value.field == "item_code"


async def test_notice_before_expiry_then_suspension(session: AsyncSession, settings: Settings) -> None:
    service = MarketService(session)
    await publish_item(session)
    intermediary = await qualified_intermediary(session, settings, valid_for=timedelta(days=60))
    assert intermediary.organisation_id is not None
    (qualification,) = await service.qualifications_of(intermediary.organisation_id)
    handler = QualificationExpiry()
    with use_clock(ShiftedClock(timedelta(days=31))) as shifted:
        assert await handler.run(session, qualification.id, await clock.now(session))
        assert qualification.expiry_noticed_at is not None
        assert qualification.status is QualificationStatus.ACTIVE
        assert qualification.next_check == qualification.valid_until
        assert not await handler.run(session, qualification.id, await clock.now(session))  # not due again yet
        shifted.advance(timedelta(days=30))
        assert await handler.run(session, qualification.id, await clock.now(session))
        assert qualification.status is QualificationStatus.SUSPENDED
