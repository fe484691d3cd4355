"""``static/js/pki/agent.js`` in Chromium, on a page of an allowed origin, against ``ggzy agent``
and SoftHSM2: the key holders it makes sign and agree keys through the token, with the user's yes.

The platform's page is played by Playwright's router (``https://ggzy.example`` answered from the
static directory), so the browser applies its real cross-origin rules to the agent on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from certs.devpki.pki import DevPki
from certs.envelope import cms_env
from certs.envelope.sealed_bid import BidBinding, open_with_content_key, parse, unwrap_content_key
from certs.sign.verify import verify_document
from certs.trustlist.model import Usage
from tests.certs.agent.conftest import ORIGIN, AgentProcess
from tests.certs.agent.test_agent import PRICE_TABLE
from tests.certs.external import run
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
STATIC = Path(__file__).resolve().parents[3] / "trading" / "kernel" / "web" / "static"
PAGE = """<!doctype html><html><head><title>agent</title></head>
<body data-agent-url="{base}"><script type="module" src="/static/js/pki/agent.js"></script></body></html>"""


@pytest.fixture
async def page(agent: AgentProcess) -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import Route, async_playwright

    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/static/"):
            await route.fulfill(path=STATIC / path.removeprefix("/static/"), content_type="text/javascript")
        else:
            await route.fulfill(body=PAGE.replace("{base}", agent.base), content_type="text/html")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()
            # Chrome asks the user before a site reaches 127.0.0.1 (Local Network Access); the user said yes
            await context.grant_permissions(["local-network-access"], origin=ORIGIN)
            await context.route(f"{ORIGIN}/**", serve)
            page = await context.new_page()
            await page.goto(f"{ORIGIN}/bid")
            yield page
        finally:
            await browser.close()


async def _answered(agent: AgentProcess, operation: asyncio.Task[object], answer: str) -> tuple[object, str]:
    question = await asyncio.to_thread(agent.next_line)
    assert question.endswith("[y/N]"), question
    agent.answer(answer)
    await asyncio.to_thread(agent.next_line)  # the agent's echo of the decision
    return await operation, question


async def test_agent_key_holders_sign_and_agree_through_the_token(page, agent: AgentProcess, pki: DevPki) -> None:
    listed = await page.evaluate(
        """async () => {
            const { connectAgent } = await import("/static/js/pki/agent.js");
            const holders = await connectAgent();
            return holders.map((h) => ({ kind: h.kind, label: h.label, keyType: h.keyType,
                certificate: btoa(String.fromCharCode(...h.certificate)), chain: h.chain.length }));
        }"""
    )
    by_certificate = {base64.b64decode(entry["certificate"]): entry for entry in listed}
    assert len(listed) == 4
    assert {entry["kind"] for entry in listed} == {"agent"}
    assert by_certificate[pki.org_sign.cert_der]["label"] == pki.org_sign.name
    assert by_certificate[pki.org_sign.cert_der]["keyType"] == "ec"
    assert by_certificate[pki.org_sign.cert_der]["chain"] == 2

    signing = asyncio.create_task(
        page.evaluate(
            """async ([cert]) => {
                const { connectAgent } = await import("/static/js/pki/agent.js");
                const holder = (await connectAgent()).find((h) => btoa(String.fromCharCode(...h.certificate)) === cert);
                const signature = await holder.sign(new TextEncoder().encode("签名属性 DER"), "投标文件签名");
                return btoa(String.fromCharCode(...signature));
            }""",
            [base64.b64encode(pki.org_sign.cert_der).decode()],
        )
    )
    signature, question = await _answered(agent, signing, "y")
    assert "投标文件签名" in question
    assert ORIGIN in question
    public = pki.org_sign.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        base64.b64decode(signature), "签名属性 DER".encode(), ec.ECDSA(hashes.SHA256())
    )  # DER Ecdsa-Sig-Value

    ephemeral = ec.generate_private_key(ec.SECP256R1())
    point = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    deriving = asyncio.create_task(
        page.evaluate(
            """async ([cert, point]) => {
                const { connectAgent } = await import("/static/js/pki/agent.js");
                const holder = (await connectAgent()).find((h) => btoa(String.fromCharCode(...h.certificate)) === cert);
                const bytes = Uint8Array.from(atob(point), (c) => c.charCodeAt(0));
                return btoa(String.fromCharCode(...(await holder.deriveSharedSecret(bytes, "开标解密"))));
            }""",
            [base64.b64encode(pki.org_enc.cert_der).decode(), base64.b64encode(point).decode()],
        )
    )
    secret, _ = await _answered(agent, deriving, "y")
    assert base64.b64decode(secret) == ephemeral.exchange(ec.ECDH(), pki.org_enc.certificate.public_key())


async def test_a_refusal_reaches_the_page_as_declined(page, agent: AgentProcess, pki: DevPki) -> None:
    refusing = asyncio.create_task(
        page.evaluate(
            """async (cert) => {
                const { connectAgent } = await import("/static/js/pki/agent.js");
                const holder = (await connectAgent()).find((h) => btoa(String.fromCharCode(...h.certificate)) === cert);
                try { await holder.sign(new Uint8Array([1, 2, 3])); return "signed"; }
                catch (error) { return `${error.name}:${error.code}:${error.status}`; }
            }""",
            base64.b64encode(pki.org_sign.cert_der).decode(),
        )
    )
    outcome, _ = await _answered(agent, refusing, "n")
    assert outcome == "AgentError:declined:403"


async def test_a_site_the_agent_does_not_allow_cannot_use_it(agent: AgentProcess) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import Route, async_playwright

    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix("https://evil.example")
        if path.startswith("/static/"):
            await route.fulfill(path=STATIC / path.removeprefix("/static/"), content_type="text/javascript")
        else:
            await route.fulfill(body=PAGE.replace("{base}", agent.base), content_type="text/html")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()
            # even a user who lets the site reach local apps: the agent itself refuses it
            await context.grant_permissions(["local-network-access"], origin="https://evil.example")
            await context.route("https://evil.example/**", serve)
            page = await context.new_page()
            await page.goto("https://evil.example/")
            outcome = await page.evaluate(
                """async () => {
                    const { connectAgent } = await import("/static/js/pki/agent.js");
                    try { await connectAgent(); return "connected"; }
                    catch (error) { return `${error.name}:${error.code}`; }
                }"""
            )
        finally:
            await browser.close()
    assert outcome == "AgentError:unreachable"
    assert "GET /v1/keys from https://evil.example: 403 origin-not-allowed" in agent.logs()
    assert agent.lines.empty()


PAGE_MODULES = ("cades.js", "envelope.js")
PKI_JS = STATIC / "js" / "pki"
needs_page_modules = pytest.mark.skipif(
    not all((PKI_JS / name).exists() for name in PAGE_MODULES),
    reason="the pages' cades.js and envelope.js arrive with the browser-sign/browser-seal work (issue 14)",
)
OPEN_AND_FIND = """
    const { connectAgent } = await import("/static/js/pki/agent.js");
    const holder = (await connectAgent()).find((h) => btoa(String.fromCharCode(...h.certificate)) === cert);
"""


@needs_page_modules
@pytest.mark.parametrize("who", ["org_sign", "anhui_org_sign"])
async def test_the_pages_cades_through_the_agent_verifies(  # noqa: PLR0917 - fixtures
    page, agent: AgentProcess, pki: DevPki, validator, tmp_path, who: str
) -> None:
    """cades.js, unchanged, signs with a key on the token; the platform and OpenSSL accept it."""
    identity = getattr(pki, who)
    data = "异议：开标记录第3行金额有误".encode()
    signing = asyncio.create_task(
        page.evaluate(
            f"""async ([cert, data]) => {{ {OPEN_AND_FIND}
                const {{ signDetached }} = await import("/static/js/pki/cades.js");
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                return btoa(String.fromCharCode(...(await signDetached(bytes, holder))));
            }}""",
            [base64.b64encode(identity.cert_der).decode(), base64.b64encode(data).decode()],
        )
    )
    signature, question = await _answered(agent, signing, "y")
    assert "确认签名" in question
    p7s = base64.b64decode(signature)
    report = await verify_document(data, p7s, validator, usage=Usage.BID_SIGNATURE)
    assert report.passed, report.message
    # the token may not hold the issuing CA (the Anhui one does not), so the signature may not carry
    # it: OpenSSL gets it with the root (the platform's verifier found it in the trust list above)
    (tmp_path / "ca.pem").write_bytes(identity.chain_pem)
    (tmp_path / "x.p7s").write_bytes(p7s)
    (tmp_path / "x.bin").write_bytes(data)
    result = run(
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "x.p7s",
        "-content", tmp_path / "x.bin", "-CAfile", tmp_path / "ca.pem", "-purpose", "any", "-out", tmp_path / "o",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@needs_page_modules
@pytest.mark.parametrize("who", ["org_enc", "anhui_org_enc"])
async def test_the_pages_unwrapping_through_the_agent_gets_the_content_key(
    page, agent: AgentProcess, pki: DevPki, who: str
) -> None:
    """envelope.js, unchanged, unwraps a sealed bid's content key through the token: the same key
    `certs.envelope` gets with the PKCS#8 key, and it opens the bid.
    """
    identity = getattr(pki, who)
    binding = BidBinding(
        tender="JS-2026-0042", lot="1", bidder=pki.org_uscc, deadline=datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    )
    sealed = cms_env.seal(PRICE_TABLE, binding, bidder=identity.certificate)
    header = sealed.header()
    unwrapping = asyncio.create_task(
        page.evaluate(
            f"""async ([cert, header, expected]) => {{ {OPEN_AND_FIND}
                const {{ unwrapContentKey }} = await import("/static/js/pki/envelope.js");
                return btoa(String.fromCharCode(...(await unwrapContentKey(header, holder, expected))));
            }}""",
            [
                base64.b64encode(identity.cert_der).decode(),
                header,
                {"tender": "JS-2026-0042", "lot": "1", "bidder": pki.org_uscc},
            ],
        )
    )
    cek, question = await _answered(agent, unwrapping, "y")
    assert "确认解密" in question
    assert base64.b64decode(cek) == unwrap_content_key(header, identity.key, binding)
    assert open_with_content_key(parse(sealed.to_bytes()), base64.b64decode(cek), binding) == PRICE_TABLE
