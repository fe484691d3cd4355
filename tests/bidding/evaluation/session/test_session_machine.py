"""The evaluation session on PostgreSQL with real certificates: seats, sign-in at the seat, the
chair's election, the forward-only state machine on the database clock with pause/resume keeping
the remaining time, the 1/3 extension rule, and a mid-session replacement by the next reserve.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.models import (
    ChairVote,
    CommitteeDraw,
    Evaluation,
    EventKind,
    Member,
    MemberStatus,
    ReportSignature,
    SessionEvent,
    SessionState,
)
from bidding.evaluation.pool.models import Attendance, AttendanceOutcome
from bidding.evaluation.session import machine
from bidding.evaluation.session.conduct import Conduct
from bidding.evaluation.session.errors import NotSessionParty, SessionRefused, SessionStateConflict
from bidding.evaluation.session.rules import shipped_rules
from bidding.evaluation.session.seating import Seating, elected
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.session.support import Committee, build_committee, seat_everyone, sign_in
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.clock import ShiftedClock
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice
from trading.parties.models import ChallengePurpose, LoginChallenge

pytestmark = pytest.mark.usefixtures("dev_lists")

Maker = async_sessionmaker[AsyncSession]


async def _evaluation(maker: Maker, committee: Committee) -> Evaluation:
    async with maker() as session:
        row = await session.get(Evaluation, committee.evaluation_id)
        assert row is not None
        return row


async def _members(maker: Maker, committee: Committee) -> dict[uuid.UUID, Member]:
    async with maker() as session:
        rows = await session.scalars(sa.select(Member).where(Member.evaluation_id == committee.evaluation_id))
        return {m.id: m for m in rows}


async def _actions(maker: Maker, action: str) -> int:
    async with maker() as session:
        return int(await session.scalar(sa.select(sa.func.count()).where(LedgerEntry.action == action)) or 0)


async def _ready(maker: Maker, settings: Settings, pki: DevPki, *, size: int = 5) -> Committee:
    """Seated, everyone signed in, member 0 elected chair by a majority."""
    committee = await build_committee(maker, settings, pki, size=size)
    await seat_everyone(maker, settings, committee)
    for index in range(size):
        await sign_in(maker, settings, committee, index)
    async with maker() as session:
        seating = Seating(session, settings)
        chair = None
        for index in range(size // 2 + 1):
            chair = await seating.vote(committee.experts[index].actor, committee.evaluation_id, committee.members[0])
        await session.commit()
    assert chair is not None
    assert chair.id == committee.members[0]
    return committee


async def _enter(maker: Maker, committee: Committee, target: SessionState, actor: Actor) -> None:
    async with maker() as session:
        evaluation = await session.get(Evaluation, committee.evaluation_id)
        assert evaluation is not None
        await machine.enter(session, evaluation, target, actor=actor)
        await session.commit()


async def test_the_full_forward_walk_keeps_the_remaining_time_across_a_pause(  # noqa: PLR0915 - one story
    session_maker: Maker, settings: Settings, dev_pki: DevPki, finalised: list[Evaluation]
) -> None:
    committee = await _ready(session_maker, settings, dev_pki)
    chair = committee.experts[0].actor
    limits = shipped_rules().limits
    with clock.use_clock(ShiftedClock()) as shifted:
        assert isinstance(shifted, ShiftedClock)
        await _enter(session_maker, committee, SessionState.SIGNED_IN, chair)
        await _enter(session_maker, committee, SessionState.QUALIFICATION, chair)
        entered = await _evaluation(session_maker, committee)
        assert entered.state is SessionState.QUALIFICATION
        assert entered.state_ends_at == entered.state_entered_at + limits[SessionState.QUALIFICATION]  # type: ignore[operator]

        shifted.advance(timedelta(minutes=10))
        async with session_maker() as session:
            await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "网络中断")
            await session.commit()
        paused = await _evaluation(session_maker, committee)
        left = int((limits[SessionState.QUALIFICATION] - timedelta(minutes=10)).total_seconds())  # type: ignore[operator]
        assert paused.paused_at is not None
        assert paused.state_ends_at is None
        assert paused.remaining_seconds == left

        # While paused nothing moves, and the hour of the pause costs no evaluation time.
        with pytest.raises(SessionStateConflict) as refused:
            await _enter(session_maker, committee, SessionState.DETAILED, chair)
        assert refused.value.rule == "not_paused"
        shifted.advance(timedelta(hours=1))
        async with session_maker() as session:
            await Conduct(session).resume(committee.host_actor, committee.evaluation_id)
            now = await clock.now(session)
            await session.commit()
        resumed = await _evaluation(session_maker, committee)
        assert resumed.paused_at is None
        assert resumed.remaining_seconds is None
        assert resumed.state_ends_at == now + timedelta(seconds=left)

        for target in (SessionState.DETAILED, SessionState.SCORING, SessionState.REPORT_SIGNING):
            shifted.advance(timedelta(minutes=5))
            await _enter(session_maker, committee, target, chair)
        assert [e.id for e in finalised] == [committee.evaluation_id]
        assert (await _evaluation(session_maker, committee)).result is not None

        # Completed only once every current member's signature is in; any member may close it then.
        with pytest.raises(SessionRefused) as unsigned:
            await _enter(session_maker, committee, SessionState.COMPLETED, committee.experts[3].actor)
        assert unsigned.value.rule == "all_signed_report"
        async with session_maker() as session:
            now = await clock.now(session)
            session.add_all(
                [
                    ReportSignature(id=uuid7(), evaluation_id=committee.evaluation_id, member_id=m, signed=True, at=now)
                    for m in committee.members
                ]
            )
            await session.commit()
        await _enter(session_maker, committee, SessionState.COMPLETED, committee.experts[3].actor)

    done = await _evaluation(session_maker, committee)
    assert done.state is SessionState.COMPLETED
    assert done.completed_at is not None
    assert done.state_ends_at is None
    async with session_maker() as session:
        transitions = list(
            await session.scalars(
                sa.select(SessionEvent)
                .where(SessionEvent.evaluation_id == committee.evaluation_id, SessionEvent.kind == EventKind.TRANSITION)
                .order_by(SessionEvent.at)
            )
        )
        kinds = set(
            await session.scalars(
                sa.select(SessionEvent.kind).where(SessionEvent.evaluation_id == committee.evaluation_id)
            )
        )
    assert [t.to_state for t in transitions] == [
        SessionState.SIGNED_IN,
        SessionState.QUALIFICATION,
        SessionState.DETAILED,
        SessionState.SCORING,
        SessionState.REPORT_SIGNING,
        SessionState.COMPLETED,
    ]
    assert {EventKind.PAUSE, EventKind.RESUME} <= kinds
    assert await _actions(session_maker, "evaluation.state_entered") >= 6
    assert await _actions(session_maker, "evaluation.session_paused") >= 1


async def test_skipping_a_state_going_back_or_driving_without_being_chair_is_refused(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await _ready(session_maker, settings, dev_pki)
    chair = committee.experts[0].actor
    with pytest.raises(SessionStateConflict) as skipped:
        await _enter(session_maker, committee, SessionState.QUALIFICATION, chair)
    assert skipped.value.rule == "forward_one_step"
    for outsider in (committee.host_actor, committee.experts[1].actor, committee.experts[6].actor):
        with pytest.raises(NotSessionParty) as refused:
            await _enter(session_maker, committee, SessionState.SIGNED_IN, outsider)
        assert refused.value.rule == "chair_drives"
    await _enter(session_maker, committee, SessionState.SIGNED_IN, chair)
    with pytest.raises(SessionStateConflict) as back:
        await _enter(session_maker, committee, SessionState.PREPARING, chair)
    assert back.value.rule == "forward_only"
    evaluation = await _evaluation(session_maker, committee)
    assert evaluation.state is SessionState.SIGNED_IN
    assert await _actions(session_maker, "evaluation.state_entered") == 1


async def test_signing_in_at_someone_elses_seat_or_with_someone_elses_certificate_stores_nothing(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await build_committee(session_maker, settings, dev_pki, size=3, reserves=1)
    await seat_everyone(session_maker, settings, committee)
    members = await _members(session_maker, committee)
    other_seat = members[committee.members[1]].seat_id
    assert other_seat is not None

    with pytest.raises(SessionRefused) as refused:
        await sign_in(session_maker, settings, committee, 0, seat_id=other_seat)
    assert refused.value.rule == "own_seat"

    # The right seat, but signed with another expert's certificate.
    committee.experts[0].identity, swapped = committee.experts[1].identity, committee.experts[0].identity
    with pytest.raises(SessionRefused) as foreign:
        await sign_in(session_maker, settings, committee, 0)
    assert foreign.value.rule == "member_certificate"
    committee.experts[0].identity = swapped

    after = await _members(session_maker, committee)
    assert after[committee.members[0]].signed_in_at is None
    assert after[committee.members[0]].status is MemberStatus.CONFIRMED
    assert await _actions(session_maker, "evaluation.signed_in_at_seat") == 0
    async with session_maker() as session:
        used = await session.scalar(
            sa.select(sa.func.count()).where(
                LoginChallenge.purpose == ChallengePurpose.SEAT_SIGN_IN, LoginChallenge.used_at.is_not(None)
            )
        )
    assert used == 0

    signed = await sign_in(session_maker, settings, committee, 0)
    assert signed.status is MemberStatus.SIGNED_IN
    assert signed.sign_in_certificate_sha256
    assert await _actions(session_maker, "evaluation.signed_in_at_seat") == 1
    # Someone outside the committee gets no challenge at all.
    async with session_maker() as session:
        with pytest.raises(NotSessionParty) as outsider:
            await Seating(session, settings).challenge(committee.experts[3].actor, committee.evaluation_id)
    assert outsider.value.rule == "committee_member"


async def test_a_seat_holds_one_member_and_the_host_assigns_it(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await build_committee(session_maker, settings, dev_pki, size=3, reserves=0)
    async with session_maker() as session:
        seating = Seating(session, settings)
        await seating.assign_seat(
            committee.host_actor, committee.evaluation_id, committee.members[0], committee.seats[0]
        )
        with pytest.raises(SessionRefused) as taken:
            await seating.assign_seat(
                committee.host_actor, committee.evaluation_id, committee.members[1], committee.seats[0]
            )
        assert taken.value.rule == "seat_taken"
        with pytest.raises(NotSessionParty) as not_host:
            await seating.assign_seat(
                committee.experts[0].actor, committee.evaluation_id, committee.members[1], committee.seats[1]
            )
        assert not_host.value.rule == "host_only"


@pytest.mark.parametrize(("asking", "extended"), [(2, False), (3, True)])
async def test_more_time_needs_more_than_a_third_of_the_members(
    session_maker: Maker,
    settings: Settings,
    dev_pki: DevPki,
    asking: int,
    extended: bool,  # noqa: FBT001
) -> None:
    committee = await _ready(session_maker, settings, dev_pki, size=6)
    chair = committee.experts[0].actor
    await _enter(session_maker, committee, SessionState.SIGNED_IN, chair)
    before = (await _evaluation(session_maker, committee)).state_ends_at
    assert before is not None
    results = []
    async with session_maker() as session:
        conduct = Conduct(session)
        for index in range(asking):
            results.append(await conduct.ask_for_time(committee.experts[index].actor, committee.evaluation_id))  # noqa: PERF401
        await session.commit()
    async with session_maker() as session:
        conduct = Conduct(session)
        if extended:  # a new round: the first to ask may ask again, and one ask is not enough
            assert not await conduct.ask_for_time(committee.experts[0].actor, committee.evaluation_id)
        else:
            with pytest.raises(SessionRefused) as twice:
                await conduct.ask_for_time(committee.experts[0].actor, committee.evaluation_id)
            assert twice.value.rule == "asked_once"
        await session.commit()
    after = (await _evaluation(session_maker, committee)).state_ends_at
    assert after is not None
    if extended:
        assert results == [False, False, True]
        assert after - before == shipped_rules().extension
    else:
        assert results == [False, False]
        assert after == before
    assert await _actions(session_maker, "evaluation.time_extended") == (1 if extended else 0)


async def test_a_replaced_member_is_voided_and_the_next_reserve_joins_and_must_sign_in(  # noqa: PLR0915
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await _ready(session_maker, settings, dev_pki)
    chair = committee.experts[0].actor
    await _enter(session_maker, committee, SessionState.SIGNED_IN, chair)
    await _enter(session_maker, committee, SessionState.QUALIFICATION, chair)
    leaving = committee.members[2]

    async with session_maker() as session:
        conduct = Conduct(session)
        with pytest.raises(NotSessionParty):
            await conduct.replace(chair, committee.evaluation_id, leaving, "身体不适")
        with pytest.raises(SessionRefused) as no_reason:
            await conduct.replace(committee.host_actor, committee.evaluation_id, leaving, "  ")
        assert no_reason.value.rule == "required"
        joined = await conduct.replace(committee.host_actor, committee.evaluation_id, leaving, "身体不适，无法继续评标")
        await session.commit()

    members = await _members(session_maker, committee)
    old = members[leaving]
    assert old.status is MemberStatus.REPLACED
    assert old.voided_at is not None
    assert joined is not None
    assert joined.expert_id == committee.experts[5].expert_id  # the group's first reserve
    # The reserve joins like anyone drawn: told in the inbox, and current only once they confirm in time.
    assert joined.status is MemberStatus.NOTIFIED
    assert joined.answer_due_at is not None
    assert joined.next_check == joined.answer_due_at
    assert joined.replaces_member_id == leaving
    assert joined.seat_id == old.seat_id
    assert joined.draw_position == 5
    async with session_maker() as session:
        draw = await session.get(CommitteeDraw, committee.draw_id)
        assert draw is not None
        assert draw.result is not None
        assert draw.result["declined"] == [str(committee.experts[2].expert_id)]
        assert str(committee.experts[5].expert_id) in draw.result["committee"]
        notice = await session.scalar(sa.select(Notice).where(Notice.event_key == f"evaluation.drawn:{joined.id}"))
        assert notice is not None
        assert notice.recipient_id == joined.user_id
        assert notice.params["reserve"] is True
        # The replaced member's chair vote is still stored, but no longer counts.
        votes = list(
            await session.scalars(sa.select(ChairVote).where(ChairVote.evaluation_id == committee.evaluation_id))
        )
    assert any(v.voter_member_id == leaving for v in votes)

    # The replaced member is out; the session waits for the reserve to sign in at the seat.
    async with session_maker() as session:
        with pytest.raises(NotSessionParty):
            await Conduct(session).ask_for_time(committee.experts[2].actor, committee.evaluation_id)
    with pytest.raises(SessionRefused) as waiting:
        await _enter(session_maker, committee, SessionState.DETAILED, chair)
    assert waiting.value.rule == "all_signed_in"
    async with session_maker() as session:
        await Memberships(session).confirm(committee.experts[5].actor, joined.id)
        await session.commit()
    await sign_in(session_maker, settings, committee, 5)
    await _enter(session_maker, committee, SessionState.DETAILED, chair)
    async with session_maker() as session:
        attendances = {
            a.expert_id: a
            for a in await session.scalars(
                sa.select(Attendance).where(Attendance.session_id == committee.evaluation_id)
            )
        }
    assert attendances[committee.experts[2].expert_id].outcome is AttendanceOutcome.REPLACED
    assert attendances[committee.experts[5].expert_id].outcome is AttendanceOutcome.ATTENDED
    assert len(attendances) == 6
    assert await _actions(session_maker, "evaluation.member_replaced") == 1


def test_a_tied_chair_vote_goes_to_the_earliest_drawn_position() -> None:
    members = [
        Member(id=uuid.uuid4(), draw_position=position, voided_at=None, created_at=None) for position in range(4)
    ]
    a, b, c, d = members
    evaluation_id = uuid.uuid4()

    def vote(voter: Member, candidate: Member) -> ChairVote:
        return ChairVote(evaluation_id=evaluation_id, voter_member_id=voter.id, candidate_member_id=candidate.id)

    assert elected(members, [vote(a, c), vote(b, c)]) is None  # half is not a majority, and not everyone voted
    assert elected(members, [vote(a, c), vote(b, c), vote(c, b), vote(d, b)]) is b  # 2–2: b was drawn before c
    assert elected(members, [vote(a, d), vote(b, d), vote(c, d)]) is d  # a majority at once
    assert elected(members[:3], [vote(a, d), vote(b, d), vote(c, d), vote(d, a)]) is None  # d is not a member


async def test_a_replacement_with_no_reserve_left_opens_the_place_and_holds_the_session(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await _ready(session_maker, settings, dev_pki)
    chair = committee.experts[0].actor
    await _enter(session_maker, committee, SessionState.SIGNED_IN, chair)
    await _enter(session_maker, committee, SessionState.QUALIFICATION, chair)
    joined: list[Member] = []
    for index, leaving in enumerate(committee.members[1:4]):
        async with session_maker() as session:
            found = await Conduct(session).replace(committee.host_actor, committee.evaluation_id, leaving, "突发疾病")
            if found is not None:
                await Memberships(session).confirm(committee.experts[5 + index].actor, found.id)
                joined.append(found)
            await session.commit()
    assert [m.expert_id for m in joined] == [committee.experts[5].expert_id, committee.experts[6].expert_id]
    for index in (5, 6):
        await sign_in(session_maker, settings, committee, index)

    members = await _members(session_maker, committee)
    third = members[committee.members[3]]
    assert third.status is MemberStatus.REPLACED  # voided all the same: nothing they concluded counts
    assert third.voided_at is not None
    async with session_maker() as session:
        draw = await session.get(CommitteeDraw, committee.draw_id)
        assert draw is not None
        assert draw.result is not None
        assert draw.result["vacated"] == [{"expert": str(third.expert_id), "group": third.group_code}]
        assert str(third.expert_id) not in draw.result["declined"]
        notice = await session.scalar(sa.select(Notice).where(Notice.template == "evaluation.places_open"))
        assert notice is not None
        assert notice.recipient_id == draw.operator_id
    assert await _actions(session_maker, "evaluation.reserves_exhausted") == 1

    # Everyone current is signed in, but a place is open: the session waits for the supplementary draw.
    with pytest.raises(SessionRefused) as held:
        await _enter(session_maker, committee, SessionState.DETAILED, chair)
    assert held.value.rule == "committee_places_open"
