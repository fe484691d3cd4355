"""`CandidateRepository.avoided` on PostgreSQL (the cheap filters in SQL, the pool read as columns)
finds exactly what avoidance over every expert's full record finds (`avoided_by_records`): the
same candidates in the same order with the same codes, and the same exclusion record, across
the edge cases of every filter; and the experts' joined codes follow their specialty rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.draw.avoidance import Avoidance, months_before
from bidding.evaluation.draw.candidates import DraftingRole, DrawContext
from bidding.evaluation.draw.committee import draw_committee, published_result
from bidding.evaluation.draw.rules import shipped_rules
from bidding.evaluation.pool.models import (
    ConflictDeclaration,
    DrawOutcome,
    DrawRecord,
    Expert,
    RelationType,
    Unavailability,
)
from bidding.evaluation.pool.repository import CandidateRepository
from bidding.evaluation.pool.service import today_in_china
from tests.bidding.evaluation.draw_factories import spec
from tests.bidding.evaluation.pool.factories import admin_actor, facts, opened_tender, pool_with_list
from tests.trading.parties.factories import create_account, new_uscc
from trading.kernel import clock, draws
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import Organisation

CHINA = ZoneInfo("Asia/Shanghai")


async def test_the_pool_query_finds_what_avoidance_over_every_record_finds(  # noqa: PLR0915
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pool = await pool_with_list(session, settings)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    elsewhere = await create_account(session_maker, settings, Role.TENDEREE)
    tenderee_org = await session.get(Organisation, tenderee.organisation_id)
    assert tenderee_org is not None
    tenderee_uscc = tenderee_org.uscc
    tender = await opened_tender(session, tenderee_id=tenderee.organisation_id, created_by=tenderee.user_id)
    bidder, agency = new_uscc(), new_uscc()
    now = await clock.now(session)
    today = today_in_china(now)
    evaluation_day = today + timedelta(days=5)
    rules = shipped_rules()
    window_opens = months_before(today, rules.frequency_months)  # draws on this day are not counted

    async def expert(*codes: str, **given: object) -> Expert:
        found, _ = await pool.register(facts(specialties=codes or ("A0101", "B0201"), **given), actor=admin_actor())
        return found

    def drawn(who: Expert, day: date, organisation: object = tenderee.organisation_id) -> DrawRecord:
        return DrawRecord(
            id=uuid7(),
            expert_id=who.id,
            tender_id=tender.id,
            tenderee_organisation_id=organisation,
            outcome=DrawOutcome.CONFIRMED,
            drawn_at=datetime.combine(day, time(12), CHINA),
        )

    plain = [await expert() for _ in range(3)]
    building = await expert("A0101")
    cost = await expert("B0201", "C0101")
    employee = await expert(employer_uscc=bidder)
    tenderee_staff = await expert(employer_uscc=tenderee_uscc, employer_name=tenderee_org.name)
    agency_staff = await expert(employer_uscc=agency)
    suspended = await expert()
    await pool.suspend(suspended.id, now + timedelta(days=30), "暂停", actor=admin_actor())
    lapsed = await expert()  # still suspended, but only until before the evaluation: kept
    await pool.suspend(lapsed.id, now + timedelta(days=1), "暂停", actor=admin_actor())
    removed = await expert()
    await pool.remove(removed.id, "清退", actor=admin_actor())
    conflicted, old_conflict, elsewhere_conflict = await expert(), await expert(), await expert()
    away, withdrawn, away_later = await expert(), await expert(), await expert()
    frequent, twice, boundary, other_tenderee = await expert(), await expert(), await expert(), await expert()
    session.add_all(
        [
            ConflictDeclaration(
                id=uuid7(),
                expert_id=conflicted.id,
                organisation_uscc=bidder,
                organisation_name="投标人",
                relation=RelationType.SHAREHOLDER,
                period_from=date(2022, 1, 1),
                declared_at=now,
            ),
            ConflictDeclaration(  # ended before the GP look-back of 3 years: kept
                id=uuid7(),
                expert_id=old_conflict.id,
                organisation_uscc=bidder,
                organisation_name="投标人",
                relation=RelationType.EMPLOYMENT,
                period_from=date(2010, 1, 1),
                period_until=date(2012, 12, 31),
                declared_at=now,
            ),
            ConflictDeclaration(
                id=uuid7(),
                expert_id=elsewhere_conflict.id,
                organisation_uscc=new_uscc(),
                organisation_name="无关单位",
                relation=RelationType.ADVISER,
                period_from=date(2022, 1, 1),
                declared_at=now,
            ),
            Unavailability(
                id=uuid7(),
                expert_id=away.id,
                first_day=evaluation_day - timedelta(days=1),
                last_day=evaluation_day,
                declared_at=now,
            ),
            Unavailability(
                id=uuid7(),
                expert_id=withdrawn.id,
                first_day=evaluation_day,
                last_day=evaluation_day,
                declared_at=now,
                withdrawn_at=now,
            ),
            Unavailability(
                id=uuid7(),
                expert_id=away_later.id,
                first_day=evaluation_day + timedelta(days=1),
                last_day=evaluation_day + timedelta(days=3),
                declared_at=now,
            ),
            *(drawn(frequent, today - timedelta(days=d)) for d in (3, 40, 200)),
            *(drawn(twice, today - timedelta(days=d)) for d in (3, 40)),
            *(drawn(boundary, day) for day in (window_opens, today - timedelta(days=3), today)),
            *(drawn(other_tenderee, today - timedelta(days=d), elsewhere.organisation_id) for d in (3, 4, 5)),
        ]
    )
    await session.flush()

    context = DrawContext(
        tender_id=str(tender.id),
        tenderee_uscc=tenderee_uscc,
        agency_uscc=agency,
        bidder_usccs=frozenset({bidder}),
        evaluation_date=evaluation_day,
        draw_date=today,
        government_procurement=True,
    )
    repository = CandidateRepository(session)
    assert session.get_bind().dialect.name == "postgresql"  # the two-query path runs
    everyone = await repository.avoided(context, rules)
    assert everyone == await repository.avoided_by_records(context, rules)
    reasons = {item.expert_id: {r.code for r in item.reasons} for item in everyone.excluded}
    assert reasons == {
        str(employee.id): {Avoidance.EMPLOYER_BIDDER},
        str(tenderee_staff.id): {Avoidance.EMPLOYER_TENDEREE},
        str(agency_staff.id): {Avoidance.EMPLOYER_AGENCY},
        str(suspended.id): {Avoidance.SUSPENDED},
        str(removed.id): {Avoidance.REMOVED},
        str(conflicted.id): {Avoidance.CONFLICT_BIDDER},
        str(away.id): {Avoidance.UNAVAILABLE},
        str(frequent.id): {Avoidance.FREQUENCY},
    }
    kept = {*plain, building, cost, lapsed, old_conflict, elsewhere_conflict, withdrawn, away_later, twice, boundary}
    kept |= {other_tenderee}
    assert set(everyone.candidates.ids) == {str(e.id) for e in kept}
    assert list(everyone.candidates.ids) == sorted(everyone.candidates.ids)
    assert everyone.candidates.codes[everyone.candidates.ids.index(str(cost.id))] == "B0201,C0101"

    for prefixes in (["A01"], ["B02", "C"], ["A0101"], []):
        fast = await repository.avoided(context, rules, specialty_prefixes=prefixes)
        assert fast == await repository.avoided_by_records(context, rules, specialty_prefixes=prefixes)
    only_a = await repository.avoided(context, rules, specialty_prefixes=["A01"])
    assert str(cost.id) not in only_a.candidates.ids
    assert str(building.id) in only_a.candidates.ids

    # The committee drawn from the columns is the committee drawn from the records.
    committee = spec(("technical", ("A01",), 5, 2), ("economic", ("B02",), 2, 1))
    seed = draws.new_secret()
    records = await repository.avoided_by_records(context, rules)
    assert draw_committee(seed, draws.commitment(seed), everyone.candidates, committee) == draw_committee(
        seed, draws.commitment(seed), records.candidates, committee
    )
    drawn_committee = draw_committee(seed, draws.commitment(seed), everyone.candidates, committee)
    result = published_result(
        server_seed=seed,
        draw=drawn_committee,
        candidates=everyone.candidates,
        spec=committee,
        excluded=everyone.excluded,
    )
    assert {item["expert_id"] for item in result["excluded"]} == set(reasons)

    # Declared drafters (`committee.drafting`): one otherwise settled, one already among the others
    # (unavailable), one not fitting the specialties asked for; both paths judge them alike.
    drafter = await expert("A0101")
    drafting = {
        str(drafter.id): (DraftingRole(str(tender.id), "documents"),),
        str(away.id): (DraftingRole(str(tender.id), "requirement"),),
        str(cost.id): (DraftingRole("another-tender", "documents"),),
    }
    for prefixes in (None, ["A01"], ["B02", "C"]):
        fast = await repository.avoided(context, rules, specialty_prefixes=prefixes, drafting=drafting)
        assert fast == await repository.avoided_by_records(
            context, rules, specialty_prefixes=prefixes, drafting=drafting
        )
    with_drafters = await repository.avoided(context, rules, drafting=drafting)
    found = {item.expert_id: {r.code for r in item.reasons} for item in with_drafters.excluded}
    assert found[str(drafter.id)] == {Avoidance.DRAFTING_ROLE}
    assert found[str(away.id)] == {Avoidance.DRAFTING_ROLE, Avoidance.UNAVAILABLE}
    assert str(cost.id) in with_drafters.candidates.ids  # a role on another tender does not count
    assert str(drafter.id) not in with_drafters.candidates.ids
    assert list(with_drafters.candidates.ids) == sorted(with_drafters.candidates.ids)


async def test_the_joined_codes_follow_the_specialty_rows(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(specialties=("B0201", "A0101")), actor=admin_actor())
    await session.refresh(expert)
    assert expert.specialty_codes == "A0101,B0201"
    await CandidateRepository(session).set_specialties(expert.id, ["C0101", "A0501"], await clock.now(session))
    await session.refresh(expert)
    assert expert.specialty_codes == "A0501,C0101"
    today = today_in_china(await clock.now(session))
    context = DrawContext("t", new_uscc(), None, frozenset(), today, today, government_procurement=False)
    found = await CandidateRepository(session).avoided(context, shipped_rules())
    assert dict(zip(found.candidates.ids, found.candidates.codes, strict=True)) == {str(expert.id): "A0501,C0101"}
