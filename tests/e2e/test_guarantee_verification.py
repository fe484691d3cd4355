"""Acceptance (issue 17): in Chromium, anyone checks an electronic guarantee on the public
verification page — a valid code shows the guarantee and its status, a released guarantee's code
says 已注销, and a code the platform never issued says the guarantee may be forged.

The server is the embedded default (SQLite under a fresh ``GGZY_VAR_DIR``, ``ggzy demo``); the
guarantees are made in its database with the service functions, as the guarantor's upload would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server
from tests.trading.guarantees.factories import SYSTEM, issued
from trading.guarantees import lifecycle
from trading.guarantees.models import ReleaseReason
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings

__all__ = ["demo_server"]
pytestmark = pytest.mark.e2e


async def _guarantees(var_dir: Path, files: Path) -> tuple[str, str, str]:
    """A live guarantee and a released one in the server's database: (valid code, its number, released code)."""
    settings = Settings(var_dir=var_dir)
    engine = create_engine(settings.db.url)
    try:
        async with create_session_maker(engine)() as session, session.begin():
            valid, *_ = await issued(session, settings, files)
            released, *_ = await issued(session, settings, files)
            await lifecycle.request_release(session, SYSTEM, released.id, ReleaseReason.NOT_AWARDED)
            return valid.verification_code, valid.guarantee_no, released.verification_code
    finally:
        await engine.dispose()


@pytest.fixture
async def page(demo_server: tuple[str, Path]) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(locale="zh-CN", base_url=demo_server[0])
            yield await context.new_page()
            await context.close()
        finally:
            await browser.close()


async def test_valid_released_and_forged_codes(page: object, demo_server: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    valid_code, valid_no, released_code = await _guarantees(demo_server[1], tmp_path)
    result = page.locator("#verification-result")

    # A valid code typed by hand, in lower case with spaces: the guarantee and its status.
    await page.goto("/guarantees/verify")
    await expect(page.get_by_role("heading", name="电子保函验真")).to_be_visible()
    await page.locator("#field-code").fill(valid_code.lower().replace("-", " "))
    await page.locator("#verify-form button[type=submit]").click()
    await expect(result).to_have_attribute("data-status", "issued")
    await expect(result).to_contain_text(valid_no)
    await expect(result).to_contain_text("80,000.00")

    # The QR link of a released guarantee: still found, but says it is cancelled.
    await page.goto(f"/guarantees/verify/{released_code}")
    await expect(result).to_have_attribute("data-status", "released")
    await expect(result).to_contain_text("已注销")

    # A code the platform never issued.
    await page.goto("/guarantees/verify")
    await page.locator("#field-code").fill("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    await page.locator("#verify-form button[type=submit]").click()
    await expect(result).to_have_attribute("data-status", "unknown")
    await expect(result).to_contain_text("可能是伪造的")
