"""The five-minute demo on the embedded SQLite default: ``ggzy run``'s seeding publishes a tender
marked 演示 with its deadline minutes away and the demo bidders' sealed bids submitted; the sweep
that ``ggzy run``'s worker runs opens its hall at the deadline (the clock is moved, not waited for).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select

from bidding.models import Bid, BidStatus, Tender, TenderStatus
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import OpeningSession, Stage
from bidding.opening.service import OpeningService
from bidding.rules import rules_for
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Mode, Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.server.cli import alembic_config
from trading.server.demo import seed_demo_data
from trading.server.demo_opening import (
    DEMO_BIDDERS,
    DEMO_OPENING_CODE,
    DEMO_RULES,
    DEMO_TENDER_TYPE,
    demo_settings,
)

pytestmark = pytest.mark.sqlite


async def test_demo_hall_opens_minutes_after_the_first_start(tmp_path: Path, publisher: RecordingPublisher) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(db={"url": url}, var_dir=tmp_path)  # type: ignore[arg-type]
    summary = await asyncio.to_thread(seed_demo_data, settings)
    assert DEMO_OPENING_CODE in summary

    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session:
            now = await clock.now(session)
            tender = (await session.scalars(select(Tender).where(Tender.project_code == DEMO_OPENING_CODE))).one()
            assert tender.status is TenderStatus.PUBLISHED
            assert "演示" in tender.title
            assert tender.deadline is not None
            assert now < tender.deadline <= now + timedelta(minutes=10)
            assert tender.rules is not None
            assert "演示" in tender.rules["legal_edition"]  # the rule set it ran on says so
            submitted = await session.scalar(
                select(func.count())
                .select_from(Bid)
                .where(Bid.tender_id == tender.id, Bid.status == BidStatus.SUBMITTED)
            )
            assert submitted == len(DEMO_BIDDERS) >= 2
            deadline = tender.deadline

        # A restart after the deadline: nothing is added, the passed deadline is fine.
        shifted = clock.ShiftedClock(deadline - now + timedelta(seconds=1))
        with clock.use_clock(shifted):
            assert DEMO_OPENING_CODE not in await asyncio.to_thread(seed_demo_data, settings)
            report = await run_sweep(session_maker, [TenderDeadline(FileStore(settings.storage_dir)), OpeningClock()])
        assert report.changed.get("bidding.tender_deadline") == 1, report

        async with session_maker() as session:
            count = await session.scalar(
                select(func.count()).select_from(Tender).where(Tender.project_code == DEMO_OPENING_CODE)
            )
            assert count == 1
            opening = (
                await session.scalars(
                    select(OpeningSession)
                    .join(Tender, Tender.id == OpeningSession.tender_id)
                    .where(Tender.project_code == DEMO_OPENING_CODE)
                )
            ).one()
            assert opening.stage is Stage.SIGN_IN  # the hall is open, the lot did not fail (流标)
        # What the public hall shows (its page and every seat render this view): the demo bids in it.
        with clock.use_clock(shifted):
            hall = OpeningService(session_maker, settings, FileStore(settings.storage_dir)).hall
            view = await hall.view(Actor.anonymous(), DEMO_OPENING_CODE)
        assert view["stage"] == Stage.SIGN_IN.value
        assert view["bids"]["total"] == len(DEMO_BIDDERS), view["bids"]

        # The demo's one-minute sign-in: decryption begins well within ten minutes of the start.
        with clock.use_clock(clock.ShiftedClock(deadline - now + timedelta(minutes=2))):
            await run_sweep(session_maker, [OpeningClock()])
        async with session_maker() as session:
            stage = await session.scalar(select(OpeningSession.stage).where(OpeningSession.id == opening.id))
            assert stage is Stage.DECRYPTION
        assert publisher.published  # the deadline asks the worker for a ledger checkpoint, as any deadline does
    finally:
        await engine.dispose()


def test_demo_rules_stay_with_the_demo(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)  # type: ignore[arg-type]
    legal = rules_for(DEMO_TENDER_TYPE, settings)
    assert legal.publication_to_deadline_days_min >= 10  # the platform's own rules are untouched
    assert rules_for(DEMO_TENDER_TYPE, demo_settings(settings)).publication_to_deadline_days_min == 0
    assert settings.bidding.rules == {}  # the demo's copy did not leak into the settings it came from
    assert set(DEMO_RULES) <= set(legal.to_dict())
    production = settings.model_copy(update={"mode": Mode.PRODUCTION})
    with pytest.raises(RuntimeError, match="demo"):
        demo_settings(production)
