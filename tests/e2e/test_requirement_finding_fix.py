"""Acceptance (issue 18): in Chromium, the demo purchaser opens the demo requirement's package form,
sees the two negative-list findings next to the qualification field with the sentences highlighted,
rewrites the field, saves (HTMX swaps the form in place) and sees the findings disappear.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_url
from trading.server.demo import DEMO_PASSWORD
from trading.server.demo_requirements import TITLE

pytestmark = pytest.mark.e2e
__all__ = ["demo_server", "server_url"]  # module fixtures the test uses through ``page``

FIXED = "具有独立承担民事责任的能力。\n具有良好的商业信誉和健全的财务会计制度。"


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


async def test_a_purchaser_fixes_a_finding_and_sees_it_disappear(page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.goto("/login")
    await page.locator("input[name=username]").fill("tenderee")
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    await page.get_by_role("link", name="我的采购需求").first.click()
    await page.get_by_role("link", name=TITLE).click()
    await expect(page.locator("#findings li.finding")).to_have_count(2)
    await page.locator("#parts").get_by_role("link", name=re.compile("采购包 1")).click()

    field = page.locator('[data-path="packages[0].qualifications"]')
    await expect(field.locator("li.finding")).to_have_count(2)
    await expect(field.locator("mark").first).to_contain_text("注册地须在本市")
    await expect(field).to_contain_text("修改建议")

    await field.locator("textarea").fill(FIXED)
    await page.get_by_role("button", name="保存本部分").click()
    await expect(page.locator("#saved")).to_be_visible()
    await expect(page.locator('[data-path="packages[0].qualifications"] li.finding')).to_have_count(0)
    await expect(page.locator('[data-path="packages[0].qualifications"] textarea')).to_have_value(FIXED)

    await page.get_by_role("link", name=re.compile("返回采购需求")).click()
    await expect(page.locator("#no-findings")).to_be_visible()
