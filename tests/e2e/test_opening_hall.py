"""Acceptance (issue 5): in Chromium, a host and a bidder (two browser contexts) follow a full
remote opening live — sign-in in the bidder's page, the host's move to decryption in the host's
page, the bidders' decryption done by the client SDK from this test (keys unwrapped on the
bidder's side, never in a browser), and the price table appearing on both pages, pushed by the
hall's server-sent events.

Issue 14: the bidder signs in, files an objection and confirms the price table with signatures made
in the page (its signing certificate's PKCS#12 file opened in the browser, `static/js/pki`); the
platform stores and verifies them like the CLI's, and no request body of the bidder's page carries
the PKCS#12 password, the private key or the file.

The server is a real ``ggzy serve`` on PostgreSQL (`tests.bidding.harness`: development PKI, three
bidders, a tender whose deadline is brought a minute close once the server is up), in its embedded
live mode (no Redis: the in-process broker), in test mode: the deadline is reached by moving the
server's clock file, not by waiting. The deadline sweep runs from here.
"""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from bidding.client import format as fmt
from bidding.client.transport import BidClient, decrypt_bid
from bidding.models import Tender
from bidding.opening.models import Confirmation, Objection
from certs.sign.cades import verify_detached
from tests.bidding import harness
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.web.money import amount_in_words
from trading.parties.models import User

P12_PASSWORD = "签名证书-口令-2026"
OBJECTION = '第2号投标人的"报价"\n读错了'

# The deadline sweep runs in this process and enqueues the ledger's milestone checkpoint: record it
# (the process-wide default publisher refuses rather than lose a task).
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
SUBMISSION_SECONDS = 60
"""From moving the deadline (after the server is up) to the deadline: three tiny bids are built and
sent. Nothing waits for it: `harness.open_at_deadline` then moves the server's clock past it."""


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

        first = setup.bidders[0]
        sent, p12 = await _sign_in_in_the_page(bidder, first, code)
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

        await _object_and_confirm_in_the_page(host, bidder, setup, code)
        _assert_nothing_secret_sent(sent, first, p12)
        await host_context.close()
        await bidder_context.close()


async def _object_and_confirm_in_the_page(
    host: object, bidder: object, setup: harness.SubmissionSetup, code: str
) -> None:
    """异议 and 确认 signed in the bidder's page; the platform stored signatures that verify."""
    from playwright.async_api import Page, expect

    assert isinstance(host, Page)
    assert isinstance(bidder, Page)
    first = setup.bidders[0]
    # 异议, signed in the page (the certificate opened above is still the page's): the host sees it.
    await bidder.locator("#field-text").fill(OBJECTION)
    await bidder.get_by_role("button", name="签名并提出异议").click()
    await expect(bidder.locator("#objection-form [data-pki-sign-status]")).to_have_text(
        "异议已提出，答复将显示在异议列表中。"
    )
    await expect(host.locator("#hall-objections")).to_contain_text("读错了")
    await expect(bidder.locator("#hall-objections")).to_contain_text("读错了")

    # Confirming before the confirmation stage: the platform's refusal is shown next to the button.
    await bidder.get_by_role("button", name="签名并确认").click()
    refused = bidder.locator("#confirm-form [data-pki-sign-status]")
    await expect(refused).to_have_attribute("data-state", "error")

    # The host moves to confirmation; the bidder confirms the price table, signed in the page with
    # the certificate opened for the sign-in (the page, and the key in it, stayed).
    await host.reload()  # 唱标 began by itself: the host's next-stage button is rendered for it on load
    await host.get_by_role("button", name=re.compile("进入下一阶段")).click()
    await expect(bidder.locator("#hall-stage")).to_have_text("确认与异议")
    await bidder.get_by_role("button", name="签名并确认").click()
    await expect(refused).to_have_text("您对报价表的确认已记录。")
    assert bidder.url.endswith(f"/bidding/opening/{code}/bidder")

    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            objections = (await session.scalars(sa.select(Objection))).all()
            confirmations = (await session.scalars(sa.select(Confirmation))).all()
    finally:
        await engine.dispose()
    # A browser submits a textarea's line breaks as CRLF: the page signs exactly what it sends.
    assert [o.text for o in objections] == [OBJECTION.replace("\n", "\r\n")]
    verify_detached(fmt.objection_statement(code, first.uscc, objections[0].text), objections[0].signature)
    assert len(confirmations) == 1
    confirmed = verify_detached(confirmations[0].statement, confirmations[0].signature)
    assert confirmed.signer_certificate == first.sign.certificate
    assert b"priceTableSha256" in confirmations[0].statement


def _assert_nothing_secret_sent(sent: list[tuple[str, bytes]], first: harness.BidderAccount, p12: bytes) -> None:
    # Nothing secret left the bidder's page: only statements' signatures did.
    key = first.sign.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secrets = {
        "password": P12_PASSWORD.encode(),
        "password (url-encoded)": quote_plus(P12_PASSWORD).encode(),
        "pkcs8": key,
        "pkcs8 base64": base64.b64encode(key),
        "pkcs12": p12,
        "pkcs12 base64": base64.b64encode(p12),
    }
    bodies = [(url, body) for url, body in sent if body]
    assert len(bodies) >= 4, [url for url, _ in sent]  # sign-in, objection statement and form, confirmation
    for url, body in bodies:
        for what, value in secrets.items():
            assert value not in body, f"the {what} was sent to {url}"


async def _sign_in_in_the_page(
    bidder: object, first: harness.BidderAccount, code: str
) -> tuple[list[tuple[str, bytes]], bytes]:
    """签到 with a signature made in the page; the request bodies of the page from now on, and the .p12."""
    from playwright.async_api import FilePayload, Page, expect

    assert isinstance(bidder, Page)
    # 签到 in the bidder's page, signed in the page: the signing certificate's PKCS#12 file is
    # opened once, the page signs the statement the platform gives and sends the signature only.
    p12 = first.sign.pkcs12(P12_PASSWORD.encode())
    sent: list[tuple[str, bytes]] = []
    bidder.on("request", lambda request: sent.append((request.url, request.post_data_buffer or b"")))
    statement = await bidder.locator("#sign-in-statement").text_content() or ""  # in the closed <details>
    assert statement.encode() == fmt.sign_in_statement(code, first.uscc)
    await bidder.locator("#signing-certificate [data-pki-file]").set_input_files(
        FilePayload(name="signing.p12", mimeType="application/x-pkcs12", buffer=p12)
    )
    await bidder.locator("#signing-certificate [data-pki-password]").fill(P12_PASSWORD)
    await bidder.locator("#signing-certificate").get_by_role("button", name="打开证书").click()
    await expect(bidder.locator("#signing-certificate [data-pki-status]")).to_contain_text(first.sign.name)
    await expect(bidder.locator("#signing-certificate [data-pki-password]")).to_have_value("")
    await bidder.get_by_role("button", name="签名并签到").click()
    await expect(bidder.locator("#signed-in")).to_be_visible()
    return sent, p12
