"""The award's start and the candidates' publicity on PostgreSQL, time moved with `ShiftedClock`:
a signed report starts the award (through the hook the server wires); the tenderee opens the
publicity signed with its certificate; the sweep closes it exactly at its end and a second sweep
changes nothing; a late opening warns the supervisor; refusals name the rule and store nothing.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import award as decisions
from bidding.award import publicity
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue
from bidding.award.models import Award, AwardStep, Publicity
from bidding.award.rules import PeriodKey, shipped_rules
from bidding.award.states import AwardEvent, AwardState
from bidding.evaluation import results as evaluation_results
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    award_hook,
    award_of,
    count_rows,
    db_calendar,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.factories import bidder_party, ledger_entries, party, sign_document, tenderee_party
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import WorkingCalendar
from trading.kernel.calendar_versions import load_calendar
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


async def test_a_signed_report_starts_the_award_and_the_sweep_closes_the_publicity_at_its_end(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)

    award = await award_of(session_maker, world)
    assert award.state is AwardState.REPORT_SIGNED
    assert award.sector.value == "engineering"
    assert award.rules_version == shipped_rules().version
    assert award.rules == shipped_rules().to_dict()
    expected_due = shipped_rules().due(
        PeriodKey.PUBLICITY_PUBLISH, award.sector, award.report_published_at, await db_calendar(session_maker)
    )
    assert award.publicity_due == expected_due == award.next_check
    # The hook is idempotent: running it again keeps the one award.
    async with session_maker() as session:
        evaluation = await session.get_one(evaluation_results.Evaluation, world.evaluation_id)
        again = await publicity.start_award(session, evaluation, calendar=await load_calendar(session))
        assert again is not None
        assert again.id == award.id
        assert len(await publicity.awards_of_tender(session, world.tender_id)) == 1
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.started")) == 1

    opened = await open_publicity(session_maker, settings, award, owner, owner)
    assert opened.late is False
    names = [c["bidder"] for c in opened.content["candidates"]]
    assert names == ["南京甲建设工程有限公司", "苏州乙建筑有限公司", "无锡丙工程有限公司"]
    assert [c["price"] for c in opened.content["candidates"]] == ["1180000.00", "1215000.00", "1300000.00"]
    assert sorted(opened.content["committee"]) == sorted(s.name for s in world.signers)
    assert opened.closes_at == shipped_rules().due(
        PeriodKey.PUBLICITY_DURATION, award.sector, opened.opened_at, await db_calendar(session_maker)
    )
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.PUBLICITY_OPEN
        assert row.next_check == opened.closes_at
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.publicity_opened")
        assert entry.summary["content_sha256"] == opened.content_sha256

    # Opening twice: refused by the state machine's rule, nothing stored.
    with pytest.raises(AwardRefused) as twice:
        await open_publicity(session_maker, settings, award, owner, owner)
    assert (twice.value.field, twice.value.rule) == ("event", "publicity_after_report")

    # One second before its end nothing closes; at its end the sweep closes it, once.
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now - timedelta(seconds=2))):
        report = await run_sweep(session_maker, [AwardDue()])
        assert report.total_changed == 0
    with use_clock(ShiftedClock(opened.closes_at - now)):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 0
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.PUBLICITY_CLOSED
        assert row.next_check is None
        closed = await session.get_one(Publicity, opened.id)
        assert closed.closed_at is not None
        assert closed.closed_at >= closed.closes_at
        steps = list(await publicity.steps_of(session, award.id))
        assert [s.event for s in steps] == [AwardEvent.OPEN_PUBLICITY, AwardEvent.CLOSE_PUBLICITY]
        assert steps[0].signer_sha256 == opened.signer_sha256
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.publicity_closed")) == 1
        # No warning: it was opened in time.
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.publicity_late")) == 0


async def test_a_late_opening_warns_the_supervisor_once(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    department = OrganisationKind.SUPERVISORY_DEPARTMENT
    supervisor = await party(session_maker, settings, dev_pki, Role.SUPERVISOR, kind=department, name="测试监督局")
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    assert award.publicity_due is not None
    now = await db_now(session_maker)

    async def warnings() -> int:
        async with session_maker() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Notice)
                .where(Notice.recipient_id == supervisor.organisation_id, Notice.template == "award.publicity_late")
            )
            return int(count or 0)

    # Before the due instant the sweep has nothing to say.
    with use_clock(ShiftedClock(award.publicity_due - now - timedelta(seconds=2))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 0
    assert await warnings() == 0
    with use_clock(ShiftedClock(award.publicity_due - now + timedelta(hours=1))):
        # The sweep warns once the due instant passed with no publicity; a second sweep does not.
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 0
        assert await warnings() == 1
        # The late opening is accepted, marked late, and warns no second time.
        opened = await open_publicity(session_maker, settings, award, owner, owner)
        assert opened.late is True
    assert await warnings() == 1
    async with session_maker() as session:
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.publicity_late")) == 1
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.publicity_opened")
        assert entry.summary["late"] is True


async def test_results_published_before_the_due_year_is_loaded_start_the_award_and_the_sweep_counts_later(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    """Late December: the publicity's due instant falls in a year the administrator has not loaded.
    The experts' last signature still publishes the results and starts the award (the due instant
    unknown, never guessed); the sweep tries daily and counts it once the year is loaded.
    """
    del dev_lists
    unloaded = WorkingCalendar({})  # no year loaded: the one the due instant needs is missing

    async def start_without_the_year(session: AsyncSession, evaluation: evaluation_results.Evaluation) -> object:
        return await publicity.start_award(session, evaluation, calendar=unloaded)

    evaluation_results.use_published_hook(start_without_the_year)
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    assert award.state is AwardState.REPORT_SIGNED
    assert award.publicity_due is None
    assert award.next_check is not None
    now = await db_now(session_maker)
    assert award.next_check - now <= publicity.CALENDAR_RETRY
    async with session_maker() as session:
        [started] = await ledger_entries(session, chain_for(world.project_code), "award.started")
    assert started.summary["publicity_due"] is None
    assert started.summary["calendar_year_missing"] == award.report_published_at.year

    # A day later, the year still missing: nothing counted, the next try a day on.
    with use_clock(ShiftedClock(award.next_check - now)):
        async with transaction(session_maker) as session:
            assert await publicity.check_due(session, award.id, award.next_check, unloaded) is False
    retried = await award_of(session_maker, world)
    assert retried.publicity_due is None
    assert retried.next_check == award.next_check + publicity.CALENDAR_RETRY

    # The year loaded (the platform's calendar has it): the sweep counts the due instant, once.
    with use_clock(ShiftedClock(retried.next_check - now)):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 0
    counted = await award_of(session_maker, world)
    expected = shipped_rules().due(
        PeriodKey.PUBLICITY_PUBLISH, counted.sector, counted.report_published_at, await db_calendar(session_maker)
    )
    assert counted.publicity_due == expected
    async with session_maker() as session:
        [entry] = await ledger_entries(session, chain_for(world.project_code), "award.publicity_due_counted")
    assert entry.summary["publicity_due"] == expected.isoformat()
    # The publicity opens as usual, in time: the due instant lies ahead of today.
    opened = await open_publicity(session_maker, settings, counted, owner, owner)
    assert opened.late is False


async def test_bad_openings_are_refused_with_the_rule_and_nothing_is_stored(  # noqa: PLR0917 - the fixtures it needs
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
    award = await award_of(session_maker, world)

    # By an organisation that is not the tenderee (nor its agency), even with its own signature.
    with pytest.raises(PermissionDenied) as outsider:
        await open_publicity(session_maker, settings, award, bidder, bidder)
    assert (outsider.value.field, outsider.value.rule) == ("actor", "owner")
    # By the tenderee's user with another organisation's certificate.
    with pytest.raises(AwardRefused) as forged:
        await open_publicity(session_maker, settings, award, owner, bidder)
    assert (forged.value.field, forged.value.rule) == ("signature", "publicity_signer")
    # A signature that is not base64.
    async with transaction(session_maker, lock=True) as session:
        with pytest.raises(AwardRefused) as garbage:
            await publicity.open_publicity(session, settings, owner.actor(), award.id, "not base64!")
        assert (garbage.value.field, garbage.value.rule) == ("signature", "base64")
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.REPORT_SIGNED
        assert await count_rows(session, Publicity, award.id) == 0
        assert await count_rows(session, AwardStep, award.id) == 0
        assert await ledger_entries(session, chain_for(world.project_code), "award.publicity_opened") == []

    # 流标 by the tenderee (every bid rejected), signed: the publicity can then no longer be opened.
    reason = "所有投标均被否决"
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        statement = await decisions.decision_statement(session, row, decisions.Decision.FAIL, reason=reason)
    signature = base64.b64encode(await sign_document(owner.sign, statement)).decode()
    async with transaction(session_maker, lock=True) as session:
        failed = await decisions.fail_award(
            session, settings, owner.actor(), award.id, reason=reason, signature=signature
        )
        assert failed.state is AwardState.FAILED
    with pytest.raises(AwardRefused) as after_failure:
        await open_publicity(session_maker, settings, award, owner, owner)
    assert after_failure.value.rule == "publicity_after_report"
    async with session_maker() as session:
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.failed")) == 1
