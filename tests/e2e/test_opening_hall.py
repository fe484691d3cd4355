"""Acceptance (issue 5): in Chromium, a host and a bidder (two browser contexts) follow a full
remote opening live — sign-in in the bidder's page, the host's move to decryption in the host's
page, the bidders' decryption done by the client SDK from this test (keys unwrapped on the
bidder's side, never in a browser), and the price table appearing on both pages, pushed by the
hall's server-sent events.

The server is a real ``ggzy serve`` on PostgreSQL (`tests.bidding.harness`: development PKI, three
bidders, a tender whose deadline is brought a minute close once the server is up), in its embedded
live mode (no Redis: the in-process broker), in test mode: the deadline is reached by moving the
server's clock file, not by waiting. The deadline sweep runs from here.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async
from bidding.client.transport import BidClient, decrypt_bid
from bidding.models import Tender
from tests.bidding import harness
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.web.money import amount_in_words
from trading.parties.models import User

# The deadline sweep runs in this process and enqueues the ledger's milestone checkpoint: record it
# (the process-wide default publisher refuses rather than lose a task).
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
SUBMISSION_SECONDS = 60
"""From moving the deadline (after the server is up) to the deadline: three tiny bids are built and
sent. Nothing waits for it: `harness.open_at_deadline` then moves the server's clock past it."""


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _usernames(setup: harness.SubmissionSetup) -> tuple[str, list[str]]:
    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            tender = await session.get_one(Tender, setup.tender.id)
            host = (await session.get_one(User, tender.created_by)).username
            bidders = [(await session.get_one(User, b.user_id)).username for b in setup.bidders]
    finally:
        await engine.dispose()
    return host, bidders


async def _login(context: object, username: str) -> object:
    from playwright.async_api import BrowserContext, expect

    assert isinstance(context, BrowserContext)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(harness.PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    return page


async def test_host_and_bidder_follow_a_full_opening_and_see_the_price_table(
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=3)
    code = setup.tender.code
    host_name, bidder_names = await _usernames(setup)
    with harness.running_server(setup, tmp_path / "server.log") as server:
        setup = await harness.deadline_soon(setup, SUBMISSION_SECONDS)
        async with httpx.AsyncClient(timeout=60) as http:
            for bidder in setup.bidders:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=4096
                )
                attempt = await harness.submit_bid(http, server.base_url, harness.Attempt(bidder, LOT, built))
                assert attempt.receipt is not None, attempt.error
        await harness.open_at_deadline(setup)

        host_context = await browser.new_context(locale="zh-CN", base_url=server.base_url)
        bidder_context = await browser.new_context(locale="zh-CN", base_url=server.base_url)
        host = await _login(host_context, host_name)
        bidder = await _login(bidder_context, bidder_names[0])
        assert isinstance(host, Page)
        assert isinstance(bidder, Page)
        await host.goto(f"/bidding/opening/{code}/host")
        await bidder.goto(f"/bidding/opening/{code}/bidder")
        for page in (host, bidder):
            await expect(page.locator("#hall-stage")).to_have_text("签到")
            await expect(page.locator("#hall-connection")).to_have_text("实时")
            await expect(page.locator("#hall-prices")).to_be_hidden()
        # The private key never reaches the browser: the page shows the command to run locally.
        await expect(bidder.locator(f"#decrypt-command-{LOT}")).to_contain_text("ggzy bid decrypt")
        await expect(bidder.locator(f"#decrypt-command-{LOT}")).to_contain_text(f"--tender {code}")

        # 签到 in the bidder's page, signed: the page shows the statement, the bidder's CA client signs
        # it (here: the test, with the bidder's signing certificate) and the signature is pasted.
        statement = await bidder.locator("#sign-in-statement").inner_text()
        assert statement.encode() == fmt.sign_in_statement(code, setup.bidders[0].uscc)
        signature = await sign_statement_async(statement.encode(), setup.bidders[0].sign.signing())
        await bidder.locator("#field-sign-in-signature").fill(base64.b64encode(signature).decode())
        await bidder.get_by_role("button", name="签到").click()
        await expect(bidder.locator("#signed-in")).to_be_visible()
        await expect(host.locator("#hall-bids-signed-in")).to_have_text("1")
        await expect(host.locator(f"#hall-bids tr[data-bidder='{setup.bidders[0].uscc}'] td").nth(2)).to_have_text("是")

        # The host opens the decryption window; both pages move without a reload.
        await host.get_by_role("button", name=re.compile("进入下一阶段")).click()
        for page in (host, bidder):
            await expect(page.locator("#hall-stage")).to_have_text("解密")
            await expect(page.locator("#hall-countdown")).to_have_text(re.compile(r"^00:5\d:\d\d$"))

        # The other bidders sign in through the API (only a signed-in bidder decrypts).
        async with httpx.AsyncClient(timeout=60) as http:
            for account in setup.bidders[1:]:
                await harness.sign_in_over_http(http, server.base_url, account, code)
        # Every bidder decrypts with the client (content keys unwrapped here, in the "bidder's" process).
        for account in setup.bidders:
            async with BidClient(server.base_url, account.token) as client:
                await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)
            if account is setup.bidders[0]:
                await expect(bidder.locator(f"[data-own-bid='{LOT}'] [data-own-outcome]")).to_have_text("已解密")

        # All open: 唱标 starts by itself and the price table appears for both.
        for page in (host, bidder):
            await expect(page.locator("#hall-stage")).to_have_text("唱标")
            prices = page.locator("#hall-prices tbody tr")
            await expect(prices).to_have_count(3)
            for account in setup.bidders:
                row = page.locator(f"#hall-prices tr[data-bidder='{account.uscc}']")
                # With separators and the currency in Chinese, and in capitals (大写) beside it.
                await expect(row.locator("[data-price], [data-price-words]")).to_have_text(
                    (f"{980000 + account.index:,}.00 元", amount_in_words(980000 + account.index))
                )
        assert int(await host.locator("[data-opening-hall]").get_attribute("data-events") or 0) >= 4
        await host_context.close()
        await bidder_context.close()
