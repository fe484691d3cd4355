"""Sealed bids as CMS AuthEnvelopedData: OpenSSL opens what the platform seals (EC and RSA-OAEP
recipients), the platform opens what OpenSSL seals once bound, the binding rides in the key
delivery (KARI ukm / OAEP label) so it cannot be changed without breaking the key, and escrow
shares are each their own envelope to one key holder.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from certs.devpki.pki import DevPki, Identity
from certs.envelope import cms_env
from certs.envelope.sealed_bid import (
    BidBinding,
    content_key_from_shares,
    open_as_bidder,
    open_with_content_key,
    parse,
    parse_header,
    release_share,
    seal,
    unwrap_content_key,
)
from certs.errors import Reason, Refused
from tests.certs.external import run, write

PLAINTEXT = "开标一览表：人民币壹仟贰佰叁拾肆万元整 (12,340,000.00)".encode() * 50
DEADLINE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def binding(pki: DevPki, tender: str = "JS-2026-0001") -> BidBinding:
    return BidBinding(tender=tender, lot="1", bidder=pki.org_uscc, deadline=DEADLINE, manifest_sha256="cd" * 32)


def recipient(pki: DevPki, kind: str) -> Identity:
    return pki.org_enc if kind == "ec" else pki.anhui_org_enc


def openssl_decrypt(tmp_path: Path, der: bytes, identity: Identity) -> bytes:
    envelope = write(tmp_path / "part.der", der)
    key = write(tmp_path / "key.pem", identity.key_pem)
    out = tmp_path / "plain.bin"
    run(
        "openssl",
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        envelope,
        "-inkey",
        key,
        "-out",
        out,
        check=True,
    )
    return out.read_bytes()


def openssl_encrypt(tmp_path: Path, plaintext: bytes, identity: Identity, *extra: str) -> bytes:
    source = write(tmp_path / "plain.in", plaintext)
    cert = write(tmp_path / "recipient.pem", identity.cert_pem)
    out = tmp_path / "openssl.der"
    options: list[str] = []
    if isinstance(identity.certificate.public_key(), rsa.RSAPublicKey):
        options = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]
    run(
        "openssl", "cms", "-encrypt", "-aes-256-gcm", "-binary", "-outform", "DER", "-in", source, "-out", out,
        "-recip", cert, *options, *extra, check=True,
    )  # fmt: skip
    return out.read_bytes()


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_openssl_opens_an_envelope_the_platform_sealed(pki: DevPki, tmp_path: Path, kind: str) -> None:
    sealed = seal(PLAINTEXT, binding(pki), bidder=recipient(pki, kind).certificate)
    assert isinstance(sealed, cms_env.CmsSealedBid)
    assert sealed.binding_authenticated
    assert openssl_decrypt(tmp_path, sealed.to_bytes(), recipient(pki, kind)) == PLAINTEXT


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("ec", ()), ("ec", ("-keyopt", "ecdh_kdf_md:sha256")), ("rsa", ())],
    ids=["ec-sha1kdf", "ec-sha256kdf", "rsa-oaep"],
)
def test_an_openssl_envelope_bound_to_the_bid_opens_with_the_content_key(
    pki: DevPki, tmp_path: Path, kind: str, extra: tuple[str, ...]
) -> None:
    identity = recipient(pki, kind)
    made = openssl_encrypt(tmp_path, PLAINTEXT, identity, *extra)
    with pytest.raises(Refused) as unbound:
        parse(made)
    assert unbound.value.reason is Reason.BINDING_MISMATCH
    bound = cms_env.bind(made, binding(pki))
    envelope = parse(bound)
    assert isinstance(envelope, cms_env.CmsSealedBid)
    assert not envelope.binding_authenticated
    assert envelope.binding == binding(pki)
    dek = unwrap_content_key(envelope.header(), identity.key, binding(pki))  # type: ignore[arg-type]
    assert open_with_content_key(envelope, dek, binding(pki)) == PLAINTEXT
    with pytest.raises(Refused) as twice:
        cms_env.bind(bound, binding(pki))
    assert twice.value.reason is Reason.MALFORMED


def test_a_bound_openssl_envelope_carries_escrow_shares_that_open_it(pki: DevPki, tmp_path: Path) -> None:
    made = openssl_encrypt(tmp_path, PLAINTEXT, pki.org_enc)
    holders = list(pki.key_holders[:3])
    bound = cms_env.bind(
        made, binding(pki), key=pki.org_enc.key, holders=[h.certificate for h in holders], threshold_k=2
    )  # type: ignore[arg-type]
    envelope = parse(bound)
    shares = [release_share(envelope, h.certificate, h.key, binding(pki)) for h in holders[1:]]  # type: ignore[arg-type]
    assert open_with_content_key(envelope, content_key_from_shares(envelope, shares, binding(pki)), binding(pki)) == (
        PLAINTEXT
    )


def test_k_of_n_escrow_shares_each_sealed_to_their_holder(pki: DevPki) -> None:
    holders = list(pki.key_holders)
    sealed = seal(
        PLAINTEXT, binding(pki), bidder=pki.org_enc.certificate, holders=[h.certificate for h in holders], threshold_k=3
    )
    envelope = parse(sealed.to_bytes())
    assert isinstance(envelope, cms_env.CmsSealedBid)
    assert len(envelope.share_envelopes) == len(holders)
    assert envelope.threshold == 3
    for share_envelope, holder in zip(envelope.share_envelopes, holders, strict=True):
        assert isinstance(parse(share_envelope), cms_env.CmsSealedBid)  # a CMS object of its own
        with pytest.raises(Refused):
            cms_env.unwrap_content_key(parse(share_envelope), pki.org_enc.key)  # type: ignore[arg-type]
        del holder
    shares = [release_share(envelope, h.certificate, h.key, binding(pki)) for h in holders[:3]]  # type: ignore[arg-type]
    dek = content_key_from_shares(envelope, shares, binding(pki))
    assert open_with_content_key(envelope, dek, binding(pki)) == PLAINTEXT
    with pytest.raises(Refused) as short:
        content_key_from_shares(envelope, shares[:2], binding(pki))
    assert short.value.reason is Reason.NOT_ENOUGH_SHARES
    with pytest.raises(Refused) as stranger:
        release_share(envelope, pki.org_enc.certificate, pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    assert stranger.value.reason is Reason.NOT_A_RECIPIENT


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_binding_changed_in_the_key_delivery_breaks_the_key(pki: DevPki, kind: str) -> None:
    sealed = seal(PLAINTEXT, binding(pki), bidder=recipient(pki, kind).certificate)
    data = sealed.to_bytes()
    forged = data.replace(b"JS-2026-0001", b"JS-2026-0002")
    assert forged != data
    envelope = parse(forged)
    assert envelope.binding == binding(pki, "JS-2026-0002")
    with pytest.raises(Refused) as refused:
        unwrap_content_key(envelope, recipient(pki, kind).key, binding(pki, "JS-2026-0002"))  # type: ignore[arg-type]
    assert refused.value.reason is Reason.TAMPERED_CIPHERTEXT


def test_an_envelope_for_another_tender_is_refused_and_a_wrong_key_named(pki: DevPki) -> None:
    sealed = seal(PLAINTEXT, binding(pki), bidder=pki.org_enc.certificate)
    with pytest.raises(Refused) as moved:
        open_as_bidder(sealed, pki.org_enc.key, binding(pki, "JS-2026-0009"))  # type: ignore[arg-type]
    assert moved.value.reason is Reason.BINDING_MISMATCH
    with pytest.raises(Refused) as wrong:
        open_with_content_key(sealed, b"\x00" * 32, binding(pki))
    assert wrong.value.reason is Reason.TAMPERED_CIPHERTEXT
    data = bytearray(sealed.to_bytes())
    data[len(data) // 2] ^= 1
    with pytest.raises(Refused):
        open_as_bidder(parse(bytes(data)), pki.org_enc.key, binding(pki))  # type: ignore[arg-type]


def test_the_header_is_read_without_the_ciphertext_and_is_itself_cms(pki: DevPki) -> None:
    sealed = seal(PLAINTEXT, binding(pki), bidder=pki.org_enc.certificate)
    data = b"prefix" + sealed.to_bytes()
    header = cms_env.read_header(io.BytesIO(data), len(b"prefix"), len(data) - len(b"prefix"))
    assert header == sealed.header()
    assert PLAINTEXT[:16] not in data
    detached = parse_header(header)
    assert detached.binding == binding(pki)
    assert len(detached.ciphertext) == 0
    dek = unwrap_content_key(header, pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    assert open_with_content_key(sealed, dek, binding(pki)) == PLAINTEXT


def test_streamed_ber_and_other_content_types_are_refused_by_name(pki: DevPki, tmp_path: Path) -> None:
    source = write(tmp_path / "plain.in", PLAINTEXT)
    cert = write(tmp_path / "recipient.pem", pki.org_enc.cert_pem)
    streamed = tmp_path / "streamed.der"
    run("openssl", "cms", "-encrypt", "-aes-256-gcm", "-stream", "-binary", "-outform", "DER", "-in", source,
        "-out", streamed, "-recip", cert, check=True)  # fmt: skip
    with pytest.raises(Refused) as ber:
        parse(streamed.read_bytes())
    assert "indefinite-length" in ber.value.text
    enveloped = tmp_path / "cbc.der"
    run("openssl", "cms", "-encrypt", "-aes-256-cbc", "-binary", "-outform", "DER", "-in", source, "-out", enveloped,
        "-recip", cert, check=True)  # fmt: skip
    with pytest.raises(Refused) as cbc:
        parse(enveloped.read_bytes())
    assert "AuthEnvelopedData" in cbc.value.text


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_altered_envelope_is_refused_by_name_or_opens_unchanged(pki: DevPki, data: st.DataObject) -> None:
    sealed = _sealed_once(pki)
    blob = bytearray(sealed)
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(blob)))
    try:
        envelope = parse(bytes(blob[:cut]))
    except Refused:
        return
    try:
        dek = unwrap_content_key(envelope, pki.org_enc.key, envelope.binding)  # type: ignore[arg-type]
        assert open_with_content_key(envelope, dek, envelope.binding) == PLAINTEXT
    except Refused:
        pass


_SEALED: dict[str, bytes] = {}


def _sealed_once(pki: DevPki) -> bytes:
    if "ec" not in _SEALED:
        holders = [h.certificate for h in pki.key_holders[:2]]
        _SEALED["ec"] = seal(
            PLAINTEXT, binding(pki), bidder=pki.org_enc.certificate, holders=holders, threshold_k=1
        ).to_bytes()
    return _SEALED["ec"]
