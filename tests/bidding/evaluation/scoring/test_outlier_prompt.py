"""The inline prompt (issue 19 §5): once every member submitted, an expert whose score is an outlier
against the others' (Art. 64(4), the leave-one-out robust z) is asked on the bid's page, beside the
score, for the reason; an empty reason is refused naming the field, a given one is kept with the
finding on that score. Nobody is prompted, or sees anything of the others, before the last sheet.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Finding, Resolution, SessionState
from bidding.evaluation.scoring.service import Scoring
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import QUALITY, TECH, World, opened_world, run
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


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


async def log_in(browser: httpx.AsyncClient, account: Account) -> str:
    browser.cookies.clear()
    form = await browser.get("/login")
    response = await browser.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    return str(browser.cookies["ggzy_csrf"])


def sheet(world: World, i: int, *, submit: bool = True) -> Callable[[Scoring], Awaitable[None]]:
    """Expert 4 scores C's tech 98 where the others give 70 (z = 28 / (5 % × 100) = 5.6)."""
    actor, ev = world.experts[i].actor(), world.evaluation_id
    tech = {"A": "83.60", "B": "80", "C": "98" if i == 4 else "70"}

    async def fill(scoring: Scoring) -> None:
        for name, points in tech.items():
            await scoring.score(actor, ev, world.bids[name], TECH, Decimal(points))
        for name in "ABC":
            await scoring.vote(actor, ev, world.bids[name], QUALITY, Decimal(80))
        if submit:
            await scoring.submit(actor, ev)

    return fill


async def test_an_outlier_is_asked_for_its_reason_beside_the_score(world: World, browser: httpx.AsyncClient) -> None:  # noqa: PLR0915
    ev = world.evaluation_id
    await world.set_state(SessionState.SCORING, chair=0)
    bid_c = f"/evaluation/e/{ev}/bids/{world.bids['C']}"
    for i in range(4):
        await run(world, sheet(world, i))
    await run(world, sheet(world, 4, submit=False))  # scored, not yet submitted

    await log_in(browser, world.experts[4].account)
    before = await browser.get(bid_c)
    assert before.status_code == 200, before.text
    assert "outlier-prompt" not in before.text  # four sheets in: no comparison shown yet

    await run(world, lambda s: s.submit(world.experts[4].actor(), ev))  # the last sheet: the panel checks run
    page = await browser.get(bid_c)
    text = html.unescape(page.text)
    assert 'class="outlier-prompt"' in page.text
    assert "与其他专家的评分明显偏离" in text
    assert "其他专家中位数 70" in text
    assert "稳健 z = 5.60" in text
    async with world.session_maker() as session:
        finding = await session.scalar(sa.select(Finding).where(Finding.rule == "outlier_high"))
    assert finding is not None
    assert finding.member_id == world.experts[4].member_id

    # Another expert's page for the same bid carries no prompt (their score is with the panel).
    await log_in(browser, world.experts[0].account)
    assert "outlier-prompt" not in (await browser.get(bid_c)).text

    # The same prompt on the API: listed for the member concerned, an empty reason refused naming the
    # field, another member refused; nothing is recorded by a refusal.
    api = f"/api/v1/evaluation/e/{ev}/outlier-prompts"
    mine = bearer(await api_token(browser, world.experts[4].account))
    listed = await browser.get(api, headers=mine)
    assert listed.status_code == 200, listed.text
    [prompt] = listed.json()
    assert (prompt["findingId"], prompt["criterion"], prompt["z"], prompt["resolution"]) == (
        str(finding.id),
        TECH,
        "5.60",
        None,
    )
    empty = await browser.post(f"{api}/{finding.id}/reason", json={"justification": " "}, headers=mine)
    assert empty.status_code == 422, empty.text
    assert empty.json()["errors"][0]["field"] == "justification"
    assert empty.json()["errors"][0]["rule"] == "justification_required"
    bad = await browser.post(f"{api}/{finding.id}/reason", json={"justification": "x", "points": "高"}, headers=mine)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "points"
    other = bearer(await api_token(browser, world.experts[0].account))
    assert (await browser.get(api, headers=other)).json() == []
    stranger = await browser.post(f"{api}/{finding.id}/reason", json={"justification": "x"}, headers=other)
    assert stranger.status_code == 403
    async with world.session_maker() as session:
        assert (await session.get_one(Finding, finding.id)).resolution is None

    # An empty reason is refused on the same page, naming the field; nothing is recorded.
    csrf = await log_in(browser, world.experts[4].account)
    resolve = f"/evaluation/e/{ev}/findings/{finding.id}/resolve"
    refused = await browser.post(
        resolve, data={"justification": "  ", "bid": str(world.bids["C"])}, headers={"x-csrftoken": csrf}
    )
    assert refused.status_code == 422
    assert 'data-rule="justification_required"' in refused.text
    assert 'href="#field-justification"' in refused.text
    assert 'class="outlier-prompt"' in refused.text  # answered on the bid page, beside the score

    reason = "C 的技术方案有独到的创新，见技术标第 3 章。"
    answered = await browser.post(
        resolve, data={"justification": reason, "bid": str(world.bids["C"])}, headers={"x-csrftoken": csrf}
    )
    assert answered.status_code == 303
    assert answered.headers["location"].endswith(f"{bid_c}#finding-{finding.id}")
    async with world.session_maker() as session:
        kept = await session.get_one(Finding, finding.id)
    assert kept.resolution is Resolution.JUSTIFIED
    assert kept.justification == reason
    shown = html.unescape((await browser.get(bid_c)).text)
    assert f"您对该评分的理由: {reason}" in shown
    [after] = (await browser.get(api, headers=mine)).json()
    assert (after["resolution"], after["justification"]) == ("justified", reason)
