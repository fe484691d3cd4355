from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from certs import algorithms as algs
from certs.cms import SigningIdentity, to_asn1
from certs.errors import Reason, Refused
from certs.sign import cades
from certs.testing.pki import DevPki, Identity, new_key
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
