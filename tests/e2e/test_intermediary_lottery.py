"""Acceptance (issue 6): in Chromium, a project owner publishes a random-selection announcement,
two intermediaries register, the owner runs the draw, and the public result page shows the winner
and the revealed seed, whose SHA-256 is the commitment published with the announcement.

The server is the real one of ``test_login_locale`` (SQLite, ``ggzy demo``). The demo has one
intermediary and no service item, so the centre administrator sets up the rest through the API:
an item, a second intermediary (self-registered) and both intermediaries' qualifications. The
server runs in test mode, so the test closes the registration window by moving the server's clock
(`server_clock`) instead of waiting for it.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_clock, server_url
from tests.trading.parties.factories import new_uscc
from trading.kernel.clock import OffsetFileClock

pytestmark = pytest.mark.e2e

# The module-scoped server fixtures, shared with test_login_locale.
__all__ = ["demo_server", "server_clock", "server_url"]

PASSWORD = "ggzy-demo-2026"
CST = timezone(timedelta(hours=8))
WINDOW = timedelta(minutes=5)
"""How long registration stays open: ample for two logins and two clicks in a slow browser (the
test then moves the server's clock past it, so the length costs nothing)."""


def _token(api: httpx.Client, username: str) -> dict[str, str]:
    response = api.post("/api/v1/auth/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _me(api: httpx.Client, username: str) -> str:
    response = api.get("/api/v1/auth/me", headers=_token(api, username))
    assert response.status_code == 200, response.text
    return str(response.json()["organisation_id"])


def _set_up_market(url: str) -> tuple[str, str]:
    """A service item, a second intermediary and both qualified for the item: (item, username)."""
    code = f"E2E-{uuid.uuid4().hex[:6].upper()}"
    second = f"intermediary-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=url, timeout=30) as api:
        admin = _token(api, "admin")
        item = {
            "code": code,
            "name": "环境影响评价报告编制",
            "legal_basis": "《中华人民共和国环境影响评价法》",
            "approval": "建设项目环境影响评价文件审批",
            "required_qualification": "环评单位能力",
            "fee_basis": "市场调节价",
            "standard_days": 30,
        }
        assert api.post("/api/v1/intermediary/items", json=item, headers=admin).status_code == 201
        registered = api.post(
            "/api/v1/parties/registrations",
            json={
                "uscc": new_uscc(),
                "organisation_name": "淮安清源环境科技有限公司",
                "organisation_kind": "intermediary",
                "role": "intermediary",
                "username": second,
                "display_name": "钱晓东",
                "password": PASSWORD,
            },
        )
        assert registered.status_code == 201, registered.text
        organisations = [
            _me(api, "intermediary"),
            registered.json()["organisation"]["id"],
        ]
        valid_until = (datetime.now(UTC) + timedelta(days=365)).isoformat()
        for organisation_id in organisations:
            response = api.post(
                "/api/v1/intermediary/qualifications",
                json={
                    "organisation_id": organisation_id,
                    "item_code": code,
                    "level": 1,
                    "certificate_no": "HP-E2E",
                    "valid_until": valid_until,
                },
                headers=admin,
            )
            assert response.status_code == 201, response.text
    return code, second


@pytest.fixture
async def browser(server_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _logged_in(browser: object, url: str, username: str) -> object:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    context = await browser.new_context(locale="zh-CN", base_url=url)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    return page


async def test_owner_runs_a_lottery_and_the_result_shows_winner_and_seed(
    browser: object,
    server_url: str,
    server_clock: OffsetFileClock,
) -> None:
    from playwright.async_api import Browser, Page, expect

    code, second = _set_up_market(server_url)

    owner = await _logged_in(browser, server_url, "tenderee")
    assert isinstance(owner, Page)
    await owner.goto("/market/owner")
    # The window on the server's clock: a copy of the seeded demo starts behind the wall clock.
    server_now = datetime.now(CST) + server_clock.offset
    opens = server_now - timedelta(minutes=5)
    closes = server_now + WINDOW
    closes_at = time.monotonic() + WINDOW.total_seconds()
    form = owner.locator("form#announcement-form")
    await form.locator("[name=project_name]").fill("淮安某产业园环评服务选取")
    await form.locator("[name=item_code]").select_option(code)
    await form.locator("[name=method]").select_option("random")
    await form.locator("[name=funding]").select_option("social")
    await form.locator("[name=budget]").fill("60000")
    await form.locator("[name=registration_opens]").fill(opens.strftime("%Y-%m-%dT%H:%M:%S"))
    await form.locator("[name=registration_closes]").fill(closes.strftime("%Y-%m-%dT%H:%M:%S"))
    await form.locator("button[type=submit]").click()
    await expect(owner).to_have_url(re.compile(r"/market/selections/[0-9a-f-]{36}$"))
    announcement_id = owner.url.rsplit("/", 1)[1]
    commitment = (await owner.locator("#seed-sha256").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    await expect(owner.locator("#seed")).to_have_count(0)  # not revealed before the draw

    for username in ("intermediary", second):
        page = await _logged_in(browser, server_url, username)
        assert isinstance(page, Page)
        await page.goto("/market/intermediary")
        row = page.locator(f'tr[data-announcement="{announcement_id}"]')
        await row.get_by_role("button", name="报名").click()
        await expect(page.locator(f'tr[data-announcement="{announcement_id}"]')).to_contain_text("已报名")

    # The draw runs once registration has closed: the server's clock is moved past the close.
    server_clock.advance(timedelta(seconds=max(0.0, closes_at - time.monotonic()) + 1.5))
    await owner.goto("/market/owner")
    await owner.locator(f'tr[data-announcement="{announcement_id}"]').get_by_role("button", name="进行选取").click()
    await expect(owner).to_have_url(re.compile(rf"/market/selections/{announcement_id}$"))

    # Anyone (a visitor without an account) sees the result.
    assert isinstance(browser, Browser)
    visitor_context = await browser.new_context(locale="zh-CN", base_url=server_url)
    visitor = await visitor_context.new_page()
    await visitor.goto(f"/market/selections/{announcement_id}")
    winner = visitor.locator("#winner")
    await expect(winner).to_have_text(re.compile("淮安天衡工程咨询有限公司|淮安清源环境科技有限公司"))
    seed = (await visitor.locator("#seed").inner_text()).strip()
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment  # anyone can check the seed
    await expect(visitor.locator("#seed-sha256")).to_have_text(commitment)
