"""Complaints to the supervisor on PostgreSQL, real signatures, time moved with `ShiftedClock`.

The acceptance's third story: an objection answered late warns the supervisor; the bidder's
signed complaint is accepted (signed), the tender suspended and resumed, the complaint upheld →
the award is voided (back to evaluation) and every earlier award act is void, on the journal and
the publicity; the journal replays. A dismissed complaint lets the award go on. Each bad filing or
act is refused with the field and the rule, nothing stored.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import complaints, objections, publicity
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue, ComplaintDue, ObjectionAnswerDue
from bidding.award.models import Award, AwardObjection, AwardStep, Complaint, Publicity
from bidding.award.states import AwardEvent, AwardState, ComplaintState, transition
from bidding.client import format as fmt
from bidding.models import Bid, Tender
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    GROUNDS,
    answer_objection,
    assert_replays,
    award_hook,
    award_of,
    confirm_winner,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    file_objection,
    make_bidder,
    notices_to,
    open_publicity,
    settings,
    signed_report,
    store,
    supervisor_party,
)
from tests.bidding.factories import Party, bidder_party, ledger_entries, sign_document, tenderee_party
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for
from trading.parties.models import Organisation

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]

COMPLAINT = "招标人对异议的答复未回应项目经理在建工程的事实，且逾期答复，请求监督部门责令重新评标。"


async def _complaint_signature(  # noqa: PLR0917 - who files, who signs
    session_maker: async_sessionmaker[AsyncSession],
    award: Award,
    filer: Party,
    signer: Party,
    objection: AwardObjection,
    text: str,
) -> str:
    """The statement as the bidder's tool makes it (no check of who may file: the service's)."""
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        code = await _code(session, row)
    statement = fmt.award_complaint_statement(code, row.lot_group, filer.uscc, str(objection.id), text.strip() or "x")
    return base64.b64encode(await sign_document(signer.sign, statement)).decode()


async def complain(  # noqa: PLR0917 - who files, who signs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    award: Award,
    objection: AwardObjection,
    filer: Party,
    signer: Party | None = None,
    text: str = COMPLAINT,
) -> Complaint:
    signature = await _complaint_signature(session_maker, award, filer, signer or filer, objection, text)
    async with transaction(session_maker, lock=True) as session:
        return await complaints.file_complaint(
            session, settings, filer.actor(), award.id, objection.id, text=text, signature=signature
        )


async def act(  # noqa: PLR0917 - who acts, how, signed by whom
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    complaint: Complaint,
    what: complaints.Act,
    actor: Party,
    signer: Party | None = None,
    text: str = "依据招标投标法实施条例第六十一条处理。",
) -> object:
    async with session_maker() as session:
        row = await session.get_one(Complaint, complaint.id)
        statement = await complaints.act_statement(session, row, what, text)
    signature = base64.b64encode(await sign_document((signer or actor).sign, statement)).decode()
    async with transaction(session_maker, lock=True) as session:
        who = actor.actor()
        if what is complaints.Act.ACCEPT:
            return await complaints.accept_complaint(session, settings, who, complaint.id, text, signature)
        if what is complaints.Act.REJECT:
            return await complaints.reject_complaint(session, settings, who, complaint.id, text, signature)
        if what is complaints.Act.SUSPEND:
            return await complaints.suspend_award(session, settings, who, complaint.id, text, signature)
        if what is complaints.Act.RESUME:
            return await complaints.resume_award(session, settings, who, complaint.id, text, signature)
        return await complaints.decide_complaint(session, settings, who, complaint.id, what.value, text, signature)


async def late_answered_world(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    *,
    confirm: bool = True,
) -> tuple[Party, Party, Party, Award, AwardObjection, ShiftedClock]:
    """An engineering award whose publicity was closed by the sweep, an objection the tenderee
    answered late (the supervisor warned by the sweep), then the first candidate confirmed; the
    clock is left shifted past the answer (the returned context manager's shift).
    """
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    await open_publicity(session_maker, settings, award, owner, owner)
    filed = await file_objection(session_maker, settings, award, bidder)
    now = await db_now(session_maker)
    shift = ShiftedClock(filed.answer_due - now + timedelta(minutes=5))
    with use_clock(shift):
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 1
        await run_sweep(session_maker, [AwardDue()])  # the publicity ended before the answer was due
        answered = await answer_objection(session_maker, settings, award, filed, owner)
        if confirm:
            await confirm_winner(session_maker, settings, award, owner, str(world.bids[0]))
    assert answered.late is True
    return owner, bidder, supervisor, award, answered, shift


async def test_an_upheld_complaint_after_a_late_answer_voids_the_award_and_its_acts(  # noqa: PLR0915, PLR0917 - the story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner, bidder, supervisor, award, objection, shift = await late_answered_world(
        session_maker, settings, store, dev_tsa, dev_pki
    )
    # The late answer warned the supervisor (by the sweep, once).
    assert await notices_to(session_maker, supervisor.organisation_id, objections.LATE_TEMPLATE) == 1
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).state is AwardState.AWARDED

    with use_clock(shift):
        filed = await complain(session_maker, settings, award, objection, bidder)
        assert filed.state is ComplaintState.FILED
        assert await notices_to(session_maker, supervisor.organisation_id, complaints.FILED_TEMPLATE) == 1
        accepted = await act(session_maker, settings, filed, complaints.Act.ACCEPT, supervisor)
        assert isinstance(accepted, Complaint)
        assert accepted.state is ComplaintState.ACCEPTED
        assert accepted.decision_due is not None
        async with session_maker() as session:
            row = await session.get_one(Award, award.id)
            assert row.complaints_pending == 1
            assert publicity.position_of(row).shown is AwardState.COMPLAINT_ACCEPTED
        # The supervisor suspends the tender: the award's own steps are refused meanwhile.
        await act(session_maker, settings, filed, complaints.Act.SUSPEND, supervisor)
        async with session_maker() as session:
            row = await session.get_one(Award, award.id)
            assert row.suspended is True
            assert row.suspended_at is not None
            assert publicity.position_of(row).shown is AwardState.SUSPENDED
        with pytest.raises(AwardRefused) as twice:
            await act(session_maker, settings, filed, complaints.Act.SUSPEND, supervisor)
        assert twice.value.rule == "suspended_once"
        await act(session_maker, settings, filed, complaints.Act.RESUME, supervisor)
        # Upheld: back to evaluation.
        decided = await act(session_maker, settings, filed, complaints.Act.UPHOLD_REEVALUATE, supervisor)
        assert isinstance(decided, Complaint)
        assert decided.state is ComplaintState.UPHELD
        assert decided.decision is AwardEvent.UPHOLD_COMPLAINT_REEVALUATE

    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.VOIDED
        assert (row.complaints_pending, row.objections_pending, row.suspended) == (0, 0, False)
        steps = list(await publicity.steps_of(session, award.id))
        assert [s.event for s in steps] == [
            AwardEvent.OPEN_PUBLICITY,
            AwardEvent.FILE_OBJECTION,
            AwardEvent.CLOSE_PUBLICITY,
            AwardEvent.ANSWER_OBJECTION,
            AwardEvent.CONFIRM_AWARD,
            AwardEvent.ACCEPT_COMPLAINT,
            AwardEvent.SUSPEND,
            AwardEvent.RESUME,
            AwardEvent.UPHOLD_COMPLAINT_REEVALUATE,
        ]
        voided = [s.event for s in steps if s.voided_at is not None]
        assert voided == [AwardEvent.OPEN_PUBLICITY, AwardEvent.CLOSE_PUBLICITY, AwardEvent.CONFIRM_AWARD]
        # The supervisor's acts are signed by its certificate.
        signed = {s.event: s.signer_sha256 for s in steps}
        assert signed[AwardEvent.ACCEPT_COMPLAINT] == signed[AwardEvent.UPHOLD_COMPLAINT_REEVALUATE] is not None
        voided_publicity = await session.scalar(sa.select(Publicity).where(Publicity.award_id == award.id))
        assert voided_publicity is not None
        assert voided_publicity.voided_at is not None
        chain = chain_for(await _code(session, award))
        for action in ("award.complaint_filed", "award.complaint_accepted", "award.suspended", "award.resumed"):
            assert len(await ledger_entries(session, chain, action)) == 1, action
        [decision] = await ledger_entries(session, chain, "award.complaint_decided")
        assert decision.summary["outcome"] == "uphold_reevaluate"
        assert decision.summary["state"] == "voided"
        assert decision.summary["voided"] == ["open_publicity", "close_publicity", "confirm_award"]
        [accepted_entry] = await ledger_entries(session, chain, "award.complaint_accepted")
        assert accepted_entry.summary["late"] is False
        [mine] = await complaints.mine(session, bidder.actor(), award.id)
        assert mine.state is ComplaintState.UPHELD
    assert await notices_to(session_maker, bidder.organisation_id, complaints.PROGRESS_TEMPLATE) == 4
    await assert_replays(session_maker, award)
    # The award has ended: nothing more happens to it (a new evaluation result starts a new award).
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        with pytest.raises(AwardRefused) as ended:
            transition(publicity.position_of(row), AwardEvent.CONFIRM_AWARD, row.sector)
        assert ended.value.rule == "award_finished"
    with use_clock(shift), pytest.raises(AwardRefused) as no_more:
        await act(session_maker, settings, filed, complaints.Act.SUSPEND, supervisor)
    assert (no_more.value.field, no_more.value.rule) == ("complaint", "complaint_state")
    del owner


async def _code(session: AsyncSession, award: Award) -> str:
    row = await session.get_one(Award, award.id)
    return (await session.get_one(Tender, row.tender_id)).project_code


async def test_a_dismissed_complaint_lets_the_award_go_on_and_a_rejected_one_touches_nothing(  # noqa: PLR0917 - a story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    _, bidder, supervisor, award, objection, shift = await late_answered_world(
        session_maker, settings, store, dev_tsa, dev_pki
    )
    with use_clock(shift):
        first = await complain(session_maker, settings, award, objection, bidder)
        rejected = await act(session_maker, settings, first, complaints.Act.REJECT, supervisor)
        assert isinstance(rejected, Complaint)
        assert rejected.state is ComplaintState.REJECTED
        # A rejected complaint can be deciding no more.
        with pytest.raises(AwardRefused) as closed:
            await act(session_maker, settings, first, complaints.Act.DISMISS, supervisor)
        assert (closed.value.field, closed.value.rule) == ("state", "complaint_state")
        second = await complain(session_maker, settings, award, objection, bidder)
        await act(session_maker, settings, second, complaints.Act.ACCEPT, supervisor)
        dismissed = await act(session_maker, settings, second, complaints.Act.DISMISS, supervisor)
        assert isinstance(dismissed, Complaint)
        assert dismissed.state is ComplaintState.DISMISSED
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.AWARDED
        assert row.complaints_pending == 0
        steps = list(await publicity.steps_of(session, award.id))
        assert [s.event for s in steps[-2:]] == [
            AwardEvent.ACCEPT_COMPLAINT,
            AwardEvent.DECIDE_COMPLAINT_CONTINUE,
        ]
        assert all(s.voided_at is None for s in steps)
        assert (
            len(await ledger_entries(session, chain_for(await _code(session, award)), "award.complaint_rejected")) == 1
        )
    await assert_replays(session_maker, award)


async def test_bad_complaints_and_acts_are_refused_with_the_rule_and_nothing_is_stored(  # noqa: PLR0915, PLR0917 - one table
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    other_bidder = await bidder_party(session_maker, settings, dev_pki)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    await open_publicity(session_maker, settings, award, owner, owner)
    objection = await file_objection(session_maker, settings, award, bidder, text=GROUNDS)

    # Before the answer and before its due instant: too early.
    with pytest.raises(AwardRefused) as early:
        await complain(session_maker, settings, award, objection, bidder)
    assert (early.value.field, early.value.rule) == ("objection", "complaint_after_answer")
    answered = await answer_objection(session_maker, settings, award, objection, owner)
    # A non-bidder (signing with its own certificate).
    with pytest.raises(PermissionDenied) as stranger:
        await complain(session_maker, settings, award, answered, outsider, text=COMPLAINT)
    assert (stranger.value.field, stranger.value.rule) == ("actor", "complaint_by_bidder")
    # Another bidder that did not object: the objection is not its own.

    async with session_maker() as session:
        bid = await session.scalar(sa.select(Bid).where(Bid.tender_id == world.tender_id).order_by(Bid.id).limit(1))
        assert bid is not None
        bid.organisation_id = other_bidder.organisation_id
        await session.commit()
    async with session_maker() as session:
        organisation = await session.get_one(Organisation, other_bidder.organisation_id)
        row = await session.get_one(Award, award.id)
        with pytest.raises(AwardRefused) as not_objected:
            await complaints.complaint_statement(session, row, organisation, answered.id, COMPLAINT)
    assert (not_objected.value.field, not_objected.value.rule) == ("objection", "complaint_after_objection")
    with pytest.raises(AwardRefused) as not_objected_file:
        async with transaction(session_maker, lock=True) as session:
            await complaints.file_complaint(
                session, settings, other_bidder.actor(), award.id, answered.id, text=COMPLAINT, signature="AAAA"
            )
    assert (not_objected_file.value.field, not_objected_file.value.rule) == ("objection", "complaint_after_objection")
    # The bidder with another organisation's certificate.
    with pytest.raises(AwardRefused) as forged:
        await complain(session_maker, settings, award, answered, bidder, signer=outsider)
    assert (forged.value.field, forged.value.rule) == ("signature", "complaint_signer")
    # Unsigned (garbage) and empty.
    with pytest.raises(AwardRefused) as unsigned:
        async with transaction(session_maker, lock=True) as session:
            await complaints.file_complaint(
                session, settings, bidder.actor(), award.id, answered.id, text=COMPLAINT, signature="not base64!"
            )
    assert (unsigned.value.field, unsigned.value.rule) == ("signature", "base64")
    with pytest.raises(AwardRefused) as empty:
        await complain(session_maker, settings, award, answered, bidder, text="  ")
    assert (empty.value.field, empty.value.rule) == ("complaint", "complaint_length")
    # After the window (engineering: 10 days from the answer).
    assert answered.answered_at is not None
    async with session_maker() as session:
        deadline = complaints.deadline_of(
            await session.get_one(Award, award.id), answered, await load_calendar(session)
        )
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(deadline - now)), pytest.raises(AwardRefused) as late:
        await complain(session_maker, settings, award, answered, bidder)
    assert (late.value.field, late.value.rule) == ("at", "complaint_period")
    async with session_maker() as session:
        assert not await complaints.complaints_of(session, award.id)
        assert await ledger_entries(session, chain_for(world.project_code), "award.complaint_filed") == []

    # In time: filed; a second one on the same objection while it is open is refused.
    filed = await complain(session_maker, settings, award, answered, bidder)
    with pytest.raises(AwardRefused) as again:
        await complain(session_maker, settings, award, answered, bidder)
    assert (again.value.field, again.value.rule) == ("objection", "complaint_once")
    # The supervisor's acts: by a non-supervisor, with another's certificate, out of order.
    with pytest.raises(PermissionDenied) as not_supervisor:
        await act(session_maker, settings, filed, complaints.Act.ACCEPT, owner)
    assert (not_supervisor.value.field, not_supervisor.value.rule) == ("actor", "complaint_supervisor")
    with pytest.raises(AwardRefused) as foreign:
        await act(session_maker, settings, filed, complaints.Act.ACCEPT, supervisor, signer=owner)
    assert (foreign.value.field, foreign.value.rule) == ("signature", "complaint_act_signer")
    with pytest.raises(AwardRefused) as undecidable:
        await act(session_maker, settings, filed, complaints.Act.UPHOLD_REEVALUATE, supervisor)
    assert (undecidable.value.field, undecidable.value.rule) == ("state", "complaint_state")
    with pytest.raises(AwardRefused) as not_suspended:
        await act(session_maker, settings, filed, complaints.Act.RESUME, supervisor)
    assert (not_suspended.value.field, not_suspended.value.rule) == ("event", "not_suspended")
    with pytest.raises(AwardRefused) as no_reasons:
        await act(session_maker, settings, filed, complaints.Act.ACCEPT, supervisor, text=" ")
    assert (no_reasons.value.field, no_reasons.value.rule) == ("note", "note_length")
    async with session_maker() as session:
        stored = await session.get_one(Complaint, filed.id)
        assert stored.state is ComplaintState.FILED
        assert stored.accepted_at is None
        award_row = await session.get_one(Award, award.id)
        assert (award_row.complaints_pending, award_row.suspended) == (0, False)
        steps = await session.scalars(sa.select(AwardStep.event).where(AwardStep.award_id == award.id))
        assert AwardEvent.ACCEPT_COMPLAINT not in steps.all()
        assert await ledger_entries(session, chain_for(world.project_code), "award.complaint_accepted") == []
    await assert_replays(session_maker, award)


async def test_a_complaint_not_accepted_or_decided_in_time_is_marked_overdue_and_the_supervisor_reminded(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    _, bidder, supervisor, award, objection, shift = await late_answered_world(
        session_maker, settings, store, dev_tsa, dev_pki
    )
    with use_clock(shift):
        filed = await complain(session_maker, settings, award, objection, bidder)
        # Before its due instant: nothing is due.
        assert (await run_sweep(session_maker, [ComplaintDue()])).total_changed == 0
    now = await db_now(session_maker)

    # The acceptance's due instant passes: overdue, reminded once, the second sweep changes nothing.
    with use_clock(ShiftedClock(filed.acceptance_due - now + timedelta(minutes=1))):
        assert (await run_sweep(session_maker, [ComplaintDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [ComplaintDue()])).total_changed == 0
        assert await notices_to(session_maker, supervisor.organisation_id, complaints.OVERDUE_TEMPLATE) == 1
        # Accepted late: the decision's due instant is watched in turn.
        accepted = await act(session_maker, settings, filed, complaints.Act.ACCEPT, supervisor)
        assert isinstance(accepted, Complaint)
        assert accepted.decision_due is not None
        assert accepted.next_check == accepted.decision_due

    with use_clock(ShiftedClock(accepted.decision_due - now + timedelta(minutes=1))):
        assert (await run_sweep(session_maker, [ComplaintDue()])).total_changed == 1
        assert await notices_to(session_maker, supervisor.organisation_id, complaints.OVERDUE_TEMPLATE) == 2
        assert (await run_sweep(session_maker, [ComplaintDue()])).total_changed == 0  # once per deadline

    async with session_maker() as session:
        code = await _code(session, await session.get_one(Award, award.id))
        overdue = await ledger_entries(session, chain_for(code), "award.complaint_overdue")
    assert sorted(e.summary["overdue"] for e in overdue) == ["acceptance", "decision"]
    assert {e.summary["complaint_id"] for e in overdue} == {str(filed.id)}
