from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from certs.devpki.pki import DevPki, Profile, ca_name
from certs.errors import Indication, Reason, Refused
from certs.pathval.validate import PathValidator
from certs.providers import pyca
from certs.sign import cades
from certs.sign.verify import verify_document, verify_raw
from certs.trustlist.model import Usage
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority

DATA = "开标一览表：投标总价 12,340,000.00 元".encode()


async def test_passed_report_with_evidence(pki: DevPki, tsa, validator: PathValidator) -> None:
    signature = await cades.sign_detached(DATA, pki.org_sign.signing(), signing_time=pki.now, tsa=tsa)
    report = await verify_document(DATA, signature, validator, usage=Usage.BID_SIGNATURE, require_timestamp=True)
    assert report.passed, report.message
    assert report.algorithm == "ecdsa-p256-sha256"
    assert report.timestamp_time is not None
    assert report.trust_list_sequence == 1
    assert {e.kind for e in report.evidence} == {"trust-list", "crl", "timestamp"}
    assert report.to_dict()["indication"] == "PASSED"


async def test_tampered_document_fails(pki: DevPki, tsa, validator: PathValidator) -> None:
    signature = await cades.sign_detached(DATA, pki.org_sign.signing(), tsa=tsa)
    report = await verify_document(DATA + b" ", signature, validator, usage=Usage.BID_SIGNATURE)
    assert report.indication is Indication.FAILED
    assert report.reason is Reason.DIGEST_MISMATCH


async def test_revoked_and_unrecognised_signers(pki: DevPki, tsa, validator: PathValidator) -> None:
    for identity, reason in (
        (pki.revoked, Reason.REVOKED),
        (pki.rogue_leaf, Reason.CA_NOT_RECOGNISED),  # the signature ships the rogue root
        (pki.guarantor, Reason.CA_NOT_RECOGNISED_FOR_USAGE),
        (pki.expired, Reason.EXPIRED),
    ):
        signature = await cades.sign_detached(DATA, identity.signing(), tsa=tsa)
        report = await verify_document(DATA, signature, validator, usage=Usage.BID_SIGNATURE)
        assert report.reason is reason, report.message
        assert report.signer is not None


async def test_timestamp_fixes_the_validation_time(pki: DevPki, validator: PathValidator) -> None:
    serials = itertools.count(1000)
    back_then = pki.expired.certificate.not_valid_after_utc - timedelta(days=10)
    old_tsa = LocalTsa(TimeStampAuthority(pki.tsa.signing(), clock=lambda: back_then, serials=lambda: next(serials)))
    # signed back then: the signer's clock (the claimed signing-time) agreed with the TSA's
    signature = await cades.sign_detached(DATA, pki.expired.signing(), signing_time=back_then, tsa=old_tsa)
    report = await verify_document(DATA, signature, validator, usage=Usage.BID_SIGNATURE)
    assert report.passed, report.message
    assert report.timestamp_time == back_then


async def test_timestamp_from_an_unlisted_tsa_is_refused(pki: DevPki, validator: PathValidator) -> None:
    stranger = pki.platform_ca.issue(
        ca_name("未列入信任列表的时间戳服务", "某机构", "江苏省"),
        profile=Profile.TSA,
        not_before=pki.now - timedelta(days=1),
        not_after=pki.now + timedelta(days=30),
    )
    serials = itertools.count(1)
    tsa = LocalTsa(TimeStampAuthority(stranger.signing(), clock=lambda: pki.now, serials=lambda: next(serials)))
    signature = await cades.sign_detached(DATA, pki.org_sign.signing(), tsa=tsa)
    report = await verify_document(DATA, signature, validator, usage=Usage.BID_SIGNATURE)
    assert report.reason is Reason.TIMESTAMP_INVALID
    assert "not recognised" in report.message


async def test_raw_signature_with_certificate(pki: DevPki, validator: PathValidator) -> None:
    sig = pyca.sign(pki.org_sign.key, b"challenge")
    path = await verify_raw(b"challenge", sig, pki.org_sign.certificate, validator, usage=Usage.LOGIN, at=pki.now)
    assert path.leaf == pki.org_sign.certificate
    with pytest.raises(Refused) as info:
        await verify_raw(b"other", sig, pki.org_sign.certificate, validator, usage=Usage.LOGIN, at=pki.now)
    assert info.value.reason is Reason.BAD_SIGNATURE
