"""Acceptance (issue 14 item 6): in Chromium, the demo agency (淮安公信招标代理有限公司, mandated by
the demo tenderee 淮安市示范实验中学 in the demo data) sees its mandate, creates a tender naming that
tenderee through the 招标人 select, attaches the signed tender document and publishes it, all
through the pages; the tender records both organisations and is listed on the management page.

The server is the demo one of ``test_bid_upload`` (SQLite, ``ggzy demo``, uvicorn; the fixture is
reused). The tender document's detached signature is made here with the demo tenderee's seal
certificate from the development PKI, as the tenderee's signing tool would hand it to its agency;
the page only uploads it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from certs.cms import SigningIdentity
from certs.sign.cades import sign_detached
from tests.e2e.test_bid_upload import PASSWORD, browser, demo_server
from trading.server.demo import ORGANISATIONS

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.e2e

__all__ = ["browser", "demo_server"]

CODE = "E3208000001000009001"
TENDEREE = next(item.name for item in ORGANISATIONS if item.key == "school")
AGENCY = next(item.name for item in ORGANISATIONS if item.key == "agency")
DOCUMENT = "淮安市示范实验中学操场改造工程施工招标文件(代理机构编制,演示)\n".encode()


async def _tenderee_signature(dev_ca: Path) -> bytes:
    manifest = json.loads((dev_ca / "manifest.json").read_text(encoding="utf-8"))
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (dev_ca / manifest["leaves"]["tenderee_sign"]["p12"]).read_bytes(), manifest["password"].encode()
    )
    assert key is not None
    assert certificate is not None
    return await sign_detached(DOCUMENT, SigningIdentity.from_key(key, certificate, chain))  # type: ignore[arg-type]


async def _fill_the_draft(page: Page) -> None:
    """The new-tender form's other fields, as the agency types them."""
    await page.locator("#field-projectCode").fill(CODE)
    await page.locator("#field-title").fill("淮安市示范实验中学操场改造工程施工招标")
    await page.locator("#field-tenderType").select_option("engineering-mandatory")
    await page.locator("#field-estimate").fill("800000")
    await page.locator("#field-lots").fill("001 | 操场改造 | 800000")
    await page.locator("#field-evaluationMethod").select_option("lowest-evaluated-price")
    await page.locator("#field-bidSecurityAmount").fill("16000")
    await page.locator("#field-documentsFrom").fill("2020-01-01T09:00")
    await page.locator("#field-documentsUntil").fill("2099-01-10T09:00")
    await page.locator("#field-deadline").fill("2099-01-21T09:00")


async def test_the_agency_creates_and_publishes_a_tender_for_a_mandated_tenderee(
    browser: object, demo_server: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    url, var_dir = demo_server
    document = tmp_path / "招标文件.txt"
    document.write_bytes(DOCUMENT)
    signature = tmp_path / "招标文件.txt.p7s"
    signature.write_bytes(await _tenderee_signature(var_dir / "dev-ca"))

    context = await browser.new_context(locale="zh-CN", base_url=url)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill("agency")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    # The mandate the demo tenderee gave.
    navigation = page.get_by_role("navigation", name="主导航")
    await navigation.get_by_role("link", name="委托代理").click()
    await expect(page.locator("#held-mandates tbody tr")).to_have_count(1)
    await expect(page.locator("#held-mandates tbody tr")).to_contain_text(TENDEREE)
    await expect(page.locator("#held-mandates tbody tr")).to_contain_text("现行")

    # A new tender for the tenderee, from the management page.
    await navigation.get_by_role("link", name="招标项目管理").click()
    await page.get_by_role("link", name="新建招标项目").first.click()
    tenderee = page.locator("#field-tendereeOrganisationId")
    await expect(tenderee.locator("option")).to_have_count(1)
    value = await tenderee.locator("option", has_text=TENDEREE).get_attribute("value")
    assert value
    await tenderee.select_option(value)
    await _fill_the_draft(page)
    await page.get_by_role("button", name="创建草稿").click()

    await expect(page).to_have_url(re.compile(rf"/bidding/manage/tenders/{CODE}$"))
    await expect(page.locator("#tender-tenderee")).to_have_text(TENDEREE)
    await expect(page.locator("#tender-agency")).to_have_text(AGENCY)
    await page.locator("#field-file").set_input_files(str(document))
    await page.locator("#field-signature").set_input_files(str(signature))
    await page.get_by_role("button", name="添加已签名文件").click()
    await expect(page.locator("main")).to_contain_text("招标文件.txt")
    await page.get_by_role("button", name="发布招标项目").click()

    await expect(page).to_have_url(re.compile(rf"/bidding/tenders/{CODE}$"))
    await expect(page.locator("main")).to_contain_text("正在接受投标")
    await navigation.get_by_role("link", name="招标项目管理").click()
    row = page.locator(f"tr[data-tender='{CODE}']")
    await expect(row.locator("[data-tenderee]")).to_have_text(TENDEREE)
    await expect(row.locator("[data-agency]")).to_have_text(AGENCY)
    await expect(row).to_contain_text("正在接受投标")
    await context.close()
