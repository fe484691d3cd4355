"""Purchasers, supervisors and the inputs of intentions and projects."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from procurement.projects.models import ItemCategory, ProcurementIntention, ProcurementMethod
from procurement.projects.service import IntentionInput, IntentionService, ProjectInput
from procurement.requirements.service import RequirementService
from tests.bidding.factories import Party, party
from tests.procurement.requirements.factories import CLEAN_QUALIFICATIONS, OVERVIEW, PACKAGE, PLAN
from tests.trading.parties.factories import PASSWORD, new_username
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import CHINA
from trading.kernel.settings import Settings
from trading.parties.models import OrganisationKind
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService


async def purchaser_party(session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki) -> Party:
    return await party(
        session_maker, settings, pki, Role.TENDEREE, kind=OrganisationKind.PURCHASER_UNIT, name="南京市测试采购人"
    )


async def supervisor_party(session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki) -> Party:
    return await party(
        session_maker,
        settings,
        pki,
        Role.SUPERVISOR,
        kind=OrganisationKind.SUPERVISORY_DEPARTMENT,
        name="南京市财政局政府采购监管处",
    )


def month_after(now: datetime, days: int) -> str:
    return (now + timedelta(days=days)).astimezone(CHINA).strftime("%Y-%m")


def intention_input(now: datetime, *, days: int = 70, **overrides: Any) -> IntentionInput:
    fields: dict[str, Any] = {
        "project_name": "某市第一人民医院医用设备采购",
        "budget": Decimal("1500000.00"),
        "item_code": "A02320000",
        "category": ItemCategory.GOODS,
        "summary": "采购彩色多普勒超声诊断仪1台，含安装调试、培训及三年质保。",
        "expected_month": month_after(now, days),
    }
    fields.update(overrides)
    return IntentionInput(**fields)


async def intention_days_ago(
    session_maker: async_sessionmaker[AsyncSession], purchaser: Party, now: datetime, days: int
) -> ProcurementIntention:
    """An intention as if published ``days`` ago (its publication time set back in the database)."""
    async with session_maker() as session:
        intention = await IntentionService(session).publish(purchaser.actor(), intention_input(now))
        await session.execute(
            sa.update(ProcurementIntention)
            .where(ProcurementIntention.id == intention.id)
            .values(published_at=now - timedelta(days=days))
        )
        await session.commit()
        await session.refresh(intention)
    return intention


def project_input(now: datetime, code: str, **overrides: Any) -> ProjectInput:
    fields: dict[str, Any] = {
        "code": code,
        "name": "某市第一人民医院彩色多普勒超声诊断仪采购项目",
        "category": ItemCategory.GOODS,
        "item_code": "A02320000",
        "budget": Decimal("1500000.00"),
        "method": ProcurementMethod.PUBLIC_TENDER,
        "notice_at": now + timedelta(days=2),
        "evaluation_method": "comprehensive",
        "criteria": [{"name": "价格", "weight": 30}, {"name": "技术", "weight": 50}, {"name": "服务", "weight": 20}],
        "price_weight": 30,
        "sme_deduction_percent": 10,
        "bid_security_amount": Decimal("30000.00"),
    }
    fields.update(overrides)
    return ProjectInput(**fields)


async def approved_requirement(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, purchaser: Party
) -> uuid.UUID:
    """A goods requirement of the purchaser's unit, filled with nothing to find and approved in the
    internal review by a second member of the unit (the author never reviews their own).
    """
    async with session_maker() as session:
        user, _ = await PartiesService(session, settings).create_user(
            UserCreate(
                username=new_username("reviewer"),
                display_name="采购审查人",
                password=PASSWORD,
                organisation_id=purchaser.organisation_id,
                role=Role.TENDEREE,
            ),
            actor=Actor.system(),
        )
        reviewer = Actor(
            kind=ActorKind.USER,
            user_id=user.id,
            username=user.username,
            organisation_id=purchaser.organisation_id,
            roles=frozenset({Role.TENDEREE}),
        )
        service = RequirementService(session)
        row = await service.create(purchaser.actor(), "goods", OVERVIEW["project_name"])
        package = {**PACKAGE, "qualifications": CLEAN_QUALIFICATIONS}
        for part, fields, index in (("overview", OVERVIEW, None), ("plan", PLAN, None), ("package", package, 0)):
            assert await service.save_part(purchaser.actor(), row.id, part, fields, index) == []
        await service.submit(purchaser.actor(), row.id)
        approved = await service.review(reviewer, row.id, approve=True, note="")
        assert approved.state == "approved"
        await session.commit()
        return row.id
