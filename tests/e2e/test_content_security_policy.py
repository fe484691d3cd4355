"""Acceptance: the Content-Security-Policy breaks no page in Chromium (issue 11, finding 7).

Chromium reports every script, style, frame or connection the policy blocks as a console error
("… violates the following Content Security Policy directive …"). A visitor and a logged-in
bidder and tenderee walk the pages that run scripts (htmx fragments, the QR login's polling, the
bid upload page, the tender management page, the Swagger UI) and no such report may appear.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_url
from trading.server.demo import DEMO_TENDER_CODE

__all__ = ["demo_server", "server_url"]
pytestmark = pytest.mark.e2e
PASSWORD = "ggzy-demo-2026"


@pytest.fixture
async def watched_page(server_url: str) -> AsyncIterator[tuple[object, list[str]]]:
    """A page and the policy violations and script errors it reported."""
    from playwright.async_api import async_playwright

    reports: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(locale="zh-CN", base_url=server_url)
            page = await context.new_page()
            page.on(
                "console",
                lambda message: (
                    reports.append(message.text)
                    if message.type == "error" and "Content Security Policy" in message.text
                    else None
                ),
            )
            page.on("pageerror", lambda error: reports.append(f"script error: {error}"))
            yield page, reports
            await context.close()
        finally:
            await browser.close()


async def _log_in(page: object, username: str) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.goto("/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def test_pages_run_under_the_policy_without_violations(watched_page: tuple[object, list[str]]) -> None:
    from playwright.async_api import Page, expect

    page, reports = watched_page
    assert isinstance(page, Page)
    response = await page.goto("/")
    assert response is not None
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]

    # htmx loads the QR code fragment and starts polling.
    await page.goto("/login")
    await expect(page.locator("#qr-login figure.qr-code svg")).to_be_visible()
    for path in ("/bidding/tenders", f"/bidding/tenders/{DEMO_TENDER_CODE}", "/market", "/no/such/page"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")

    await _log_in(page, "bidder1")
    for path in ("/dashboard", "/account", "/bidding/bids", f"/bidding/tenders/{DEMO_TENDER_CODE}", "/ledger"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
    # The Swagger UI renders under its own policy.
    await page.goto("/api/v1/docs/swagger")
    await expect(page.locator(".swagger-ui .info")).to_be_visible()
    assert reports == []


async def test_tenderee_pages_run_under_the_policy(watched_page: tuple[object, list[str]]) -> None:
    from playwright.async_api import Page

    page, reports = watched_page
    assert isinstance(page, Page)
    await _log_in(page, "tenderee")
    for path in ("/bidding/manage", f"/bidding/manage/tenders/{DEMO_TENDER_CODE}", "/bidding/manage/new"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
    assert reports == []
