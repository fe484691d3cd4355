"""Platform-signed records: a Chinese record rendered by the kernel, signed PAdES B-T with the
platform's record key and timestamped by the platform TSA, verifies with poppler's ``pdfsig`` and
with `certs.sign.pades.verify_pdf` over the development trust list."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certs.sign.pades import verify_pdf
from tests.trading.kernel.test_pdf import page, warm_renderer
from tests.trading.parties.certificates import conftest as certificate_fixtures
from trading.kernel import clock
from trading.kernel.pdf.render import render_pdf
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import trust_context
from trading.parties.models import TimestampToken
from trading.parties.records import platform_identity, sign_platform_pdf

DevCa = tuple[Path, dict[str, Any]]

# The certificate tests' fixtures: the development PKI, settings pointing at it, the lists loaded.
dev_pki = certificate_fixtures.dev_pki
dev_ca = certificate_fixtures.dev_ca
settings = certificate_fixtures.settings
dev_lists = certificate_fixtures.dev_lists


@pytest.fixture(scope="module")
def record() -> bytes:
    warm_renderer()
    return render_pdf(page("<h1>开标记录</h1><p>招标项目：示例市政道路工程</p><p>投标人：南京示例建设工程有限公司</p>"))


def pdfsig(pdf: bytes, tmp_path: Path, dev_ca: DevCa) -> str:
    out, _ = dev_ca
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    root = out / "ca" / "platform_root.pem"
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "platform", "-t", "CT,C,C", "-i", str(root)],
                   check=True, capture_output=True)  # fmt: skip
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(path)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.usefixtures("dev_lists")
async def test_signed_record_verifies_with_pdfsig_and_pyhanko(
    session: AsyncSession, settings: Settings, record: bytes, dev_ca: DevCa, tmp_path: Path
) -> None:
    signed = await sign_platform_pdf(record, settings, session, reason="开标记录", location="南京")

    first = pdfsig(signed, tmp_path, dev_ca).split("Signature #2")[0]
    assert "Signature Validation: Signature is Valid." in first
    assert "Certificate Validation: Certificate is Trusted." in first
    assert "Signature Type: ETSI.CAdES.detached" in first

    context = trust_context(session, settings, await clock.now(session))
    reports = await verify_pdf(signed, (await context).validator)
    assert len(reports) == 1
    report = reports[0]
    assert report.passed, report.message
    assert report.timestamp_time is not None
    assert report.signer == platform_identity(settings).certificate.subject.rfc4514_string()

    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    (embedded,) = reader.embedded_regular_signatures
    assert embedded.field_name == "PlatformSignature"
    assert "signature_time_stamp_token" in {a["type"].native for a in embedded.signer_info["unsigned_attrs"]}
    tokens = (await session.scalars(select(TimestampToken))).all()
    assert tokens  # the signature's timestamp came from the platform TSA, in this transaction


def test_the_record_key_is_the_receipt_key(settings: Settings, dev_ca: DevCa) -> None:
    identity = platform_identity(settings)
    out, _ = dev_ca
    assert settings.certs.receipt_p12 == out / "p12" / "platform_signer.p12"
    assert identity.certificate.public_bytes(serialization.Encoding.DER)
    assert platform_identity(settings) is identity  # read once per file version
