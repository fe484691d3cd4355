"""The page's sealing and unwrapping (``trading/kernel/web/static/js/pki/envelope.js``) against the
platform's Python, in Chromium, with no server: the module is served on an https origin through
Playwright's routing (WebCrypto needs a secure context).

* an envelope sealed in the page (EC P-256, P-384 and RSA encryption certificates, with and
  without key holders) opens with `certs.envelope.sealed_bid` like one the CLI sealed: same
  binding, plaintext, escrow policy, k-of-n shares;
* a container built in the page is the CLI's format: `format.inspect_container`, the manifest,
  both parts opened with the bidder's key, the inner package checked (`reading.check_package`);
* the page unwraps the content key of a Python-sealed envelope header with a KeyHolder (ECDH or
  RSA-OAEP through the holder only) and gets the CEK the CLI gets; a wrong key or another binding
  is refused by name.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bidding.client import format as fmt
from bidding.client.reading import check_package
from certs.devpki.authority import Identity, KeyKind, Profile
from certs.devpki.pki import DevPki, build_dev_pki, organisation_name
from certs.envelope import cms_env, sealed_bid, threshold
from certs.envelope.binding import BidBinding
from certs.errors import Refused
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, ROOT

pytestmark = pytest.mark.e2e

ORIGIN = "https://ggzy.test"
STATIC = ROOT / "trading" / "kernel" / "web" / "static"
TEST_JS = Path(__file__).parent / "js"
DEADLINE = "2026-12-30T01:30:00+00:00"
BINDING = {"tender": "E3201000001000000042", "lot": "001", "bidder": "91320100MA1XXXXX0X", "deadline": DEADLINE}


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


def _issue(pki: DevPki, kind: KeyKind, name: str = "江苏测试建设有限公司") -> Identity:
    now = datetime.now(UTC)
    return pki.jiangsu_ca.issue(
        organisation_name(name, BINDING["bidder"], "江苏省", uscc_in_subject=False),
        profile=Profile.ENCRYPT,
        key_kind=kind,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import Route, async_playwright

    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/static/"):
            file = STATIC / path.removeprefix("/static/")
        elif path.startswith("/test/"):
            file = TEST_JS / path.removeprefix("/test/")
        else:
            await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")
            return
        await route.fulfill(status=200, content_type="text/javascript", body=file.read_bytes())

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await chromium.new_context()
            await context.route(f"{ORIGIN}/**", serve)
            tab = await context.new_page()
            await tab.goto(f"{ORIGIN}/")
            yield tab
        finally:
            await chromium.close()


SEAL = """async ({plaintext, binding, bidder, holders, k}) => {
  const env = await import("/static/js/pki/envelope.js");
  const cert = await env.readCertificate(env.fromBase64(bidder));
  const hs = [];
  for (const h of holders) hs.push(await env.readCertificate(env.fromBase64(h)));
  const sealed = await env.sealPart(env.fromBase64(plaintext), binding, cert, hs, k);
  return env.base64(sealed);
}"""


def _binding(manifest_sha256: str) -> BidBinding:
    return BidBinding(
        tender=BINDING["tender"],
        lot=BINDING["lot"],
        bidder=BINDING["bidder"],
        deadline=datetime.fromisoformat(DEADLINE),
        manifest_sha256=manifest_sha256,
    )


@pytest.mark.parametrize("kind", ["p256", "p384", "rsa2048"])
async def test_a_part_sealed_in_the_page_opens_with_the_platforms_python(page: Any, pki: DevPki, kind: KeyKind) -> None:
    bidder = _issue(pki, kind)
    manifest_sha256 = hashlib.sha256(b"inner manifest").hexdigest()
    plaintext = "开标一览表 PAGE-MARKER ".encode() * 50
    der = base64.b64decode(
        await page.evaluate(
            SEAL,
            {
                "plaintext": _b64(plaintext),
                "binding": {**BINDING, "manifestSha256": manifest_sha256},
                "bidder": _b64(bidder.cert_der),
                "holders": [],
                "k": 0,
            },
        )
    )
    sealed = sealed_bid.parse(der)
    assert isinstance(sealed, cms_env.CmsSealedBid)
    assert sealed.binding == _binding(manifest_sha256)
    assert sealed.binding_authenticated
    assert sealed.escrow is None
    assert sealed.tag_length == 16
    assert sealed.header()["version"] == 2
    assert sealed_bid.open_as_bidder(sealed, bidder.key, _binding(manifest_sha256)) == plaintext  # type: ignore[arg-type]
    # Re-encoding the parsed pieces gives the same bytes: the DER is the one the platform writes.
    assert sealed.to_bytes() == der
    other = _issue(pki, kind)
    with pytest.raises(Exception, match="does not open"):
        sealed_bid.open_as_bidder(sealed, other.key, _binding(manifest_sha256))  # type: ignore[arg-type]


async def test_the_page_splits_the_key_among_key_holders_as_the_cli_does(page: Any, pki: DevPki) -> None:
    bidder = _issue(pki, "p256")
    holders = [_issue(pki, "p256", "持钥人甲"), _issue(pki, "rsa2048", "持钥人乙"), _issue(pki, "p384", "持钥人丙")]
    manifest_sha256 = hashlib.sha256(b"inner").hexdigest()
    plaintext = b"package bytes" * 100
    der = base64.b64decode(
        await page.evaluate(
            SEAL,
            {
                "plaintext": _b64(plaintext),
                "binding": {**BINDING, "manifestSha256": manifest_sha256},
                "bidder": _b64(bidder.cert_der),
                "holders": [_b64(h.cert_der) for h in holders],
                "k": 2,
            },
        )
    )
    sealed = sealed_bid.parse(der)
    assert isinstance(sealed, cms_env.CmsSealedBid)
    assert sealed.threshold == 2
    assert sealed.holder_fingerprints == tuple(h.fingerprint for h in holders)
    expected = _binding(manifest_sha256)
    shares = [
        sealed_bid.release_share(sealed, holder.certificate, holder.key, expected)  # type: ignore[arg-type]
        for holder in holders
    ]
    dek = sealed_bid.unwrap_content_key(sealed, bidder.key, expected)  # type: ignore[arg-type]
    for pair in ((0, 1), (1, 2), (0, 2)):
        assert sealed_bid.content_key_from_shares(sealed, [shares[i] for i in pair], expected) == dek
    with pytest.raises(Refused):  # one share of two rebuilds nothing
        threshold.combine(shares[:1])
    assert sealed_bid.open_with_content_key(sealed, dek, expected) == plaintext


def _test_holder_args(identity: Identity) -> dict[str, str]:
    key = identity.key
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    curve = ""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curve = "P-384" if isinstance(key.curve, ec.SECP384R1) else "P-256"
    return {
        "pkcs8": _b64(pkcs8),
        "certificate": _b64(identity.cert_der),
        "kind": "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ec",
        "curve": curve,
    }


UNWRAP = """async ({header, holder, expected}) => {
  const env = await import("/static/js/pki/envelope.js");
  const { testKeyHolder } = await import("/test/test_keyholder.js");
  try {
    const cek = await env.unwrapContentKey(header, await testKeyHolder(holder), expected);
    return { cek: env.base64(cek) };
  } catch (error) {
    return { error: error.code || String(error) };
  }
}"""


@pytest.mark.parametrize("kind", ["p256", "p384", "rsa2048"])
async def test_the_page_unwraps_the_content_key_of_a_cli_sealed_part(page: Any, pki: DevPki, kind: KeyKind) -> None:
    bidder = _issue(pki, kind)
    holder = _issue(pki, "p256", "持钥人")
    binding = _binding(hashlib.sha256(b"m").hexdigest())
    sealed = cms_env.seal(b"price", binding, bidder=bidder.certificate, holders=[holder.certificate], threshold_k=1)
    header = json.loads(json.dumps(sealed.header()))
    expected = {"tender": binding.tender, "lot": binding.lot, "bidder": binding.bidder}
    answer = await page.evaluate(UNWRAP, {"header": header, "holder": _test_holder_args(bidder), "expected": expected})
    assert "cek" in answer, answer
    cek = base64.b64decode(answer["cek"])
    assert cek == cms_env.unwrap_content_key(sealed, bidder.key)  # type: ignore[arg-type]
    assert sealed_bid.open_with_content_key(sealed, cek, binding) == b"price"

    stranger = _issue(pki, kind)
    refused = await page.evaluate(
        UNWRAP, {"header": header, "holder": _test_holder_args(stranger), "expected": expected}
    )
    assert refused == {"error": "wrong-key"}
    moved = await page.evaluate(
        UNWRAP, {"header": header, "holder": _test_holder_args(bidder), "expected": {**expected, "lot": "002"}}
    )
    assert moved == {"error": "binding-mismatch"}


BUILD = """async ({files, bidder, holders, k, price, binding}) => {
  const env = await import("/static/js/pki/envelope.js");
  const built = await env.buildContainer({
    ...binding,
    files: files.map((f) => ({ name: f.name, data: env.fromBase64(f.data) })),
    price, guarantee: { form: "guarantee", reference: "BH-1" },
    signer: null, encryption: env.fromBase64(bidder),
    keyHolders: holders.map((h) => env.fromBase64(h)), threshold: k,
    sign: async (data) => env.utf8("not a signature"),
  });
  return { container: env.base64(built.container), sha256: built.sha256 };
}"""


async def test_a_container_built_in_the_page_has_the_clis_format(page: Any, pki: DevPki, tmp_path: Path) -> None:
    bidder = _issue(pki, "p256")
    holders = [_issue(pki, "p256", "持钥人甲"), _issue(pki, "p256", "持钥人乙")]
    files = [("技术标.txt", "技术标 PAGE-MARKER\n".encode() * 1000), ("商务标.pdf", b"%PDF-1.7 fake" * 10)]
    answer = await page.evaluate(
        BUILD,
        {
            "files": [{"name": n, "data": _b64(d)} for n, d in files],
            "bidder": _b64(bidder.cert_der),
            "holders": [_b64(h.cert_der) for h in holders],
            "k": 2,
            "binding": BINDING,
            "price": {"totalPrice": "1,234,567.895", "durationDays": 180, "items": [["土建", "1000"]]},
        },
    )
    data = base64.b64decode(answer["container"])
    assert hashlib.sha256(data).hexdigest() == answer["sha256"]
    path = tmp_path / "bid.zip"
    path.write_bytes(data)
    layout = fmt.inspect_container(path, max_package_bytes=10 * 1024 * 1024)
    assert set(layout.entries) == fmt.ENTRY_NAMES
    with zipfile.ZipFile(path) as archive:
        assert [i.filename for i in archive.infolist()] == [
            "price-summary.sealed",
            "package.sealed",
            "manifest.json",
            "manifest.p7s",
        ]
        assert archive.testzip() is None
        manifest_bytes = archive.read("manifest.json")
        parts = {kind: archive.read(name) for kind, name in fmt.PART_NAMES.items()}
    manifest = fmt.parse_manifest(manifest_bytes)
    assert manifest_bytes == json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert manifest["deadline"] == DEADLINE
    assert datetime.fromisoformat(manifest["createdAt"]).utcoffset() == timedelta(0)
    _, digests = fmt.digest_parts(path, layout)
    binding = None
    plains = {}
    for kind, sealed_bytes in parts.items():
        assert manifest["parts"][kind]["sha256"] == digests[fmt.PART_NAMES[kind]]
        assert manifest["parts"][kind]["size"] == len(sealed_bytes)
        sealed = sealed_bid.parse(sealed_bytes)
        assert isinstance(sealed, cms_env.CmsSealedBid)
        assert sealed.threshold == 2
        binding = sealed.binding
        plains[kind] = sealed_bid.open_as_bidder(sealed, bidder.key, binding)  # type: ignore[arg-type]
        assert hashlib.sha256(plains[kind]).hexdigest() == manifest["contentSha256"][kind]
    summary = json.loads(plains[fmt.PRICE_SUMMARY])
    assert summary["totalPrice"] == "1234567.90"
    assert summary["items"] == [{"name": "土建", "price": "1000.00"}]
    assert summary["durationDays"] == 180
    assert {key: summary[key] for key in ("tender", "lot", "bidder")} == {
        key: BINDING[key] for key in ("tender", "lot", "bidder")
    }
    with zipfile.ZipFile(io.BytesIO(plains[fmt.PACKAGE])) as inner:
        assert inner.namelist()[0] == "manifest.json"
        inner_manifest = inner.read("manifest.json")
        for name, content in files:
            assert inner.read(name) == content
    assert binding is not None
    assert binding.manifest_sha256 == hashlib.sha256(inner_manifest).hexdigest()
    opened = check_package(plains[fmt.PACKAGE], binding, content_sha256=manifest["contentSha256"][fmt.PACKAGE])
    assert opened.manifest["priceSummarySha256"] == manifest["contentSha256"][fmt.PRICE_SUMMARY]
    assert opened.manifest["guarantee"] == {"form": "guarantee", "reference": "BH-1"}
    assert [(f["name"], f["size"]) for f in opened.manifest["files"]] == [(n, len(d)) for n, d in files]


UNWRAP_P12 = """async ({header, p12, password, expected}) => {
  const env = await import("/static/js/pki/envelope.js");
  const { openPkcs12 } = await import("/static/js/pki/pkcs12.js");
  const holder = await openPkcs12(env.fromBase64(p12), password);
  const cek = await env.unwrapContentKey(header, holder, expected);
  return env.base64(cek);
}"""


@pytest.mark.parametrize("kind", ["p256", "p384", "rsa2048"])
async def test_a_pkcs12_opened_in_the_page_unwraps_what_the_cli_sealed(page: Any, pki: DevPki, kind: KeyKind) -> None:
    """The real key holder (pkcs12.js: non-extractable WebCrypto keys) with envelope.js."""
    bidder = _issue(pki, kind)
    binding = _binding(hashlib.sha256(b"m").hexdigest())
    sealed = cms_env.seal(b"price", binding, bidder=bidder.certificate)
    cek = await page.evaluate(
        UNWRAP_P12,
        {
            "header": json.loads(json.dumps(sealed.header())),
            "p12": _b64(bidder.pkcs12(b"pw-\xe5\xaf\x86")),
            "password": "pw-密",
            "expected": {"tender": binding.tender, "lot": binding.lot, "bidder": binding.bidder},
        },
    )
    assert base64.b64decode(cek) == cms_env.unwrap_content_key(sealed, bidder.key)  # type: ignore[arg-type]
