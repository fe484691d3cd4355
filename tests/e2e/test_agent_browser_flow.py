"""Acceptance (issue 14): the browser flow with the bidder's keys on a USB key — ``ggzy agent`` on a
SoftHSM2 token — instead of a PKCS#12 file.

A new bidder registers, binds its signing certificate on ``/account`` (the binding challenge signed
on the token), seals and submits a bid in the page (the manifest signed on the token), and at the
opening signs in and decrypts (ECDH on the token; the page derives and unwraps, and sends only the
content key). Every choice of key is the certificate pickers' 「USB 证书（本机证书助手 ggzy agent）」;
the page code that signs and unwraps is the same as for PKCS#12 files.

The agent runs as a real process (`tests/certs/agent/support.py`), allowing the page's origin (the
recording proxy in front of ``ggzy serve``); the test is the user at its terminal and answers each
question through its stdin: 'y', except once at the sealing and once at the decryption, where the
answer 'n' must show 已在证书助手中拒绝 on the page and send nothing. The platform's setting
``GGZY_WEB_AGENT_URL`` names the agent (``data-agent-url`` and the CSP's connect-src).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from bidding.client.reading import read_built, read_sealed
from bidding.client.transport import BidClient, decrypt_bid
from certs.devpki.authority import Profile
from certs.devpki.names import make_uscc
from certs.envelope import cms_env, sealed_bid
from tests.bidding import harness
from tests.certs.agent.support import PIN, AgentProcess
from tests.e2e.test_bidder_browser_flow import _issue, _register_and_log_in
from tests.e2e.test_browser_seal import RecordingProxy
from tests.e2e.test_login_locale import _free_port
from tests.e2e.test_opening_hall import _login, _usernames

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
MARKER = "AGENT-PLAINTEXT-4b7e"
PRICE = "6543210.90"
SIGN_ID, ENC_ID = "11", "12"
DECLINED = "已在证书助手中拒绝。"
P12_PASSWORD = "证书口令-2026"


async def _answer(agent: AgentProcess, answer: str, *, about: str = "") -> str:
    """Wait for the agent's next question, check it, answer it; the question."""
    question = await asyncio.to_thread(agent.next_line, 60)
    assert question.endswith("[y/N]"), question
    assert about in question, question
    agent.answer(answer)
    await asyncio.to_thread(agent.next_line)  # the agent's echo of the decision
    return question


async def _use_usb_key(page: Any, picker: str, label: str) -> None:
    """Choose 「USB 证书」 in a certificate picker: it connects to the agent and takes the token's key."""
    from playwright.async_api import expect

    await page.locator(f"#{picker}-source").select_option("agent")
    await expect(page.locator(f"#{picker} [data-pki-status]")).to_have_text(
        re.compile(f"^USB 证书已就绪：{re.escape(label)}")
    )
    await expect(page.locator(f"#{picker}-file")).to_be_hidden()


async def test_a_bidder_binds_seals_and_decrypts_with_its_keys_on_a_usb_key(  # noqa: PLR0915 - one flow
    browser: object,
    fresh_db: str,
    tmp_path: Path,
    softhsm_token: Callable[..., dict[str, str]],
    start_agent: Callable[..., AgentProcess],
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=2)
    code = setup.tender.code
    uscc = make_uscc(778, "320800")
    sign, enc = _issue(setup, uscc, Profile.SIGN), _issue(setup, uscc, Profile.ENCRYPT)
    label = sign.name
    token = softhsm_token(
        [(SIGN_ID, sign), (ENC_ID, enc)],
        [("a1", setup.pki.jiangsu_ca.identity.cert_pem), ("a2", setup.pki.jiangsu_root.identity.cert_pem)],
    )
    enc_pem = tmp_path / "加密.pem"
    enc_pem.write_bytes(enc.cert_pem)  # the public encryption certificate, to seal to
    proposal = tmp_path / "技术标.txt"
    proposal.write_bytes(f"技术标 {MARKER}\n".encode() * 500)

    proxy = await RecordingProxy().__aenter__()
    agent = start_agent(token, [proxy.base_url])
    env = setup.env_with(GGZY_CERTS_ORIGINS=json.dumps([proxy.base_url]), GGZY_WEB_AGENT_URL=agent.base)
    server = harness.ServerProcess(setup, tmp_path / "server.log", env=env)
    server.start()
    try:
        proxy.point_to(server.base_url)
        setup = await harness.deadline_soon(setup, 240)
        context = await browser.new_context(locale="zh-CN", base_url=proxy.base_url)
        # Chrome asks the user before a site reaches apps on 127.0.0.1 (Local Network Access): the user said yes
        await context.grant_permissions(["local-network-access"], origin=proxy.base_url)
        urls: list[str] = []
        context.on("request", lambda request: urls.append(f"{request.method} {request.url}"))
        page = await context.new_page()

        # Register, then bind the certificate on the USB key on /account: the challenge signed on the token.
        await _register_and_log_in(page, uscc)
        await page.goto("/account")
        await expect(page.locator("body")).to_have_attribute("data-agent-url", agent.base)
        await _use_usb_key(page, "bind-certificate", label)
        await page.get_by_role("button", name="签名并绑定").click()
        question = await _answer(agent, "y", about=proxy.base_url)
        assert f"[{SIGN_ID}]" in question
        await expect(page).to_have_url(re.compile(r"/account/?\?done=bound$"))
        await expect(page.locator(f"#bindings tr[data-binding='{sign.fingerprint}']")).to_contain_text("已绑定")

        # Seal in the page, the manifest signed on the token; refused once at the agent, then allowed.
        await page.goto(f"/bidding/tenders/{code}")
        await page.locator(f"tr[data-lot='{LOT}']").get_by_role("link", name="递交投标文件").click()
        await page.locator("#seal-total-price").fill(PRICE)
        await page.locator("#seal-duration-days").fill("300")
        await page.locator("#seal-items").fill(f"主体 {MARKER}=6000000\n其他=543210.90")
        await page.locator("#seal-files").set_input_files(str(proposal))
        await _use_usb_key(page, "seal-signing-certificate", label)
        await page.locator("#seal-encryption-cert").set_input_files(str(enc_pem))
        seal = page.get_by_role("button", name="密封并递交", exact=True)
        await seal.click()
        await _answer(agent, "n", about=f"[{SIGN_ID}]")
        await expect(page.locator("#seal-status")).to_have_text(DECLINED)
        assert not [url for url in urls if "/uploads" in url]
        await seal.click()
        await _answer(agent, "y", about=f"[{SIGN_ID}]")
        receipt_no = page.locator("#receipt-no")
        await expect(receipt_no).to_have_text(re.compile(r"^BR\d{14}-[0-9A-F]{10}$"), timeout=60000)
        await expect(page.locator("[data-upload-status]")).to_have_text("投标文件已被接收。")

        # The receipt verifies with the CLI against the container the page made.
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
        number = (await receipt_no.inner_text()).strip()
        receipts = tmp_path / "receipts"
        receipts.mkdir()
        for link, suffix in (("[data-receipt-json]", "json"), ("[data-receipt-p7s]", "p7s")):
            href = await page.locator(link).get_attribute("href")
            assert href
            response = await context.request.get(href)
            assert response.status == 200, href
            (receipts / f"{number}.{suffix}").write_bytes(await response.body())
        root = tmp_path / "platform-root.pem"
        root.write_bytes(setup.pki.platform_root.certificate.public_bytes(serialization.Encoding.PEM))
        verified = subprocess.run(
            [
                str(harness.GGZY),
                "bid",
                "verify-receipt",
                str(receipts / f"{number}.json"),
                "--ca",
                str(root),
                "--container",
                str(container),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=setup.env,
        )
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["bidder"] == uscc
        # signed on the token with the bound certificate; both parts sealed to the token's encryption key
        assert read_built(container).verify_signature() is not None
        for kind in ("price-summary", "package"):
            part = read_sealed(container, kind)
            assert isinstance(part, cms_env.CmsSealedBid)
            assert sealed_bid.open_as_bidder(part, enc.key, part.binding)  # type: ignore[arg-type]

        # The two other bidders seal with the CLI's SDK.
        async with httpx.AsyncClient(timeout=60) as http:
            for bidder in setup.bidders:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=2048
                )
                attempt = await harness.submit_bid(http, server.base_url, harness.Attempt(bidder, LOT, built))
                assert attempt.receipt is not None, attempt.error

        # The opening: the bidder signs in in the page with the key on the token.
        await harness.open_at_deadline(setup)
        await page.goto(f"/bidding/opening/{code}/bidder")
        await expect(page.locator("#hall-stage")).to_have_text("签到")
        await _use_usb_key(page, "signing-certificate", label)
        await page.get_by_role("button", name="签名并签到").click()
        await _answer(agent, "y", about=f"[{SIGN_ID}]")
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

        # Decrypt: ECDH on the token (the encryption key), refused once, then allowed for both parts.
        await expect(page.locator("#hall-stage")).to_have_text("解密")
        await _use_usb_key(page, "decrypt-certificate", label)
        decrypt = page.get_by_role("button", name="在浏览器中解密")
        await decrypt.click()
        question = await _answer(agent, "n", about=f"[{ENC_ID}]")
        assert "开标解密本单位投标文件" in question  # the page's purpose, shown with the question
        await expect(page.locator("#decrypt-error")).to_have_text(DECLINED)
        assert not [url for url in urls if url.startswith("POST") and url.endswith("/bidder/decryption")]
        await decrypt.click()
        for _ in ("price-summary", "package"):
            await _answer(agent, "y", about=f"[{ENC_ID}]")
        await expect(page.locator("#decrypt-status")).to_have_text("解密成功：平台已打开您的投标文件。", timeout=30000)
        await expect(page.locator("#decrypt-error")).to_be_hidden()
        for account in setup.bidders:
            async with BidClient(server.base_url, account.token) as client:
                await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)

        # 唱标: the price sealed in the page with the key on the token is read out.
        await expect(page.locator("#hall-stage")).to_have_text("唱标")
        await expect(page.locator("#hall-prices tbody tr")).to_have_count(3)
        price = page.locator(f"#hall-prices tr[data-bidder='{uscc}'] [data-price]")
        await expect(price).to_contain_text(re.compile(r"6,?543,?210\.90"))
        await context.close()
    finally:
        server.stop()
        await proxy.__aexit__()

    assert agent.lines.empty(), agent.logs()  # no question left unanswered
    assert any(b"contentKey" in sent for sent in proxy.sent)
    pkcs8 = [
        identity.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        for identity in (sign, enc)
    ]
    secrets = {"marker": MARKER.encode(), "PIN": PIN.encode()} | {f"key {n}": der for n, der in enumerate(pkcs8)}
    leaked = [name for sent in proxy.sent for name, secret in secrets.items() if secret in sent]
    assert not leaked, leaked


async def test_the_pickers_say_when_the_agent_is_absent_and_a_new_file_replaces_the_opened_key(
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    """No agent at ``GGZY_WEB_AGENT_URL``: choosing 「USB 证书」 says so in Chinese next to the picker,
    with the help page's link (a public page naming this site in the agent's command). And a
    PKCS#12 chosen after another was opened is what signs next: the binding is refused because the
    second file is another organisation's, where the first (still opened before) would have bound."""
    from playwright.async_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=2)
    _, bidder_names = await _usernames(setup)
    ours, other = setup.bidders
    keys = tmp_path / "keys"
    keys.mkdir()
    own_p12, other_p12 = keys / "own.p12", keys / "other.p12"
    own_p12.write_bytes(ours.sign.pkcs12(P12_PASSWORD.encode()))
    other_p12.write_bytes(other.sign.pkcs12(P12_PASSWORD.encode()))

    proxy = await RecordingProxy().__aenter__()
    nobody = f"http://127.0.0.1:{_free_port()}"  # no agent listens there
    env = setup.env_with(GGZY_CERTS_ORIGINS=json.dumps([proxy.base_url]), GGZY_WEB_AGENT_URL=nobody)
    server = harness.ServerProcess(setup, tmp_path / "server.log", env=env)
    server.start()
    try:
        proxy.point_to(server.base_url)
        context = await browser.new_context(locale="zh-CN", base_url=proxy.base_url)
        page = await _login(context, bidder_names[0])
        assert isinstance(page, Page)
        await page.goto("/account")
        status = page.locator("#bind-certificate [data-pki-status]")

        await page.locator("#bind-certificate-source").select_option("agent")
        await expect(status).to_have_text(
            "本机证书助手（ggzy agent）未运行，或不允许本网站访问。请启动证书助手后重新连接。"
        )
        help_link = page.locator("#bind-certificate [data-pki-agent-help]")
        await expect(help_link).to_be_visible()
        await expect(help_link).to_have_text("如何安装和启动证书助手")
        href = await help_link.get_attribute("href")
        assert href
        await page.goto(href)  # public: also for a visitor on the login page's certificate picker
        await expect(page.locator("h1")).to_have_text("USB 证书的证书助手")
        await expect(page.locator("#agent-help-command")).to_contain_text(f"--allow-origin {proxy.base_url}")
        assert httpx.get(server.base_url + href, timeout=30).status_code == 200  # without a session

        # Open our certificate, then choose another file: the key opened first is dropped.
        await page.goto("/account")
        await page.locator("#bind-certificate-file").set_input_files(str(own_p12))
        await page.locator("#bind-certificate-password").fill(P12_PASSWORD)
        await page.locator("#bind-certificate").get_by_role("button", name="打开证书").click()
        await expect(status).to_have_text(re.compile("^证书已就绪"))
        await page.locator("#bind-certificate-file").set_input_files(str(other_p12))
        await expect(status).to_have_text(re.compile("^已选择新的证书文件"))
        await page.locator("#bind-certificate-password").fill(P12_PASSWORD)
        await page.get_by_role("button", name="签名并绑定").click()
        await expect(page.locator(".form-errors")).to_contain_text("证书所载单位或个人不是您的单位或您本人。")
        await expect(page.locator(f"#bindings tr[data-binding='{ours.sign.fingerprint}']")).to_have_count(0)
        await context.close()
    finally:
        server.stop()
        await proxy.__aexit__()
