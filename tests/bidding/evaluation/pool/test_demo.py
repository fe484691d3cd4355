"""The demo's expert pool: a dozen experts in several specialties from two regions, the demo expert
account linked with a declared conflict, an expert employed by a demo bidder; seeding twice adds
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.models import ConflictDeclaration, Expert, ExpertSpecialty
from trading.kernel.settings import Settings
from trading.parties.repository import UserRepository
from trading.parties.service import PartiesService
from trading.server import demo, demo_pool


async def test_the_demo_pool_is_seeded_once(session: AsyncSession, settings: Settings) -> None:
    await demo.seed(PartiesService(session, settings))
    usccs = {item.key: item.uscc for item in demo.ORGANISATIONS}
    names = {item.key: item.name for item in demo.ORGANISATIONS}
    lines = await demo_pool.seed_demo_pool(session, settings, usccs, names)
    assert any("12 demo experts" in line for line in lines)
    experts = {e.name: e for e in await session.scalars(sa.select(Expert))}
    assert len(experts) == 12
    assert {e.region_code[:4] for e in experts.values()} == {"3208", "3201"}
    assert sum(e.shared for e in experts.values()) == 4
    codes = set(await session.scalars(sa.select(ExpertSpecialty.code)))
    assert {code[0] for code in codes} == {"A", "B", "C"}
    account = await UserRepository(session).by_username("expert")
    assert account is not None
    assert experts["赵立新"].user_id == account.id
    assert experts["王永刚"].employer_uscc == usccs["builder2"]
    conflicts = (await session.scalars(sa.select(ConflictDeclaration))).all()
    assert [(c.expert_id, c.organisation_uscc) for c in conflicts] == [(experts["赵立新"].id, usccs["builder1"])]
    assert await demo_pool.seed_demo_pool(session, settings, usccs, names) == []
    assert await session.scalar(sa.select(sa.func.count()).select_from(Expert)) == 12
