"""Acceptance (issue 4): in Chromium, a bidder logs in, opens the demo tender, goes to the upload
page of a lot, uploads a sealed container and sees the receipt number.

The server is the real one of ``test_login_locale`` (SQLite, ``ggzy demo``, uvicorn; the fixture
is reused), whose ``GGZY_VAR_DIR`` holds the development PKI the demo wrote, which the test needs:
the container is built with `bidding.client.sdk.build_container` (its async wrapper), signed with ``org_sign`` and
sealed to ``org_enc``, both of the USCC the demo binds to ``bidder-js``, and bound to the demo
tender's code, lot and deadline as the public API reports them. The upload itself is the page's
script (``bidding/static/js/bidding.js``): SHA-256 in the browser, resumable chunks, submission.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from bidding.client.sdk import PriceSummary, build_container_async
from certs.cms import SigningIdentity
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server
from trading.server.demo import DEMO_TENDER_CODE

pytestmark = pytest.mark.e2e

__all__ = ["demo_server"]  # the module fixture the tests use

PASSWORD = "ggzy-demo-2026"
LOT = "001"


@pytest.fixture
async def browser(demo_server: tuple[str, Path]) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _sealed_container(url: str, dev_ca: Path, out: Path) -> Path:
    """A container for the demo tender's lot, as ``ggzy bid seal`` builds it for bidder-js."""
    manifest = json.loads((dev_ca / "manifest.json").read_text(encoding="utf-8"))
    uscc = manifest["identifiers"]["org"]
    with httpx.Client(base_url=url, timeout=30) as api:
        response = api.get(f"/api/v1/bidding/tenders/{DEMO_TENDER_CODE}")
        assert response.status_code == 200, response.text
        tender = response.json()
    assert tender["keyHolders"] == []  # the demo tender seals to the bidder alone
    deadline = datetime.fromisoformat(tender["deadline"])
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (dev_ca / manifest["leaves"]["org_sign"]["p12"]).read_bytes(), manifest["password"].encode()
    )
    assert key is not None
    assert certificate is not None
    encryption = x509.load_pem_x509_certificates((dev_ca / manifest["leaves"]["org_enc"]["pem"]).read_bytes())[0]
    proposal = out / "技术标.txt"
    proposal.write_bytes("淮安市示范实验中学实验楼改造工程 技术标(演示)\n".encode() * 2000)
    # In a worker thread: the SDK signs with its own event loop.
    built = await build_container_async(
        out / "bid.zip",
        tender=DEMO_TENDER_CODE,
        lot=LOT,
        bidder_uscc=uscc,
        deadline=deadline,
        files=[proposal],
        price_summary=PriceSummary(
            tender=DEMO_TENDER_CODE, lot=LOT, bidder=uscc, total_price=Decimal("7654321.00"), duration_days=300
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=SigningIdentity.from_key(key, certificate, chain),  # type: ignore[arg-type]
        bidder_encryption=encryption,
    )
    return built.path


async def test_bidder_uploads_a_sealed_bid_in_the_browser_and_sees_the_receipt(
    browser: object, demo_server: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    url, var_dir = demo_server
    container = await _sealed_container(url, var_dir / "dev-ca", tmp_path)

    context = await browser.new_context(locale="zh-CN", base_url=url)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill("bidder-js")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="交易公告").click()
    await page.locator(f"tr[data-tender={DEMO_TENDER_CODE}] a").click()
    await expect(page.locator("#tender-code")).to_have_text(DEMO_TENDER_CODE)
    # The countdown runs from the server's clock.
    await expect(page.locator("[data-countdown-value]")).to_have_text(re.compile(r"^\d+ 天 \d\d:\d\d:\d\d$"))

    await page.locator(f"tr[data-lot='{LOT}']").get_by_role("link", name="递交投标文件").click()
    await expect(page.locator("#seal-command")).to_contain_text(f"--tender {DEMO_TENDER_CODE}")
    await page.locator("#field-container").set_input_files(str(container))
    await page.get_by_role("button", name="上传并递交").click()

    await expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^BR\d{14}-[0-9A-F]{10}$"), timeout=60000)
    receipt_no = (await page.locator("#receipt-no").inner_text()).strip()
    await expect(page.locator("[data-upload-status]")).to_have_text("投标文件已被接收。")
    await expect(page.locator("#receipt [data-receipt-pdf]")).to_have_attribute(
        "href", f"/bidding/receipts/{receipt_no}/receipt.pdf"
    )

    await page.get_by_role("link", name="我的投标").first.click()
    await expect(page.locator("main")).to_contain_text(receipt_no)
    await context.close()
