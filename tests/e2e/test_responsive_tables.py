"""Acceptance: tables fit the screen in Chromium (issue 14).

The audit ledger (ten columns of times, ids and digests) must not make a 1366 px page scroll
sideways; on a 375 px phone the tender list must not squeeze a title to one character per line,
and neither page may be wider than the screen: a table that needs more room scrolls inside its
own container. Screenshots of each case go to ``GGZY_SCREENSHOT_DIR`` when it is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_url

__all__ = ["demo_server", "server_url"]  # fixtures this module uses from the login test's server

pytestmark = pytest.mark.e2e
PASSWORD = "ggzy-demo-2026"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
# Page width, viewport width, and for each table its own and its scrolling container's widths.
MEASURE = """() => ({
  page: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  tables: [...document.querySelectorAll("table")].map((table) => {
    const box = table.closest(".table-scroll") || table;
    const style = getComputedStyle(box);
    return {
      id: table.id || table.className,
      boxWidth: box.clientWidth,
      scrollWidth: box.scrollWidth,
      scrolls: ["auto", "scroll"].includes(style.overflowX),
      right: box.getBoundingClientRect().right,
    };
  }),
})"""


@pytest.fixture
async def browser(server_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _page(browser: object, server_url: str, viewport: dict[str, int]) -> object:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    context = await browser.new_context(locale="zh-CN", base_url=server_url, viewport=viewport)  # type: ignore[arg-type]
    return await context.new_page()


async def _log_in(page: object, username: str) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.goto("/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def _assert_fits(page: object, name: str) -> dict[str, Any]:
    from playwright.async_api import Page

    assert isinstance(page, Page)
    if directory := os.environ.get("GGZY_SCREENSHOT_DIR"):
        await page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)
    measured: dict[str, Any] = await page.evaluate(MEASURE)
    assert measured["page"] <= measured["viewport"], f"{name}: the page scrolls sideways: {measured}"
    for table in measured["tables"]:
        # A table wider than its box is allowed only where the box scrolls; the box itself fits.
        assert table["right"] <= measured["viewport"] + 1, f"{name}: {table} sticks out of the screen"
        if table["scrollWidth"] > table["boxWidth"]:
            assert table["scrolls"], f"{name}: {table} overflows without a scrolling container"
    return measured


async def test_the_ledger_fits_a_laptop_screen_and_a_phone(browser: object, server_url: str) -> None:
    from playwright.async_api import Page, expect

    for label, viewport in (("ledger-1366", DESKTOP), ("ledger-375", PHONE)):
        page = await _page(browser, server_url, viewport)
        assert isinstance(page, Page)
        await _log_in(page, "supervisor")
        await page.goto("/ledger")
        rows = page.locator("table.ledger-entries tbody tr[data-seq]")
        await expect(rows.first).to_be_visible()
        measured = await _assert_fits(page, label)
        assert any("ledger-entries" in str(t["id"]) for t in measured["tables"])
        # The action column names actions in Chinese, not by their codes.
        action = await rows.first.locator("td.ledger-action").inner_text()
        assert re.search(r"[\u4e00-\u9fff]", action), action
        await page.context.close()


async def test_tender_titles_read_as_lines_on_a_phone(browser: object, server_url: str) -> None:
    from playwright.async_api import Page, expect

    for label, viewport in (("tenders-375", PHONE), ("tenders-1366", DESKTOP)):
        page = await _page(browser, server_url, viewport)
        assert isinstance(page, Page)
        await page.goto("/bidding/tenders")
        titles = page.locator("#tenders tbody td:nth-child(2) a")
        await expect(titles.first).to_be_visible()
        await _assert_fits(page, label)
        for index in range(await titles.count()):
            box = await titles.nth(index).bounding_box()
            size = await titles.nth(index).evaluate("(a) => parseFloat(getComputedStyle(a).fontSize)")
            text = await titles.nth(index).inner_text()
            assert box is not None
            # Several characters on a line: the title's box is at least four characters wide
            # (one character per line would make it one character wide and many lines tall).
            assert box["width"] >= 4 * size or len(text) < 4, f"{label}: {text!r} is squeezed to {box}"
        await page.context.close()
