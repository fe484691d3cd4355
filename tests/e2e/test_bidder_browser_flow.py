"""Acceptance (issue 14): with no shell step, a bidder registers, binds a PKCS#12 certificate on
``/account``, seals and submits a bid in the browser, receives the receipt and downloads the 回执
PDF; at the opening it signs in, decrypts in the browser and confirms the price table with a
signature made in the page. The CLI verifies the receipt and the platform verifies the page-made
container like a CLI-made one; no request body of the whole flow carries the plaintext marker,
the PKCS#12 password, the PKCS#12 files or the private keys.

A real ``ggzy serve`` on PostgreSQL (`tests.bidding.harness`: development PKI trusted, a published
tender, two bidders who seal with the CLI's SDK), test clock (the deadline is reached by moving
the server's clock). The browser talks to the server through a recording TCP proxy
(`tests.e2e.test_browser_seal.RecordingProxy`): every byte the page sends is searched. The host's
stage moves go through the API (the host's page is not what this test is about).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from bidding.client import format as fmt
from bidding.client.reading import read_built, read_sealed
from bidding.client.transport import BidClient, decrypt_bid
from bidding.intake.sealing import TenderSnapshot, check_container
from bidding.opening.models import Confirmation
from certs.devpki.authority import Identity, Profile
from certs.devpki.names import make_uscc, organisation_code_extension, organisation_name
from certs.envelope import cms_env, sealed_bid
from certs.sign.cades import verify_detached
from tests.bidding import harness
from tests.e2e.test_browser_seal import RecordingProxy
from trading.kernel.db.engine import create_engine, create_session_maker

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
MARKER = "ACCEPTANCE-PLAINTEXT-5d1e"
P12_PASSWORD = "证书口令-Пароль-2026"
USER_PASSWORD = "new-bidder-password-2026"
ORGANISATION = "淮安浏览器投标有限公司"
USERNAME = "browser-bidder"
PRICE = "8123456.70"


def _issue(setup: harness.SubmissionSetup, uscc: str, profile: Profile) -> Identity:
    pki = setup.pki
    return pki.jiangsu_ca.issue(
        organisation_name(ORGANISATION, uscc, "江苏省", uscc_in_subject=False),
        profile=profile,
        not_before=pki.now - timedelta(days=1),
        not_after=pki.now + timedelta(days=365),
        extensions=[organisation_code_extension(uscc)],
    )


def _secrets(identities: list[Identity], p12_files: list[bytes]) -> dict[str, bytes]:
    found = {"marker": MARKER.encode(), "p12 password": P12_PASSWORD.encode()}
    for number, identity in enumerate(identities):
        der = identity.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        found[f"key {number} PKCS#8"] = der
        found[f"key {number} PKCS#8 base64"] = base64.b64encode(der)
        found[f"key {number} PEM body"] = b"".join(identity.key_pem.splitlines()[1:-1])
    for number, p12 in enumerate(p12_files):
        found[f"p12 {number}"] = p12
        found[f"p12 {number} base64"] = base64.b64encode(p12)
    return found


async def _register_and_log_in(page: Any, uscc: str) -> None:
    from playwright.async_api import expect

    await page.goto("/register")
    form = page.locator("#register-form")
    await form.locator("[name=uscc]").fill(uscc)
    await form.locator("[name=organisation_name]").fill(ORGANISATION)
    await form.locator("[name=organisation_kind]").select_option("enterprise")
    await form.locator("[name=role]").select_option("bidder")
    await form.locator("[name=username]").fill(USERNAME)
    await form.locator("[name=display_name]").fill("赵六")
    await form.locator("[name=password]").fill(USER_PASSWORD)
    await form.locator("button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/login\?registered=1$"))
    await page.locator("input[name=username]").fill(USERNAME)
    await page.locator("input[name=password]").fill(USER_PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def _open_certificate(page: Any, picker: str, p12: Path) -> None:
    from playwright.async_api import expect

    await page.locator(f"#{picker} [data-pki-file]").set_input_files(str(p12))
    await page.locator(f"#{picker} [data-pki-password]").fill(P12_PASSWORD)
    await page.locator(f"#{picker}").get_by_role("button", name="打开证书").click()
    await expect(page.locator(f"#{picker} [data-pki-status]")).to_have_text(re.compile("^证书已就绪"))


def _snapshot(setup: harness.SubmissionSetup, uscc: str) -> TenderSnapshot:
    """What the platform's container check compares against (ids are not read by the check)."""
    return TenderSnapshot(
        tender_id=uuid.uuid4(),
        code=setup.tender.code,
        lot_id=uuid.uuid4(),
        lot_code=LOT,
        bidder_organisation_id=uuid.uuid4(),
        bidder_uscc=uscc,
        bidder_name=ORGANISATION,
        deadline=setup.tender.deadline,
        max_package_bytes=256 * 1024 * 1024,
        holder_fingerprints=(),
        threshold=0,
    )


async def test_a_new_bidder_binds_seals_submits_decrypts_and_confirms_in_the_browser(  # noqa: PLR0915 - one flow
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=2)
    code = setup.tender.code
    uscc = make_uscc(777, "320800")
    sign, enc = _issue(setup, uscc, Profile.SIGN), _issue(setup, uscc, Profile.ENCRYPT)
    keys = tmp_path / "keys"
    keys.mkdir()
    sign_p12, enc_p12, enc_pem = keys / "签名.p12", keys / "加密.p12", keys / "加密.pem"
    sign_p12.write_bytes(sign.pkcs12(P12_PASSWORD.encode()))
    enc_p12.write_bytes(enc.pkcs12(P12_PASSWORD.encode()))
    enc_pem.write_bytes(enc.cert_pem)
    files = tmp_path / "files"
    files.mkdir()
    proposal = files / "技术标.txt"
    proposal.write_bytes(f"技术标 {MARKER}\n".encode() * 2000)

    proxy = await RecordingProxy().__aenter__()
    # The page's origin is the proxy's: certificate challenges are bound to it.
    env = setup.env_with(GGZY_CERTS_ORIGINS=json.dumps([proxy.base_url]))
    server = harness.ServerProcess(setup, tmp_path / "server.log", env=env)
    server.start()
    try:
        proxy.point_to(server.base_url)
        setup = await harness.deadline_soon(setup, 240)
        context = await browser.new_context(locale="zh-CN", base_url=proxy.base_url, accept_downloads=True)
        page = await context.new_page()

        # Register, log in, bind the signing certificate on /account (signed in the page).
        await _register_and_log_in(page, uscc)
        await page.goto("/account")
        await _open_certificate(page, "bind-certificate", sign_p12)
        await page.get_by_role("button", name="签名并绑定").click()
        await expect(page).to_have_url(re.compile(r"/account/?\?done=bound$"))
        await expect(page.locator(f"#bindings tr[data-binding='{sign.fingerprint}']")).to_contain_text("已绑定")

        # Seal and submit in the browser, from the tender's page.
        await page.goto(f"/bidding/tenders/{code}")
        await page.locator(f"tr[data-lot='{LOT}']").get_by_role("link", name="递交投标文件").click()
        await page.locator("#seal-total-price").fill(PRICE)
        await page.locator("#seal-duration-days").fill("365")
        await page.locator("#seal-items").fill(f"主体工程 {MARKER}=8000000\n其他=123456.70")
        await page.locator("#seal-files").set_input_files(str(proposal))
        await _open_certificate(page, "seal-signing-certificate", sign_p12)
        await page.locator("#seal-encryption-cert").set_input_files(str(enc_pem))
        await page.get_by_role("button", name="密封并递交", exact=True).click()
        receipt_no_text = page.locator("#receipt-no")
        await expect(receipt_no_text).to_have_text(re.compile(r"^BR\d{14}-[0-9A-F]{10}$"), timeout=60000)
        await expect(page.locator("[data-upload-status]")).to_have_text("投标文件已被接收。")
        receipt_no = (await receipt_no_text.inner_text()).strip()
        async with page.expect_download(timeout=180_000) as pdf_download:
            await page.locator("#receipt-pdf").click(no_wait_after=True)
        pdf = tmp_path / "回执.pdf"
        await (await pdf_download.value).save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF-")

        container = tmp_path / "page-bid.zip"
        container.write_bytes(
            base64.b64decode(
                await page.evaluate(
                    """async () => {
                      const file = document.querySelector("form[data-bid-upload] input[type=file]").files[0];
                      const bytes = new Uint8Array(await file.arrayBuffer());
                      let text = "";
                      for (let i = 0; i < bytes.length; i += 0x8000) {
                        text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
                      }
                      return btoa(text);
                    }"""
                )
            )
        )
        assert any(container.read_bytes() in sent for sent in proxy.sent)

        # The CLI verifies the receipt (saved from the page's links) against the page's container.
        receipts = tmp_path / "receipts"
        receipts.mkdir()
        for link, suffix in (("[data-receipt-json]", "json"), ("[data-receipt-p7s]", "p7s")):
            href = await page.locator(link).get_attribute("href")
            assert href
            response = await context.request.get(href)
            assert response.status == 200, href
            (receipts / f"{receipt_no}.{suffix}").write_bytes(await response.body())
        root = tmp_path / "platform-root.pem"
        root.write_bytes(setup.pki.platform_root.certificate.public_bytes(serialization.Encoding.PEM))
        command = ["bid", "verify-receipt", str(receipts / f"{receipt_no}.json"), "--ca", str(root)]
        verified = subprocess.run(
            [str(harness.GGZY), *command, "--container", str(container)],
            capture_output=True,
            text=True,
            check=False,
            env=setup.env,
        )
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["bidder"] == uscc

        # The two other bidders seal with the CLI's SDK.
        async with httpx.AsyncClient(timeout=60) as http:
            cli_built = []
            for bidder in setup.bidders:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=2048
                )
                attempt = await harness.submit_bid(http, server.base_url, harness.Attempt(bidder, LOT, built))
                assert attempt.receipt is not None, attempt.error
                cli_built.append(built)

        # The platform's container check passes the page's container as the CLI's; both parts open.
        page_checked = await asyncio.to_thread(check_container, container, _snapshot(setup, uscc))
        cli_checked = await asyncio.to_thread(
            check_container, cli_built[0].path, _snapshot(setup, setup.bidders[0].uscc)
        )
        assert set(page_checked.parts) == set(cli_checked.parts) == set(fmt.PART_NAMES)
        assert page_checked.signed.signer_certificate == sign.certificate
        assert set(read_built(container).manifest) == set(read_built(cli_built[0].path).manifest)
        for kind in fmt.PART_NAMES:
            part = read_sealed(container, kind)
            assert isinstance(part, cms_env.CmsSealedBid)
            assert part.header()["version"] == read_sealed(cli_built[0].path, kind).header()["version"] == 2
            assert sealed_bid.open_as_bidder(part, enc.key, part.binding)  # type: ignore[arg-type]

        # The opening: the bidder signs in in the page; the others through the API.
        await harness.open_at_deadline(setup)
        await page.goto(f"/bidding/opening/{code}/bidder")
        await expect(page.locator("#hall-stage")).to_have_text("签到")
        await _open_certificate(page, "signing-certificate", sign_p12)
        await page.get_by_role("button", name="签名并签到").click()
        await expect(page.locator("#signed-in")).to_be_visible()
        host = harness.bearer(await harness.host_token(setup))
        async with httpx.AsyncClient(timeout=60) as http:
            for account in setup.bidders:
                await harness.sign_in_over_http(http, server.base_url, account, code)
            moved = await http.post(
                f"{server.base_url}/api/v1/bidding/opening/{code}/transitions",
                json={"action": "decryption"},
                headers=host,
            )
            assert moved.status_code < harness.HTTP_ERROR, moved.text

        # Decrypt in the browser with the encryption certificate; the others with the CLI's SDK.
        await expect(page.locator("#hall-stage")).to_have_text("解密")
        await _open_certificate(page, "decrypt-certificate", enc_p12)
        await page.get_by_role("button", name="在浏览器中解密").click()
        await expect(page.locator("#decrypt-status")).to_have_text("解密成功：平台已打开您的投标文件。", timeout=30000)
        for account in setup.bidders:
            async with BidClient(server.base_url, account.token) as client:
                await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)

        # 唱标: the page-sealed price is read out; then the bidder confirms, signed in the page.
        await expect(page.locator("#hall-stage")).to_have_text("唱标")
        await expect(page.locator("#hall-prices tbody tr")).to_have_count(3)
        price = page.locator(f"#hall-prices tr[data-bidder='{uscc}'] [data-price]")
        await expect(price).to_contain_text(re.compile(r"8,?123,?456\.70"))
        async with httpx.AsyncClient(timeout=60) as http:
            moved = await http.post(
                f"{server.base_url}/api/v1/bidding/opening/{code}/transitions",
                json={"action": "confirmation"},
                headers=host,
            )
            assert moved.status_code < harness.HTTP_ERROR, moved.text
        await expect(page.locator("#hall-stage")).to_have_text("确认与异议")
        await page.get_by_role("button", name="签名并确认").click()
        await expect(page.locator("#confirm-form [data-pki-sign-status]")).to_have_text("您对报价表的确认已记录。")
        await context.close()
    finally:
        server.stop()
        await proxy.__aexit__()

    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            confirmations = (await session.scalars(sa.select(Confirmation))).all()
    finally:
        await engine.dispose()
    assert len(confirmations) == 1
    confirmed = verify_detached(confirmations[0].statement, confirmations[0].signature)
    assert confirmed.signer_certificate == sign.certificate

    secrets = _secrets([sign, enc], [sign_p12.read_bytes(), enc_p12.read_bytes()])
    leaked = [name for sent in proxy.sent for name, secret in secrets.items() if secret in sent]
    assert not leaked, leaked
    assert any(b"contentKey" in sent for sent in proxy.sent)
