"""Issue 15's acceptance, end to end on PostgreSQL under GP 综合评分法: from an opened tender to a
report signed by all seven members, the result reaching the award stage.

One story: the agency sets up the evaluation (a main and a sub venue); the centre's operator
commits and runs the draw (the bidder's employee and the expert conflicted with the tenderee are
never drawn, the record says why); one drawn expert declines and the next reserve is seated and
notified automatically; the host seats everyone across both venues; each member signs in at their
seat with their certificate; the committee elects its chair, who moves the session on; a member
asks bidder A a clarification through the API and A answers signed on its machine; members score
(an out-of-range score is refused with nothing stored), one scores C far above the panel, which
is caught as 畸高 once everyone submitted: the report cannot start until the member justifies it;
entering report-signing computes the result (the scoring part's ``finalise``) and enqueues the
report's rendering; every member signs the PDF in turn; pyHanko and ``pdfsig`` verify seven
signatures; the session is completed by the last signature and the result is public through
`bidding.evaluation.results.evaluation_result`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client.hall import answer_clarification_signed
from bidding.evaluation.models import (
    Clarification,
    ClarificationStatus,
    CommitteeDraw,
    Finding,
    FindingSource,
    Score,
    SessionState,
)
from bidding.evaluation.results import evaluation_result
from bidding.evaluation.scoring.errors import ScoringRefused
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from tests.bidding.evaluation.e2e.world import (
    SERVICE,
    TECH,
    ExpertPerson,
    Story,
    drawn_and_seated,
    gp_method,
    opening_bids,
    pdf_text,
    pdfsig,
    signature_count,
)
from tests.bidding.factories import ledger_entries
from trading.kernel import clock
from trading.ledger.service import chain_for
from trading.parties.certificates.trust import trust_context

pytestmark = pytest.mark.usefixtures("dev_lists")

QUESTION = "请澄清投标文件所列主要设备的品牌及产地。"
ANSWER = "主要设备均为国产，品牌见投标文件附件二。"
JUSTIFICATION = "丙公司的技术方案对本项目的特殊工况有完整的应对措施，评分有据。"


@pytest.fixture
async def story(make_story: Callable[..., Awaitable[Story]]) -> Story:
    return await make_story()


async def test_a_gp_evaluation_from_the_opened_tender_to_the_signed_report_and_the_award_stage(  # noqa: PLR0915 - one story
    story: Story, tmp_path: Path
) -> None:
    await drawn_and_seated(story, gp_method())
    chair = await story.chair()
    for state in (SessionState.SIGNED_IN, SessionState.QUALIFICATION, SessionState.DETAILED):
        await story.enter(state, chair.actor)
    bids = await opening_bids(story)
    current = await story.current()
    experts = [story.person_of(m) for m in current]

    # A clarification: asked by a member through the API, answered signed by bidder A on its machine.
    with clock.use_clock(story.shifted):
        asked = await story.client.post(
            f"/api/v1/evaluation/e/{story.ev}/clarifications",
            json={"openingBidId": str(bids["A"]), "question": QUESTION, "minutes": 30},
            headers=await story.token(experts[1].account),
        )
        assert asked.status_code == 201, asked.text
        answered = await answer_clarification_signed(
            story.clients["A"], asked.json()["id"], ANSWER, story.bidders["A"].sign.signing()
        )
    assert answered["status"] == "answered"

    await story.enter(SessionState.SCORING, chair.actor)
    ev = story.ev
    # An out-of-range score is refused with the rule named, and nothing is stored.
    with pytest.raises(ScoringRefused) as out_of_range:
        await story.run(lambda s: story.scoring(s).score(experts[0].actor, ev, bids["A"], TECH, Decimal("100.5")))
    assert out_of_range.value.rule == "score_range"
    async with story.maker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Score)) == 0

    for index, expert in enumerate(experts):
        tech = {"A": "80", "B": "85", "C": "99" if index == 6 else "70"}

        async def fill(s: AsyncSession, expert: ExpertPerson = expert, tech: dict[str, str] = tech) -> None:
            scoring = story.scoring(s)
            for name, points in tech.items():
                await scoring.score(expert.actor, ev, bids[name], TECH, Decimal(points))
                await scoring.score(expert.actor, ev, bids[name], SERVICE, Decimal(80))
            await scoring.submit(expert.actor, ev)

        await story.run(fill)

    # The 畸高 score is caught before the report: the report cannot start while it is open.
    async with story.maker() as session:
        findings = list(
            await session.scalars(
                sa.select(Finding).where(Finding.evaluation_id == ev, Finding.source == FindingSource.ART64)
            )
        )
    high = [f for f in findings if f.rule == "outlier_high"]
    assert [(f.member_id, f.opening_bid_id, f.criterion) for f in high] == [(current[6].id, bids["C"], TECH)]
    with pytest.raises(ScoringRefused) as unresolved:
        await story.enter(SessionState.REPORT_SIGNING, chair.actor)
    assert unresolved.value.rule == "art64_unresolved"
    assert (await story.evaluation()).state is SessionState.SCORING
    await story.run(lambda s: story.scoring(s).resolve(experts[6].actor, ev, high[0].id, justification=JUSTIFICATION))

    # Entering report-signing computes the result and enqueues the rendering.
    await story.enter(SessionState.REPORT_SIGNING, chair.actor)
    evaluation = await story.evaluation()
    assert evaluation.result is not None
    assert evaluation.result["method"] == "gp-comprehensive-scoring"
    # 低价优先: B (1,095,000.50) is the lowest price; tech means A 80, B 85, C (6 × 70 + 99) / 7.
    ranked = sorted(evaluation.result["bids"], key=lambda b: b["rank"])
    assert [b["opening_bid_id"] for b in ranked] == [str(bids["B"]), str(bids["A"]), str(bids["C"])]
    assert evaluation.result["candidates"] == [str(bids["B"]), str(bids["A"]), str(bids["C"])]
    await story.render()
    text = pdf_text(await story.current_pdf(experts[0]), tmp_path)
    for expected in ("评标报告", "主场", "副场", QUESTION.replace(" ", ""), JUSTIFICATION, experts[0].name):
        assert expected in text, expected
    async with story.maker() as session:
        assert await evaluation_result(session, story.tender_id) is None  # nothing public before completion

    # Every member signs in turn; the last signature completes the session and publishes the result.
    for index, expert in enumerate(experts, start=1):
        signed = await story.sign(expert)
        assert signed["signatures"] == index
        assert signed["completed"] is (index == 7)
    final = await story.current_pdf(experts[0])
    assert signature_count(final) == 7
    with clock.use_clock(story.shifted):
        async with story.maker() as session:
            context = await trust_context(session, story.settings, await clock.now(session))
            reports = await verify_pdf(final, context.validator, usage=Usage.SEAL)
    assert [r.passed for r in reports] == [True] * 7
    assert [r.signer_certificate_sha256 for r in reports] == [
        e.identity.certificate.fingerprint(hashes.SHA256()).hex() for e in experts
    ]
    out = pdfsig(final, tmp_path, story.pki)
    assert out.count("Signature Validation: Signature is Valid.") == 7, out
    assert "Signature #8" not in out

    done = await story.evaluation()
    assert done.state is SessionState.COMPLETED
    assert done.results_published_at is not None
    async with story.maker() as session:
        draw = await session.scalar(sa.select(CommitteeDraw).where(CommitteeDraw.evaluation_id == ev))
        assert draw is not None
        assert draw.published_at == done.results_published_at
        clarification = await session.scalar(sa.select(Clarification).where(Clarification.evaluation_id == ev))
        assert clarification is not None
        assert clarification.status is ClarificationStatus.ANSWERED
        result = await evaluation_result(session, story.tender_id)
        assert result is not None
        assert [str(c.opening_bid_id) for c in result.candidates] == [str(bids["B"]), str(bids["A"]), str(bids["C"])]
        assert [c.rank for c in result.candidates] == [1, 2, 3]
        assert result.candidates[0].bidder_name == story.bidders["B"].name
        assert result.report_sha256 == done.report_sha256
        assert sorted(m.name for m in result.committee) == sorted(e.name for e in experts)
        chain = chain_for(story.code)
        actions = [e.action for e in await ledger_entries(session, chain, None)]
        assert len(await ledger_entries(session, chain, "evaluation.report_signed")) == 7
        assert len(await ledger_entries(session, chain, "evaluation.results_published")) == 1
        entered = await ledger_entries(session, chain, "evaluation.state_entered")
        # The last signature completed the session through the session's machine (its summary
        # names the session rules' version), not around it.
        [completed] = [e for e in entered if e.summary["from"] == SessionState.REPORT_SIGNING.value]
        assert "rules_version" in completed.summary
    for action in ("evaluation.committee_drawn", "evaluation.member_declined", "evaluation.reserve_seated"):
        assert action in actions, action
    # After publication the committee's names are public: the result page shows them to anyone.
    with clock.use_clock(story.shifted):
        page = await story.client.get(f"/evaluation/e/{ev}/result")
    assert page.status_code == 200, page.text
    for expert in experts:
        assert expert.name in page.text
