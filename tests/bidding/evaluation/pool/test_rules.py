"""Status transitions (suspend until a day, remove, restore, the sweep), the expert's own conflict
and availability declarations with their rules, and ratings feeding the suspension and senior rules.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.pool import rules
from bidding.evaluation.pool.errors import ExpertNotFound, ExpertRefused, RatingNotAllowed
from bidding.evaluation.pool.jobs import SuspensionEnd
from bidding.evaluation.pool.models import (
    ConflictDeclaration,
    Expert,
    ExpertStatus,
    Rating,
    RelationType,
    StatusChangeRule,
)
from bidding.evaluation.pool.profile import ConflictInput, ExpertProfile, ProfileUpdate
from bidding.evaluation.pool.ratings import ExpertRatings, RatingInput
from bidding.evaluation.pool.service import today_in_china
from bidding.models import TenderStatus
from tests.bidding.evaluation.pool.factories import admin_actor, facts, opened_tender, pool_with_list
from tests.trading.parties.factories import Account, create_account, new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.models import Person


def actor_of(account: Account, role: Role) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=account.user_id,
        username=account.username,
        organisation_id=account.organisation_id,
        roles=frozenset({role}),
    )


async def actions(session: AsyncSession, subject_id: object) -> list[str]:
    rows = await session.scalars(
        sa.select(LedgerEntry.action).where(LedgerEntry.subject_id == str(subject_id)).order_by(LedgerEntry.seq)
    )
    return list(rows)


# --- status -------------------------------------------------------------------------------------


async def test_suspend_remove_restore_each_recorded_with_its_reason(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(), actor=admin_actor())
    now = await clock.now(session)
    await pool.suspend(expert.id, now + timedelta(days=30), "两次无故缺席评标", actor=admin_actor())
    assert expert.status is ExpertStatus.SUSPENDED
    assert expert.next_check == expert.suspended_until
    await pool.remove(expert.id, "以不正当方式影响评标结果", actor=admin_actor())
    assert expert.status is ExpertStatus.REMOVED
    assert expert.next_check is None
    with pytest.raises(ExpertRefused) as refused:
        await pool.suspend(expert.id, now + timedelta(days=3), "x", actor=admin_actor())
    assert refused.value.rule == "status"
    with pytest.raises(ExpertRefused) as refused:
        await pool.remove(expert.id, "again", actor=admin_actor())
    assert refused.value.rule == "status"
    await pool.restore(expert.id, "复核后恢复", actor=admin_actor())
    assert expert.status is ExpertStatus.ACTIVE
    with pytest.raises(ExpertRefused) as refused:
        await pool.restore(expert.id, "again", actor=admin_actor())
    assert refused.value.rule == "status"
    changes = await pool.repo.status_changes(expert.id)
    # (One test transaction: one database time, so the rows' order is not the point here.)
    assert {(c.from_status, c.to_status, c.reason) for c in changes} == {
        (ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED, "两次无故缺席评标"),
        (ExpertStatus.SUSPENDED, ExpertStatus.REMOVED, "以不正当方式影响评标结果"),
        (ExpertStatus.REMOVED, ExpertStatus.ACTIVE, "复核后恢复"),
    }
    assert (await actions(session, expert.id))[-3:] == [
        "evaluation.expert_suspended",
        "evaluation.expert_removed",
        "evaluation.expert_restored",
    ]
    # Reasons stay out of the ledger's readable summary.
    entries = await session.scalars(sa.select(LedgerEntry).where(LedgerEntry.subject_id == str(expert.id)))
    assert all("缺席" not in str(e.summary) for e in entries)


async def test_bad_status_requests_name_their_rule(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(), actor=admin_actor())
    now = await clock.now(session)
    for call, rule in (
        (pool.suspend(expert.id, now - timedelta(minutes=1), "reason", actor=admin_actor()), "future"),
        (pool.suspend(expert.id, now + timedelta(days=4000), "reason", actor=admin_actor()), "max"),
        (pool.suspend(expert.id, now + timedelta(days=1), "  ", actor=admin_actor()), "required"),
        (pool.remove(expert.id, "", actor=admin_actor()), "required"),
    ):
        with pytest.raises(ExpertRefused) as refused:
            await call
        assert refused.value.rule == rule
    assert expert.status is ExpertStatus.ACTIVE
    with pytest.raises(ExpertNotFound):
        await pool.remove(expert.person_id, "reason", actor=admin_actor())  # not an expert's id


async def test_the_sweep_ends_a_suspension_once(session: AsyncSession, settings: Settings) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(), actor=admin_actor())
    now = await clock.now(session)
    await pool.suspend(expert.id, now + timedelta(days=2), "暂停", actor=admin_actor())
    handler = SuspensionEnd()
    assert expert.id not in await handler.due(session, now, 100)
    later = now + timedelta(days=3)
    assert expert.id in await handler.due(session, later, 100)
    assert await handler.run(session, expert.id, later)
    assert not await handler.run(session, expert.id, later)  # a second sweep changes nothing
    assert expert.status is ExpertStatus.ACTIVE
    assert expert.next_check is None
    assert StatusChangeRule.SUSPENSION_ENDED in {c.rule for c in await pool.repo.status_changes(expert.id)}


# --- the expert's own declarations --------------------------------------------------------------


@pytest.fixture
async def expert_account(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Account:
    return await create_account(session_maker, settings, Role.EXPERT)


async def test_conflict_declarations_are_checked_and_recorded(
    session: AsyncSession, settings: Settings, expert_account: Account
) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(), actor=admin_actor(), user_id=expert_account.user_id)
    profile = ExpertProfile(session, settings)
    me = actor_of(expert_account, Role.EXPERT)
    today = today_in_china(await clock.now(session))
    good = ConflictInput(new_uscc(), "某建设集团有限公司", RelationType.EMPLOYMENT, date(2020, 1, 1), date(2024, 6, 30))
    declaration = await profile.declare_conflict(me, good)
    assert declaration.expert_id == expert.id
    assert declaration.organisation_uscc == good.organisation_uscc
    bad_cases = {
        "organisation_required": dataclasses.replace(good, organisation_uscc="", organisation_name=""),
        "check_char": dataclasses.replace(good, organisation_uscc=good.organisation_uscc[:-1] + "0")
        if good.organisation_uscc[-1] != "0"
        else dataclasses.replace(good, organisation_uscc=good.organisation_uscc[:-1] + "1"),
        "relation": dataclasses.replace(good, relation=None),
        "period": dataclasses.replace(good, period_until=date(2019, 12, 31)),
        "future": dataclasses.replace(good, period_from=today + timedelta(days=5), period_until=None),
        "duplicate": good,
    }
    for rule, value in bad_cases.items():
        with pytest.raises(ExpertRefused) as refused:
            await profile.declare_conflict(me, value)
        assert rule in {item["rule"] for item in refused.value.extra["errors"]}, rule
    missing = dataclasses.replace(good, period_from=None)
    with pytest.raises(ExpertRefused) as refused:
        await profile.declare_conflict(me, missing)
    assert refused.value.extra["errors"][0] == {
        "field": "period_from",
        "rule": "required",
        "message": "the relation's first day is required",
    }
    assert len(await pool.repo.conflicts(expert.id)) == 1
    assert "evaluation.conflict_declared" in await actions(session, expert.id)


async def test_only_an_expert_of_the_pool_declares(
    session: AsyncSession, settings: Settings, expert_account: Account
) -> None:
    await pool_with_list(session, settings)
    profile = ExpertProfile(session, settings)
    good = ConflictInput("", "某公司", RelationType.OTHER, date(2020, 1, 1), None)
    with pytest.raises(ExpertNotFound):
        await profile.declare_conflict(actor_of(expert_account, Role.EXPERT), good)
    assert await session.scalar(sa.select(sa.func.count()).select_from(ConflictDeclaration)) == 0


async def test_profile_and_unavailable_days(session: AsyncSession, settings: Settings, expert_account: Account) -> None:
    pool = await pool_with_list(session, settings)
    expert, _ = await pool.register(facts(), actor=admin_actor(), user_id=expert_account.user_id)
    profile = ExpertProfile(session, settings)
    me = actor_of(expert_account, Role.EXPERT)
    employer = new_uscc()
    await profile.update(me, ProfileUpdate(("B0101", "C0101"), "320804", employer, "某信息技术有限公司", "教授"))
    assert (expert.region_code, expert.employer_uscc, expert.title) == ("320804", employer, "教授")
    assert (await pool.repo.specialties_of([expert.id]))[expert.id] == ["B0101", "C0101"]
    with pytest.raises(ExpertRefused) as refused:
        await profile.update(me, ProfileUpdate(("X01",), "99", "bad", "", ""))
    assert {(e["field"], e["rule"]) for e in refused.value.extra["errors"]} == {
        ("specialties", "specialty_known"),
        ("region_code", "format"),
        ("employer_uscc", "length"),
        ("employer_name", "required"),
    }
    today = today_in_china(await clock.now(session))
    entry = await profile.declare_unavailable(me, today + timedelta(days=3), today + timedelta(days=5), "出差")
    for first, last, rule in (
        (today + timedelta(days=5), today + timedelta(days=3), "period"),
        (today - timedelta(days=9), today - timedelta(days=2), "past"),
        (today, today + timedelta(days=400), "span"),
    ):
        with pytest.raises(ExpertRefused) as refused:
            await profile.declare_unavailable(me, first, last)
        assert rule in {e["rule"] for e in refused.value.extra["errors"]}
    await profile.withdraw_unavailable(me, entry.id)
    assert await pool.repo.unavailability(expert.id) == []
    assert (await actions(session, expert.id))[-3:] == [
        "evaluation.profile_updated",
        "evaluation.unavailability_declared",
        "evaluation.unavailability_withdrawn",
    ]


# --- ratings ------------------------------------------------------------------------------------


async def test_a_low_average_suspends_and_high_scores_make_a_senior(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    agency = await create_account(session_maker, settings, Role.AGENCY)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    shipped = rules.shipped()
    assert (shipped.low_threshold, shipped.senior_minimum_ratings, shipped.senior_minimum_score) == (60, 10, 90)
    ratings = ExpertRatings(session, settings)
    await ratings.sync_specialties(actor=Actor.system())
    weak, _ = await ratings.register(facts(name="冯工"), actor=admin_actor())
    strong, _ = await ratings.register(facts(name="陈工"), actor=admin_actor())
    me = actor_of(agency, Role.AGENCY)
    tenders = [
        await opened_tender(
            session, tenderee_id=tenderee.organisation_id, created_by=agency.user_id, agency_id=agency.organisation_id
        )
        for _ in range(10)
    ]

    async def rate(expert: Expert, tender_index: int, score: int) -> None:
        person = await session.get(Person, expert.person_id)
        assert person is not None
        outcome = await ratings.rate(
            me, RatingInput(tenders[tender_index].project_code, expert.name, person.id_masked[-4:], score, "评审认真")
        )
        assert outcome.rating.score == score

    await rate(weak, 0, 50)
    await rate(weak, 1, 55)
    assert weak.status is ExpertStatus.ACTIVE  # two ratings: below the rules' minimum count
    await rate(weak, 2, 70)
    assert weak.status is ExpertStatus.SUSPENDED  # (50 + 55 + 70) / 3 = 58.33 < 60
    (change,) = await ratings.repo.status_changes(weak.id)
    assert change.rule is StatusChangeRule.RATING_AVERAGE
    assert "58.33" in change.reason
    assert weak.suspended_until is not None
    assert weak.suspended_until - await clock.now(session) == shipped.suspension

    for index in range(9):
        await rate(strong, index, 95)
    assert not strong.senior
    await rate(strong, 9, 90)
    assert strong.senior
    assert strong.senior_since is not None
    assert "evaluation.expert_senior" in await actions(session, strong.id)
    # A rule file that only proposes: the expert stays active, the proposal is on the ledger.
    proposing = dataclasses.replace(shipped, low_action="propose")
    third, _ = await ratings.register(facts(name="韩工"), actor=admin_actor())
    ratings.rules = proposing
    for index in range(3):
        await rate(third, index, 40)
    assert third.status is ExpertStatus.ACTIVE
    assert "evaluation.suspension_proposed" in await actions(session, third.id)


async def test_ratings_are_refused_outside_the_rules(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    agency = await create_account(session_maker, settings, Role.AGENCY)
    other = await create_account(session_maker, settings, Role.AGENCY)
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    ratings = ExpertRatings(session, settings)
    await ratings.sync_specialties(actor=Actor.system())
    expert, _ = await ratings.register(facts(name="杨工"), actor=admin_actor())
    person = await session.get(Person, expert.person_id)
    assert person is not None
    suffix = person.id_masked[-4:]
    ran = await opened_tender(
        session, tenderee_id=tenderee.organisation_id, created_by=agency.user_id, agency_id=agency.organisation_id
    )
    not_yet = await opened_tender(
        session,
        tenderee_id=tenderee.organisation_id,
        created_by=agency.user_id,
        agency_id=agency.organisation_id,
        status=TenderStatus.PUBLISHED,
    )
    me = actor_of(agency, Role.AGENCY)

    def data(**given: object) -> RatingInput:
        values: dict[str, object] = {
            "tender_code": ran.project_code,
            "expert_name": "杨工",
            "id_suffix": suffix,
            "score": 80,
            "comment": "认真",
            **given,
        }
        return RatingInput(**values)  # type: ignore[arg-type]

    for given, rule in (
        ({"score": 101}, "range"),
        ({"score": -1}, "range"),
        ({"score": None}, "range"),
        ({"comment": " "}, "required"),
        ({"tender_code": not_yet.project_code}, "after_evaluation"),
        ({"id_suffix": "0000" if suffix != "0000" else "1111"}, "expert_identified"),
    ):
        with pytest.raises(ExpertRefused) as refused:
            await ratings.rate(me, data(**given))
        assert refused.value.rule == rule, given
    with pytest.raises(RatingNotAllowed) as denied:
        await ratings.rate(actor_of(other, Role.AGENCY), data())
    assert denied.value.rule == "own_tender"
    await ratings.rate(me, data())
    with pytest.raises(ExpertRefused) as refused:
        await ratings.rate(me, data(score=90))
    assert refused.value.rule == "already_rated"
    assert await session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 1


def test_the_rules_judge_windows_and_counts() -> None:
    shipped = rules.shipped()
    from datetime import UTC, datetime

    now = datetime(2026, 12, 6, tzinfo=UTC)
    old = now - shipped.low_window - timedelta(days=1)
    verdict = rules.judge(shipped, [(old, 10), (old, 10), (old, 10), (now, 80)], now)
    assert (verdict.low_count, str(verdict.low_average), verdict.low_average_breached) == (1, "80.00", False)
    ten = [(now - timedelta(days=i), 90) for i in range(10)]
    assert rules.judge(shipped, ten, now).senior
    assert not rules.judge(shipped, [*ten[:9], (now, 89)], now).senior
    assert not rules.judge(shipped, ten[:9], now).senior
