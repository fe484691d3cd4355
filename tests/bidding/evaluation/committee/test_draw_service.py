"""The committee draw against PostgreSQL: a 7-member committee where the bidder's employee and the
expert conflicted with the tenderee are never drawn (and the record says why), the commitment
holds, members are notified; a decline and a time-out each seat the next reserve automatically;
a spec breaking the size or 2/3 rule is refused naming the rule, with nothing stored."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.errors import DrawStateConflict
from bidding.evaluation.committee.jobs import AnswerDue
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput
from bidding.evaluation.draw.committee import DrawRefused
from bidding.evaluation.methods.common import EvaluationRefused
from bidding.evaluation.models import CommitteeDraw, Evaluation, Member, MemberStatus
from bidding.evaluation.pool.models import DrawOutcome, DrawRecord
from tests.bidding.evaluation.committee.support import Scene, scene, set_up, settings_data
from trading.kernel import clock, draws
from trading.kernel.clock import ShiftedClock
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice


async def _drawn(session: AsyncSession, s: Scene, settings: Settings) -> tuple[Evaluation, CommitteeDraw]:
    evaluation = await set_up(session, s)
    service = CommitteeDraws(session)
    prepared = await service.prepare(s.operator, evaluation.id)
    assert prepared.seed is not None
    assert prepared.seed_commitment == draws.commitment(prepared.seed)
    assert prepared.drawn_at is None
    row = await service.run(s.operator, evaluation.id)
    return evaluation, row


async def _members(session: AsyncSession, evaluation: Evaluation) -> list[Member]:
    rows = await session.scalars(
        sa.select(Member).where(Member.evaluation_id == evaluation.id).order_by(Member.draw_position, Member.created_at)
    )
    return list(rows)


async def _actions(session: AsyncSession, project_code: str) -> list[str]:
    rows = await session.scalars(
        sa.select(LedgerEntry.action).where(LedgerEntry.chain == f"project:{project_code}").order_by(LedgerEntry.seq)
    )
    return list(rows)


async def test_a_seven_member_draw_never_draws_the_conflicted_or_a_bidders_employee_and_says_why(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings)
    assert s.employee is not None
    assert s.conflicted is not None
    evaluation, row = await _drawn(session, s, settings)

    members = await _members(session, evaluation)
    assert len(members) == 7
    assert all(m.status is MemberStatus.NOTIFIED and m.answer_due_at is not None for m in members)
    drawn_experts = {m.expert_id for m in members}
    assert s.employee.id not in drawn_experts
    assert s.conflicted.id not in drawn_experts

    assert row.excluded is not None
    reasons = {item["expert_id"]: [r["reason"] for r in item["reasons"]] for item in row.excluded["excluded"]}
    assert reasons[str(s.employee.id)] == ["employer_bidder"]
    assert reasons[str(s.conflicted.id)] == ["conflict_tenderee"]
    assert row.candidates is not None
    listed = {c["expert_id"] for c in row.candidates["candidates"]}
    assert str(s.employee.id) not in listed
    assert str(s.conflicted.id) not in listed
    assert len(listed) == 10
    assert row.result is not None
    assert row.result["groups"][0]["members"] == [str(m.expert_id) for m in members]
    assert len(row.result["groups"][0]["reserves"]) == 2

    records = await session.scalars(sa.select(DrawRecord).where(DrawRecord.draw_id == row.id))
    assert {r.expert_id for r in records} == drawn_experts
    notices = await session.scalars(sa.select(Notice).where(Notice.template == "evaluation.drawn"))
    assert {n.recipient_id for n in notices} == {m.user_id for m in members}
    actions = await _actions(session, s.tender.project_code)
    assert actions[-1] == "evaluation.committee_drawn"
    assert {"evaluation.created", "evaluation.draw_committed"} <= set(actions)

    with pytest.raises(DrawStateConflict) as again:
        await CommitteeDraws(session).run(s.operator, evaluation.id)
    assert again.value.rule == "draw_run_once"


async def test_a_decline_seats_the_next_reserve_automatically(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings)
    evaluation, row = await _drawn(session, s, settings)
    assert row.result is not None
    first_reserve = row.result["groups"][0]["reserves"][0]
    leaving = (await _members(session, evaluation))[2]
    assert leaving.expert_id is not None
    memberships = Memberships(session)

    await memberships.decline(s.expert_actor(leaving.expert_id), leaving.id, "当天另有评标任务")

    members = await _members(session, evaluation)
    assert leaving.status is MemberStatus.DECLINED
    assert leaving.decline_reason == "当天另有评标任务"
    reserve = next(m for m in members if m.replaces_member_id == leaving.id)
    assert str(reserve.expert_id) == first_reserve
    assert reserve.status is MemberStatus.NOTIFIED
    assert reserve.draw_position == 7
    assert len([m for m in members if m.status is MemberStatus.NOTIFIED]) == 7
    assert row.result["declined"] == [str(leaving.expert_id)]
    assert str(leaving.expert_id) not in row.result["committee"]
    assert first_reserve in row.result["committee"]
    outcome = await session.scalar(
        sa.select(DrawRecord.outcome).where(DrawRecord.draw_id == row.id, DrawRecord.expert_id == leaving.expert_id)
    )
    assert outcome is DrawOutcome.DECLINED
    notice = await session.scalar(sa.select(Notice).where(Notice.event_key == f"evaluation.drawn:{reserve.id}"))
    assert notice is not None
    assert notice.params["reserve"] is True
    assert (await _actions(session, s.tender.project_code))[-2:] == [
        "evaluation.member_declined",
        "evaluation.reserve_seated",
    ]
    with pytest.raises(DrawStateConflict):  # a second answer is refused
        await memberships.confirm(s.expert_actor(leaving.expert_id), leaving.id)

    # A confirmation is the other answer; someone else's membership cannot be answered.
    other = members[0]
    assert other.expert_id is not None
    confirmed = await memberships.confirm(s.expert_actor(other.expert_id), other.id)
    assert confirmed.status is MemberStatus.CONFIRMED
    with pytest.raises(Exception) as foreign:  # noqa: PT011 - NotAMember, a PermissionDenied
        await memberships.confirm(s.expert_actor(other.expert_id), members[1].id)
    assert getattr(foreign.value, "rule", "") == "own_membership"


async def test_a_time_out_seats_the_next_reserve_and_the_sweep_acts_once(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings)
    evaluation, row = await _drawn(session, s, settings)
    assert row.result is not None
    reserves = row.result["groups"][0]["reserves"]
    members = await _members(session, evaluation)
    for member in members[1:]:
        assert member.expert_id is not None
        await Memberships(session).confirm(s.expert_actor(member.expert_id), member.id)
    silent = members[0]
    handler = AnswerDue()
    now = await clock.now(session)
    assert await handler.due(session, now, 100) == []

    with clock.use_clock(ShiftedClock(timedelta(hours=25))):
        later = await clock.now(session)
        due = await handler.due(session, later, 100)
        assert due == [silent.id]
        assert await handler.run(session, silent.id, later) is True
        assert await handler.run(session, silent.id, later) is False  # idempotent

    assert silent.status is MemberStatus.TIMED_OUT
    members = await _members(session, evaluation)
    reserve = next(m for m in members if m.replaces_member_id == silent.id)
    assert str(reserve.expert_id) == reserves[0]
    assert reserve.status is MemberStatus.NOTIFIED
    assert row.result["declined"] == [str(silent.expert_id)]
    assert "evaluation.member_timed_out" in await _actions(session, s.tender.project_code)


@pytest.mark.parametrize(
    ("spec", "field", "rule"),
    [
        ({"size": 6}, "committee.size", "committee_size_odd"),
        ({"size": 3}, "committee.size", "committee_size_min"),
        ({"size": 5, "representatives": 2}, "committee.representatives", "committee_experts_two_thirds"),
    ],
)
async def test_a_spec_breaking_size_or_two_thirds_is_refused_naming_the_rule_and_nothing_is_stored(  # noqa: PLR0917
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    spec: dict[str, int],
    field: str,
    rule: str,
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=0)
    entries = await session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    with pytest.raises(EvaluationRefused) as refused:
        await set_up(session, s, data=settings_data(**spec))
    assert refused.value.field == field
    assert refused.value.rule == rule
    assert await session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0
    assert await session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries


async def test_the_draw_waits_for_the_bid_deadline_and_refuses_a_shortfall_storing_nothing(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=4)
    evaluation = await set_up(session, s)
    service = CommitteeDraws(session)
    row = await service.prepare(s.operator, evaluation.id)
    with pytest.raises(DrawRefused) as short:
        await service.run(s.operator, evaluation.id)
    assert short.value.rule == "shortfall"
    assert row.drawn_at is None
    assert await session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0

    s.tender.deadline = await clock.now(session) + timedelta(hours=1)
    await session.flush()
    with pytest.raises(DrawRefused) as early:
        await service.run(s.operator, evaluation.id)
    assert early.value.rule == "after_deadline"

    with pytest.raises(Exception) as not_operator:  # noqa: PT011 - NotTheOperator, a PermissionDenied
        await service.prepare(s.host, evaluation.id)
    assert getattr(not_operator.value, "rule", "") == "draw_operator"


async def test_only_the_host_sets_up_and_the_setup_is_fixed_once_the_draw_is_prepared(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=0)
    start = await clock.now(session) + timedelta(days=1)
    data = SetupInput(settings_data(), s.main_venue.id, start, (s.sub_venue.id,))
    with pytest.raises(Exception) as stranger:  # noqa: PT011 - NotTheHost, a PermissionDenied
        await EvaluationSetup(session).create(s.expert_actor(s.experts[0].id), s.tender.id, data)
    assert getattr(stranger.value, "rule", "") == "host"
    with pytest.raises(Exception) as same:  # noqa: PT011 - SetupRefused
        await EvaluationSetup(session).create(
            s.host, s.tender.id, SetupInput(settings_data(), s.main_venue.id, start, (s.main_venue.id,))
        )
    assert getattr(same.value, "rule", "") == "venue_twice"
    evaluation = await EvaluationSetup(session).create(s.host, s.tender.id, data)
    assert evaluation.committee_spec["size"] == 7
    changed = await EvaluationSetup(session).update(
        s.host, evaluation.id, SetupInput(settings_data(size=9), s.main_venue.id, start, ())
    )
    assert changed.committee_spec["size"] == 9
    await CommitteeDraws(session).prepare(s.operator, evaluation.id)
    with pytest.raises(DrawStateConflict) as fixed:
        await EvaluationSetup(session).update(s.host, evaluation.id, data)
    assert fixed.value.rule == "draw_prepared"
    assert uuid.UUID(str(evaluation.id))
