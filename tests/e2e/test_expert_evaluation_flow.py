"""Acceptance (issue 15): in Chromium, an expert logs in, opens a bid document beside the scoring
sheet (the PDF framed inline), scores (an out-of-range score is refused with its rule named), sees
an Art. 64 prompt (畸高: their score far above the other members'), submits; the chair sees the
committee's progress.

The world is built with the services (`tests.bidding.evaluation.scoring.world.opened_world`: three
bidders seal real packages with a PDF, the hall opens and they decrypt; five experts with accounts
in an evaluation in ``scoring``), on a PostgreSQL database of the test's own (real commits, the app
and the browser's requests on their own connections). The other four members fill and submit their
sheets through the services; the browser's expert is the last, so the panel's checks (畸高畸低) run
on their submission. The app is served by uvicorn in the test's event loop.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Finding, SessionState, SheetSubmission
from bidding.evaluation.scoring.service import Scoring
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import PDF_NAME, QUALITY, TECH, World, opened_world, run
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa
from tests.trading.parties.factories import PASSWORD
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

__all__ = ["dev_ca", "dev_lists", "dev_pki", "dev_tsa"]
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("dev_lists", "publisher")]

OTHERS_TECH = {"A": "80", "B": "78", "C": "70"}
"""The four other members' subjective scores; the browser's expert gives C 98 (畸高: z = 28 / 5)."""
MINE_TECH = {"A": "82", "B": "79", "C": "98"}


@pytest.fixture
def settings(fresh_db: str, dev_ca: tuple[Path, dict[str, Any]], tmp_path: Path) -> Settings:
    """The certificate tests' settings (as `tests/bidding/conftest.py`) on the test's own database."""
    out, _ = dev_ca
    return Settings(
        db={"url": fresh_db},  # type: ignore[arg-type]
        var_dir=tmp_path / "var",
        storage_dir=tmp_path / "files",
        certs={  # type: ignore[arg-type]
            "dev_ca_dir": out,
            "trust_list": str(out / "trust-list.json"),
            "operator_certificates": out / "pinned-operators.pem",
            "tsa_p12": out / "p12" / "tsa.p12",
            "tsa_p12_password": "dev",
            "fetch_revocation": False,
        },
    )


@pytest.fixture
async def session_maker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.db.url)
    try:
        yield create_session_maker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore(settings.storage_dir)


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """The app on a free local port, served by uvicorn in this event loop."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def _the_others_submit(world: World) -> None:
    """Members 1-4 (the chair, 0, among them) fill and submit their sheets through the services."""
    for index in range(4):
        actor = world.experts[index].actor()

        async def work(scoring: Scoring, actor: Any = actor) -> None:
            for name, points in OTHERS_TECH.items():
                await scoring.score(actor, world.evaluation_id, world.bids[name], TECH, Decimal(points))
                await scoring.vote(actor, world.evaluation_id, world.bids[name], QUALITY, Decimal(80))
            await scoring.submit(actor, world.evaluation_id)

        await run(world, work)


async def _log_in(context: Any, username: str) -> Any:
    from playwright.async_api import expect

    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    return page


async def _score_bid(page: Any, bidder: str, points: str) -> None:
    """From the workspace: open the bid, vote its objective criterion, save its subjective score."""
    from playwright.async_api import expect

    await page.locator("#bids tr", has_text=bidder).get_by_role("link", name="阅标并评分").click()
    await page.locator(f"#vote-{QUALITY} input[name=points]").fill("80")
    async with page.expect_navigation():
        await page.locator(f"#vote-{QUALITY} button[type=submit]").click()
    await page.locator(f"#score-{TECH} input[name=points]").fill(points)
    async with page.expect_navigation():
        await page.locator(f"#score-{TECH} button[type=submit]").click()
    # Saved: the reloaded sheet shows the stored value and the member's subtotal counts it.
    await expect(page.locator(f"#score-{TECH} input[name=points]")).to_have_value(re.compile(rf"^{points}(\.0+)?$"))
    subtotal = await page.locator("#subtotal").text_content()
    assert Decimal(str(subtotal).strip()) == Decimal(80) * Decimal("0.10") + Decimal(points) * Decimal("0.60")
    await page.get_by_role("link", name="返回评标工作台").click()


async def test_an_expert_reads_scores_sees_an_art64_prompt_and_submits_and_the_chair_sees_progress(  # noqa: PLR0915
    *,
    browser: Any,
    app: Litestar,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    world = await opened_world(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    await world.set_state(SessionState.SCORING, chair=0)
    await _the_others_submit(world)
    expert, chair = world.experts[4], world.experts[0]
    bidder = {letter: party.name for letter, party in world.bidders.items()}

    async with serving(app) as base_url:
        context = await browser.new_context(locale="zh-CN", base_url=base_url)
        page = await _log_in(context, expert.account.username)
        # 我的评标 in the shell's navigation → the session list → the workspace.
        await page.get_by_role("navigation").get_by_role("link", name="我的评标").first.click()
        await expect(page).to_have_url(re.compile(r"/evaluation/my$"))
        await page.get_by_role("link", name="进入评标工作台").first.click()
        await expect(page).to_have_url(re.compile(rf"/evaluation/e/{world.evaluation_id}/workspace$"))
        await expect(page.locator("h1")).to_have_text("评标工作台")

        # Bid A: the PDF opens in a frame beside the scoring sheet; the browser loads it there, inline,
        # with nothing blocked by the Content-Security-Policy; the reading is recorded.
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text) if "Content Security" in message.text else None)
        # The first PDF opens in the frame at once (its first load: a second load of the same file in
        # the same page may come from Chromium's PDF viewer without the server's headers).
        async with (
            page.expect_response(lambda response: response.request.resource_type == "document") as opened,
            page.expect_response(lambda response: "/files/" in response.url) as framed,
        ):
            await page.locator("#bids tr", has_text=bidder["A"]).get_by_role("link", name="阅标并评分").click()
        served = await framed.value
        assert served.status == 200
        assert served.headers["content-type"] == "application/pdf"
        assert served.headers["content-disposition"].startswith("inline")
        assert served.headers["x-frame-options"] == "SAMEORIGIN"
        assert served.frame.parent_frame is not None  # loaded inside the page's frame, not as the page
        # The page was rendered before the frame asked for the file, so it listed no reading; the list
        # fetches itself again once the frame has loaded.
        assert 'data-matches="yes"' not in await (await opened.value).text()
        await expect(page.locator("#reads li[data-matches=yes]", has_text=PDF_NAME).first).to_be_visible()
        await page.locator("#files").get_by_role("link", name=PDF_NAME).click()  # the file chosen by name
        await expect(page).to_have_url(re.compile(r"\?file="))
        await expect(page.locator("#document-frame")).to_be_visible()
        await expect(page.locator("#sheet")).to_be_visible()  # beside the sheet, on the same page
        assert not blocked, blocked
        await page.reload()  # the readings are stored, not only shown
        await expect(page.locator("#reads li[data-matches=yes]", has_text=PDF_NAME).first).to_be_visible()

        # An out-of-range score is refused, its rule named on the page; nothing is stored.
        await page.locator(f"#score-{TECH} input[name=points]").fill("150")
        await page.locator(f"#score-{TECH} button[type=submit]").click()
        await expect(page.locator("[data-rule=score_range]").first).to_be_visible()
        await page.goto(f"/evaluation/e/{world.evaluation_id}/workspace")

        for name in "ABC":
            await _score_bid(page, bidder[name], MINE_TECH[name])
        await expect(page).to_have_url(re.compile(r"/workspace$"))

        # Submitting: the last sheet, so the panel's checks run; C's 98 is far above the others' 70.
        await page.locator("#submit-form button[type=submit]").click()
        await expect(page.locator("#submitted")).to_be_visible()
        prompt = page.locator("#art64-prompts li[data-rule=outlier_high]")
        await expect(prompt).to_have_count(1)
        await expect(prompt).to_contain_text(bidder["C"])
        await expect(prompt.get_by_role("button", name="更正或说明")).to_be_visible()

        # The chair sees the committee's progress: five of five sheets, one open Art. 64 finding.
        chair_context = await browser.new_context(locale="zh-CN", base_url=base_url)
        chair_page = await _log_in(chair_context, chair.account.username)
        await chair_page.goto("/evaluation/my")
        await chair_page.get_by_role("link", name="进入评标工作台").first.click()
        await chair_page.locator("#progress-link").click()
        await expect(chair_page.locator("h1")).to_have_text("评标委员会进度")
        await expect(chair_page.locator("#progress th[data-stage=scoring]")).to_contain_text("(5/5)")
        await expect(chair_page.locator("#open-art64")).to_have_text("1")
        await expect(chair_page.locator("#totals")).to_be_visible()  # everyone submitted: the subtotals
        await chair_context.close()
        await context.close()

    async with session_maker() as session:
        sheets = (await session.scalars(sa.select(SheetSubmission))).all()
        findings = (await session.scalars(sa.select(Finding).where(Finding.rule == "outlier_high"))).all()
    assert len(sheets) == 5
    assert [(f.member_id, f.opening_bid_id) for f in findings] == [(expert.member_id, world.bids["C"])]
