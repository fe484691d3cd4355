"""Issue 15's second end to end: engineering 综合评估法 with the base-price preset F4 and a K
coefficient drawn publicly in the opening hall's 抽取系数 stage, on PostgreSQL.

The tender declares K in [0.90, 0.99] step 0.01; the hall commits its seed when the opening
starts and the host draws it after 唱标 (`world.build`, through the hall's API). The evaluation is
set up without K (it is not known to the settings); entering report-signing takes the drawn value
into the method settings (the server's finaliser) and the result's price scores are computed with
it: the same inputs with another K give other price scores. Then all seven sign and the session
completes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.methods.common import Bid, Criterion, CriterionKind, MethodCode, Sector
from bidding.evaluation.methods.engineering import comprehensive_evaluation
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import SessionState
from bidding.evaluation.results import evaluation_result
from bidding.models import Tender
from bidding.opening.coefficients import drawn_values
from tests.bidding.evaluation.e2e.world import PRICE, TECH, ExpertPerson, Story, drawn_and_seated, opening_bids, pdfsig
from tests.bidding.opening.hall_support import PRICES, ledger_actions
from trading.kernel import clock


def f4_method() -> MethodSettings:
    """综合评估法, base price by preset F4 (mean of the valid prices × K), price 60 %, technical 40 %."""
    return MethodSettings(
        method=MethodCode.ENG_COMPREHENSIVE,
        sector=Sector.ENGINEERING,
        criteria=(
            Criterion(PRICE, CriterionKind.PRICE, Decimal("0.60")),
            Criterion(TECH, CriterionKind.SUBJECTIVE, Decimal("0.40")),
        ),
        price_base="F4",
        candidates=3,
    )


@pytest.fixture
async def story(make_story: Callable[..., Awaitable[Story]]) -> Story:
    return await make_story(engineering=True)


async def test_an_engineering_evaluation_uses_the_k_drawn_in_the_hall(story: Story, tmp_path: Path) -> None:  # noqa: PLR0915 - one story
    async with story.maker() as session:
        tender = await session.get_one(Tender, story.tender_id)
        drawn = await drawn_values(session, story.tender_id)
        recorded = await ledger_actions(session, story.code, "bidding.opening_coefficient_drawn")
    assert set(drawn) == {"K"}
    k = drawn["K"]
    assert Decimal("0.90") <= k <= Decimal("0.99")
    assert [data["value"] for _, data in recorded] == [str(k)]
    assert tender.evaluation_criteria["coefficients"][0]["name"] == "K"

    await drawn_and_seated(story, f4_method())
    assert (await story.evaluation()).settings["coefficients"] == {}  # K is not the host's to set
    chair = await story.chair()
    for state in (SessionState.SIGNED_IN, SessionState.QUALIFICATION, SessionState.DETAILED, SessionState.SCORING):
        await story.enter(state, chair.actor)
    bids = await opening_bids(story)
    current = await story.current()
    experts = [story.person_of(m) for m in current]
    tech = {"A": Decimal(82), "B": Decimal(78), "C": Decimal(75)}
    for expert in experts:

        async def fill(s: AsyncSession, expert: ExpertPerson = expert) -> None:
            scoring = story.scoring(s)
            for name, points in tech.items():
                await scoring.score(expert.actor, story.ev, bids[name], TECH, points)
            await scoring.submit(expert.actor, story.ev)

        await story.run(fill)

    await story.enter(SessionState.REPORT_SIGNING, chair.actor)
    evaluation = await story.evaluation()
    assert evaluation.settings["coefficients"] == {"K": str(k)}
    assert evaluation.result is not None
    assert evaluation.result["method"] == "eng-comprehensive-evaluation"
    price_scores = {b["opening_bid_id"]: Decimal(b["by_criterion"][PRICE]) for b in evaluation.result["bids"]}

    # The price scores are the method's with the drawn K, and another K would give others.
    method_bids = [Bid(key=str(bids[n]), price=Decimal(PRICES[n]), quoted=Decimal(PRICES[n])) for n in "ABC"]
    scores = {str(m.id): {str(bids[n]): {TECH: tech[n]} for n in "ABC"} for m in current}

    def price_components(value: Decimal) -> dict[str, Decimal]:
        computed = comprehensive_evaluation(f4_method(), method_bids, scores, {"K": value})
        return {row.key: row.components[PRICE] for row in computed.rows}

    assert price_scores == price_components(k)
    other = Decimal("0.90") if k != Decimal("0.90") else Decimal("0.99")
    assert price_scores != price_components(other)

    await story.render()
    for expert in experts:
        await story.sign(expert)
    final = await story.current_pdf(experts[0])
    out = pdfsig(final, tmp_path, story.pki)
    assert out.count("Signature Validation: Signature is Valid.") == 7, out
    done = await story.evaluation()
    assert done.state is SessionState.COMPLETED
    with clock.use_clock(story.shifted):
        async with story.maker() as session:
            result = await evaluation_result(session, story.tender_id)
            assert result is not None
            assert result.candidates
            ranked = [str(c.opening_bid_id) for c in result.candidates]
            expected = [b["opening_bid_id"] for b in sorted(evaluation.result["bids"], key=lambda b: b["rank"])]
            assert ranked == expected
            computed = await session.scalar(
                sa.text("SELECT count(*) FROM ledger_entries WHERE action = 'evaluation.result_computed'")
            )
    assert computed == 1
