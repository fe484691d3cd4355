"""The archive of a tender evaluated end to end (the evaluation's e2e world: a GP tender opened in
the hall, a committee drawn and seated, scores, the report rendered and signed by all seven
members): the report enters the archive through the ledger with its seven PAdES signatures, and
the whole archive verifies offline."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.archive import format as fmt
from bidding.award.archive.builder import build_archive
from bidding.award.archive.checks import verify_archive
from bidding.evaluation.models import SessionState
from tests.bidding.evaluation.e2e.conftest import make_story, poppler
from tests.bidding.evaluation.e2e.world import (
    SERVICE,
    TECH,
    ExpertPerson,
    Story,
    drawn_and_seated,
    gp_method,
    opening_bids,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor

__all__ = ["make_story", "poppler"]

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_the_signed_evaluation_report_is_archived_and_verifies(
    make_story: Callable[..., Awaitable[Story]],
) -> None:
    story = await make_story()
    await drawn_and_seated(story, gp_method())
    chair = await story.chair()
    for state in (SessionState.SIGNED_IN, SessionState.QUALIFICATION, SessionState.DETAILED, SessionState.SCORING):
        await story.enter(state, chair.actor)
    bids = await opening_bids(story)
    experts = [story.person_of(m) for m in await story.current()]
    for expert in experts:

        async def fill(s: AsyncSession, expert: ExpertPerson = expert) -> None:
            scoring = story.scoring(s)
            for name, points in {"A": "80", "B": "85", "C": "70"}.items():
                await scoring.score(expert.actor, story.ev, bids[name], TECH, Decimal(points))
                await scoring.score(expert.actor, story.ev, bids[name], SERVICE, Decimal(80))
            await scoring.submit(expert.actor, story.ev)

        await story.run(fill)
    await story.enter(SessionState.REPORT_SIGNING, chair.actor)
    await story.render()
    for expert in experts:
        await story.sign(expert)
    report_sha256 = (await story.evaluation()).report_sha256

    with clock.use_clock(story.shifted):
        async with story.maker() as session:
            built = await build_archive(session, story.settings, story.store, story.code, actor=Actor.system())
            await session.commit()
    archive = story.store.path(built.storage_key).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read(fmt.MANIFEST))
    [report] = [row for row in manifest["files"] if row["kind"] == fmt.EVALUATION_REPORT]
    assert report["sha256"] == report_sha256  # the latest revision, all seven signatures
    assert report["signatures"] == [{"type": fmt.PADES, "count": 7}]
    assert report["recorded_by"]["chain"] == f"project:{story.code}"

    checked = verify_archive(archive)
    assert checked.ok, checked.text()
    assert checked.signatures >= 7 + 3 + 3 + 1  # the report, receipts, bid manifests, the tender document
