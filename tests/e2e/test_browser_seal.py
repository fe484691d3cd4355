"""Acceptance (issue 14, item 1): a bidder seals and submits its bid in the browser and decrypts it
in the hall with its key in the page's memory only; two other bidders seal and decrypt with the
CLI's SDK in the same tender, and everything opens.

A real ``ggzy serve`` on PostgreSQL (`tests.bidding.harness`, test clock). In Chromium the bidder
chooses its files, fills in the price summary and gives its signing PKCS#12 (with its password)
and its encryption certificate; the page builds the ``ggzy-bid/1`` container
(``/static/js/pki/envelope.js``, ``cades.js``, ``pkcs12.js``) and submits it through the upload
page's resumable intake. The test then checks, as the platform and the CLI would:

* the receipt: downloaded from the page's links and verified by ``ggzy bid verify-receipt``
  against the platform root and the container the page made;
* the container: `bidding.client.reading` reads it like a CLI-made one (same entries, CMS header
  version 2, parts bound to this tender, lot, bidder and deadline) and opens both parts with the
  bidder's encryption key;
* refusals shown next to their field, in Chinese: a wrong PKCS#12 password, a signing certificate
  of another organisation, files larger than the tender allows;
* at the opening the bidder decrypts in the hall page with its encryption PKCS#12, the CLI-sealed
  bids are decrypted by the SDK, and the 唱标 price table shows the page-sealed price;
* no request body of the whole browser flow carries the plaintext marker (in the price summary
  and in a file), the PKCS#12 passwords, the PKCS#12 files or the private keys (PKCS#8 DER and
  its base64) — while the container itself is seen going out, so the capture is not blind.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from bidding.client import format as fmt
from bidding.client.reading import read_built, read_sealed
from bidding.client.transport import BidClient, decrypt_bid
from bidding.models import Tender
from certs.devpki.authority import Identity, Profile
from certs.devpki.names import organisation_name
from certs.envelope import cms_env, sealed_bid
from tests.bidding import harness
from tests.e2e.test_opening_hall import _login, _usernames
from trading.kernel.db.engine import create_engine, create_session_maker

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
MARKER = "PLAINTEXT-MARKER-7f3c9a"
P12_PASSWORD = "浏览器-p12-口令-2026"
PAGE_PRICE = "7654321.00"


class RecordingProxy:
    """A TCP proxy in front of the server that keeps every byte the browser sends (headers and
    bodies of every request, fetches with Blob bodies included, which Playwright's request events
    do not carry): what "leaves the page" is exactly this.
    """

    def __init__(self, target: str = "") -> None:
        self.host, self.port = "127.0.0.1", 0
        if target:
            self.point_to(target)
        self.sent: list[bytearray] = []
        self.server: asyncio.Server | None = None

    def point_to(self, target: str) -> None:
        """Forward to ``target`` (``http://host:port``): the proxy may listen before the server runs."""
        host, port = target.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        record = bytearray()
        self.sent.append(record)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, kept: bytearray | None) -> None:
            try:
                while data := await source.read(65536):
                    if kept is not None:
                        kept.extend(data)
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer, record), pipe(upstream_reader, writer, None))


def _p12(identity: Identity, path: Path) -> Path:
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bidder",
            identity.key,  # type: ignore[arg-type]
            identity.certificate,
            list(identity.chain),
            serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
        )
    )
    return path


def _pkcs8(identity: Identity) -> bytes:
    return identity.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _secrets(setup: harness.SubmissionSetup, p12_files: list[Path]) -> dict[str, bytes]:
    """What must never appear in a request body of the browser flow."""
    bidder = setup.bidders[0]
    found: dict[str, bytes] = {"marker": MARKER.encode(), "password": P12_PASSWORD.encode()}
    for name, identity in (("sign", bidder.sign), ("enc", bidder.enc)):
        der = _pkcs8(identity)
        found[f"{name} PKCS#8 DER"] = der
        found[f"{name} PKCS#8 base64"] = base64.b64encode(der)
        found[f"{name} PKCS#8 PEM body"] = b"".join(identity.key_pem.splitlines()[1:-1])
    for path in p12_files:
        found[f"{path.name} bytes"] = path.read_bytes()
        found[f"{path.name} base64"] = base64.b64encode(path.read_bytes())
    return found


async def _fill_seal_form(page: Any, files: list[Path], sign_p12: Path, enc_pem: Path, password: str) -> None:
    await page.locator("#seal-total-price").fill(PAGE_PRICE)
    await page.locator("#seal-duration-days").fill("240")
    await page.locator("#seal-items").fill(f"土建 {MARKER}=5000000\n安装=2654321")
    await page.locator("#seal-guarantee-form").select_option("cash")
    await page.locator("#seal-files").set_input_files([str(f) for f in files])
    await _choose_certificate(page, "seal-signing-certificate", sign_p12, password, open_now=False)
    await page.locator("#seal-encryption-cert").set_input_files(str(enc_pem))


async def _choose_certificate(page: Any, picker: str, p12: Path, password: str, *, open_now: bool) -> None:
    """Choose a PKCS#12 in a certificate picker (``macros/pki.html``); "打开证书" opens it at once
    (and replaces a key opened before), else the next action opens it."""
    await page.locator(f"#{picker}-file").set_input_files(str(p12))
    await page.locator(f"#{picker}-password").fill(password)
    if open_now:
        await page.locator(f"#{picker}").get_by_role("button", name="打开证书").click()
        await _expect_status(page, picker, re.compile("^证书已就绪"))


async def _expect_status(page: Any, picker: str, text: str | re.Pattern[str]) -> None:
    from playwright.async_api import expect

    await expect(page.locator(f"#{picker} [data-pki-status]")).to_have_text(text)


async def test_a_bid_sealed_and_decrypted_in_the_browser_opens_beside_cli_sealed_bids(  # noqa: PLR0915 - one flow
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=3, max_package_bytes=1024 * 1024)
    code = setup.tender.code
    _, bidder_names = await _usernames(setup)
    ours = setup.bidders[0]
    keys = tmp_path / "keys"
    keys.mkdir()
    sign_p12 = _p12(ours.sign, keys / "sign.p12")
    enc_p12 = _p12(ours.enc, keys / "enc.p12")
    other_p12 = _p12(setup.bidders[1].sign, keys / "other-sign.p12")
    enc_pem = keys / "enc.pem"
    enc_pem.write_bytes(ours.enc.cert_pem)
    files = tmp_path / "files"
    files.mkdir()
    proposal = files / "技术标.txt"
    proposal.write_bytes(f"技术标 {MARKER}\n".encode() * 3000)
    (files / "商务标.txt").write_bytes("商务标(浏览器密封)\n".encode() * 100)
    too_large = files / "图纸.bin"
    too_large.write_bytes(b"\0" * (1024 * 1024 + 1))

    with harness.running_server(setup, tmp_path / "server.log") as server:
        setup = await harness.deadline_soon(setup, 180)
        proxy = await RecordingProxy(server.base_url).__aenter__()
        context = await browser.new_context(locale="zh-CN", base_url=proxy.base_url)
        urls: list[str] = []
        context.on("request", lambda request: urls.append(f"{request.method} {request.url}"))
        page = await _login(context, bidder_names[0])
        assert isinstance(page, Page)
        await page.goto(f"/bidding/tenders/{code}/lots/{LOT}/bid")
        await expect(page.locator("#browser-seal-title")).to_have_text("在浏览器中密封并递交")
        seal = page.get_by_role("button", name="密封并递交", exact=True)

        # Refusals next to their fields, in Chinese, and nothing uploaded.
        await _fill_seal_form(page, [proposal, too_large], sign_p12, enc_pem, P12_PASSWORD)
        await seal.click()
        await expect(page.locator("#seal-error-files")).to_have_text("文件总大小超过本项目允许的上限。")
        await page.locator("#seal-files").set_input_files([str(proposal), str(files / "商务标.txt")])
        await page.locator("#seal-signing-certificate-password").fill("wrong password")
        await seal.click()
        await _expect_status(page, "seal-signing-certificate", "证书密码错误。")
        await _choose_certificate(page, "seal-signing-certificate", other_p12, P12_PASSWORD, open_now=False)
        await seal.click()
        await expect(page.locator("#seal-error-signing")).to_have_text("该签名证书不属于贵单位。")
        assert not [url for url in urls if "/uploads" in url]

        # Sealed in the page, submitted through the upload form's intake, receipted.
        await _choose_certificate(page, "seal-signing-certificate", sign_p12, P12_PASSWORD, open_now=True)
        await seal.click()
        await expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^BR\d{14}-[0-9A-F]{10}$"), timeout=60000)
        await expect(page.locator("#seal-error-signing")).to_be_hidden()
        container_b64 = await page.evaluate(
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
        container = tmp_path / "page-bid.zip"
        container.write_bytes(base64.b64decode(container_b64))
        # The capture sees what leaves the page: the container went out whole.
        assert any(container.read_bytes() in sent for sent in proxy.sent)

        # The receipt, from the page's links, verifies with the CLI against the page's container.
        receipt_no = (await page.locator("#receipt-no").inner_text()).strip()
        receipts = tmp_path / "receipts"
        receipts.mkdir()
        for link, suffix in (("[data-receipt-json]", "json"), ("[data-receipt-p7s]", "p7s"), ("#receipt-pdf", "pdf")):
            href = await page.locator(link).get_attribute("href")
            assert href
            response = await context.request.get(href, timeout=180_000)  # the first PDF warms the renderer
            assert response.status == 200, href
            (receipts / f"{receipt_no}.{suffix}").write_bytes(await response.body())
        assert (receipts / f"{receipt_no}.pdf").read_bytes().startswith(b"%PDF-")
        root = tmp_path / "platform-root.pem"
        root.write_bytes(setup.pki.platform_root.certificate.public_bytes(serialization.Encoding.PEM))
        verified = subprocess.run(
            [
                str(harness.GGZY),
                "bid",
                "verify-receipt",
                str(receipts / f"{receipt_no}.json"),
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
        assert "valid" in verified.stderr
        assert json.loads(verified.stdout)["bidder"] == ours.uscc

        # The other two bidders seal with the CLI's SDK and submit through the API.
        async with httpx.AsyncClient(timeout=60) as http:
            cli_built = []
            for bidder in setup.bidders[1:]:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=2048
                )
                attempt = await harness.submit_bid(http, server.base_url, harness.Attempt(bidder, LOT, built))
                assert attempt.receipt is not None, attempt.error
                cli_built.append(built)

        # The platform's Python reads the page's container like the CLI's.
        page_bid, cli_bid = read_built(container), read_built(cli_built[0].path)
        assert set(page_bid.layout.entries) == set(cli_bid.layout.entries) == fmt.ENTRY_NAMES
        assert set(page_bid.manifest) == set(cli_bid.manifest)
        assert page_bid.manifest["deadline"] == cli_bid.manifest["deadline"]
        page_bid.check_part_digests()
        assert page_bid.verify_signature() is not None
        for kind in fmt.PART_NAMES:
            page_part, cli_part = read_sealed(container, kind), read_sealed(cli_built[0].path, kind)
            assert isinstance(page_part, cms_env.CmsSealedBid)
            assert isinstance(cli_part, cms_env.CmsSealedBid)
            assert page_part.header()["version"] == cli_part.header()["version"] == 2
            assert set(page_part.header()) == set(cli_part.header())
            assert page_part.binding.deadline == setup.tender.deadline
            assert (page_part.binding.tender, page_part.binding.lot, page_part.binding.bidder) == (code, LOT, ours.uscc)
            plaintext = sealed_bid.open_as_bidder(page_part, ours.enc.key, page_part.binding)  # type: ignore[arg-type]
            if kind == fmt.PRICE_SUMMARY:
                summary = json.loads(plaintext)
                assert summary["totalPrice"] == PAGE_PRICE
                assert summary["items"][0]["name"] == f"土建 {MARKER}"
            else:
                with zipfile.ZipFile(io.BytesIO(plaintext)) as inner:
                    assert inner.read("技术标.txt") == proposal.read_bytes()

        # The opening: everyone signs in (API), the host opens the decryption window.
        await harness.open_at_deadline(setup)
        async with httpx.AsyncClient(timeout=60) as http:
            for account in setup.bidders:
                await harness.sign_in_over_http(http, server.base_url, account, code)
            moved = await http.post(
                f"{server.base_url}/api/v1/bidding/opening/{code}/transitions",
                json={"action": "decryption"},
                headers=harness.bearer(await harness.host_token(setup)),
            )
            assert moved.status_code < harness.HTTP_ERROR, moved.text

        await page.goto(f"/bidding/opening/{code}/bidder")
        await expect(page.locator("#hall-stage")).to_have_text("解密")
        decrypt = page.get_by_role("button", name="在浏览器中解密")
        # A wrong password, then the signing certificate's key (it does not open the bid), then the right one.
        await _choose_certificate(page, "decrypt-certificate", enc_p12, "wrong password", open_now=False)
        await decrypt.click()
        await _expect_status(page, "decrypt-certificate", "证书密码错误。")
        await _choose_certificate(page, "decrypt-certificate", sign_p12, P12_PASSWORD, open_now=False)
        await decrypt.click()
        await expect(page.locator("#decrypt-error")).to_have_text(
            "该密钥无法打开您的投标文件：请选择密封时所用的加密证书。"
        )
        await _choose_certificate(page, "decrypt-certificate", enc_p12, P12_PASSWORD, open_now=True)
        await decrypt.click()
        await expect(page.locator("#decrypt-status")).to_have_text("解密成功：平台已打开您的投标文件。", timeout=30000)
        await expect(page.locator(f"[data-own-bid='{LOT}'] [data-own-outcome]")).to_have_text("已解密")

        for account in setup.bidders[1:]:
            async with BidClient(server.base_url, account.token) as client:
                await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)

        await expect(page.locator("#hall-stage")).to_have_text("唱标")
        await expect(page.locator("#hall-prices tbody tr")).to_have_count(3)
        row = page.locator(f"#hall-prices tr[data-bidder='{ours.uscc}'] [data-price]")
        await expect(row).to_contain_text(re.compile(r"7,?654,?321\.00"))
        for account in setup.bidders[1:]:
            other = page.locator(f"#hall-prices tr[data-bidder='{account.uscc}'] [data-price]")
            await expect(other).to_contain_text(re.compile(f"{980000 + account.index:,}|{980000 + account.index}"))
        await context.close()
        await proxy.__aexit__()

    leaked = [
        name
        for sent in proxy.sent
        for name, secret in _secrets(setup, [sign_p12, enc_p12, other_p12]).items()
        if secret in sent
    ]
    assert not leaked, leaked
    assert any(url.startswith("POST") and url.endswith("/bidder/decryption") for url in urls)
    assert any(b"contentKey" in sent for sent in proxy.sent)


async def test_a_bid_sealed_in_the_browser_is_split_among_the_tenders_key_holders(
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    """A tender with key holders (2 of 3, EC and RSA certificates): the page fetches their
    certificates from the upload page's links and splits the content key among them; the intake
    checks the holders and the threshold, and any two holders' shares open the page's parts."""
    from playwright.async_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=1)
    ours = setup.bidders[0]
    holders = [
        setup.pki.jiangsu_ca.issue(
            organisation_name(f"持钥人{name}", ours.uscc, "江苏省", uscc_in_subject=False),
            profile=Profile.ENCRYPT,
            key_kind=kind,
            not_before=setup.pki.now - timedelta(days=1),
            not_after=setup.pki.now + timedelta(days=30),
        )
        for name, kind in (("甲", "p256"), ("乙", "rsa2048"), ("丙", "p384"))
    ]
    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            tender = await session.get_one(Tender, setup.tender.id)
            tender.key_holders = {
                "holders": [
                    {"name": h.name, "certificate": h.cert_pem.decode(), "sha256": h.fingerprint} for h in holders
                ],
                "threshold": 2,
            }
            await session.commit()
    finally:
        await engine.dispose()
    _, bidder_names = await _usernames(setup)
    sign_p12 = _p12(ours.sign, tmp_path / "sign.p12")
    enc_pem = tmp_path / "enc.pem"
    enc_pem.write_bytes(ours.enc.cert_pem)
    proposal = tmp_path / "技术标.txt"
    proposal.write_bytes(f"{MARKER}\n".encode() * 100)

    with harness.running_server(setup, tmp_path / "server.log") as server:
        context = await browser.new_context(locale="zh-CN", base_url=server.base_url)
        page = await _login(context, bidder_names[0])
        assert isinstance(page, Page)
        await page.goto(f"/bidding/tenders/{setup.tender.code}/lots/{LOT}/bid")
        await expect(page.locator("a[data-key-holder]")).to_have_count(3)
        await _fill_seal_form(page, [proposal], sign_p12, enc_pem, P12_PASSWORD)
        await page.get_by_role("button", name="密封并递交", exact=True).click()
        await expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^BR\d{14}-"), timeout=60000)
        container_b64 = await page.evaluate(
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
        await context.close()
    container = tmp_path / "page-bid.zip"
    container.write_bytes(base64.b64decode(container_b64))
    for kind in fmt.PART_NAMES:
        part = read_sealed(container, kind)
        assert isinstance(part, cms_env.CmsSealedBid)
        assert part.threshold == 2
        assert part.holder_fingerprints == tuple(h.fingerprint for h in holders)
        shares = [
            sealed_bid.release_share(part, h.certificate, h.key, part.binding)  # type: ignore[arg-type]
            for h in holders
        ]
        dek = sealed_bid.unwrap_content_key(part, ours.enc.key, part.binding)  # type: ignore[arg-type]
        for pair in ((0, 1), (1, 2)):
            assert sealed_bid.content_key_from_shares(part, [shares[i] for i in pair], part.binding) == dek
