from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from certs import algorithms as algs
from certs import cms
from certs.cms import SigningIdentity, to_asn1, verify_signed_data
from certs.devpki.pki import DevPki, Identity, new_key
from certs.errors import Reason, Refused
from certs.providers.pyca import PycaSigner
from certs.sign import cades
from tests.certs.external import run, write

BID = "投标文件 — 南京示例建设工程有限公司\n".encode() * 200


def openssl_cms_verify(tmp_path, signature: bytes, data: bytes, identity: Identity):
    write(tmp_path / "root.pem", identity.root.public_bytes(serialization.Encoding.PEM))
    return run(
        "openssl",
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        write(tmp_path / "x.p7s", signature),
        "-content",
        write(tmp_path / "x.bin", data),
        "-CAfile",
        tmp_path / "root.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    )


@pytest.mark.parametrize("who", ["org_sign", "anhui_org_sign", "person_sign"])
async def test_detached_signature_verifies_with_openssl(pki: DevPki, tsa, tmp_path, who: str) -> None:
    identity: Identity = getattr(pki, who)
    signature = await cades.sign_detached(BID, identity.signing(), signing_time=datetime.now(UTC), tsa=tsa)
    result = openssl_cms_verify(tmp_path, signature, BID, identity)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    verified = cades.verify_detached(BID, signature, require_timestamp=True)
    assert verified.signer_certificate == identity.certificate
    assert verified.timestamp is not None
    assert verified.best_signature_time == verified.timestamp.gen_time
    # openssl refuses the signature over altered data, as we do
    assert openssl_cms_verify(tmp_path, signature, BID + b"x", identity).returncode != 0
    with pytest.raises(Refused) as info:
        cades.verify_detached(BID + b"x", signature)
    assert info.value.reason is Reason.DIGEST_MISMATCH


async def test_signature_carries_cades_attributes_per_openssl(pki: DevPki, tsa, tmp_path) -> None:
    signature = await cades.sign_detached(BID, pki.org_sign.signing(), signing_time=datetime.now(UTC), tsa=tsa)
    printed = run(
        "openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", write(tmp_path / "s.p7s", signature), check=True
    ).stdout
    for expected in (
        "signingTime",
        "messageDigest",
        "id-smime-aa-signingCertificateV2",
        "id-smime-aa-timeStampToken",
        "ecdsa-with-SHA256",
    ):
        assert expected in printed


async def test_ed25519_and_rsa_pss_signers(pki: DevPki, tmp_path) -> None:
    key = new_key("ed25519")
    person = pki.jiangsu_ca.issue(
        pki.person_sign.certificate.subject,
        key=key,
        not_before=pki.person_sign.certificate.not_valid_before_utc,
        not_after=pki.person_sign.certificate.not_valid_after_utc,
    )
    signature = await cades.sign_detached(b"record", person.signing())
    assert cades.verify_detached(b"record", signature).algorithm is algs.ED25519
    # OpenSSL 3.0's CMS cannot verify Ed25519 (RFC 8419) signatures ("eddsa … invalid digest"); pyHanko can
    context = ValidationContext(trust_roots=[to_asn1(person.root)], allow_fetching=False, revocation_mode="soft-fail")
    status = await async_validate_detached_cms(
        b"record", asn1_cms.ContentInfo.load(signature)["content"], signer_validation_context=context
    )
    assert status.intact
    assert status.valid
    assert status.trusted
    del tmp_path
    pss = await cades.sign_detached(b"record", pki.anhui_org_sign.signing())
    assert cades.verify_detached(b"record", pss).algorithm is algs.RSA_PSS_SHA256


async def test_pyhanko_validator_agrees(pki: DevPki, tsa) -> None:
    signature = await cades.sign_detached(BID, pki.org_sign.signing(), signing_time=datetime.now(UTC), tsa=tsa)
    signed_data = asn1_cms.ContentInfo.load(signature)["content"]
    roots = [to_asn1(pki.org_sign.root), to_asn1(pki.tsa.root)]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    status = await async_validate_detached_cms(
        BID, signed_data, signer_validation_context=context, ts_validation_context=context
    )
    assert status.intact, status.pretty_print_details()
    assert status.valid
    assert status.trusted
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact
    bad = await async_validate_detached_cms(BID + b"x", signed_data, signer_validation_context=context)
    assert not bad.intact


async def test_records_sign_their_canonical_bytes(pki: DevPki, tsa) -> None:
    record = {"tender": "JS-2026-0001", "bidder": pki.org_uscc, "amount": "12340000.00", "名称": "开标记录"}
    signed = await cades.sign_record(record, pki.platform_signer.signing(), tsa=tsa)
    assert (
        signed.data
        == '{"amount":"12340000.00","bidder":"%s","tender":"JS-2026-0001","名称":"开标记录"}'.encode()
        % pki.org_uscc.encode()
    )
    assert signed.record() == record
    cades.verify_detached(signed.data, signed.signature)
    with pytest.raises(ValueError, match="floats"):
        await cades.sign_record({"amount": 1.5}, pki.platform_signer.signing())


async def test_tampered_signature_and_missing_timestamp(pki: DevPki) -> None:
    signature = bytearray(await cades.sign_detached(b"data", pki.org_sign.signing()))
    with pytest.raises(Refused) as info:
        cades.verify_detached(b"data", bytes(signature), require_timestamp=True)
    assert info.value.reason is Reason.TIMESTAMP_MISSING
    signature[-5] ^= 0x01  # inside the signature value
    with pytest.raises(Refused) as info:
        cades.verify_detached(b"data", bytes(signature))
    assert info.value.reason in {Reason.BAD_SIGNATURE, Reason.MALFORMED}
    with pytest.raises(Refused) as info:
        cades.verify_detached(b"data", b"\x30\x03\x02\x01\x01")
    assert info.value.reason is Reason.MALFORMED


async def test_substituted_signer_certificate_is_refused(pki: DevPki) -> None:
    # same key, different certificate: the signing-certificate-v2 attribute names the original one
    twin = pki.jiangsu_ca.issue(
        pki.org_sign.certificate.subject,
        key=pki.org_sign.key,
        not_before=pki.now,
        not_after=pki.org_sign.certificate.not_valid_after_utc,
    )
    prepared = await cades.sign_detached(
        b"data", SigningIdentity(pki.org_sign.signing().signer, pki.org_sign.certificate, ())
    )
    swapped = prepared.replace(pki.org_sign.cert_der, twin.cert_der)
    assert swapped != prepared
    with pytest.raises(Refused):
        cades.verify_detached(b"data", swapped)


def pyhanko_cli_validate(tmp_path, signature: bytes, data: bytes, *roots) -> object:
    """``pyhanko sign validate --detached``: the CLI's check of a detached CMS/CAdES signature over a file."""
    trust = []
    for index, root in enumerate(roots):
        trust += ["--trust", write(tmp_path / f"root{index}.pem", root.public_bytes(serialization.Encoding.PEM))]
    cli = Path(sys.executable).with_name("pyhanko")
    # offline: the development CAs' CRL URLs do not resolve, so revocation is left to certs.pathval
    return run(
        cli,
        "sign",
        "validate",
        "--no-revocation-check",
        *trust,
        "--trust-replace",
        "--detached",
        write(tmp_path / "x.p7s", signature),
        write(tmp_path / "x.bin", data),
    )


def rsa_pkcs1(identity: Identity) -> SigningIdentity:
    return SigningIdentity(PycaSigner(identity.key, algs.RSA_PKCS1_SHA256), identity.certificate, identity.chain)


@pytest.mark.parametrize(
    ("who", "pick"),
    [
        ("org_sign", Identity.signing),  # ECDSA P-256
        ("anhui_org_sign", Identity.signing),  # RSA-PSS
        ("anhui_org_sign", rsa_pkcs1),  # RSA PKCS#1 v1.5
    ],
    ids=["ecdsa-p256", "rsa-pss", "rsa-pkcs1"],
)
async def test_pyhanko_cli_and_openssl_verify_the_asn1crypto_built_signature(
    pki: DevPki, tsa, tmp_path, who: str, pick
) -> None:
    identity: Identity = getattr(pki, who)
    signature = await cades.sign_detached(BID, pick(identity), tsa=tsa)
    result = pyhanko_cli_validate(tmp_path, signature, BID, identity.root, pki.tsa.root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>" in result.stdout
    assert openssl_cms_verify(tmp_path, signature, BID, identity).returncode == 0
    altered = pyhanko_cli_validate(tmp_path, signature, BID + b"x", identity.root, pki.tsa.root)
    assert altered.returncode != 0
    assert "INVALID" in altered.stdout + altered.stderr


async def test_b_b_signature_carries_signing_time_without_being_told(pki: DevPki, tmp_path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    signature = await cades.sign_detached(BID, pki.org_sign.signing())
    after = datetime.now(UTC)
    verified = cades.verify_detached(BID, signature)
    assert verified.timestamp is None
    assert verified.signing_time is not None
    assert before <= verified.signing_time <= after
    printed = run(
        "openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", write(tmp_path / "s.p7s", signature), check=True
    ).stdout
    assert "signingTime" in printed
    # a caller's own time (a record's issue time) is the one stated
    stated = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert (
        cades.verify_detached(
            BID, await cades.sign_detached(BID, pki.org_sign.signing(), signing_time=stated)
        ).signing_time
        == stated
    )


async def test_signed_data_is_rfc_5652_and_cades_b_b(pki: DevPki, tsa) -> None:
    signature = await cades.sign_detached(BID, pki.org_sign.signing(), tsa=tsa)
    info = asn1_cms.ContentInfo.load(signature)
    assert info["content_type"].native == "signed_data"
    signed_data = info["content"]
    assert signed_data["version"].native == "v1"
    assert signed_data["encap_content_info"]["content_type"].native == "data"
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    assert [a["algorithm"].native for a in signed_data["digest_algorithms"]] == ["sha256"]
    (signer_info,) = signed_data["signer_infos"]
    assert signer_info["version"].native == "v1"
    assert signer_info["sid"].name == "issuer_and_serial_number"
    signed_attrs = signer_info["signed_attrs"]
    assert sorted(a["type"].native for a in signed_attrs) == [
        "content_type",
        "message_digest",
        "signing_certificate_v2",
        "signing_time",
    ]
    # DER: a SET OF is sorted by the encodings of its elements
    encodings = [a.dump() for a in signed_attrs]
    assert encodings == sorted(encodings)
    ess = next(a for a in signed_attrs if a["type"].native == "signing_certificate_v2")["values"][0]
    assert ess["certs"][0]["cert_hash"].native == hashlib.sha256(pki.org_sign.cert_der).digest()
    assert [a["type"].native for a in signer_info["unsigned_attrs"]] == ["signature_time_stamp_token"]
    token = signer_info["unsigned_attrs"][0]["values"][0]["content"]
    assert token["version"].native == "v3"  # RFC 5652 §5.1: the content is not id-data
    assert token["encap_content_info"]["content_type"].native == "tst_info"


@pytest.mark.parametrize(("who", "attached"), [("org_sign", False), ("anhui_org_sign", True)])
def test_signatures_made_by_openssl_verify_here(pki: DevPki, tmp_path, who: str, attached: bool) -> None:  # noqa: FBT001
    # the verifier reads CMS built by another implementation (OpenSSL's CAdES-BES: ECDSA detached,
    # RSA PKCS#1 v1.5 with the content inside)
    identity: Identity = getattr(pki, who)
    key = identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    run(
        "openssl",
        "cms",
        "-sign",
        "-binary",
        "-cades",
        "-md",
        "sha256",
        *(["-nodetach"] if attached else []),
        "-outform",
        "DER",
        "-in",
        write(tmp_path / "x.bin", BID),
        "-signer",
        write(tmp_path / "signer.pem", identity.certificate.public_bytes(serialization.Encoding.PEM)),
        "-inkey",
        write(tmp_path / "signer.key", key),
        "-out",
        tmp_path / "x.p7s",
        check=True,
    )
    signature = (tmp_path / "x.p7s").read_bytes()
    verified = verify_signed_data(signature, detached_content=None if attached else BID)
    assert verified.content == BID
    assert verified.signer_certificate == identity.certificate
    assert verified.signing_time is not None
    with pytest.raises(Refused) as info:
        verify_signed_data(signature, detached_content=BID + b"x")
    assert info.value.reason is Reason.DIGEST_MISMATCH


def _flipped(der: bytes, value: bytes) -> bytes:
    """``der`` with the last byte of ``value`` (a signature value inside it) changed."""
    assert der.count(value) == 1
    return der.replace(value, value[:-1] + bytes([value[-1] ^ 0x01]))


async def test_what_is_cached_by_der_leaves_every_signature_checked(pki: DevPki, tsa) -> None:
    # The verifier caches the signer's and the TSA's certificates, identifiers and repeating
    # attributes by their exact DER; a second signature of the same signer, with the same TSA,
    # must still have its digest, its signature, its token and its signer binding checked.
    identity = pki.org_sign.signing()
    good = await cades.sign_detached(b"first", identity, tsa=tsa)
    cades.verify_detached(b"first", good, require_timestamp=True)
    other = await cades.sign_detached(b"second", identity, tsa=tsa)
    assert cades.verify_detached(b"second", other, require_timestamp=True).timestamp is not None

    with pytest.raises(Refused) as info:
        cades.verify_detached(b"first", other)
    assert info.value.reason is Reason.DIGEST_MISMATCH
    signed = verify_signed_data(other, detached_content=b"second")
    with pytest.raises(Refused) as info:
        cades.verify_detached(b"second", _flipped(other, signed.signature.value))
    assert info.value.reason is Reason.BAD_SIGNATURE
    [token] = [bytes(t.dump()) for t in cms.unsigned_attribute(signed.signer_info, cades.SIGNATURE_TIMESTAMP)]
    stamped = verify_signed_data(token)
    with pytest.raises(Refused) as info:
        cades.verify_detached(b"second", _flipped(other, stamped.signature.value))
    assert info.value.reason is Reason.TIMESTAMP_INVALID
