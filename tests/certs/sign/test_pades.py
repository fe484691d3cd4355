from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from certs.cms import to_asn1
from certs.devpki.pki import DevPki
from certs.errors import Reason
from certs.pathval.validate import PathValidator
from certs.sign.pades import RevocationMaterial, SealAppearance, sign_pdf, verify_pdf
from certs.sign.seal import render_seal_image
from tests.certs.conftest import PDF_TEXT
from tests.certs.external import run, write

SEAL_BOX = (380, 60, 520, 200)


def material(pki: DevPki) -> RevocationMaterial:
    cas = (pki.jiangsu_ca, pki.jiangsu_root, pki.platform_ca, pki.platform_root)
    return RevocationMaterial(
        trust_roots=[pki.jiangsu_root.certificate, pki.platform_root.certificate],
        crls=[ca.crl(pki.now - timedelta(hours=1)).public_bytes(serialization.Encoding.DER) for ca in cas],
    )


@pytest.fixture(scope="module")
def document(render_pdf) -> bytes:
    return render_pdf(f"<h1>开标记录</h1><p>{PDF_TEXT}</p><p>投标报价：人民币壹仟贰佰叁拾肆万元整</p>")


@pytest.fixture(scope="module")
async def signed(pki: DevPki, tsa, document: bytes) -> bytes:
    seal = SealAppearance(render_seal_image("南京示例建设工程有限公司"), box=SEAL_BOX)
    return await sign_pdf(
        document,
        pki.org_sign.signing(),
        tsa=tsa,
        reason="开标记录",
        location="南京",
        seal=seal,
        revocation=material(pki),
    )


def test_pdf_keeps_its_chinese_text(signed: bytes, tmp_path) -> None:
    text = run("pdftotext", write(tmp_path / "s.pdf", signed), "-", check=True).stdout
    assert "开标记录" in text
    assert "人民币壹仟贰佰叁拾肆万元整" in text


def test_pdfsig_validates_signature_and_trust(pki: DevPki, signed: bytes, tmp_path) -> None:
    nss = tmp_path / "nss"
    nss.mkdir()
    run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password", check=True)
    for name, root in (("jiangsu", pki.jiangsu_root.certificate), ("platform", pki.platform_root.certificate)):
        pem = write(tmp_path / f"{name}.pem", root.public_bytes(serialization.Encoding.PEM))
        run("certutil", "-A", "-d", f"sql:{nss}", "-n", name, "-t", "CT,C,C", "-i", pem, check=True)
    result = run("pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", write(tmp_path / "s.pdf", signed))
    first = result.stdout.split("Signature #2")[0]
    assert "Signature Validation: Signature is Valid." in first, result.stdout + result.stderr
    assert "Certificate Validation: Certificate is Trusted." in first
    assert "南京示例建设工程有限公司" in first
    assert "Signature #2" in result.stdout  # the B-LTA document timestamp (pdfsig 22.12 cannot verify those)
    plain = run("pdfsig", "-nocert", tmp_path / "s.pdf")
    assert "Signature is Valid." in plain.stdout.split("Signature #2")[0]


async def test_pyhanko_ades_validation_passes_b_lta(pki: DevPki, signed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[to_asn1(pki.jiangsu_root.certificate), to_asn1(pki.platform_root.certificate)]
                ),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    result = await ades_lta_validation(reader.embedded_regular_signatures[0], spec)
    assert result.ades_subindic is AdESPassed.OK, result


async def test_module_verifies_and_refuses_tampering(pki: DevPki, signed: bytes, validator: PathValidator) -> None:
    reports = await verify_pdf(signed, validator)
    assert len(reports) == 1
    assert reports[0].passed, reports[0].message
    assert reports[0].timestamp_time is not None
    # change one digit of the signed content stream: the byte ranges no longer match
    tampered = bytearray(signed)
    index = signed.index(b"/Length", 200) + 9
    tampered[index] = ord("9") if tampered[index] != ord("9") else ord("8")
    report = (await verify_pdf(bytes(tampered), validator))[0]
    assert not report.passed
    assert report.reason in {Reason.DIGEST_MISMATCH, Reason.MALFORMED}


def test_seal_is_drawn_on_the_page(signed: bytes, tmp_path) -> None:
    run(
        "pdftoppm",
        "-r",
        "72",
        "-png",
        "-f",
        "1",
        "-l",
        "1",
        write(tmp_path / "s.pdf", signed),
        tmp_path / "page",
        check=True,
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    x1, y1, x2, y2 = SEAL_BOX
    height = page.height
    region = page.crop((x1, height - y2, x2, height - y1))
    assert red_pixels(region) > 500
    assert red_pixels(page.crop((40, 40, 300, 200))) == 0


def red_pixels(image: Image.Image) -> int:
    raw = image.tobytes()
    return sum(1 for i in range(0, len(raw), 3) if raw[i] > 180 and raw[i + 1] < 90 and raw[i + 2] < 90)


async def test_countersignature_keeps_the_first_valid(
    pki: DevPki, tsa, signed: bytes, validator: PathValidator
) -> None:
    both = await sign_pdf(signed, pki.platform_signer.signing(), tsa=tsa, field_name="Platform", lta=False)
    reports = await verify_pdf(both, validator)
    assert [r.passed for r in reports] == [True, True], [r.message for r in reports]
    assert re.search("ggzy", reports[1].signer or "")


def test_pyhanko_cli_adesverify_agrees(pki: DevPki, signed: bytes, tmp_path) -> None:
    roots = []
    for name, root in (("jiangsu", pki.jiangsu_root.certificate), ("platform", pki.platform_root.certificate)):
        roots += ["--trust", write(tmp_path / f"{name}.pem", root.public_bytes(serialization.Encoding.PEM))]
    cli = Path(sys.executable).with_name("pyhanko")
    result = run(cli, "sign", "adesverify", *roots, "--trust-replace", write(tmp_path / "s.pdf", signed))
    assert result.returncode == 0, result.stderr
    assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES" in result.stdout


def ocsp_answer(ca, certificate) -> bytes:
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, ca.certificate, hashes.SHA256()).build()
    return ca.ocsp_respond(request.public_bytes(serialization.Encoding.DER), datetime.now(UTC))


def issuers_of(dss_entries) -> set[str]:
    return {x509.load_der_x509_crl(e.get_object().data).issuer.rfc4514_string() for e in dss_entries}


@pytest.fixture(scope="module")
async def scoped(pki: DevPki, tsa, document: bytes) -> tuple[bytes, bytes, bytes]:
    """Signed with the whole revocation cache at hand: unrelated CAs' CRLs and an unrelated OCSP answer too."""
    relevant_ocsp = ocsp_answer(pki.jiangsu_ca, pki.org_sign.certificate)
    unrelated_ocsp = ocsp_answer(pki.anhui_ca, pki.anhui_org_sign.certificate)
    unrelated = (pki.anhui_ca, pki.anhui_root, pki.guarantor_ca, pki.rogue_ca)
    cache = material(pki)
    everything = RevocationMaterial(
        trust_roots=cache.trust_roots,
        crls=[
            *cache.crls,
            *(ca.crl(pki.now - timedelta(hours=1)).public_bytes(serialization.Encoding.DER) for ca in unrelated),
        ],
        ocsps=[relevant_ocsp, unrelated_ocsp],
    )
    pdf = await sign_pdf(document, pki.org_sign.signing(), tsa=tsa, revocation=everything)
    return pdf, relevant_ocsp, unrelated_ocsp


def test_dss_embeds_only_the_revocation_data_of_its_chains(pki: DevPki, scoped, tmp_path) -> None:
    pdf, relevant_ocsp, unrelated_ocsp = scoped
    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    # the signer's chain (Jiangsu CA under its root) and the TSA's (platform CA under its root)
    assert issuers_of(dss["/CRLs"]) == {
        ca.certificate.subject.rfc4514_string()
        for ca in (pki.jiangsu_ca, pki.jiangsu_root, pki.platform_ca, pki.platform_root)
    }
    embedded_ocsps = [e.get_object().data for e in dss["/OCSPs"]]
    assert relevant_ocsp in embedded_ocsps
    assert unrelated_ocsp not in embedded_ocsps
    # and the archive still verifies independently
    plain = run("pdfsig", "-nocert", write(tmp_path / "s.pdf", pdf))
    assert "Signature is Valid." in plain.stdout.split("Signature #2")[0]
    roots = []
    for name, root in (("jiangsu", pki.jiangsu_root.certificate), ("platform", pki.platform_root.certificate)):
        roots += ["--trust", write(tmp_path / f"{name}.pem", root.public_bytes(serialization.Encoding.PEM))]
    cli = Path(sys.executable).with_name("pyhanko")
    result = run(cli, "sign", "adesverify", *roots, "--trust-replace", tmp_path / "s.pdf")
    assert result.returncode == 0, result.stderr
    assert "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES" in result.stdout


def test_revocation_material_covering_keeps_only_what_names_the_chain(pki: DevPki) -> None:
    foreign_root_crl = pki.anhui_root.crl(pki.now).public_bytes(serialization.Encoding.DER)
    own = pki.jiangsu_ca.crl(pki.now).public_bytes(serialization.Encoding.DER)
    # a CRL claiming the Jiangsu CA's name but signed by another key is not the Jiangsu CA's
    impostor = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.jiangsu_ca.certificate.subject)
        .last_update(pki.now)
        .next_update(pki.now + timedelta(days=1))
        .sign(pki.rogue_ca.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    cache = RevocationMaterial(
        trust_roots=[pki.jiangsu_root.certificate], crls=[foreign_root_crl, own, impostor, b"not a crl"]
    )
    chain = [pki.org_sign.certificate, pki.jiangsu_ca.certificate]
    assert cache.covering(chain).crls == (own,)
    assert cache.covering([]).crls == ()
