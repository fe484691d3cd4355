"""The pool's rows as the committee draw reads them: `CandidateRepository.candidates` maps every
expert onto `bidding.evaluation.draw.candidates.Candidate`, and the draw's avoidance then excludes
the conflicted expert, the bidder's employee, the suspended and the unavailable ones, naming why.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.draw.avoidance import Avoidance, apply_avoidance
from bidding.evaluation.draw.candidates import DrawContext, ExpertStatus
from bidding.evaluation.draw.rules import shipped_rules
from bidding.evaluation.pool.models import DrawOutcome, DrawRecord, RelationType
from bidding.evaluation.pool.profile import ConflictInput, ExpertProfile
from bidding.evaluation.pool.repository import CandidateRepository
from bidding.evaluation.pool.service import today_in_china
from tests.bidding.evaluation.pool.factories import admin_actor, facts, opened_tender, pool_with_list
from tests.bidding.evaluation.pool.test_rules import actor_of
from tests.trading.parties.factories import create_account, new_uscc
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import Organisation


async def test_the_pool_maps_onto_the_draws_candidates_and_avoidance_says_why(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pool = await pool_with_list(session, settings)
    expert_account = await create_account(session_maker, settings, Role.EXPERT)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    tenderee_uscc = await session.scalar(
        sa.select(Organisation.uscc).where(Organisation.id == tenderee.organisation_id)
    )
    assert tenderee_uscc is not None
    bidder, other_bidder = new_uscc(), new_uscc()
    now = await clock.now(session)
    today = today_in_china(now)
    evaluation_day = today + timedelta(days=5)

    plain, _ = await pool.register(facts(name="普通", specialties=("A0101", "A0501")), actor=admin_actor())
    employee, _ = await pool.register(facts(name="员工", employer_uscc=bidder), actor=admin_actor())
    conflicted, _ = await pool.register(facts(name="回避"), actor=admin_actor(), user_id=expert_account.user_id)
    suspended, _ = await pool.register(facts(name="暂停"), actor=admin_actor())
    away, _ = await pool.register(facts(name="出差"), actor=admin_actor())
    await pool.suspend(suspended.id, now + timedelta(days=30), "暂停", actor=admin_actor())
    profile = ExpertProfile(session, settings)
    me = actor_of(expert_account, Role.EXPERT)
    await profile.declare_conflict(
        me, ConflictInput(other_bidder, "某投标单位", RelationType.SHAREHOLDER, date(2022, 1, 1), None)
    )
    await profile.declare_conflict(me, ConflictInput("", "只有名称的单位", RelationType.OTHER, date(2022, 1, 1), None))
    away_account = await create_account(session_maker, settings, Role.EXPERT)
    away.user_id = away_account.user_id
    await session.flush()
    await profile.declare_unavailable(actor_of(away_account, Role.EXPERT), evaluation_day, evaluation_day)
    tender = await opened_tender(session, tenderee_id=tenderee.organisation_id, created_by=tenderee.user_id)
    session.add(
        DrawRecord(
            id=uuid7(),
            expert_id=plain.id,
            tender_id=tender.id,
            tenderee_organisation_id=tenderee.organisation_id,
            outcome=DrawOutcome.CONFIRMED,
            drawn_at=now - timedelta(days=20),
        )
    )
    await session.flush()

    candidates = await CandidateRepository(session).candidates(
        days_from=evaluation_day, days_until=evaluation_day, draws_since=today - timedelta(days=365)
    )
    by_id = {c.expert_id: c for c in candidates}
    assert set(by_id) == {str(e.id) for e in (plain, employee, conflicted, suspended, away)}
    mapped = by_id[str(plain.id)]
    assert mapped.specialties == ("A0101", "A0501")
    assert mapped.region == plain.region_code
    assert [(d.tenderee_uscc, d.tender_id) for d in mapped.past_draws] == [(tenderee_uscc, str(tender.id))]
    assert by_id[str(employee.id)].employer_uscc == bidder
    assert [(c.organisation_uscc, c.relation) for c in by_id[str(conflicted.id)].conflicts] == [
        (other_bidder, "shareholder")
    ]
    assert by_id[str(suspended.id)].status is ExpertStatus.SUSPENDED
    assert by_id[str(suspended.id)].suspended_until == today_in_china(now + timedelta(days=30))
    assert by_id[str(away.id)].unavailable == frozenset({evaluation_day})

    context = DrawContext(
        tender_id=str(uuid7()),
        tenderee_uscc=tenderee_uscc,
        agency_uscc=None,
        bidder_usccs=frozenset({bidder, other_bidder}),
        evaluation_date=evaluation_day,
        draw_date=today,
        government_procurement=False,
    )
    result = apply_avoidance(candidates, context, shipped_rules())
    reasons = {item.expert_id: {r.code for r in item.reasons} for item in result.excluded}
    assert reasons == {
        str(employee.id): {Avoidance.EMPLOYER_BIDDER},
        str(conflicted.id): {Avoidance.CONFLICT_BIDDER},
        str(suspended.id): {Avoidance.SUSPENDED},
        str(away.id): {Avoidance.UNAVAILABLE},
    }
    assert [c.expert_id for c in result.candidates] == [str(plain.id)]


async def test_candidates_can_be_read_for_the_specs_specialties_only(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    building, _ = await pool.register(facts(specialties=("A0101",)), actor=admin_actor())
    cost, _ = await pool.register(facts(specialties=("A0501", "C03")), actor=admin_actor())
    await pool.register(facts(specialties=("B0101",)), actor=admin_actor())
    today = today_in_china(await clock.now(session))
    repository = CandidateRepository(session)

    async def ids(prefixes: list[str] | None) -> set[str]:
        found = await repository.candidates(
            days_from=today, days_until=today, draws_since=today, specialty_prefixes=prefixes
        )
        return {c.expert_id for c in found}

    assert await ids(["A01", "A05"]) == {str(building.id), str(cost.id)}
    assert await ids(["C"]) == {str(cost.id)}
    assert await ids([]) == set()
    assert len(await ids(None)) == 3
