"""Acceptance (issue 19): in Chromium, the demo supervisor goes from the dashboard to the integrity
alerts, opens a co-bidding group's alert and sees its evidence and the network chart drawn (ECharts,
served by the platform itself), then a hard-evidence alert with the matching fingerprint.

The demo's alerts are those of a simulated market (`trading.server.demo_integrity`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_url
from trading.server.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e
__all__ = ["demo_server", "server_url"]  # module fixtures the test uses through ``page``


@pytest.fixture
async def page(server_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(locale="zh-CN", base_url=server_url)
            yield await context.new_page()
            await context.close()
        finally:
            await browser.close()


async def test_the_supervisor_opens_an_alert_and_sees_its_evidence_and_network(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/login")
    await page.locator("input[name=username]").fill("supervisor")
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    await page.locator('a[href="/integrity/alerts"]').first.click()
    await expect(page).to_have_url(re.compile(r"/integrity/alerts"))
    rows = page.locator("tr[data-alert-id]")
    await expect(rows.first).to_be_visible()

    # A co-bidding group (抱团): its evidence and the network around its members, drawn.
    await page.goto("/integrity/alerts?rule=MARKET-ROTATION")
    await rows.first.locator("td a").last.click()
    await expect(page).to_have_url(re.compile(r"/integrity/alerts/[0-9a-f-]{36}$"))
    chart = page.locator('[data-chart="network"]')
    await expect(chart).to_be_visible()
    await expect(chart.locator("canvas").first).to_be_visible()  # ECharts drew into it
    box = await chart.bounding_box()
    assert box is not None
    assert box["height"] > 100

    # Hard evidence: the matching device fingerprint, shown (in part) with the bidders it links.
    await page.goto("/integrity/alerts?rule=EVID-DEVICE")
    await rows.first.locator("td a").last.click()
    matches = page.locator("#evidence-matches")
    await expect(matches).to_be_visible()
    await expect(matches).to_contain_text("…")
    await expect(page.locator("body")).to_contain_text("第四十条")
    assert errors == []
