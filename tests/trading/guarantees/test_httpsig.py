"""The guarantor API's RFC 9421 profile without a server: signatures made here verify with plain
``cryptography`` over a signature base written out by hand (RFC 9421 §2.5), and the reverse, so an
implementation that only agrees with itself would fail; then each refusal code, and the callbacks the
platform signs for guarantors.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from certs.devpki.pki import DevPki, build_dev_pki
from certs.providers.pyca import PycaSigner
from trading.guarantees import httpsig
from trading.guarantees.httpsig import Refusal, SignatureRefused

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
URL = "https://ggzy.example.cn/api/v1/guarantor/applications/A-1/issue?lot=2"
BODY = b'{"amount":"20000.00","currency":"CNY"}'


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki(NOW - timedelta(days=1))


def _signed(pki: DevPki, body: bytes = BODY, **changes: object) -> dict[str, str]:
    arguments: dict[str, object] = {
        "method": "POST",
        "url": URL,
        "headers": {"Content-Type": "application/json", "Idempotency-Key": "issue-A-1"},
        "body": body,
        "key": _ec_key(pki),
        "certificate": pki.guarantor.certificate,
        "now": NOW,
    } | changes
    return httpsig.sign_request(**arguments)  # type: ignore[arg-type]


def _ec_key(pki: DevPki) -> ec.EllipticCurvePrivateKey:
    key = pki.guarantor.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)  # the dev guarantor's key is P-256
    return key


def _verify(pki: DevPki, headers: dict[str, str], body: bytes = BODY, *, now: datetime = NOW) -> httpsig.Verified:
    known = {httpsig.key_id(pki.guarantor.certificate): pki.guarantor.certificate}
    # The server sees the request behind the TLS terminator: another scheme and host, same path and query.
    return httpsig.verify_request(
        method="POST",
        url="http://127.0.0.1:8000/api/v1/guarantor/applications/A-1/issue?lot=2",
        headers=list(headers.items()),
        body=body,
        resolve=known.get,
        now=now,
    )


def _refusal(pki: DevPki, headers: dict[str, str], body: bytes = BODY, *, now: datetime = NOW) -> Refusal:
    with pytest.raises(SignatureRefused) as caught:
        _verify(pki, headers, body, now=now)
    return caught.value.code


def _base_by_hand(headers: dict[str, str], params: str) -> bytes:
    """RFC 9421 §2.5 written out: one line per covered component, then ``@signature-params``."""
    lines = [
        '"@method": POST',
        '"@path": /api/v1/guarantor/applications/A-1/issue',
        '"@query": ?lot=2',
        f'"content-digest": {headers["Content-Digest"]}',
        f'"content-type": {headers["Content-Type"]}',
        f'"idempotency-key": {headers["Idempotency-Key"]}',
        f'"@signature-params": {params}',
    ]
    return "\n".join(lines).encode()


def test_a_signature_verifies_against_a_base_built_by_hand(pki: DevPki) -> None:
    headers = _signed(pki, nonce="n-1")
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Content-Digest"] == f"sha-256=:{digest}:"  # RFC 9530
    label, _, params = headers["Signature-Input"].partition("=")
    assert label == "ggzy"
    kid = httpsig.key_id(pki.guarantor.certificate)
    assert params == (
        '("@method" "@path" "@query" "content-digest" "content-type" "idempotency-key")'
        f';created={int(NOW.timestamp())};keyid="{kid}";alg="ecdsa-p256-sha256"'
        f';expires={int(NOW.timestamp()) + 300};nonce="n-1";tag="ggzy-guarantor-api"'
    )
    raw = base64.b64decode(headers["Signature"].removeprefix("ggzy=:").removesuffix(":"))
    assert len(raw) == 64  # RFC 9421 §3.3.4: r || s, 32 bytes each, not DER
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key = pki.guarantor.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der, _base_by_hand(headers, params), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public_key.verify(der, _base_by_hand(headers, params).replace(b"lot=2", b"lot=3"), ec.ECDSA(hashes.SHA256()))


def test_a_signature_made_by_hand_is_accepted(pki: DevPki) -> None:
    """What a bank's own system would do from the documentation, without this module or the package."""
    kid = httpsig.key_id(pki.guarantor.certificate)
    created = int(NOW.timestamp()) - 10
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "by-hand-1",
        "Content-Digest": "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":",
    }
    params = (
        '("@method" "@path" "@query" "content-digest" "content-type" "idempotency-key")'
        f';created={created};expires={created + 60};keyid="{kid}";nonce="hand-made-nonce";tag="ggzy-guarantor-api"'
    )
    key = pki.guarantor.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(_base_by_hand(headers, params), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    headers |= {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{base64.b64encode(raw).decode()}:"}
    verified = _verify(pki, headers)
    assert (verified.key_id, verified.nonce, verified.idempotency_key) == (kid, "hand-made-nonce", "by-hand-1")
    assert verified.remember_until == datetime.fromtimestamp(created, UTC) + httpsig.CLOCK_WINDOW


def test_each_way_a_request_fails_has_its_code(pki: DevPki) -> None:
    good = _signed(pki)
    assert _verify(pki, good).idempotency_key == "issue-A-1"
    unsigned = {k: v for k, v in good.items() if k not in ("Signature", "Signature-Input")}
    assert _refusal(pki, unsigned) == Refusal.UNSIGNED
    assert _refusal(pki, good, BODY.replace(b"20000", b"90000")) == Refusal.DIGEST_MISMATCH
    # The body changed and its digest recomputed: the signature over the digest no longer holds.
    forged_body = BODY.replace(b"20000", b"90000")
    forged = good | {"Content-Digest": httpsig.content_digest(forged_body)}
    assert _refusal(pki, forged, forged_body) == Refusal.SIGNATURE_INVALID
    assert _refusal(pki, good | {"Idempotency-Key": "another"}) == Refusal.SIGNATURE_INVALID
    # Another organisation's key claiming the guarantor's certificate.
    wrong_key = _signed(pki, key=pki.org_sign.key)
    assert _refusal(pki, wrong_key) == Refusal.SIGNATURE_INVALID
    # A certificate the verifier does not know.
    stranger = _signed(pki, key=pki.org_sign.key, certificate=pki.org_sign.certificate)
    assert _refusal(pki, stranger) == Refusal.KEY_UNKNOWN
    assert _refusal(pki, good, now=NOW + timedelta(seconds=301)) == Refusal.EXPIRED
    assert _refusal(pki, good, now=NOW - timedelta(seconds=301)) == Refusal.EXPIRED
    assert _verify(pki, good, now=NOW + timedelta(seconds=299)).created == NOW


def test_a_signature_that_leaves_out_a_required_component_is_refused(pki: DevPki) -> None:
    kid = httpsig.key_id(pki.guarantor.certificate)
    created = int(NOW.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "k",
        "Content-Digest": httpsig.content_digest(BODY),
    }
    params = (
        '("@method" "@path" "@query" "content-digest" "content-type")'
        f';created={created};keyid="{kid}";nonce="x";tag="ggzy-guarantor-api"'
    )
    base = "\n".join([*_base_by_hand(headers, params).decode().splitlines()[:5], f'"@signature-params": {params}'])
    key = pki.guarantor.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(base.encode(), ec.ECDSA(hashes.SHA256())))
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    headers |= {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{raw}:"}
    with pytest.raises(SignatureRefused) as caught:
        _verify(pki, headers)
    assert caught.value.code == Refusal.COMPONENT_MISSING
    assert "idempotency-key" in caught.value.detail
    without_nonce = params.replace(';nonce="x"', "")
    no_nonce = headers | {"Signature-Input": f"sig1={without_nonce}"}
    assert _refusal(pki, no_nonce) == Refusal.COMPONENT_MISSING


def test_rsa_pss_keys_sign_and_verify(pki: DevPki) -> None:
    rsa_identity = pki.anhui_org_sign  # RSA 2048
    headers = _signed(pki, key=rsa_identity.key, certificate=rsa_identity.certificate)
    assert 'alg="rsa-pss-sha512"' in headers["Signature-Input"]
    verified = httpsig.verify_request(
        method="POST",
        url=URL,
        headers=list(headers.items()),
        body=BODY,
        resolve={httpsig.key_id(rsa_identity.certificate): rsa_identity.certificate}.get,
        now=NOW,
    )
    assert verified.certificate == rsa_identity.certificate
    _, _, params = headers["Signature-Input"].partition("=")
    raw = base64.b64decode(headers["Signature"].removeprefix("ggzy=:").removesuffix(":"))
    public_key = rsa_identity.certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    public_key.verify(raw, _base_by_hand(headers, params), pss, hashes.SHA512())


def test_a_callback_verifies_with_the_platform_certificate_and_fails_when_altered(pki: DevPki) -> None:
    platform = pki.platform_signer
    url = "https://bank.example.com/ggzy/callback"
    body = b'{"application":"A-1","status":"released"}'
    # The worker signs through a `certs` signer (as the platform's PKCS#12 identity is loaded).
    headers = httpsig.sign_callback(
        url=url,
        headers={"Content-Type": "application/json", "Idempotency-Key": "delivery-7"},
        body=body,
        key=PycaSigner(platform.key),
        certificate=platform.certificate,
        now=NOW,
    )
    lines = list(headers.items())
    verified = httpsig.verify_callback(
        url=url, headers=lines, body=body, platform_certificate=platform.certificate, now=NOW
    )
    assert verified.idempotency_key == "delivery-7"
    with pytest.raises(SignatureRefused) as caught:
        httpsig.verify_callback(
            url=url,
            headers=lines,
            body=body.replace(b"released", b"claimed"),
            platform_certificate=platform.certificate,
            now=NOW,
        )
    assert caught.value.code == Refusal.DIGEST_MISMATCH
    with pytest.raises(SignatureRefused) as caught:
        httpsig.verify_callback(
            url=url, headers=lines, body=body, platform_certificate=pki.guarantor.certificate, now=NOW
        )
    assert caught.value.code == Refusal.KEY_UNKNOWN
    # A callback is no request: presented to the API (even with the platform's key known) it is refused.
    with pytest.raises(SignatureRefused) as caught:
        httpsig.verify_request(
            method="POST",
            url=url,
            headers=lines,
            body=body,
            resolve={httpsig.key_id(platform.certificate): platform.certificate}.get,
            now=NOW,
        )
    assert caught.value.code == Refusal.SIGNATURE_INVALID


def test_signing_refuses_an_unsafe_request_without_its_headers(pki: DevPki) -> None:
    with pytest.raises(ValueError, match="idempotency-key"):
        _signed(pki, headers={"Content-Type": "application/json"})
    get = httpsig.sign_request(
        method="GET",
        url="https://ggzy.example.cn/api/v1/guarantor/applications?after=5",
        headers={},
        body=b"",
        key=_ec_key(pki),
        certificate=pki.guarantor.certificate,
        now=NOW,
    )
    assert get["Signature-Input"].startswith('ggzy=("@method" "@path" "@query" "content-digest");')
