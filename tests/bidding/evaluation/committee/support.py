"""What the committee tests share: an opened engineering tender with an agency and three bidders,
a main and a sub venue, a pool of experts with accounts (one employed by a bidder, one with a
declared conflict with the tenderee), and a set-up evaluation."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput
from bidding.evaluation.models import Evaluation, Venue, VenueOwner
from bidding.evaluation.pool.models import ConflictDeclaration, Expert, RelationType
from bidding.models import Bid, BidStatus, Lot, Tender
from tests.bidding.evaluation.pool.factories import admin_actor, facts, opened_tender, pool_with_list
from tests.bidding.evaluation.pool.test_rules import actor_of
from tests.trading.parties.factories import Account, create_account
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import Organisation


@dataclass
class Scene:
    tender: Tender
    tenderee: Account
    agency: Account
    bidders: list[Account]
    admin: Account
    supervisor: Account
    main_venue: Venue
    sub_venue: Venue
    experts: list[Expert]
    accounts: dict[uuid.UUID, Account] = field(default_factory=dict)
    employee: Expert | None = None
    conflicted: Expert | None = None

    @property
    def host(self) -> Actor:
        return actor_of(self.agency, Role.AGENCY)

    @property
    def operator(self) -> Actor:
        return actor_of(self.admin, Role.ADMIN)

    def expert_actor(self, expert_id: uuid.UUID) -> Actor:
        return actor_of(self.accounts[expert_id], Role.EXPERT)


async def uscc_of(session: AsyncSession, organisation_id: uuid.UUID) -> str:
    found = await session.scalar(sa.select(Organisation.uscc).where(Organisation.id == organisation_id))
    assert found is not None
    return found


async def venue(session: AsyncSession, owner: VenueOwner = VenueOwner.OWN) -> Venue:
    now = await clock.now(session)
    row = Venue(
        id=uuid7(),
        code=f"V{secrets.token_hex(4)}",
        name=f"评标室 {secrets.token_hex(2)}",
        region_code="320800",
        owner=owner,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def scene(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    plain_experts: int = 10,
) -> Scene:
    pool = await pool_with_list(session, settings)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    agency = await create_account(session_maker, settings, Role.AGENCY)
    admin = await create_account(session_maker, settings, Role.ADMIN)
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    bidders = [await create_account(session_maker, settings, Role.BIDDER) for _ in range(3)]
    tender = await opened_tender(
        session, tenderee_id=tenderee.organisation_id, created_by=agency.user_id, agency_id=agency.organisation_id
    )
    now = await clock.now(session)
    lot = Lot(id=uuid7(), tender_id=tender.id, code="L1", name="一标段", estimate=Decimal("1000000.00"), position=1)
    session.add(lot)
    await session.flush()
    for bidder in bidders:
        session.add(
            Bid(
                id=uuid7(),
                tender_id=tender.id,
                lot_id=lot.id,
                organisation_id=bidder.organisation_id,
                status=BidStatus.SUBMITTED,
                versions=1,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    result = Scene(
        tender=tender,
        tenderee=tenderee,
        agency=agency,
        bidders=bidders,
        admin=admin,
        supervisor=supervisor,
        main_venue=await venue(session),
        sub_venue=await venue(session, VenueOwner.PEER),
        experts=[],
    )

    async def expert(**given: Any) -> Expert:
        account = await create_account(session_maker, settings, Role.EXPERT)
        row, _ = await pool.register(facts(**given), actor=admin_actor(), user_id=account.user_id)
        result.experts.append(row)
        result.accounts[row.id] = account
        return row

    bidder_uscc = await uscc_of(session, bidders[1].organisation_id)
    bidder_name = await session.scalar(
        sa.select(Organisation.name).where(Organisation.id == bidders[1].organisation_id)
    )
    tenderee_uscc = await uscc_of(session, tenderee.organisation_id)
    result.employee = await expert(name="投标人员工", employer_uscc=bidder_uscc, employer_name=bidder_name)
    result.conflicted = await expert(name="有利害关系")
    session.add(
        ConflictDeclaration(
            id=uuid7(),
            expert_id=result.conflicted.id,
            organisation_uscc=tenderee_uscc,
            organisation_name="招标人",
            relation=RelationType.ADVISER,
            period_from=date(2024, 1, 1),
            declared_at=now,
        )
    )
    await session.flush()
    for index in range(plain_experts):
        await expert(name=f"专家{index:02d}")
    return result


def committee(size: int = 7, representatives: int = 0, reserves: int = 2, **extra: Any) -> dict[str, Any]:
    return {"size": size, "representatives": representatives, "specialties": {}, "reserves": reserves, **extra}


def settings_data(**committee_spec: Any) -> dict[str, Any]:
    return {
        "method": "eng-reviewed-lowest-price",
        "sector": "engineering",
        "committee": committee(**committee_spec),
    }


async def set_up(
    session: AsyncSession, s: Scene, *, data: dict[str, Any] | None = None, scheduled_at: datetime | None = None
) -> Evaluation:
    start = scheduled_at or (await clock.now(session) + timedelta(days=1))
    return await EvaluationSetup(session).create(
        s.host,
        s.tender.id,
        SetupInput(
            settings=data or settings_data(),
            main_venue_id=s.main_venue.id,
            sub_venue_ids=(s.sub_venue.id,),
            scheduled_at=start,
        ),
    )
