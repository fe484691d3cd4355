"""Objections to the candidates' publicity on PostgreSQL, real signatures, time moved with
`ShiftedClock`: a bidder's signed objection suspends the award (engineering); the tenderee's signed
answer in time resumes it and the winner can be confirmed; an answer not given in time is marked
late by the sweep and warns the supervisor once; each bad objection is refused with the rule named
and nothing stored.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import objections
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue, ObjectionAnswerDue
from bidding.award.models import Award, AwardObjection
from bidding.award.states import AwardEvent, AwardState
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    GROUNDS,
    answer_objection,
    assert_replays,
    award_hook,
    award_of,
    confirm_winner,
    count_rows,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    file_objection,
    make_bidder,
    objection_signature,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.factories import bidder_party, ledger_entries, party, sign_document, tenderee_party
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for
from trading.notifications.models import Notice
from trading.parties.models import OrganisationKind

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def test_an_objection_in_time_suspends_the_award_until_answered_then_confirm_works(  # noqa: PLR0917 - one story
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
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    opened = await open_publicity(session_maker, settings, award, owner, owner)

    # Filed on the publicity's second day: the answer is due after the publicity's end.
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(timedelta(days=1))):
        filed = await file_objection(session_maker, settings, award, bidder)
    assert filed.answer_due > opened.closes_at
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.objections_pending == 1
        assert objections.pub.position_of(row).shown is AwardState.OBJECTION_PENDING
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.objection_filed")
        assert entry.summary["suspends"] is True
        told = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Notice)
            .where(Notice.recipient_id == owner.organisation_id, Notice.template == objections.FILED_TEMPLATE)
        )
        assert told == 1
    await assert_replays(session_maker, award)

    # The publicity ends while the objection is open: it closes, but the award stays suspended.
    first = str(world.bids[0])
    with use_clock(ShiftedClock(opened.closes_at - now)):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        with pytest.raises(AwardRefused) as held:
            await confirm_winner(session_maker, settings, award, owner, first)
        assert held.value.rule == "objection_pending"
        # Answered in time: resumed, the winner confirmed.
        answered = await answer_objection(session_maker, settings, award, filed, owner)
        assert answered.late is False
        assert answered.answered_at is not None
        confirmed = await confirm_winner(session_maker, settings, award, owner, first)
        assert confirmed.state is AwardState.AWARDED
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.objections_pending == 0
        events = [s.event for s in await objections.pub.steps_of(session, award.id)]
        assert events == [
            AwardEvent.OPEN_PUBLICITY,
            AwardEvent.FILE_OBJECTION,
            AwardEvent.CLOSE_PUBLICITY,
            AwardEvent.ANSWER_OBJECTION,
            AwardEvent.CONFIRM_AWARD,
        ]
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.objection_answered")) == 1
        assert await ledger_entries(session, chain_for(world.project_code), "award.objection_late") == []
        [mine] = await objections.mine(session, bidder.actor(), award.id)
        assert mine.answer is not None
        told = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Notice)
            .where(Notice.recipient_id == bidder.organisation_id, Notice.template == objections.ANSWERED_TEMPLATE)
        )
        assert told == 1
    await assert_replays(session_maker, award)
    # Answering twice is refused.
    with pytest.raises(AwardRefused) as twice:
        await answer_objection(session_maker, settings, award, filed, owner)
    assert twice.value.rule == "answer_once"


async def test_an_answer_not_given_in_time_warns_the_supervisor_once(  # noqa: PLR0917 - one story
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
    department = OrganisationKind.SUPERVISORY_DEPARTMENT
    supervisor = await party(session_maker, settings, dev_pki, Role.SUPERVISOR, kind=department, name="测试监督局")
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    await open_publicity(session_maker, settings, award, owner, owner)
    filed = await file_objection(session_maker, settings, award, bidder)

    async def warnings() -> int:
        async with session_maker() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Notice)
                .where(Notice.recipient_id == supervisor.organisation_id, Notice.template == objections.LATE_TEMPLATE)
            )
            return int(count or 0)

    now = await db_now(session_maker)
    with use_clock(ShiftedClock(filed.answer_due - now - timedelta(seconds=2))):
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 0
    assert await warnings() == 0
    with use_clock(ShiftedClock(filed.answer_due - now + timedelta(minutes=5))):
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 0
        assert await warnings() == 1
        # The late answer is accepted, marked late, and warns no second time.
        answered = await answer_objection(session_maker, settings, award, filed, owner)
        assert answered.late is True
    assert await warnings() == 1
    async with session_maker() as session:
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.objection_late")) == 1
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.objection_answered")
        assert entry.summary["late"] is True
        assert (await session.get_one(Award, award.id)).objections_pending == 0
    await assert_replays(session_maker, award)


async def test_bad_objections_are_refused_with_the_rule_and_nothing_is_stored(  # noqa: PLR0915, PLR0917 - one table
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
    outsider = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)

    # Before the publicity is open.
    with pytest.raises(AwardRefused) as early:
        await file_objection(session_maker, settings, award, bidder)
    assert (early.value.field, early.value.rule) == ("at", "objection_period")

    opened = await open_publicity(session_maker, settings, award, owner, owner)
    # A non-bidder, even with its own valid signature.
    with pytest.raises(PermissionDenied) as stranger:
        await file_objection(session_maker, settings, award, outsider)
    assert (stranger.value.field, stranger.value.rule) == ("actor", "objection_by_bidder")
    # The bidder's user with another organisation's certificate.
    with pytest.raises(AwardRefused) as forged:
        await file_objection(session_maker, settings, award, bidder, outsider)
    assert (forged.value.field, forged.value.rule) == ("signature", "objection_signer")
    # Empty grounds.
    with pytest.raises(AwardRefused) as empty:
        await file_objection(session_maker, settings, award, bidder, text="   ")
    assert (empty.value.field, empty.value.rule) == ("objection", "objection_length")
    # A signature over other grounds than those sent.
    signature = await objection_signature(session_maker, award, bidder, bidder, "另一段理由")
    with pytest.raises(AwardRefused) as swapped:
        async with transaction(session_maker, lock=True) as session:
            await objections.file_objection(
                session, settings, bidder.actor(), award.id, text=GROUNDS, signature=signature
            )
    assert swapped.value.field == "signature"
    # Garbage instead of a signature.
    with pytest.raises(AwardRefused) as garbage:
        async with transaction(session_maker, lock=True) as session:
            await objections.file_objection(
                session, settings, bidder.actor(), award.id, text=GROUNDS, signature="not base64!"
            )
    assert (garbage.value.field, garbage.value.rule) == ("signature", "base64")
    # After the publicity's end (the sweep has not closed it yet: the window itself refuses).
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now)), pytest.raises(AwardRefused) as late:
        await file_objection(session_maker, settings, award, bidder)
    assert (late.value.field, late.value.rule) == ("at", "objection_period")

    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.objections_pending == 0
        assert row.state is AwardState.PUBLICITY_OPEN
        assert await count_rows(session, AwardObjection, award.id) == 0
        assert [s.event for s in await objections.pub.steps_of(session, award.id)] == [AwardEvent.OPEN_PUBLICITY]
        assert await ledger_entries(session, chain_for(world.project_code), "award.objection_filed") == []
    # A non-owner cannot answer (there is nothing to answer; the owner check comes first).
    filed = await file_objection(session_maker, settings, award, bidder)
    with pytest.raises(PermissionDenied) as not_owner:
        await answer_objection(session_maker, settings, award, filed, bidder)
    assert (not_owner.value.field, not_owner.value.rule) == ("actor", "owner")
    async with session_maker() as session:
        row = await session.get_one(AwardObjection, filed.id)
        statement = await objections.answer_statement(session, row, "答复")
    bad = base64.b64encode(await sign_document(bidder.sign, statement)).decode()
    async with transaction(session_maker, lock=True) as session:
        with pytest.raises(AwardRefused) as forged_answer:
            await objections.answer_objection(
                session, settings, owner.actor(), award.id, objection_id=filed.id, answer="答复", signature=bad
            )
    assert (forged_answer.value.field, forged_answer.value.rule) == ("signature", "answer_signer")
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.objections_pending == 1
        assert (await session.get_one(AwardObjection, filed.id)).answered_at is None
