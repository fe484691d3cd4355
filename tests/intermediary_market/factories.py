"""Helpers for marketplace tests: organisations with an actor, an item, qualifications."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.delivery import DeliveryService
from intermediary_market.models import Announcement
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import AnnouncementCreate, QualificationRecord, ServiceItemCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from tests.trading.parties.factories import new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.parties.policies import ROLE_ORGANISATION_KINDS
from trading.parties.schemas import OrganisationCreate
from trading.parties.service import PartiesService
from trading.server.wiring import grants

ITEM = "EIA-REPORT"


async def actor_in_new_organisation(session: AsyncSession, settings: Settings, role: Role) -> Actor:
    """A new organisation of a kind fitting ``role`` and an actor holding ``role`` in it (flushed)."""
    organisation = await PartiesService(session, settings).create_organisation(
        OrganisationCreate(
            uscc=new_uscc(), name=f"测试单位 {uuid.uuid4().hex[:6]}", kind=min(ROLE_ORGANISATION_KINDS[role])
        ),
        actor=Actor.system(),
    )
    return Actor(
        kind=ActorKind.USER,
        user_id=uuid.uuid4(),
        username=f"{role.value}-{uuid.uuid4().hex[:6]}",
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        roles=frozenset({role}),
        permissions=grants().for_roles({role}),
    )


async def publish_item(session: AsyncSession, code: str = ITEM) -> None:
    await MarketService(session).publish_item(
        ServiceItemCreate(
            code=code,
            name="环境影响评价报告编制",
            legal_basis="《中华人民共和国环境影响评价法》第十六条",
            approval="建设项目环境影响评价文件审批",
            required_qualification="环评单位能力",
            fee_basis="市场调节价",
            standard_days=30,
        ),
        actor=Actor.system(),
    )


async def qualified_intermediary(
    session: AsyncSession,
    settings: Settings,
    *,
    level: int = 2,
    valid_for: timedelta = timedelta(days=365),
    code: str = ITEM,
) -> Actor:
    actor = await actor_in_new_organisation(session, settings, Role.INTERMEDIARY)
    assert actor.organisation_id is not None
    now = await clock.now(session)
    await MarketService(session).record_qualification(
        QualificationRecord(
            organisation_id=actor.organisation_id,
            item_code=code,
            level=level,
            certificate_no=f"HP-{uuid.uuid4().hex[:8]}",
            valid_until=now + valid_for,
        ),
        actor=Actor.system(),
    )
    return actor


async def announcement_form(
    session: AsyncSession,
    method: SelectionMethod,
    *,
    funding: FundingType = FundingType.STATE,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    direct: uuid.UUID | None = None,
    window: timedelta = timedelta(days=5),
) -> AnnouncementCreate:
    now: datetime = await clock.now(session)
    return AnnouncementCreate(
        project_name="淮安某产业园建设项目",
        item_code=ITEM,
        method=method,
        funding=funding,
        budget=Decimal("120000.00"),
        time_limit_days=30,
        registration_opens=now - timedelta(minutes=1),
        registration_closes=now + window,
        price_min=price_min,
        price_max=price_max,
        direct_organisation_id=direct,
    )


async def selected_announcement(session: AsyncSession, owner: Actor, winner: Actor) -> Announcement:
    """A socially funded direct selection of ``winner`` by ``owner``, decided (clock +6 days)."""
    service = MarketService(session)
    form = await announcement_form(
        session, SelectionMethod.DIRECT, funding=FundingType.SOCIAL, direct=winner.organisation_id
    )
    announcement = await service.announce(form, actor=owner)
    await service.register(announcement.id, price=Decimal(1000), actor=winner)
    with use_clock(ShiftedClock(timedelta(days=6))):
        return await service.draw(announcement.id, actor=owner)


async def complete_service(session: AsyncSession, announcement: Announcement, owner: Actor) -> None:
    """Whatever is missing of the filings a rating needs (§7.3), at the current clock: the owner
    files the contract, the winner uploads a deliverable, the owner confirms completion.
    """
    deliveries = DeliveryService(session)
    delivery = await MarketRepository(session).delivery(announcement.id)
    if delivery is None:
        delivery = await deliveries.file_contract(announcement.id, f"HT-{uuid.uuid4().hex[:6]}", actor=owner)
    if delivery.deliverable_sha256 is None:
        winner = dataclasses.replace(owner, organisation_id=delivery.organisation_id)
        await deliveries.upload_deliverable(announcement.id, "cd" * 32, actor=winner)
    if delivery.completed_at is None:
        await deliveries.confirm_completion(announcement.id, actor=owner)
