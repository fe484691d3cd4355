"""The GP result announcement (中标/成交结果公告) and GP 质疑 on PostgreSQL, real signatures, time
moved with `ShiftedClock`: the winner confirmed, the purchaser publishes the signed announcement in
time and the public page shows the winner and the evaluators' names; unpublished at its due instant
the sweep warns the supervisor once; a bidder's signed 质疑 within the window after it is accepted
(the award not suspended in GP), one after the window or by a non-bidder refused with the rule and
nothing stored; the purchaser answers it, or the sweep marks it late; the journal replays.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import announcement, notices
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AnnouncementDue, ObjectionAnswerDue
from bidding.award.models import Award, AwardObjection, AwardStep, Publicity, PublicityKind
from bidding.award.rules import PeriodKey, Sector, objection_deadline
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
    db_calendar,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    file_objection,
    gp_report,
    make_bidder,
    notices_to,
    settings,
    store,
    supervisor_party,
)
from tests.bidding.factories import Party, bidder_party, ledger_entries, sign_document, tenderee_party
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def _announce(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, award: Award, actor: Party, signer: Party
) -> Publicity:
    async with session_maker() as session:
        statement, _ = await announcement.statement_for(session, await session.get_one(Award, award.id))
    signature = base64.b64encode(await sign_document(signer.sign, statement)).decode()
    async with transaction(session_maker, lock=True) as session:
        return await announcement.publish_announcement(session, settings, actor.actor(), award.id, signature)


async def test_announced_in_time_the_public_page_shows_the_winner_and_the_evaluators(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
    client: httpx.AsyncClient,
) -> None:
    del dev_lists
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki, name="测试财政局")
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    award = await award_of(session_maker, world)
    assert award.sector is Sector.GOVERNMENT_PROCUREMENT
    assert award.announcement_due is None  # due from the winner's determination

    # Nothing to announce before the winner is confirmed.
    with pytest.raises(AwardRefused) as early:
        await _announce(session_maker, settings, award, purchaser, purchaser)
    assert early.value.rule == "announcement_after_award"

    confirmed = await confirm_winner(session_maker, settings, award, purchaser, str(world.bids[0]))
    assert confirmed.state is AwardState.AWARDED
    assert confirmed.awarded_at is not None
    calendar = await db_calendar(session_maker)
    expected_due = announcement.pub.rules_of(confirmed).due(
        PeriodKey.RESULT_ANNOUNCEMENT, Sector.GOVERNMENT_PROCUREMENT, confirmed.awarded_at, calendar
    )
    assert confirmed.announcement_due == expected_due

    # The notices go out with the announcement, never before it (87号令 Art. 69): refused, nothing drafted.
    with pytest.raises(AwardRefused) as unannounced:
        async with transaction(session_maker, lock=True) as session:
            await notices.prepare_drafts(session, store, purchaser.actor(), award.id)
    assert (unannounced.value.field, unannounced.value.rule) == ("award", "notices_after_announcement")
    async with session_maker() as session:
        assert list(await notices.drafts_of(session, award.id)) == []

    # Public page before: nothing.
    public = f"/bidding/tenders/{world.project_code}/result"
    before = await client.get(public)
    assert before.status_code == 200
    assert 'id="no-announcement"' in before.text
    assert world.signers[0].name not in before.text

    # Published one hour later, well within the 2 working days: not late, nobody warned.
    with use_clock(ShiftedClock(timedelta(hours=1))):
        published = await _announce(session_maker, settings, award, purchaser, purchaser)
    assert published.kind is PublicityKind.RESULT
    assert published.late is False
    content = published.content
    assert content["winner"]["uscc"] == content["candidates"][0]["uscc"]
    assert set(content["evaluators"]) == {member.name for member in world.signers}
    assert content["procurement"]["code"] == world.project_code
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.AWARDED  # journalled, the progress state unmoved
        events = [s.event for s in await announcement.pub.steps_of(session, award.id)]
        assert events == [AwardEvent.CONFIRM_AWARD, AwardEvent.PUBLISH_ANNOUNCEMENT]
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.announcement_published")
        assert entry.summary["content_sha256"] == published.content_sha256
        assert entry.summary["late"] is False
        assert row.report_sha256 == content["reportSha256"]
        assert await announcement.announced(session, award.id)
    await assert_replays(session_maker, award)
    # Announced: the notices may now be drafted (one per bidder).
    async with transaction(session_maker, lock=True) as session:
        drafted = await notices.prepare_drafts(session, store, purchaser.actor(), award.id)
    assert len(drafted) == len(world.bids)

    # The sweep has nothing to warn about, now or after the due instant.
    with use_clock(ShiftedClock(expected_due - await db_now(session_maker) + timedelta(hours=1))):
        assert (await run_sweep(session_maker, [AnnouncementDue()])).total_changed == 0
    assert await notices_to(session_maker, supervisor.organisation_id, announcement.LATE_TEMPLATE) == 0

    # Once only.
    with pytest.raises(AwardRefused) as twice:
        await _announce(session_maker, settings, award, purchaser, purchaser)
    assert twice.value.rule == "announcement_once"

    # The public page and the API show the stored, signed content: winner, price, evaluators.
    page = await client.get(public)
    assert page.status_code == 200
    assert content["winner"]["bidder"] in page.text
    for name in content["evaluators"]:
        assert name in page.text
    assert published.content_sha256 in page.text
    api = await client.get(f"/api/v1/award/tenders/{world.project_code}/result")
    assert api.status_code == 200, api.text
    [shown] = api.json()
    assert shown["contentSha256"] == published.content_sha256
    assert shown["content"]["evaluators"] == content["evaluators"]
    # The engineering publicity page does not show the GP announcement as a candidates' publicity.
    publicity_page = await client.get(f"/bidding/tenders/{world.project_code}/publicity")
    assert 'id="no-publicity"' in publicity_page.text
    # The tender's public page links the result announcement.
    tender_page = await client.get(f"/bidding/tenders/{world.project_code}")
    assert 'id="result-link"' in tender_page.text


async def test_an_announcement_missing_at_its_due_instant_warns_the_supervisor_once(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki, name="测试财政局")
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    award = await confirm_winner(
        session_maker, settings, await award_of(session_maker, world), purchaser, str(world.bids[0])
    )
    assert award.announcement_due is not None
    now = await db_now(session_maker)

    with use_clock(ShiftedClock(award.announcement_due - now - timedelta(seconds=2))):
        assert (await run_sweep(session_maker, [AnnouncementDue()])).total_changed == 0
    assert await notices_to(session_maker, supervisor.organisation_id, announcement.LATE_TEMPLATE) == 0
    with use_clock(ShiftedClock(award.announcement_due - now + timedelta(hours=1))):
        assert (await run_sweep(session_maker, [AnnouncementDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [AnnouncementDue()])).total_changed == 0
        # Published late: marked so, the supervisor not warned a second time.
        published = await _announce(session_maker, settings, award, purchaser, purchaser)
    assert published.late is True
    assert await notices_to(session_maker, supervisor.organisation_id, announcement.LATE_TEMPLATE) == 1
    async with session_maker() as session:
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.announcement_late")) == 1
        row = await session.get_one(Award, award.id)
        assert row.announcement_warned_at is not None
    await assert_replays(session_maker, award)


async def test_gp_questions_in_the_window_are_accepted_and_answered_others_refused(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    stranger = await bidder_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki, name="测试财政局")
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await confirm_winner(
        session_maker, settings, await award_of(session_maker, world), purchaser, str(world.bids[0])
    )

    # Before the announcement: no 质疑 yet.
    with pytest.raises(AwardRefused) as early:
        await file_objection(session_maker, settings, award, bidder)
    assert early.value.rule == "objection_period"

    published = await _announce(session_maker, settings, award, purchaser, purchaser)
    now = await db_now(session_maker)
    calendar = await db_calendar(session_maker)
    until = objection_deadline(
        Sector.GOVERNMENT_PROCUREMENT, published.opened_at, calendar, announcement.pub.rules_of(award)
    )
    assert until - published.opened_at >= timedelta(days=8)  # 1 + 7 working days

    # A non-bidder is refused; nothing stored.
    with pytest.raises(PermissionDenied) as outsider:
        await file_objection(session_maker, settings, award, stranger)
    assert outsider.value.rule == "objection_by_bidder"

    # After the window: refused with the rule; nothing stored.
    with use_clock(ShiftedClock(until - now)), pytest.raises(AwardRefused) as late:
        await file_objection(session_maker, settings, award, bidder)
    assert late.value.rule == "objection_period"
    async with session_maker() as session:
        assert await count_rows(session, AwardObjection, award.id) == 0
        assert len(await announcement.pub.steps_of(session, award.id)) == 2

    # On the window's last hour: accepted; GP does not suspend the award.
    with use_clock(ShiftedClock(until - now - timedelta(hours=1))):
        filed = await file_objection(session_maker, settings, award, bidder)
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.objections_pending == 1
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.objection_filed")
        assert entry.summary["suspends"] is False
    rules = announcement.pub.rules_of(award)
    expected_answer_due = rules.due(
        PeriodKey.OBJECTION_ANSWER, Sector.GOVERNMENT_PROCUREMENT, filed.filed_at, await db_calendar(session_maker)
    )
    assert filed.answer_due == expected_answer_due  # 7 working days
    await assert_replays(session_maker, award)

    # Answered in time by the purchaser.
    with use_clock(ShiftedClock(until - now)):
        answered = await answer_objection(session_maker, settings, award, filed, purchaser, "经核查，质疑事项不成立。")
    assert answered.late is False
    assert await notices_to(session_maker, bidder.organisation_id, "award.question_answered") == 1
    assert await notices_to(session_maker, supervisor.organisation_id, "award.question_late") == 0
    async with session_maker() as session:
        events = [s.event for s in await announcement.pub.steps_of(session, award.id)]
    assert events == [
        AwardEvent.CONFIRM_AWARD,
        AwardEvent.PUBLISH_ANNOUNCEMENT,
        AwardEvent.FILE_OBJECTION,
        AwardEvent.ANSWER_OBJECTION,
    ]
    await assert_replays(session_maker, award)


async def test_an_unanswered_gp_question_is_marked_late_and_warns_once(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki, name="测试财政局")
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await confirm_winner(
        session_maker, settings, await award_of(session_maker, world), purchaser, str(world.bids[0])
    )
    await _announce(session_maker, settings, award, purchaser, purchaser)
    filed = await file_objection(session_maker, settings, award, bidder, text=GROUNDS)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(filed.answer_due - now + timedelta(minutes=1))):
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [ObjectionAnswerDue()])).total_changed == 0
    assert await notices_to(session_maker, supervisor.organisation_id, "award.question_late") == 1
    async with session_maker() as session:
        row = await session.get_one(AwardObjection, filed.id)
        assert row.late is True
        steps = await session.scalars(sa.select(AwardStep).where(AwardStep.award_id == award.id))
        assert len(steps.all()) == 3
    await assert_replays(session_maker, award)


async def test_bad_announcements_are_refused_and_nothing_is_stored(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    other = await tenderee_party(session_maker, settings, dev_pki)
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    award = await confirm_winner(
        session_maker, settings, await award_of(session_maker, world), purchaser, str(world.bids[0])
    )

    with pytest.raises(PermissionDenied) as not_owner:
        await _announce(session_maker, settings, award, other, other)
    assert not_owner.value.rule == "owner"
    with pytest.raises(AwardRefused) as foreign:
        await _announce(session_maker, settings, award, purchaser, other)
    assert foreign.value.rule == "announcement_signer"
    with pytest.raises(AwardRefused) as garbled:
        async with transaction(session_maker, lock=True) as session:
            await announcement.publish_announcement(session, settings, purchaser.actor(), award.id, "not base64!")
    assert garbled.value.rule == "base64"
    async with session_maker() as session:
        assert await count_rows(session, Publicity, award.id) == 0
        assert len(await announcement.pub.steps_of(session, award.id)) == 1
        assert await ledger_entries(session, chain_for(world.project_code), "award.announcement_published") == []
