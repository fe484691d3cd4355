"""Verifying a guarantee: a valid one passes, and every forgery or mismatch is refused with its reason named.

Real signatures throughout: the development PKI's guarantor (recognised for the usage ``guarantee``),
a bidder's organisation certificate and a rogue CA's (not recognised for it), a revoked guarantor;
OpenSSL verifies the JSON's CAdES signature and poppler's pdfsig the PDF's PAdES signature.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certs.devpki.pki import Identity, make_uscc
from certs.pathval.validate import PathValidator
from certs.sign import cades
from certs.tsa.client import LocalTsa
from tests.certs.external import run, write
from tests.trading.guarantees.document.conftest import (
    BID_VALIDITY_END,
    DEADLINE,
    World,
    expectation_for,
    guarantee_for,
)
from trading.guarantees.document import (
    GuaranteeKind,
    IssuedGuarantee,
    Issuer,
    IssuerType,
    Organisation,
    issue,
    render_pdf,
    sign_guarantee,
)
from trading.guarantees.verify import GuaranteeReason, verify_guarantee


@pytest.fixture(scope="module")
async def issued(world: World, tsa: LocalTsa) -> IssuedGuarantee:
    return await issue(guarantee_for(world), world.pki.guarantor.signing(), tsa=tsa)


async def test_a_valid_guarantee_verifies_with_its_pdf(world: World, issued: IssuedGuarantee, validator) -> None:
    verdict = await verify_guarantee(issued.json, issued.cades, validator, expectation_for(world), pdf=issued.pdf)
    assert verdict.findings == ()
    assert verdict.valid
    assert verdict.guarantee == guarantee_for(world)
    assert verdict.signer is not None
    assert verdict.signer.identifier == world.guarantor_uscc
    assert verdict.report is not None
    assert verdict.report.passed
    assert verdict.report.timestamp_time is not None  # CAdES-B-T: trust is judged at the timestamp
    assert [r.passed for r in verdict.pdf_reports] == [True]


async def test_the_public_check_needs_no_expectation(world: World, issued: IssuedGuarantee, validator) -> None:
    verdict = await verify_guarantee(issued.json, issued.cades, validator)
    assert verdict.valid
    # the guarantor CA is recognised for Jiangsu only: another region's tender does not accept it
    elsewhere = await verify_guarantee(issued.json, issued.cades, validator, region="CN-34")
    assert elsewhere.reasons == (GuaranteeReason.ISSUER_NOT_RECOGNISED,)


async def _verify(world: World, validator: PathValidator, signer: Identity, tsa: LocalTsa | None = None, **changes):  # type: ignore[no-untyped-def]
    signed = await sign_guarantee(guarantee_for(world, **changes), signer.signing(), tsa=tsa)
    return await verify_guarantee(signed.json, signed.cades, validator, expectation_for(world))


@pytest.mark.parametrize("who", ["org_sign", "rogue_leaf", "tenderee_sign"])
async def test_a_signer_not_recognised_for_guarantees_is_refused(world: World, validator, who: str) -> None:
    # a bidder's or tenderee's organisation certificate (a CA recognised, but not for guarantees), a rogue CA's
    verdict = await _verify(world, validator, getattr(world.pki, who))
    assert verdict.reasons == (GuaranteeReason.ISSUER_NOT_RECOGNISED,)
    assert not verdict.valid
    assert verdict.signer is None


async def test_a_recognised_guarantor_cannot_sign_in_another_issuers_name(world: World, validator) -> None:
    other = Issuer("某担保有限公司", make_uscc(31, "320100"), IssuerType.GUARANTOR)
    verdict = await _verify(world, validator, world.pki.guarantor, issuer=other)
    assert verdict.reasons == (GuaranteeReason.ISSUER_NOT_RECOGNISED,)
    assert "not by the issuer" in verdict.findings[0].detail


@pytest.mark.parametrize("timestamped", [False, True])
async def test_a_revoked_guarantor_certificate_is_refused(
    world: World,
    validator,
    tsa: LocalTsa,
    timestamped: bool,  # noqa: FBT001
) -> None:
    issuer = Issuer("苏州已吊销担保有限公司(开发)", world.revoked_uscc, IssuerType.GUARANTOR)
    verdict = await _verify(world, validator, world.revoked_guarantor, tsa if timestamped else None, issuer=issuer)
    assert verdict.reasons == (GuaranteeReason.ISSUER_REVOKED,)


async def test_an_amount_altered_after_signing_breaks_the_signature(
    world: World, issued: IssuedGuarantee, validator
) -> None:
    altered = issued.json.replace(b'"amount":"200000.00"', b'"amount":"900000.00"')
    assert altered != issued.json
    verdict = await verify_guarantee(altered, issued.cades, validator, expectation_for(world))
    assert verdict.reasons == (GuaranteeReason.SIGNATURE_INVALID,)
    assert verdict.guarantee is None  # the terms of an unsigned document are not reported
    assert verdict.json_sha256 != (await verify_guarantee(issued.json, issued.cades, validator)).json_sha256
    garbage = await verify_guarantee(issued.json, b"not a signature", validator, expectation_for(world))
    assert garbage.reasons == (GuaranteeReason.SIGNATURE_INVALID,)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": Decimal("199999.99")}, GuaranteeReason.AMOUNT_INSUFFICIENT),
        ({"beneficiary": Organisation("另一招标人", make_uscc(40, "320100"))}, GuaranteeReason.BENEFICIARY_MISMATCH),
        ({"lot_code": "3201002026120001002"}, GuaranteeReason.LOT_MISMATCH),
        ({"project_code": "3201002026110009"}, GuaranteeReason.PROJECT_MISMATCH),
        (
            {"applicant": Organisation("合肥示例工程咨询有限公司", make_uscc(2, "340100"))},
            GuaranteeReason.APPLICANT_MISMATCH,
        ),
        ({"currency": "USD"}, GuaranteeReason.CURRENCY_MISMATCH),
        ({"kind": GuaranteeKind.PERFORMANCE}, GuaranteeReason.KIND_MISMATCH),
        ({"valid_until": BID_VALIDITY_END - timedelta(days=1)}, GuaranteeReason.VALIDITY_SHORT),
        ({"valid_from": DEADLINE + timedelta(hours=1)}, GuaranteeReason.VALIDITY_SHORT),
    ],
)
async def test_an_honestly_signed_mismatch_is_refused_with_its_reason(
    world: World, validator, changes: dict[str, object], reason: GuaranteeReason
) -> None:
    verdict = await _verify(world, validator, world.pki.guarantor, **changes)
    assert verdict.reasons == (reason,)
    assert verdict.signer is not None  # authentic, just not what this bid needs
    assert verdict.guarantee is not None


async def test_exact_amount_and_exact_validity_are_enough(world: World, validator) -> None:
    verdict = await _verify(
        world,
        validator,
        world.pki.guarantor,
        amount=Decimal("200000.00"),
        valid_from=DEADLINE,
        valid_until=BID_VALIDITY_END,
    )
    assert verdict.findings == ()


async def test_every_mismatch_is_listed(world: World, validator) -> None:
    verdict = await _verify(
        world, validator, world.pki.guarantor, amount=Decimal("100.00"), lot_code="X-2", currency="USD"
    )
    assert set(verdict.reasons) == {GuaranteeReason.LOT_MISMATCH, GuaranteeReason.CURRENCY_MISMATCH}
    assert GuaranteeReason.AMOUNT_INSUFFICIENT not in verdict.reasons  # amounts in another currency are not compared


async def test_a_signed_but_malformed_document_is_malformed(world: World, validator) -> None:
    record = json.loads(guarantee_for(world).to_json())
    record["amount"] = 200000
    data = json.dumps(record).encode()
    signature = await cades.sign_detached(data, world.pki.guarantor.signing())
    verdict = await verify_guarantee(data, signature, validator, expectation_for(world))
    assert verdict.reasons == (GuaranteeReason.MALFORMED,)
    assert verdict.guarantee is None


async def test_the_pdf_must_be_signed_by_the_same_issuer_and_embed_the_same_json(
    world: World, issued: IssuedGuarantee, validator, tsa: LocalTsa
) -> None:
    expectation = expectation_for(world)
    unsigned = render_pdf(guarantee_for(world), issued.json)
    verdict = await verify_guarantee(issued.json, issued.cades, validator, expectation, pdf=unsigned)
    assert verdict.reasons == (GuaranteeReason.SIGNATURE_INVALID,)
    # a genuine PDF of another guarantee of the same guarantor
    other = await issue(guarantee_for(world, guarantee_no="JSBK-2026-000124"), world.pki.guarantor.signing(), tsa=tsa)
    verdict = await verify_guarantee(issued.json, issued.cades, validator, expectation, pdf=other.pdf)
    assert verdict.reasons == (GuaranteeReason.MALFORMED,)
    assert "another guarantee" in verdict.findings[0].detail
    # the right JSON, sealed by a bidder's certificate
    by_bidder = await issue(guarantee_for(world), world.pki.org_sign.signing(), tsa=tsa)
    forged = replace(by_bidder, json=issued.json, cades=issued.cades)
    verdict = await verify_guarantee(forged.json, forged.cades, validator, expectation, pdf=by_bidder.pdf)
    assert GuaranteeReason.ISSUER_NOT_RECOGNISED in verdict.reasons


def test_openssl_verifies_the_json_signature(world: World, issued: IssuedGuarantee, tmp_path: Path) -> None:
    ca = write(
        tmp_path / "guarantor-ca.pem", world.pki.guarantor_ca.certificate.public_bytes(serialization.Encoding.PEM)
    )
    args = [
        "openssl",
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-CAfile",
        ca,
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]
    signature = write(tmp_path / "guarantee.p7s", issued.cades)
    result = run(*args, "-in", signature, "-content", write(tmp_path / "guarantee.json", issued.json))
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    altered = issued.json.replace(b'"amount":"200000.00"', b'"amount":"900000.00"')
    assert run(*args, "-in", signature, "-content", write(tmp_path / "altered.json", altered)).returncode != 0


def test_pdfsig_verifies_the_pdf(world: World, issued: IssuedGuarantee, tmp_path: Path) -> None:
    nss = tmp_path / "nss"
    nss.mkdir()
    run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password", check=True)
    for name, root in (("guarantor", world.pki.guarantor_ca), ("platform", world.pki.platform_root)):
        pem = write(tmp_path / f"{name}.pem", root.certificate.public_bytes(serialization.Encoding.PEM))
        run("certutil", "-A", "-d", f"sql:{nss}", "-n", name, "-t", "CT,C,C", "-i", pem, check=True)
    result = run("pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", write(tmp_path / "guarantee.pdf", issued.pdf))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Validation: Signature is Valid." in result.stdout
    assert "Certificate Validation: Certificate is Trusted." in result.stdout
    assert "江苏银行股份有限公司(开发)" in result.stdout
    assert "Signature #2" not in result.stdout


def test_an_expectation_with_naive_times_is_the_callers_mistake(world: World) -> None:
    with pytest.raises(ValueError, match="bid_deadline"):
        expectation_for(world, bid_deadline=DEADLINE.replace(tzinfo=None))
    with pytest.raises(TypeError, match="Decimal"):
        expectation_for(world, minimum_amount=200000.0)
