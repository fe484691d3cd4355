"""Issue 14, items 1 and 3, in Chromium: software certificates used inside the page.

* A new bidder registers on the pages, binds a PKCS#12 certificate on ``/account`` (the file
  chooser; the page signs the binding challenge with a non-extractable WebCrypto key), sees the
  binding listed, and then logs in with the certificate alone (the login challenge signed in the
  page): the platform recognises the certificate as that bidder's, with no API call. Every request
  body of the flow is searched for the PKCS#12 password, the private key's PKCS#8 bytes and their
  base64, and the PKCS#12 file itself.
* A tenderee signs a clarification's file in the management page with its seal certificate, and a
  bidder its objection to the tender documents in the tender page.
* A detached CAdES signature made in the page (``static/js/pki/cades.js``) over a fixed byte string
  verifies with the platform's verifier (`certs.sign.cades.verify_detached`), has the CLI's structure
  byte for byte apart from the signature value, and passes
  ``openssl cms -verify -binary -inform DER -purpose any`` against the development root, for EC
  P-256 (the Jiangsu CA), RSA (the Anhui CA: RSA-PSS as the platform signs) and EC P-384 keys.

The server is the real one as in ``test_bid_upload`` (SQLite, ``ggzy demo``, uvicorn); the
development PKI is generated here first (the demo keeps a PKI it finds), so the test holds the CA's
key and can issue a certificate for an organisation that registers during the test.
"""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import pytest
from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from certs.devpki.authority import Identity, Profile
from certs.devpki.names import make_uscc, organisation_code_extension, organisation_name
from certs.devpki.pki import DevPki, build_dev_pki
from certs.sign.cades import sign_detached, verify_detached
from certs.tools.dev_ca import build_dev_ca, write_files
from tests.e2e.test_login_locale import (
    CHROMIUM,
    CHROMIUM_ARGS,
    GGZY,
    ROOT,
    _environment,
    _free_port,
    _wait_until_healthy,
)

if TYPE_CHECKING:
    from playwright.async_api import FilePayload, Request

pytestmark = pytest.mark.e2e

P12_PASSWORD = "瓦片-p12-Секрет-7341"
"""Unusual on purpose: non-ASCII (the PBES2 password is its UTF-8, the MAC password its BMPString)."""
USER_PASSWORD = "bidder-password-2026"
NEW_ORGANISATION = "淮安新注册投标有限公司"


@dataclass(frozen=True)
class SigningServer:
    url: str
    var_dir: Path
    pki: DevPki


@pytest.fixture(scope="module")
def signing_server() -> Iterator[SigningServer]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    var_dir = Path(tempfile.mkdtemp(prefix="ggzy-e2e-sign-"))
    pki = build_dev_pki()
    files, _ = asyncio.run(build_dev_ca(pki=pki))
    write_files(var_dir / "dev-ca", files)
    port = _free_port()
    # Challenges are bound to the page's origin, which must be one of the site's (settings.certs.origins).
    env = {**_environment(var_dir), "GGZY_WEB_PORT": str(port)}
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run([str(GGZY), *command], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"ggzy {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
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
        yield SigningServer(url, var_dir, pki)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
async def browser(signing_server: SigningServer) -> AsyncIterator[object]:
    del signing_server
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


def _issue_org_certificate(pki: DevPki, name: str, uscc: str, *, key_kind: str = "p256") -> Identity:
    """A signing certificate from the development Jiangsu CA for ``uscc`` (USCC in the extension)."""
    return pki.jiangsu_ca.issue(
        organisation_name(name, uscc, "江苏省", uscc_in_subject=False),
        profile=Profile.SIGN,
        key_kind=key_kind,  # type: ignore[arg-type]
        not_before=pki.now - timedelta(days=1),
        not_after=pki.now + timedelta(days=365),
        extensions=[organisation_code_extension(uscc)],
    )


def _secrets(identity: Identity, password: str, p12: bytes) -> dict[str, bytes]:
    """What must never leave the page, in the forms a request body could carry it."""
    pkcs8 = identity.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    found = {
        "password": password.encode(),
        "password (url-encoded)": _urlencoded(password),
        "pkcs8": pkcs8,
        "pkcs8 base64": base64.b64encode(pkcs8),
        "pkcs8 base64url": base64.urlsafe_b64encode(pkcs8).rstrip(b"="),
        "pkcs12 file": p12,
        "pkcs12 base64": base64.b64encode(p12),
    }
    # the raw private scalar / exponent too, for EC keys the 32 bytes inside the PKCS#8
    key = identity.key
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    secret = numbers.private_value if isinstance(numbers, ec.EllipticCurvePrivateNumbers) else numbers.d
    found["private value"] = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
    found["private value base64"] = base64.b64encode(found["private value"])
    return found


def _urlencoded(text: str) -> bytes:
    from urllib.parse import quote_plus

    return quote_plus(text).encode()


def _assert_nothing_secret(bodies: list[tuple[str, bytes]], secrets: dict[str, bytes]) -> None:
    assert bodies, "no request body was captured: is the capture broken?"
    for url, body in bodies:
        for what, value in secrets.items():
            assert value not in body, f"the {what} was sent to {url}"


async def _register_and_log_in(page: object, uscc: str) -> None:
    """Register a new bidder organisation on the pages and log in as its first user."""
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.goto("/register")
    form = page.locator("#register-form")
    await form.locator("[name=uscc]").fill(uscc)
    await form.locator("[name=organisation_name]").fill(NEW_ORGANISATION)
    await form.locator("[name=organisation_kind]").select_option("enterprise")
    await form.locator("[name=role]").select_option("bidder")
    await form.locator("[name=username]").fill("new-bidder")
    await form.locator("[name=display_name]").fill("钱七")
    await form.locator("[name=password]").fill(USER_PASSWORD)
    await form.locator("button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/login\?registered=1$"))
    await page.locator("input[name=username]").fill("new-bidder")
    await page.locator("input[name=password]").fill(USER_PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def _log_in_with_the_certificate(
    browser: object, url: str, certificate_file: FilePayload, capture: Callable[[Request], None]
) -> None:
    """Log in on /login with the certificate file, the challenge signed in the page."""
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    context = await browser.new_context(locale="zh-CN", base_url=url)
    page = await context.new_page()
    page.on("request", capture)
    await page.goto("/login")
    # The challenge is asked for by htmx; waiting on its answer (not on the fragment) makes a slow or
    # refused answer say what it was, instead of a locator timing out on a fragment that never came.
    async with page.expect_response(lambda r: r.url.endswith("/login/certificate/challenge"), timeout=90_000) as asked:
        await page.get_by_role("button", name="获取待签名的挑战").click()
    answer = await asked.value
    assert answer.status == 200, f"challenge answered {answer.status}: {await answer.text()}"
    picker = page.locator("#login-certificate")
    await picker.locator("[data-pki-file]").set_input_files(certificate_file)
    await picker.locator("[data-pki-password]").fill(P12_PASSWORD)
    await page.get_by_role("button", name="在本页面中签名并登录").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.locator(".user-name")).to_have_text("钱七")
    await expect(page.locator(".user-org")).to_have_text(NEW_ORGANISATION)
    await context.close()


async def test_new_bidder_registers_and_binds_a_pkcs12_certificate_on_the_account_page(
    browser: object, signing_server: SigningServer
) -> None:
    from playwright.async_api import Browser, FilePayload, expect

    assert isinstance(browser, Browser)
    uscc = make_uscc(734, "320800")
    identity = _issue_org_certificate(signing_server.pki, NEW_ORGANISATION, uscc)
    p12 = identity.pkcs12(P12_PASSWORD.encode())
    bodies: list[tuple[str, bytes]] = []
    posted: list[str] = []

    context = await browser.new_context(locale="zh-CN", base_url=signing_server.url)
    page = await context.new_page()

    def capture(request: Request) -> None:
        if request.method != "GET":
            posted.append(request.url)
        body = request.post_data_buffer
        if body:
            bodies.append((request.url, body))

    page.on("request", capture)

    await _register_and_log_in(page, uscc)
    await page.goto("/account")
    await expect(page.locator("#no-bindings")).to_be_visible()
    picker = page.locator("#bind-certificate")
    await expect(picker).to_have_attribute("data-pki-ready", "true")
    await expect(page.locator("#bind-form")).to_have_attribute("data-pki-ready", "true")
    certificate_file = FilePayload(name="new-bidder.p12", mimeType="application/x-pkcs12", buffer=p12)

    # A wrong password is said in Chinese, in the page, and nothing is asked of the server.
    await picker.locator("[data-pki-file]").set_input_files(certificate_file)
    await picker.locator("[data-pki-password]").fill("not the password")
    asked = len(posted)
    await page.get_by_role("button", name="签名并绑定").click()
    await expect(picker.locator("[data-pki-status]")).to_have_text("证书密码错误。")
    assert len(posted) == asked

    # The right password: the page signs the challenge, the form binds, the binding is listed.
    await picker.locator("[data-pki-password]").fill(P12_PASSWORD)
    await page.get_by_role("button", name="签名并绑定").click()
    await expect(page).to_have_url(re.compile(r"/account/?\?done=bound$"))
    await expect(page.get_by_text("证书已绑定到您的账号。")).to_be_visible()
    row = page.locator(f"#bindings tr[data-binding='{identity.fingerprint}']")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(NEW_ORGANISATION)
    await expect(row).to_contain_text("已绑定")

    # The same certificate cannot be bound twice: the server's refusal, in Chinese, on the page.
    picker = page.locator("#bind-certificate")
    await picker.locator("[data-pki-file]").set_input_files(certificate_file)
    await picker.locator("[data-pki-password]").fill(P12_PASSWORD)
    await page.get_by_role("button", name="签名并绑定").click()
    await expect(page.locator("#error-response")).to_contain_text("该证书已绑定到某个账号。")

    await context.close()

    # Bound, the certificate alone logs the new bidder in, signed in the login page.
    await _log_in_with_the_certificate(browser, signing_server.url, certificate_file, capture)
    assert any(url.endswith("/login/certificate") for url in posted), posted
    assert sum(url.endswith("/account/certificates/challenge") for url in posted) == 2, posted
    assert sum(url.endswith("/account/certificates") for url in posted) == 2, posted
    _assert_nothing_secret(bodies, _secrets(identity, P12_PASSWORD, p12))


def _openssl_verify(signature: bytes, data: bytes, root_pem: bytes, work: Path) -> subprocess.CompletedProcess[str]:
    (work / "data.bin").write_bytes(data)
    (work / "sig.p7s").write_bytes(signature)
    (work / "root.pem").write_bytes(root_pem)
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", str(work / "sig.p7s"), "-content", str(work / "data.bin"),
        "-CAfile", str(work / "root.pem"), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
    )


def _without_signature_value(der: bytes) -> bytes:
    """The SignedData with the signer's signature value emptied (ECDSA and PSS are randomised)."""
    info = asn1_cms.ContentInfo.load(der)
    signer = info["content"]["signer_infos"][0]
    signer["signature"] = b""
    return bytes(info.dump(force=True))


SIGN_IN_PAGE = """async ([p12, password, data, when]) => {
  const { openPkcs12 } = await import("/static/js/pki/pkcs12.js");
  const { signDetached } = await import("/static/js/pki/cades.js");
  const { fromBase64, toBase64 } = await import("/static/js/pki/der.js");
  const holder = await openPkcs12(fromBase64(p12), password);
  const signature = await signDetached(fromBase64(data), holder, { signingTime: new Date(when) });
  return { label: holder.label, kind: holder.kind, chain: holder.chain.length, signature: toBase64(signature) };
}"""


async def test_a_signature_made_in_the_page_verifies_like_a_cli_signature(
    browser: object, signing_server: SigningServer, tmp_path: Path
) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    pki = signing_server.pki
    data = "投标人确认：报价表 SHA-256 0123…\n".encode() + bytes(range(256))
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    identities = {
        "org_sign (P-256)": pki.org_sign,
        "anhui_org_sign (RSA)": pki.anhui_org_sign,
        "P-384": _issue_org_certificate(pki, "南京示例建设工程有限公司", pki.org_uscc, key_kind="p384"),
    }
    context = await browser.new_context(locale="zh-CN", base_url=signing_server.url)
    page = await context.new_page()
    await page.goto("/login")  # any page of the site: its CSP allows the platform's own modules only
    for name, identity in identities.items():
        result = await page.evaluate(
            SIGN_IN_PAGE,
            [
                base64.b64encode(identity.pkcs12(P12_PASSWORD.encode())).decode(),
                P12_PASSWORD,
                base64.b64encode(data).decode(),
                when.isoformat(),
            ],
        )
        assert result["kind"] == "pkcs12"
        assert result["label"] == identity.name
        assert result["chain"] == len(identity.chain)
        signature = base64.b64decode(result["signature"])

        verified = verify_detached(data, signature)
        assert verified.signer_certificate == identity.certificate, name
        assert verified.signing_time == when, name
        with pytest.raises(Exception, match="digest"):
            verify_detached(data + b"x", signature)

        cli = await sign_detached(data, identity.signing(), signing_time=when)
        assert _without_signature_value(signature) == _without_signature_value(cli), name

        work = tmp_path / re.sub(r"\W+", "-", name)
        work.mkdir()
        root = identity.root.public_bytes(serialization.Encoding.PEM)
        checked = _openssl_verify(signature, data, root, work)
        assert checked.returncode == 0, f"{name}: {checked.stderr}"
        assert "Verification successful" in checked.stderr
        tampered = _openssl_verify(signature, data[:-1], root, work)
        assert tampered.returncode != 0, name
        await _check_key_agreement_and_transport(page, identity)

    # Legacy (3DES) files are refused by name, so the page can say how to re-export them.
    legacy = serialization.PrivateFormat.PKCS12.encryption_builder().key_cert_algorithm(
        pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC
    )
    old = pkcs12.serialize_key_and_certificates(
        b"old", pki.org_sign.key, pki.org_sign.certificate, None, legacy.build(P12_PASSWORD.encode())
    )
    code = await page.evaluate(OPEN_ONLY, [base64.b64encode(old).decode(), P12_PASSWORD])
    assert code == "legacy-encryption"
    await context.close()


OPEN_ONLY = """async ([p12, password]) => {
  const { openPkcs12 } = await import("/static/js/pki/pkcs12.js");
  const { fromBase64 } = await import("/static/js/pki/der.js");
  try { await openPkcs12(fromBase64(p12), password); return "opened"; } catch (error) { return error.code; }
}"""
UNWRAP_IN_PAGE = """async ([p12, password, point, encrypted, label]) => {
  const { openPkcs12 } = await import("/static/js/pki/pkcs12.js");
  const { fromBase64, toBase64 } = await import("/static/js/pki/der.js");
  const holder = await openPkcs12(fromBase64(p12), password);
  const out = {};
  if (point) out.z = toBase64(await holder.deriveSharedSecret(fromBase64(point)));
  if (encrypted) out.key = toBase64(await holder.decryptOaep(fromBase64(encrypted), fromBase64(label)));
  return out;
}"""


async def _check_key_agreement_and_transport(page: object, identity: Identity) -> None:
    """The KeyHolder's raw operations for envelopes: ECDH's Z and RSA-OAEP (SHA-256, with a label)
    give what `cryptography` gives with the same keys.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from playwright.async_api import Page

    assert isinstance(page, Page)
    key = identity.key
    p12 = base64.b64encode(identity.pkcs12(P12_PASSWORD.encode())).decode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        ephemeral = ec.generate_private_key(key.curve)
        point = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        result = await page.evaluate(UNWRAP_IN_PAGE, [p12, P12_PASSWORD, base64.b64encode(point).decode(), "", ""])
        assert base64.b64decode(result["z"]) == ephemeral.exchange(ec.ECDH(), key.public_key())
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        content_key, label = bytes(range(32)), b"ggzy-label"
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)
        encrypted = key.public_key().encrypt(content_key, oaep)
        result = await page.evaluate(
            UNWRAP_IN_PAGE,
            [p12, P12_PASSWORD, "", base64.b64encode(encrypted).decode(), base64.b64encode(label).decode()],
        )
        assert base64.b64decode(result["key"]) == content_key


async def test_a_withdrawal_a_clarification_and_an_objection_are_signed_in_the_pages(
    browser: object, signing_server: SigningServer
) -> None:
    """A clarification's file is signed in the management page with the tenderee's seal certificate
    (the demo's ``tenderee_sign`` PKCS#12 file) and published through the page's multipart form;
    then a bidder's objection to the documents is signed in the tender page over the statement the
    platform gives for its text. First (an objection suspends the tender) a bidder withdraws a bid on
    我的投标, the withdrawal statement signed in the page.
    """
    await _withdraw_in_the_page(browser, signing_server)

    from playwright.async_api import Browser, FilePayload, expect

    from trading.server.demo import DEMO_TENDER_CODE

    assert isinstance(browser, Browser)
    dev_ca = signing_server.var_dir / "dev-ca"
    p12 = (dev_ca / "p12" / "tenderee_sign.p12").read_bytes()
    context = await browser.new_context(locale="zh-CN", base_url=signing_server.url)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill("tenderee")
    await page.locator("input[name=password]").fill("ggzy-demo-2026")
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await page.goto(f"/bidding/manage/tenders/{DEMO_TENDER_CODE}")
    form = page.locator("#clarification-form")
    await expect(form).to_have_attribute("data-pki-ready", "true")
    document = "澄清：开标地点改为第二会议室。\n".encode() * 50
    await form.locator("[data-pki-document]").set_input_files(
        FilePayload(name="澄清-1.txt", mimeType="text/plain", buffer=document)
    )
    await form.locator("[name=title]").fill("澄清（第1号）")
    picker = page.locator("#seal-certificate")
    await picker.locator("[data-pki-file]").set_input_files(
        FilePayload(name="tenderee_sign.p12", mimeType="application/x-pkcs12", buffer=p12)
    )
    await picker.locator("[data-pki-password]").fill("dev")
    await form.get_by_role("button", name="在本页面中签名所选文件").click()
    await expect(form.locator("[data-pki-sign-file-status]")).to_have_text(
        "已在本页面中签名：澄清-1.txt.p7s 已就绪，可以提交。"
    )
    signature_name = await form.locator("[data-pki-signature]").evaluate("input => input.files[0].name")
    assert signature_name == "澄清-1.txt.p7s"
    await form.get_by_role("button", name="发布澄清").click()
    await expect(page).to_have_url(re.compile(rf"/bidding/manage/tenders/{DEMO_TENDER_CODE}$"))
    await expect(page.locator("#documents-title + ul")).to_contain_text("澄清（第1号）")
    await context.close()

    # Then a bidder objects to the documents, signed in the tender page with its own certificate
    # (after the clarification: an objection suspends the tender).
    await _object_to_the_documents_in_the_page(browser, signing_server)


async def _object_to_the_documents_in_the_page(browser: object, signing_server: SigningServer) -> None:
    from playwright.async_api import Browser, FilePayload, expect

    from trading.server.demo import DEMO_TENDER_CODE

    assert isinstance(browser, Browser)
    p12 = (signing_server.var_dir / "dev-ca" / "p12" / "org_sign.p12").read_bytes()
    context = await browser.new_context(locale="zh-CN", base_url=signing_server.url)
    page = await context.new_page()
    bodies: list[bytes] = []
    page.on("request", lambda request: bodies.append(request.post_data_buffer or b""))
    await page.goto("/login")
    await page.locator("input[name=username]").fill("bidder-js")
    await page.locator("input[name=password]").fill("ggzy-demo-2026")
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    # The documents must have been downloaded before objecting to them.
    await page.goto(f"/bidding/tenders/{DEMO_TENDER_CODE}")
    href = await page.locator("a[href*='/documents/']").first.get_attribute("href")
    assert href
    assert (await context.request.get(href)).ok
    form = page.locator("#document-objection-form")
    text = "招标文件第3章的资格条件\n与公告不一致。"
    await form.locator("[name=objection]").fill(text)
    picker = page.locator("#objection-certificate")
    await picker.locator("[data-pki-file]").set_input_files(
        FilePayload(name="org_sign.p12", mimeType="application/x-pkcs12", buffer=p12)
    )
    await picker.locator("[data-pki-password]").fill("dev")
    await form.get_by_role("button", name="签名并提出异议").click()
    await expect(page).to_have_url(re.compile(r"\?objected=1#document-objections$"))
    await expect(page.locator("#document-objections")).to_contain_text("与公告不一致")
    await context.close()
    # ("dev", the demo's password, is too short to search for in base64 signatures.)
    secrets = _secrets(signing_server.pki.org_sign, "dev", p12)
    _assert_nothing_secret(
        [("", body) for body in bodies if body],
        {what: value for what, value in secrets.items() if not what.startswith("password")},
    )


async def _withdraw_in_the_page(browser: object, signing_server: SigningServer) -> None:
    """bidder-js signs the withdrawal of the bid the demo submitted for it to the five-minute demo
    tender in 我的投标; the form posts the signature over the statement the page shows.

    The post is intercepted and checked here rather than sent: on the embedded SQLite server a
    withdrawal waits on ``database is locked`` (``BEGIN IMMEDIATE``) whichever way it is signed,
    also with a pasted signature; the withdrawal itself is tested on PostgreSQL in
    ``tests/bidding/test_web.py``.
    """
    from playwright.async_api import Browser, FilePayload, Route, expect

    from trading.server.demo import DEMO_TENDER_CODE

    assert isinstance(browser, Browser)
    p12 = (signing_server.var_dir / "dev-ca" / "p12" / "org_sign.p12").read_bytes()
    context = await browser.new_context(locale="zh-CN", base_url=signing_server.url)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill("bidder-js")
    await page.locator("input[name=password]").fill("ggzy-demo-2026")
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await page.goto("/bidding/bids")
    # one form (and one certificate picker) per bid that may still be withdrawn
    form = page.locator(f"form[data-withdrawal-form]:not([action*='/{DEMO_TENDER_CODE}/'])").first
    await expect(form).to_have_attribute("data-pki-ready", "true")
    await form.locator("[data-pki-file]").set_input_files(
        FilePayload(name="org_sign.p12", mimeType="application/x-pkcs12", buffer=p12)
    )
    await form.locator("[data-pki-password]").fill("dev")
    statement = (await form.locator("[data-withdrawal-statement]").text_content() or "").encode()
    assert b'"type":"ggzy-bid-withdrawal/1"' in statement

    async def intercept(route: Route) -> None:
        await route.fulfill(status=204)

    await page.route("**/withdrawal", intercept)
    async with page.expect_request("**/withdrawal") as sent:
        await form.get_by_role("button", name="签名并撤回投标").click()
    posted = [parse_qs((await sent.value).post_data or "")]
    assert set(posted[0]) == {"_csrf_token", "signature"}
    signed = verify_detached(statement, base64.b64decode(posted[0]["signature"][0]))
    assert signed.signer_certificate == signing_server.pki.org_sign.certificate
    await context.close()
