"""The screening plumbing: a closed opening publishes the screening task (only while a screener is
registered), the job runs the registered screeners over every lot of the tender and records their
findings and scores once however often it runs; a failing screener is skipped, not fatal; the
evaluation's scores being in publishes its screening; the market batch runs the market screeners.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.session import events as evaluation_events
from bidding.integrity import jobs, screening
from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening
from bidding.integrity.screening import LotContext, Trigger, register_screener, unregister_screener
from bidding.integrity.screens.model import Finding, Scope
from bidding.opening import events as opening_events
from tests.bidding.factories import Party, draft_tender
from tests.bidding.integrity.support import PRICE_RULE, PriceScreener, seed
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher

# The plumbing under test, with screeners of its own (conftest `only_test_screeners`).
pytestmark = pytest.mark.usefixtures("only_test_screeners")


@pytest.fixture
def price_screener() -> Iterator[PriceScreener]:
    screener = PriceScreener()
    screening.plug()
    register_screener(Trigger.OPENING, Scope.LOT_PRICES, screener)
    yield screener
    unregister_screener(screener)


async def _broken(session: AsyncSession, lot: LotContext, /) -> Sequence[Finding]:
    del session, lot
    raise ValueError("a screen that cannot read this lot")


def _integrity_tasks(publisher: RecordingPublisher) -> list[tuple[str, dict[str, object]]]:
    return [(m.name, m.kwargs) for m in publisher.published if m.name.startswith("integrity.")]


async def test_a_closed_opening_screens_every_lot_once(  # noqa: PLR0917 - the fixtures of one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    publisher: RecordingPublisher,
    price_screener: PriceScreener,
) -> None:
    tender = await draft_tender(session_maker, settings, store, owner, signed=False, lots=2)
    async with session_maker() as session:
        await seed(session)
        opening_events.publish_after_commit(session, tender.project_code, {"type": "stage", "state": "confirmation"})
        opening_events.publish_after_commit(session, tender.project_code, {"type": "stage", "state": "closed"})
        await session.commit()
    assert _integrity_tasks(publisher) == [("integrity.screen_opening", {"code": tender.project_code})]

    register_screener(Trigger.OPENING, Scope.LOT_EVIDENCE, _broken)
    try:
        report = await jobs.screen_opening(session_maker, tender.project_code)
        again = await jobs.screen_opening(session_maker, tender.project_code)
    finally:
        unregister_screener(_broken)
    assert (report.lots, report.alerts) == (2, 2)
    assert report.failed == ("_broken", "_broken")
    assert (again.lots, again.alerts) == (2, 2)  # the same alerts, found again
    assert [(lot.ocid, lot.lot, lot.tender_id) for lot in price_screener.seen[:2]] == [
        (tender.project_code, "L1", tender.id),
        (tender.project_code, "L2", tender.id),
    ]
    assert price_screener.seen[0].rules[PRICE_RULE.id].version == 1
    async with session_maker() as session:
        alerts = (await session.scalars(select(IntegrityAlert).where(IntegrityAlert.tender_id == tender.id))).all()
        scores = (
            await session.scalars(select(IntegrityLotScreening).where(IntegrityLotScreening.tender_id == tender.id))
        ).all()
    assert sorted((a.lot, a.rule_id, a.scope) for a in alerts) == [
        ("L1", PRICE_RULE.id, "lot-prices"),
        ("L2", PRICE_RULE.id, "lot-prices"),
    ]
    assert sorted((s.lot, s.score, s.flagged) for s in scores) == [("L1", 4.5, True), ("L2", 4.5, True)]


async def test_no_screener_no_task(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    screening.plug()
    async with session_maker() as session:
        opening_events.publish_after_commit(session, "NO-SCREENERS", {"type": "stage", "state": "closed"})
        await session.commit()
    assert _integrity_tasks(publisher) == []


async def test_the_evaluation_scores_in_publish_its_screening(
    session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> None:
    screener = PriceScreener()
    screening.plug()
    register_screener(Trigger.EVALUATION, Scope.EVALUATION, screener)
    try:
        import uuid

        evaluation_id = uuid.uuid4()
        async with session_maker() as session:
            evaluation_events.publish_after_commit(session, evaluation_id, {"type": "state", "state": "scoring"})
            evaluation_events.publish_after_commit(session, evaluation_id, {"type": "state", "state": "report-signing"})
            await session.commit()
        assert _integrity_tasks(publisher) == [("integrity.screen_evaluation", {"evaluation_id": str(evaluation_id)})]
        # An evaluation the database does not hold: nothing to screen, nothing recorded.
        assert (await jobs.screen_evaluation(session_maker, evaluation_id)).lots == 0
    finally:
        unregister_screener(screener)


async def test_the_market_batch_runs_the_market_screeners(session_maker: async_sessionmaker[AsyncSession]) -> None:
    assert (await jobs.recompute_market(session_maker)).lots == 0  # none registered: nothing to do
    screener = PriceScreener()
    register_screener(Trigger.MARKET, Scope.MARKET, screener)
    try:
        async with session_maker() as session:
            await seed(session)
            await session.commit()
        report = await jobs.recompute_market(session_maker)
    finally:
        unregister_screener(screener)
    assert (report.lots, report.alerts, screener.seen[0].ocid, screener.seen[0].lot) == (1, 1, "market", None)
