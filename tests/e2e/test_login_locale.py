"""Acceptance: in Chromium, a bidder logs in on the Chinese page, switches to English, and sees the
English bidder dashboard.

The real server runs as a subprocess the way the embedded default runs it: a ``GGZY_VAR_DIR`` of
its own, SQLite, ``ggzy db upgrade``, ``ggzy demo`` (run once per session into `demo_template`,
copied here), then uvicorn on a free port. Chromium is Debian's
(``/usr/bin/chromium``); Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trading.kernel.clock import OffsetFileClock

if TYPE_CHECKING:
    from tests.e2e.conftest import DemoTemplate

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("GGZY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
GGZY = Path(sys.executable).parent / "ggzy"
STARTUP_SECONDS = 180.0  # importing the app took 74 s on a 2-core machine at load average 20
CLOCK_FILE = "clock-offset"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
    # The embedded default: SQLite and the broker-less Celery transport under var/; test mode, so
    # tests move the server's clock (`server_clock`) instead of waiting for a deadline.
    env.update({"GGZY_VAR_DIR": str(var_dir), "GGZY_LOG_LEVEL": "WARNING", "GGZY_MODE": "embedded"})
    env.update({"GGZY_TESTING_ENABLED": "true", "GGZY_TESTING_CLOCK_OFFSET_FILE": str(var_dir / CLOCK_FILE)})
    return env


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"the server did not become healthy in {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}")


@contextmanager
def serving(var_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """uvicorn on ``var_dir`` (already migrated and seeded) on a free port: its URL, once healthy;
    stopped on the way out."""
    port = _free_port()
    log = var_dir / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "trading.server.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="module")
def demo_server(demo_template: DemoTemplate) -> Iterator[tuple[str, Path]]:
    """The server's URL and var directory: the module's own copy of the seeded demo
    (`demo_template`, its clock set back to the seeding), so what one module's tests change is not
    seen by another's."""
    var_dir = demo_template.copy()
    try:
        with serving(var_dir, _environment(var_dir)) as url:
            yield url, var_dir
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server_url(demo_server: tuple[str, Path]) -> str:
    return demo_server[0]


@pytest.fixture(scope="module")
def server_clock(demo_server: tuple[str, Path]) -> OffsetFileClock:
    """The server's clock (test mode): a test moves it forward instead of waiting."""
    return OffsetFileClock(demo_server[1] / CLOCK_FILE)


@pytest.fixture
async def browser_page(server_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # A Chinese-speaking visitor; the platform defaults to Chinese anyway.
            context = await browser.new_context(locale="zh-CN", base_url=server_url)
            page = await context.new_page()
            yield page
            await context.close()
        finally:
            await browser.close()


async def test_bidder_logs_in_in_chinese_and_switches_to_english(browser_page: object) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(browser_page, Page)
    page = browser_page

    await page.goto("/login")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="公共资源交易平台")).to_be_visible()

    await page.locator("input[name=username]").fill("bidder1")
    await page.locator("input[name=password]").fill("ggzy-demo-2026")
    await page.locator("form#login-form button[type=submit]").click()

    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_role("heading", name="投标人工作台")).to_be_visible()
    await expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    await page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()

    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    await expect(page.get_by_role("heading", name="Bidder dashboard")).to_be_visible()
    await expect(page.locator('section[data-role="bidder"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    # The choice sticks: the next page is English too.
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Public resource trading, fully online")).to_be_visible()


async def test_htmx_sends_csrf_swaps_422_and_toasts_errors(browser_page: object) -> None:
    """The layout's htmx wiring in a real browser: the CSRF header from ``hx-headers`` is accepted,
    a 422 form re-render is swapped in place, and an error lands as a toast, not in the target.
    """
    from playwright.async_api import Page, expect

    assert isinstance(browser_page, Page)
    page = browser_page
    await page.goto("/")
    await page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<div id=probe>probe</div>')")

    # A failed login answers 422 with the form and its errors; a missing CSRF header would be a 403.
    await page.evaluate(
        "htmx.ajax('POST', '/login', {target: '#probe', select: '#login-form',"
        " values: {username: 'nobody', password: 'wrong-password'}})"
    )
    await expect(page.locator("#probe #login-form .form-errors")).to_be_visible()
    await expect(page.locator("#toasts .toast")).to_have_count(0)

    # An error is appended to the toast region (HX-Retarget) and leaves the target alone.
    await page.evaluate("htmx.ajax('GET', '/no/such/fragment', {target: '#probe'})")
    toast = page.locator("#toasts .toast-error")
    await expect(toast).to_be_visible()
    await expect(toast).to_contain_text("页面不存在")
    await expect(page.locator("#probe #login-form")).to_be_visible()
    await toast.get_by_role("button", name="关闭").click()
    await expect(page.locator("#toasts .toast")).to_have_count(0)


async def test_login_page_shows_the_qr_code(browser_page: object) -> None:
    """The e-licence / e-ID section loads its QR code with htmx (inline SVG, no CDN) and polls."""
    from playwright.async_api import Page, expect

    assert isinstance(browser_page, Page)
    page = browser_page
    await page.goto("/login")
    qr = page.locator("#qr-login figure.qr-code svg")
    await expect(qr).to_be_visible()
    assert (await qr.bounding_box() or {}).get("width", 0) > 100
    await page.get_by_text("无法扫码").click()
    await expect(page.locator("#qr-login textarea.qr-payload")).to_have_value(re.compile(r"^ggzy-login:"))
    await expect(page.locator("#qr-login-status")).to_contain_text("正在等待证照应用确认")
