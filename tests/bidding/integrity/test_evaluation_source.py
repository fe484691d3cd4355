"""The evaluation screens' input read from a real evaluation on PostgreSQL (the scoring world: three
bidders' packages really opened, five experts, one objective and one subjective criterion)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, Finding, SessionState
from bidding.evaluation.scoring.result import finalise
from bidding.evaluation.scoring.service import Scoring
from bidding.integrity.evaluation_source import EvaluationNotFound, evaluation_panel, tender_panels
from bidding.integrity.screens import experts as screens
from bidding.integrity.screens.rules import load_catalogue
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import PDF_NAME, QUALITY, TECH, World, opened_world, run
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def world(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> World:
    return await opened_world(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )


def _sheet(world: World, i: int) -> Callable[[Scoring], Awaitable[None]]:
    actor, ev = world.experts[i].actor(), world.evaluation_id
    tech = {"A": "83.60", "B": "80", "C": "98" if i == 4 else "70"}
    quality = {"A": "80", "B": "60" if i in {1, 2} else "80", "C": "80"}

    async def fill(scoring: Scoring) -> None:
        for name, points in tech.items():
            await scoring.score(actor, ev, world.bids[name], TECH, Decimal(points))
        for name, points in quality.items():
            await scoring.vote(actor, ev, world.bids[name], QUALITY, Decimal(points))
        await scoring.submit(actor, ev)

    return fill


async def test_a_scored_evaluation_reads_into_a_panel_the_screens_flag(world: World) -> None:  # noqa: PLR0915
    ev, experts = world.evaluation_id, world.experts
    await world.set_state(SessionState.SCORING, chair=0)
    # Expert 0 reads C's proposal before scoring; expert 4 scores C far above the others (98 vs 70);
    # experts 1 and 2 vote 60 on B's objective item where the others vote 80.
    await run(world, lambda s: s.read_document(experts[0].actor(), ev, world.bids["C"], PDF_NAME))
    for i in range(len(experts)):
        await run(world, _sheet(world, i))
    async with world.session_maker() as session:
        found = {(f.rule, f.member_id): f.id for f in await session.scalars(sa.select(Finding))}
    outlier = found["outlier_high", experts[4].member_id]
    reason = "C 的技术方案有独到的创新，见技术标第 3 章。"
    await run(world, lambda s: s.resolve(experts[4].actor(), ev, outlier, justification=reason))
    await run(
        world,
        lambda s: s.resolve(
            experts[1].actor(), ev, found["objective_inconsistent", experts[1].member_id], corrected=Decimal(80)
        ),
    )
    await run(
        world,
        lambda s: s.resolve(
            experts[2].actor(),
            ev,
            found["objective_inconsistent", experts[2].member_id],
            justification="质量证书复印件不清晰。",
        ),
    )

    async with world.session_maker() as session:
        panel = await evaluation_panel(session, ev, pages={str(world.bidders["C"].organisation_id): 500})
    orgs = {name: str(p.organisation_id) for name, p in world.bidders.items()}
    expert_ids = [str(e.expert_id) for e in experts]
    assert panel.ocid == world.code
    assert panel.winner is None
    assert panel.signed_at is None
    assert len(panel.scores) == 5 * 3 * 2
    by_key = {(s.expert, s.bidder, s.criterion): s for s in panel.scores}
    # Weighted: tech 0.60 (98 → 58.8 of 60), quality 0.10 (80 → 8 of 10).
    c4 = by_key[expert_ids[4], orgs["C"], TECH]
    assert c4.score == pytest.approx(58.8)
    assert (c4.max_score, c4.objective, c4.reason) == (60.0, False, reason)
    b1 = by_key[expert_ids[1], orgs["B"], QUALITY]
    assert (b1.score, b1.max_score, b1.objective) == (8.0, 10.0, True)  # corrected from 60 to 80
    assert b1.scored_at is not None
    assert len(b1.edits) == 1
    assert b1.edits[0] >= b1.scored_at
    assert by_key[expert_ids[0], orgs["C"], TECH].first_opened_at is not None
    assert by_key[expert_ids[1], orgs["C"], TECH].first_opened_at is None

    rules = load_catalogue()
    flagged = {(f.rule, f.subjects[0]) for f in screens.screen_panel(panel, rules)}
    # C's tech: others 42 (70 × 0.6) each, MAD 0 → scale = 5 % × 60 = 3, z = 16.8 / 3 = 5.6.
    [deviation] = screens.deviation(panel, rules)
    assert deviation.subjects == (expert_ids[4],)
    assert deviation.evidence["items"][0]["z"] == 5.6  # type: ignore[index]
    assert deviation.evidence["items"][0]["reason"] == reason  # type: ignore[index]
    assert ("EXPERT-OBJECTIVE", expert_ids[2]) in flagged  # 60 against a majority of 80
    assert ("EXPERT-OBJECTIVE", expert_ids[1]) not in flagged  # corrected
    # Expert 0 opened C's 500 pages and scored within seconds: too fast; the others never opened C.
    fast = {f.subjects[0] for f in screens.too_fast(panel, rules)}
    assert fast == set(expert_ids)

    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, ev)
        await finalise(session, evaluation)
        await session.commit()
    async with world.session_maker() as session:
        panel = await evaluation_panel(session, ev)
        evaluation = await session.get_one(Evaluation, ev)
        assert await tender_panels(session, evaluation.tender_id) == [panel]  # the tender's only evaluation
    # Without counts passed in, the pages are what the opened files state: WeasyPrint's one-page
    # proposal each (the .txt states none). Only expert 0 opened a bid (C) before scoring: all fast.
    assert panel.pages == dict.fromkeys(orgs.values(), 1)
    assert {f.subjects[0] for f in screens.too_fast(panel, rules)} == set(expert_ids)
    # B wins on its lower price (the tie at 86.00 of tests/bidding/evaluation/scoring); price points 30.
    assert panel.winner == orgs["B"]
    assert panel.fixed_points[orgs["B"]] == 30.0

    async with world.session_maker() as session:
        with pytest.raises(EvaluationNotFound) as missing:
            await evaluation_panel(session, uuid7())
    assert missing.value.field == "evaluation_id"
