"""Scoring on PostgreSQL over a really opened tender: refusals that store nothing, the joint vote,
Art. 64 findings before the report, and the result with a tie decided by the lower price.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import (
    Evaluation,
    Finding,
    FindingSource,
    Member,
    ObjectiveVote,
    Resolution,
    Score,
    SessionState,
    SheetSubmission,
)
from bidding.evaluation.pool.models import ConflictDeclaration, RelationType
from bidding.evaluation.response.requirements import read_requirements
from bidding.evaluation.scoring.assisting import assist
from bidding.evaluation.scoring.errors import ScoringForbidden, ScoringRefused
from bidding.evaluation.scoring.result import finalise
from bidding.evaluation.scoring.service import Scoring
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import QUALITY, TECH, World, opened_world, requirement_set, run
from tests.bidding.factories import ledger_entries
from trading.kernel import clock
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


async def refused(world: World, work: Any, rule: str) -> ScoringRefused:
    with pytest.raises(ScoringRefused) as caught:
        await run(world, work)
    assert caught.value.rule == rule, caught.value
    return caught.value


async def count(world: World, model: type[Any]) -> int:
    async with world.session_maker() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def actions(world: World, action: str) -> int:
    async with world.session_maker() as session:
        return len(await ledger_entries(session, f"project:{world.code}", action))


async def fill_sheet(world: World, index: int, tech: dict[str, str], quality: dict[str, str]) -> None:
    actor = world.experts[index].actor()

    async def work(scoring: Scoring) -> None:
        for name, points in tech.items():
            await scoring.score(actor, world.evaluation_id, world.bids[name], TECH, Decimal(points))
        for name, points in quality.items():
            await scoring.vote(actor, world.evaluation_id, world.bids[name], QUALITY, Decimal(points))

    await run(world, work)


async def submit(world: World, index: int) -> SheetSubmission:
    actor = world.experts[index].actor()
    return await run(world, lambda scoring: scoring.submit(actor, world.evaluation_id))  # type: ignore[no-any-return]


async def test_out_of_range_conflicted_and_after_submitting_are_refused_with_nothing_stored(world: World) -> None:
    first, second = world.experts[0], world.experts[1]
    async with world.session_maker() as session:
        session.add(
            ConflictDeclaration(
                expert_id=first.expert_id,
                organisation_uscc=world.bidders["C"].uscc,
                organisation_name="C 公司",
                relation=next(iter(RelationType)),
                period_from=(await clock.now(session)).date().replace(year=2020),
                declared_at=await clock.now(session),
            )
        )
        await session.commit()
    ev, bid_a, bid_c = world.evaluation_id, world.bids["A"], world.bids["C"]

    out_of_range = await refused(
        world, lambda s: s.score(second.actor(), ev, bid_a, TECH, Decimal("100.5")), "score_range"
    )
    assert out_of_range.field == "points"
    await refused(world, lambda s: s.vote(second.actor(), ev, bid_a, QUALITY, Decimal(-1)), "score_range")
    conflicted = await refused(world, lambda s: s.score(first.actor(), ev, bid_c, TECH, Decimal(70)), "conflict")
    assert conflicted.field == "opening_bid_id"
    assert await count(world, Score) == 0
    assert await count(world, ObjectiveVote) == 0
    assert await actions(world, "evaluation.score_recorded") == 0

    # The conflicted member scores A and B; the others C too. A sheet with C missing is incomplete.
    await fill_sheet(world, 1, {"A": "80", "B": "80"}, {"A": "80", "B": "80", "C": "80"})
    await refused(world, lambda s: s.submit(second.actor(), ev), "sheet_incomplete")
    assert await count(world, SheetSubmission) == 0
    await fill_sheet(world, 1, {"C": "75.5"}, {})
    submitted = await submit(world, 1)
    assert len(submitted.sheet_sha256) == 64
    await refused(world, lambda s: s.score(second.actor(), ev, bid_a, TECH, Decimal(90)), "sheet_submitted")
    await refused(world, lambda s: s.vote(second.actor(), ev, bid_a, QUALITY, Decimal(90)), "sheet_submitted")
    await refused(world, lambda s: s.submit(second.actor(), ev), "sheet_submitted")
    async with world.session_maker() as session:
        mine = (await session.scalars(sa.select(Score).where(Score.member_id == second.member_id))).all()
    assert sorted(str(s.points) for s in mine) == ["75.5000", "80.0000", "80.0000"]
    assert await actions(world, "evaluation.score_recorded") == 3
    assert await actions(world, "evaluation.score_submitted") == 1

    # The conflicted member's sheet does not need C: A and B complete it.
    await fill_sheet(world, 0, {"A": "81", "B": "79"}, {"A": "80", "B": "80"})
    assert (await submit(world, 0)).stage is SessionState.SCORING


async def test_scores_need_the_scoring_state_and_membership(world: World) -> None:
    await world.set_state(SessionState.DETAILED)
    ev, bid_a = world.evaluation_id, world.bids["A"]
    with pytest.raises(Exception) as caught:  # noqa: PT011 - a 409 naming the state
        await run(world, lambda s: s.score(world.experts[0].actor(), ev, bid_a, TECH, Decimal(80)))
    assert getattr(caught.value, "rule", None) == "state_scoring"
    outsider = world.bidders["A"].actor()
    async with world.session_maker() as session:
        with pytest.raises(ScoringForbidden) as forbidden:
            await world.scoring(session).workspace(outsider, ev)
        await session.commit()  # the page answers 403 without raising: the record commits
    assert forbidden.value.rule == "member"
    assert await actions(world, "evaluation.access_refused") == 1


async def test_joint_vote_art64_findings_then_the_ranking_with_a_tie_by_lower_price(world: World) -> None:  # noqa: PLR0915
    """综合评分法: A (1,180,000.00) and B (1,095,000.50) tie at 86.00; B ranks first by its lower price.

    A: price 1095000.50 / 1180000 × 100 × 0.30 = 27.84, quality 80 × 0.10 = 8.00, tech 83.60 × 0.60
    = 50.16 → 86.00. B: 30.00 + 8.00 + 80 × 0.60 = 48.00 → 86.00. C: 1095000.50 / 1230000 × 100 ×
    0.30 = 26.71, 8.00, tech mean (4 × 70 + 98) / 5 = 75.60 × 0.60 = 45.36 → 80.07.
    """
    ev = world.evaluation_id
    await world.set_state(SessionState.SCORING, chair=0)
    for i in range(5):
        tech = {"A": "83.60", "B": "80", "C": "98" if i == 4 else "70"}
        # B's quality: three vote 80, two vote 60; the majority decides 80.
        quality = {"A": "80", "B": "60" if i in {1, 2} else "80", "C": "80"}
        await fill_sheet(world, i, tech, quality)
    chair = world.experts[0].actor()

    # Nobody sees another's values before submitting; the chair sees counts only.
    for i in range(4):
        await submit(world, i)
    progress = await run(world, lambda s: s.progress(chair, ev))
    scoring = next(p for p in progress.stages if p.stage is SessionState.SCORING)
    assert (scoring.submitted, scoring.members) == (4, 5)
    assert progress.totals is None
    workspace = await run(world, lambda s: s.workspace(world.experts[1].actor(), ev))
    assert {(v.member_id) for v in workspace.votes.values()} == {world.experts[1].member_id}
    with pytest.raises(ScoringForbidden):
        await run(world, lambda s: s.progress(world.experts[1].actor(), ev))
    async with world.session_maker() as session:
        assert not (await session.scalars(sa.select(Finding).where(Finding.rule != "sum_error"))).all()

    await submit(world, 4)  # the last sheet: the panel checks run
    async with world.session_maker() as session:
        found = {(f.rule, f.member_id, f.opening_bid_id) for f in await session.scalars(sa.select(Finding))}
    experts = world.experts
    assert ("outlier_high", experts[4].member_id, world.bids["C"]) in found
    assert ("objective_inconsistent", experts[1].member_id, world.bids["B"]) in found
    assert ("objective_inconsistent", experts[2].member_id, world.bids["B"]) in found
    assert len(found) == 3
    progress = await run(world, lambda s: s.progress(chair, ev))
    assert progress.totals is not None
    assert progress.open_art64 == 3

    # A score changed around the service after submission (out of range) is caught before the report.
    async with world.session_maker() as session:
        await session.execute(
            sa.update(Score)
            .where(Score.member_id == experts[3].member_id, Score.opening_bid_id == world.bids["A"])
            .values(points=Decimal(120))
        )
        await session.commit()
    await world.set_state(SessionState.SCORING)
    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, ev)
        with pytest.raises(ScoringRefused) as blocked:
            await finalise(session, evaluation)
        await session.commit()  # the findings the run wrote stay, as the session part commits them
    assert blocked.value.rule == "art64_unresolved"
    async with world.session_maker() as session:
        open_rows = (await session.scalars(sa.select(Finding).where(Finding.resolution.is_(None)))).all()
        assert evaluation.result is None
    opened = {(f.rule, f.member_id) for f in open_rows}
    assert ("out_of_range", experts[3].member_id) in opened
    assert ("outlier_high", experts[3].member_id) in opened

    def resolve(index: int, rule: str, **how: Any) -> Any:
        finding = next(f for f in open_rows if f.rule == rule and f.member_id == experts[index].member_id)

        async def work(scoring: Scoring) -> Finding:
            return await scoring.resolve(experts[index].actor(), ev, finding.id, **how)

        return run(world, work)

    # Only the member concerned resolves; a bare "no" is not a justification.
    finding = next(f for f in open_rows if f.member_id == experts[4].member_id)
    with pytest.raises(ScoringForbidden):
        await run(world, lambda s: s.resolve(experts[0].actor(), ev, finding.id, justification="x"))
    with pytest.raises(ScoringRefused) as bare:
        await resolve(4, "outlier_high", justification="  ")
    assert bare.value.rule == "justification_required"
    with pytest.raises(ScoringRefused) as still_out:
        await resolve(3, "out_of_range", corrected=Decimal(101))
    assert still_out.value.rule == "score_range"
    corrected = await resolve(3, "out_of_range", corrected=Decimal("83.60"), justification="录入错误，已更正")
    assert corrected.resolution is Resolution.CORRECTED
    justified = await resolve(4, "outlier_high", justification="C 的技术方案有独到的创新，见技术标第 3 章。")
    assert justified.resolution is Resolution.JUSTIFIED
    await resolve(1, "objective_inconsistent", corrected=Decimal(80))
    await resolve(2, "objective_inconsistent", justification="C 的质量证书复印件不清晰，我坚持 60 分。")

    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, ev)
        result = await finalise(session, evaluation)
        await session.commit()
    by_bid = {b["opening_bid_id"]: b for b in result["bids"]}
    a, b, c = (by_bid[str(world.bids[n])] for n in "ABC")
    assert (a["total"], b["total"], c["total"]) == ("86.00", "86.00", "80.07")
    assert (b["rank"], a["rank"], c["rank"]) == (1, 2, 3)
    assert result["candidates"] == [str(world.bids[n]) for n in "BAC"]
    assert result["method"] == "gp-comprehensive-scoring"
    assert b["by_criterion"] == {"price": "30.00", "quality": "8.00", "tech": "48.00"}
    assert set(a["by_member"]) == {str(e.member_id) for e in experts}
    assert c["by_member"][str(experts[4].member_id)] == "93.51"  # 26.71 + 8.00 + 98 × 0.60
    assert b["price"] == "1095000.50"
    assert all(x["valid"] for x in result["bids"])
    async with world.session_maker() as session:
        stored = await session.get_one(Evaluation, ev)
        assert stored.result == result
    assert await actions(world, "evaluation.result_computed") == 1


async def test_a_voided_member_is_left_out_of_the_result(world: World) -> None:
    ev = world.evaluation_id
    for i in range(5):
        await fill_sheet(world, i, {"A": "90", "B": "60", "C": "70"}, {"A": "80", "B": "80", "C": "80"})
    # Member 4 scored B far higher, then was replaced: their sheet counts for nothing.
    await fill_sheet(world, 4, {"B": "100"}, {})
    async with world.session_maker() as session:
        member = await session.get_one(Member, world.experts[4].member_id)
        member.voided_at = await clock.now(session)
        await session.commit()
    for i in range(4):
        await submit(world, i)
    async with world.session_maker() as session:
        result = await finalise(session, await session.get_one(Evaluation, ev))
        await session.commit()
    by_bid = {b["opening_bid_id"]: b for b in result["bids"]}
    assert by_bid[str(world.bids["B"])]["by_criterion"]["tech"] == "36.00"
    assert str(world.experts[4].member_id) not in by_bid[str(world.bids["B"])]["by_member"]
    async with world.session_maker() as session:
        rows = (await session.scalars(sa.select(Finding).where(Finding.source == FindingSource.ART64))).all()
    assert rows == []


async def test_assistance_findings_are_advisory_and_acknowledged(world: World) -> None:
    """The assistance reads the opened packages' structured responses: A answered ★ S1 only. The
    finding is shown with its evidence, acknowledged by a member, and no score changes.
    """
    await fill_sheet(world, 0, {"A": "77"}, {})
    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, world.evaluation_id)
        requirements = read_requirements(json.dumps(requirement_set(world.code), ensure_ascii=False))
        written = await assist(session, evaluation, requirements, store=world.store, source=world.source)
        again = await assist(session, evaluation, requirements, store=world.store, source=world.source)
        await session.commit()
    assert again == []  # written once
    on_a = [f for f in written if f.opening_bid_id == world.bids["A"]]
    assert on_a, [f.rule for f in written]
    star = next(f for f in on_a if "S2" in json.dumps(f.evidence, ensure_ascii=False))
    assert star.source is FindingSource.ASSISTANCE
    assert star.evidence["bid"] == world.bidders["A"].uscc
    workspace = await run(world, lambda s: s.workspace(world.experts[1].actor(), world.evaluation_id))
    assert star.id in {f.id for f in workspace.advisory}
    acknowledged = await run(
        world, lambda s: s.acknowledge(world.experts[1].actor(), world.evaluation_id, star.id, "已请投标人澄清")
    )
    assert acknowledged.resolution is Resolution.ACKNOWLEDGED
    with pytest.raises(ScoringRefused) as twice:
        await run(world, lambda s: s.acknowledge(world.experts[2].actor(), world.evaluation_id, star.id))
    assert twice.value.rule == "finding_resolved"
    async with world.session_maker() as session:
        assert [str(s.points) for s in await session.scalars(sa.select(Score))] == ["77.0000"]


async def test_reviews_by_majority_reject_a_bid_and_it_is_listed_invalid(world: World) -> None:
    ev, bid_c = world.evaluation_id, world.bids["C"]
    await world.set_state(SessionState.QUALIFICATION)
    await refused(world, lambda s: s.submit(world.experts[0].actor(), ev), "sheet_incomplete")
    for i in range(5):
        actor = world.experts[i].actor()
        for name in "AB":
            await run(world, lambda s, a=actor, n=name: s.review(a, ev, world.bids[n], passed=True, reason=""))
        fails = i < 3
        if fails:
            await refused(world, lambda s, a=actor: s.review(a, ev, bid_c, passed=False, reason=" "), "reason_required")
        await run(
            world,
            lambda s, a=actor, f=fails: s.review(a, ev, bid_c, passed=not f, reason="营业执照已过期" if f else ""),
        )
        await run(world, lambda s, a=actor: s.submit(a, ev))
    await world.set_state(SessionState.SCORING)
    await refused(world, lambda s: s.score(world.experts[0].actor(), ev, bid_c, TECH, Decimal(60)), "bid_rejected")
    for i in range(5):
        await fill_sheet(world, i, {"A": "80", "B": "80"}, {"A": "70", "B": "70"})
        await submit(world, i)
    async with world.session_maker() as session:
        result = await finalise(session, await session.get_one(Evaluation, ev))
        await session.commit()
    c = next(b for b in result["bids"] if b["opening_bid_id"] == str(bid_c))
    assert (c["valid"], c["rank"], c["total"]) == (False, None, None)
    assert "营业执照已过期" in c["invalid_reason"]
    assert result["candidates"] == [str(world.bids["B"]), str(world.bids["A"])]  # B's lower price wins


async def test_finalise_waits_for_every_sheet_and_for_a_majority_on_objective_criteria(world: World) -> None:
    ev = world.evaluation_id

    async def finalised() -> dict[str, Any]:
        async with world.session_maker() as session:
            try:
                return await finalise(session, await session.get_one(Evaluation, ev))
            finally:
                await session.commit()

    # A's quality splits 2-2-1: no value has a majority.
    split = ["80", "80", "60", "60", "70"]
    for i in range(5):
        await fill_sheet(world, i, {"A": "80", "B": "80", "C": "80"}, {"A": split[i], "B": "80", "C": "80"})
    for i in range(4):
        await submit(world, i)
    with pytest.raises(ScoringRefused) as missing:
        await finalised()
    assert missing.value.rule == "sheet_missing"
    await submit(world, 4)
    async with world.session_maker() as session:
        inconsistent = (await session.scalars(sa.select(Finding).where(Finding.rule == "objective_inconsistent"))).all()
    assert len(inconsistent) == 5  # no majority: every member of that bid and criterion is asked
    for finding in inconsistent:
        index = next(i for i, e in enumerate(world.experts) if e.member_id == finding.member_id)

        async def justify(scoring: Scoring, f: Finding = finding, i: int = index) -> Finding:
            return await scoring.resolve(world.experts[i].actor(), ev, f.id, justification="各执己见，提请表决")

        await run(world, justify)
    with pytest.raises(ScoringRefused) as undecided:
        await finalised()
    assert undecided.value.rule == "objective_undecided"
    async with world.session_maker() as session:
        assert (await session.get_one(Evaluation, ev)).result is None
