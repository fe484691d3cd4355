"""Owner ratings within the window, and the credit score they feed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.delivery import DeliveryService
from intermediary_market.errors import RatingRefused
from intermediary_market.jobs import DeliveryClock
from intermediary_market.models import Announcement
from intermediary_market.schemas import RatingCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    announcement_form,
    complete_service,
    publish_item,
    qualified_intermediary,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings


async def _selected(service: MarketService, session: AsyncSession, owner: Actor, winner: Actor) -> Announcement:
    form = await announcement_form(
        session, SelectionMethod.DIRECT, funding=FundingType.SOCIAL, direct=winner.organisation_id
    )
    announcement = await service.announce(form, actor=owner)
    await service.register(announcement.id, price=Decimal(1000), actor=winner)
    with use_clock(ShiftedClock(timedelta(days=6))):
        return await service.draw(announcement.id, actor=owner)


async def test_ratings_in_the_window_feed_the_credit_score(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    service = MarketService(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    winner = await qualified_intermediary(session, settings)
    assert winner.organisation_id is not None
    first = await _selected(service, session, owner, winner)
    second = await _selected(service, session, owner, winner)
    deliveries = DeliveryService(session)
    clock_handler = DeliveryClock()
    with use_clock(ShiftedClock(timedelta(days=7))) as shifted:
        delivery = await deliveries.file_contract(first.id, "HT-2026-001", actor=owner)
        assert delivery.due_at - delivery.filed_at == timedelta(days=30)  # the announcement's time limit
        shifted.advance(timedelta(days=28))  # three days before the deadline: the warning
        assert await clock_handler.run(session, delivery.id, await clock.now(session))
        assert delivery.warned_at is not None
        assert not delivery.overdue
        shifted.advance(timedelta(days=3))  # at the deadline: overdue
        assert await clock_handler.run(session, delivery.id, await clock.now(session))
        assert delivery.overdue
        assert not await clock_handler.run(session, delivery.id, await clock.now(session))  # idempotent
        await deliveries.upload_deliverable(first.id, "ab" * 32, actor=winner)
        completed = await deliveries.confirm_completion(first.id, actor=owner)
        assert completed.overdue
    with use_clock(ShiftedClock(timedelta(days=40))):
        await complete_service(session, second, owner)
        await service.rate(first.id, RatingCreate(quality=90, timeliness=80, attitude=100, fees=90), actor=owner)
        await service.rate(second.id, RatingCreate(quality=70, timeliness=60, attitude=80, fees=70), actor=owner)
        with pytest.raises(RatingRefused) as duplicate:
            await service.rate(first.id, RatingCreate(quality=1, timeliness=1, attitude=1, fees=1), actor=owner)
        assert duplicate.value.rule == "duplicate_rating"
    # 63 + 9 + 20 × 80 % − 5 for the overdue delivery on record = 83 → B
    score = await service.credit_of(winner.organisation_id, regulator=Decimal(63), public_credit=Decimal(9))
    assert (score.social, score.total, score.grade) == (Decimal("16.00"), Decimal("83.00"), "B")


async def test_rating_outside_the_window_is_refused(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    service = MarketService(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    winner = await qualified_intermediary(session, settings)
    announcement = await _selected(service, session, owner, winner)
    with use_clock(ShiftedClock(timedelta(days=6 + 181))), pytest.raises(RatingRefused) as caught:
        await service.rate(announcement.id, RatingCreate(quality=90, timeliness=90, attitude=90, fees=90), actor=owner)
    assert (caught.value.field, caught.value.rule) == ("announcement_id", "rating_window")
    with pytest.raises(RatingRefused) as bad:
        await service.rate(announcement.id, RatingCreate(quality=101, timeliness=90, attitude=90, fees=90), actor=owner)
    assert (bad.value.field, bad.value.rule) == ("quality", "rating_range")
