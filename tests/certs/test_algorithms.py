from __future__ import annotations

from datetime import UTC, datetime

import pytest

from certs import algorithms as algs
from certs.errors import Indication, Reason, Refused, describe, indication_of
from certs.report import Evidence, VerificationReport


def test_registry_names_and_oids_are_unique() -> None:
    names = [a.name for a in algs.SIGNATURE_ALGORITHMS.values()]
    oids = [a.oid for a in algs.SIGNATURE_ALGORITHMS.values() if a.name != "rsa-pss-sha256"]
    assert len(set(names)) == len(names)
    assert len(set(oids)) == len(oids)
    assert algs.signature_algorithm("sm2-sm3").oid == "1.2.156.10197.1.501"


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(Refused) as info:
        algs.signature_algorithm("dsa-sha1")
    assert info.value.reason is Reason.UNSUPPORTED_ALGORITHM


def test_sha1_is_accepted_only_before_2009() -> None:
    policy = algs.DEFAULT_POLICY
    policy.check_signature(algs.RSA_PKCS1_SHA1, datetime(2008, 6, 1, tzinfo=UTC), rsa_bits=2048)
    with pytest.raises(Refused) as info:
        policy.check_signature(algs.RSA_PKCS1_SHA1, datetime(2026, 6, 1, tzinfo=UTC), rsa_bits=2048)
    assert info.value.reason is Reason.ALGORITHM_NOT_ACCEPTED
    assert "2009-01-01" in info.value.text


def test_short_rsa_keys_are_refused() -> None:
    with pytest.raises(Refused) as info:
        algs.DEFAULT_POLICY.check_signature(algs.RSA_PSS_SHA256, datetime(2026, 1, 1, tzinfo=UTC), rsa_bits=1024)
    assert "1024" in info.value.text


def test_every_reason_has_text_and_indication() -> None:
    for reason in Reason:
        assert describe(reason)
        assert indication_of(reason) in {Indication.FAILED, Indication.INDETERMINATE}
    assert indication_of(Reason.BAD_SIGNATURE) is Indication.FAILED
    assert indication_of(Reason.EXPIRED) is Indication.INDETERMINATE


def test_refusal_names_reason_date_and_detail() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    refusal = Refused(Reason.REVOKED, "serial 0x1234", at=at, details={"serial": "1234"})
    assert refusal.reason == "revoked"
    assert "revoked" in str(refusal)
    assert "2026-03-01" in str(refusal)
    assert refusal.details["serial"] == "1234"


def test_report_round_trips_to_json_ready_dict() -> None:
    refusal = Refused(Reason.CA_WITHDRAWN, "JSCA")
    report = VerificationReport.refused(
        refusal, algorithm="ecdsa-p256-sha256", evidence=(Evidence("crl", "x", b"\x30\x00"),)
    )
    data = report.to_dict()
    assert data["indication"] == "INDETERMINATE"
    assert data["reason"] == "ca-withdrawn"
    assert data["evidence"][0]["der"] == "MAA="
    assert not report.passed
    with pytest.raises(Refused):
        report.raise_for_refusal()
    assert VerificationReport.passed_with(signer="x").passed
