"""Time limits that act without moving the state (`session/timelimit.py`), on PostgreSQL with
real certificates and the sweep, time moved with `ShiftedClock` (no sleeping): a state whose time
runs out gets one ``time-exceeded`` journal event, one ledger entry, one live event and one notice
each to the host and the chair; a paused session's time never runs out; a resumed one's does; a
second (or concurrent) sweep adds nothing; an extension that runs out again records a second
overrun; the state never moves. The pages show the overrun.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, EventKind, SessionEvent, SessionState
from bidding.evaluation.session import events as session_events
from bidding.evaluation.session import machine
from bidding.evaluation.session.conduct import Conduct
from bidding.evaluation.session.rules import shipped_rules
from bidding.evaluation.session.seating import Seating
from bidding.evaluation.session.timelimit import HANDLER, TimeLimitDue, exceeded, record_if_exceeded
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.pool.test_pages import log_in
from tests.bidding.evaluation.session.support import Committee, build_committee, seat_everyone, sign_in
from tests.trading.parties.factories import create_account
from trading.kernel import clock, sweep
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice, RecipientKind
from trading.server import wiring

pytestmark = pytest.mark.usefixtures("dev_lists")
Maker = async_sessionmaker[AsyncSession]
LIMIT = shipped_rules().limits[SessionState.QUALIFICATION]
assert LIMIT is not None


async def _ready(maker: Maker, settings: Settings, pki: DevPki) -> Committee:
    """Three members seated and signed in, member 0 the chair, the session in qualification review."""
    committee = await build_committee(maker, settings, pki, size=3, reserves=0)
    await seat_everyone(maker, settings, committee)
    for index in range(3):
        await sign_in(maker, settings, committee, index)
    async with maker() as session:
        seating = Seating(session, settings)
        for index in range(2):
            await seating.vote(committee.experts[index].actor, committee.evaluation_id, committee.members[0])
        await session.commit()
    for target in (SessionState.SIGNED_IN, SessionState.QUALIFICATION):
        async with maker() as session:
            evaluation = await session.get(Evaluation, committee.evaluation_id)
            assert evaluation is not None
            await machine.enter(session, evaluation, target, actor=committee.experts[0].actor)
            await session.commit()
    return committee


async def _evaluation(maker: Maker, committee: Committee) -> Evaluation:
    async with maker() as session:
        row = await session.get(Evaluation, committee.evaluation_id)
        assert row is not None
        return row


async def _sweep(maker: Maker) -> int:
    report = await sweep.run_sweep(maker, [TimeLimitDue()])
    assert report.failed == {}
    return report.changed.get(HANDLER, 0)


async def _records(maker: Maker, committee: Committee) -> tuple[list[SessionEvent], int, list[Notice]]:
    """This evaluation's overruns: journal events, ledger entries, notices."""
    async with maker() as session:
        events = list(
            await session.scalars(
                sa.select(SessionEvent)
                .where(
                    SessionEvent.evaluation_id == committee.evaluation_id,
                    SessionEvent.kind == EventKind.TIME_EXCEEDED,
                )
                .order_by(SessionEvent.at)
            )
        )
        entries = await session.scalar(
            sa.select(sa.func.count()).where(
                LedgerEntry.action == "evaluation.time_exceeded",
                LedgerEntry.subject_id == str(committee.evaluation_id),
            )
        )
        notices = list(
            await session.scalars(
                sa.select(Notice).where(Notice.event_key.like(f"evaluation.time_exceeded:{committee.evaluation_id}:%"))
            )
        )
    return events, int(entries or 0), notices


def _live(committee: Committee) -> list[dict[str, object]]:
    return [
        event
        for evaluation_id, event in session_events.recorded
        if evaluation_id == str(committee.evaluation_id) and event["type"] == "time-exceeded"
    ]


def test_the_sweep_handler_is_wired() -> None:
    wiring.register_sweep_handlers()
    assert HANDLER in {handler.name for handler in sweep.registered()}


async def test_an_overrun_is_recorded_once_and_the_state_stays(
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    with clock.use_clock(ShiftedClock()) as shifted:
        assert isinstance(shifted, ShiftedClock)
        committee = await _ready(session_maker, settings, dev_pki)
        entered = await _evaluation(session_maker, committee)
        assert entered.next_check is not None
        assert entered.next_check == entered.state_ends_at

        shifted.advance(LIMIT - timedelta(minutes=1))
        await _sweep(session_maker)
        assert (await _records(session_maker, committee))[0] == []  # not yet

        shifted.advance(timedelta(minutes=6))
        live_before = len(_live(committee))
        # The sweep records it; a second sweep (late, or another worker's) and the handler called
        # again directly add nothing. (Concurrent sweeps: `test_session_sse.py`, separate connections.)
        assert await _sweep(session_maker) >= 1
        assert await _sweep(session_maker) == 0
        async with session_maker() as session:
            assert not await record_if_exceeded(session, committee.evaluation_id, await clock.now(session))
            await session.commit()

    events, entries, notices = await _records(session_maker, committee)
    assert len(events) == 1
    assert entries == 1
    event = events[0]
    assert event.details["state"] == SessionState.QUALIFICATION.value
    assert event.details["ends_at"] == entered.state_ends_at.isoformat()  # type: ignore[union-attr]
    assert event.details["overrun_seconds"] == 5 * 60
    assert event.details["allowance"] == 1
    assert event.actor_id is None  # the platform recorded it
    recipients = {(n.recipient_kind, n.recipient_id) for n in notices}
    assert recipients == {
        (RecipientKind.ORGANISATION, committee.host.organisation_id),
        (RecipientKind.USER, committee.experts[0].account.user_id),  # the chair
    }
    assert {n.template for n in notices} == {"evaluation.time_exceeded"}
    assert len(_live(committee)) == live_before + 1
    assert _live(committee)[-1]["state"] == SessionState.QUALIFICATION.value

    after = await _evaluation(session_maker, committee)
    assert after.state is SessionState.QUALIFICATION  # the committee decides, not the clock
    assert after.state_ends_at == entered.state_ends_at
    assert after.next_check is None


async def test_a_paused_session_never_runs_out_and_a_resumed_one_does_once_per_allowance(  # noqa: PLR0915 - one story
    session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    with clock.use_clock(ShiftedClock()) as shifted:
        assert isinstance(shifted, ShiftedClock)
        committee = await _ready(session_maker, settings, dev_pki)
        shifted.advance(timedelta(minutes=20))
        async with session_maker() as session:
            await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "网络中断")
            await session.commit()
        paused = await _evaluation(session_maker, committee)
        assert paused.next_check is None

        # Paused far past the limit: nothing.
        shifted.advance(LIMIT * 3)
        assert await _sweep(session_maker) == 0
        assert (await _records(session_maker, committee))[0] == []

        # Resumed: the rest of the time runs again, and then out.
        async with session_maker() as session:
            await Conduct(session).resume(committee.host_actor, committee.evaluation_id)
            await session.commit()
        resumed = await _evaluation(session_maker, committee)
        assert resumed.state_ends_at is not None
        assert resumed.next_check == resumed.state_ends_at
        shifted.advance(LIMIT - timedelta(minutes=20) + timedelta(seconds=30))
        assert await _sweep(session_maker) >= 1
        events, entries, notices = await _records(session_maker, committee)
        assert (len(events), entries, len(notices)) == (1, 1, 2)
        assert events[0].details["ends_at"] == resumed.state_ends_at.isoformat()

        # A pause and a resume with nothing left open no new allowance.
        async with session_maker() as session:
            await Conduct(session).pause(committee.host_actor, committee.evaluation_id, "")
            await session.commit()
        async with session_maker() as session:
            await Conduct(session).resume(committee.host_actor, committee.evaluation_id)
            await session.commit()
        shifted.advance(timedelta(minutes=1))
        assert await _sweep(session_maker) == 0
        assert len((await _records(session_maker, committee))[0]) == 1

        # An extension (2 of 3 members ask: more than 1/3) gives a new end; running past it is
        # a second overrun, for the new end.
        for index in range(2):
            async with session_maker() as session:
                await Conduct(session).ask_for_time(committee.experts[index].actor, committee.evaluation_id)
                await session.commit()
        extended = await _evaluation(session_maker, committee)
        assert extended.state_ends_at is not None
        assert extended.next_check == extended.state_ends_at
        async with session_maker() as session:
            rows = await session.scalars(sa.select(SessionEvent).where(SessionEvent.evaluation_id == extended.id))
            assert exceeded(list(rows), extended.state) is None  # the new allowance is clean
        shifted.advance(shipped_rules().extension + timedelta(seconds=1))
        assert await _sweep(session_maker) >= 1
        assert await _sweep(session_maker) == 0

    events, entries, notices = await _records(session_maker, committee)
    assert [e.details["allowance"] for e in events] == [1, 2]
    assert events[1].details["ends_at"] == extended.state_ends_at.isoformat()
    assert entries == 2
    assert len(notices) == 4  # host and chair, once per overrun
    final = await _evaluation(session_maker, committee)
    assert final.state is SessionState.QUALIFICATION
    async with session_maker() as session:
        transitions = await session.scalar(
            sa.select(sa.func.count()).where(
                SessionEvent.evaluation_id == committee.evaluation_id, SessionEvent.kind == EventKind.TRANSITION
            )
        )
    assert transitions == 2  # signed-in and qualification review, nothing since


async def test_the_pages_show_the_overrun(
    client: httpx.AsyncClient, session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    with clock.use_clock(ShiftedClock()) as shifted:
        assert isinstance(shifted, ShiftedClock)
        committee = await _ready(session_maker, settings, dev_pki)
        base = f"/evaluation/e/{committee.evaluation_id}"
        await log_in(client, committee.host)
        before = await client.get(f"{base}/host")
        assert before.status_code == 200
        assert 'id="time-exceeded"' not in before.text

        shifted.advance(LIMIT + timedelta(minutes=7))
        await _sweep(session_maker)
        host = await client.get(f"{base}/host")
        assert 'id="time-exceeded"' in host.text
        assert "本阶段时限已于" in host.text
        assert "已超时 7 分钟" in host.text
        assert 'data-kind="time-exceeded"' in host.text  # the journal
        client.cookies.set("ggzy_locale", "en")
        english = await client.get(f"{base}/host")
        assert "The time limit of this state ran out at" in english.text
        assert "Time limit exceeded by 7 minutes" in english.text
        client.cookies.delete("ggzy_locale")

        client.cookies.clear()
        await log_in(client, committee.experts[1].account)
        member = await client.get(f"{base}/session")
        assert member.status_code == 200
        assert 'id="time-exceeded"' in member.text

        client.cookies.clear()
        await log_in(client, supervisor)
        live = await client.get(f"{base}/live")
        assert live.status_code == 200
        assert 'id="time-exceeded"' in live.text
        assert "超过时限" in live.text


def test_exceeded_is_per_allowance() -> None:
    def event(kind: EventKind, minute: int, state: SessionState = SessionState.SCORING) -> SessionEvent:
        return SessionEvent(
            id=uuid.uuid4(),
            kind=kind,
            details={"state": state.value},
            at=datetime(2026, 12, 6, 10, minute, tzinfo=UTC),
        )

    over = event(EventKind.TIME_EXCEEDED, 1)
    assert exceeded([], SessionState.SCORING) is None
    assert exceeded([over], SessionState.SCORING) is over
    assert exceeded([over], SessionState.DETAILED) is None
    assert exceeded([event(EventKind.EXTENSION, 2), over], SessionState.SCORING) is None
    later = event(EventKind.TIME_EXCEEDED, 3)
    assert exceeded([over, event(EventKind.EXTENSION, 2), later], SessionState.SCORING) is later
    assert exceeded([event(EventKind.EXTENSION, 0), over], SessionState.SCORING) is over
