"""A bidder checks the platform's receipt offline: CAdES-B-T over the exact bytes, signer and TSA
under the platform root, and the digests of the container it sent. Pure: no database.
"""

from __future__ import annotations

import base64
import itertools
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from bidding.client.sdk import ReceiptInvalid, verify_receipt
from bidding.client.transport import Receipt
from certs.devpki.pki import DevPki, build_dev_pki
from certs.sign.cades import SignedRecord, sign_record
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority

RECORD = {
    "kind": "submission",
    "receiptNo": "R-2026-000001",
    "tender": "E3201000001002003001",
    "lot": "001",
    "bidder": "913201000000000018",
    "containerSha256": "ab" * 32,
    "manifestSha256": "cd" * 32,
    "receivedAt": "2026-11-30T08:00:00+00:00",
}


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture(scope="module")
def tsa(pki: DevPki) -> LocalTsa:
    serials = itertools.count(1000)
    return LocalTsa(
        TimeStampAuthority(
            pki.tsa.signing(),
            clock=lambda: datetime.now(UTC).replace(microsecond=0),
            serials=lambda: next(serials),
        )
    )


@pytest.fixture
async def signed(pki: DevPki, tsa: LocalTsa) -> SignedRecord:
    return await sign_record(RECORD, pki.platform_signer.signing(), tsa=tsa)


def test_a_genuine_receipt_verifies(pki: DevPki, signed: SignedRecord) -> None:
    record = verify_receipt(
        signed.data,
        signed.signature,
        [pki.platform_root.certificate],
        expected={"containerSha256": "ab" * 32, "manifestSha256": "cd" * 32},
    )
    assert record == RECORD


def test_altered_bytes_are_refused(pki: DevPki, signed: SignedRecord) -> None:
    altered = signed.data.replace(b"ab" * 32, b"ef" * 32)
    with pytest.raises(ReceiptInvalid, match="signature"):
        verify_receipt(altered, signed.signature, [pki.platform_root.certificate])


def test_another_root_is_refused(pki: DevPki, signed: SignedRecord) -> None:
    with pytest.raises(ReceiptInvalid, match="trusted issuer"):
        verify_receipt(signed.data, signed.signature, [pki.jiangsu_root.certificate])
    with pytest.raises(ReceiptInvalid, match="no trust roots"):
        verify_receipt(signed.data, signed.signature, [])


async def test_a_signer_outside_the_platform_is_refused(pki: DevPki, tsa: LocalTsa) -> None:
    # A bidder's own certificate, chained to a recognised CA, is still not the platform.
    forged = await sign_record(RECORD, pki.org_sign.signing(), tsa=tsa)
    with pytest.raises(ReceiptInvalid, match="trusted issuer"):
        verify_receipt(forged.data, forged.signature, [pki.platform_root.certificate])


async def test_a_receipt_without_timestamp_is_refused(pki: DevPki) -> None:
    untimed = await sign_record(RECORD, pki.platform_signer.signing())
    with pytest.raises(ReceiptInvalid, match="timestamp"):
        verify_receipt(untimed.data, untimed.signature, [pki.platform_root.certificate])


def test_an_unexpected_digest_is_refused(pki: DevPki, signed: SignedRecord) -> None:
    with pytest.raises(ReceiptInvalid, match="containerSha256"):
        verify_receipt(
            signed.data, signed.signature, [pki.platform_root.certificate], expected={"containerSha256": "00" * 32}
        )


def test_saved_receipt_verifies_with_openssl(pki: DevPki, signed: SignedRecord, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    receipt = Receipt.from_api(
        {
            "receiptNo": RECORD["receiptNo"],
            "record": RECORD,
            "receipt": base64.b64encode(signed.data).decode(),
            "signature": base64.b64encode(signed.signature).decode(),
        }
    )
    json_path, p7s_path = receipt.save(tmp_path)
    assert json_path.name == "R-2026-000001.json"
    assert json_path.read_bytes() == signed.data
    root = tmp_path / "platform_root.pem"
    root.write_bytes(pki.platform_root.certificate.public_bytes(Encoding.PEM))
    result = subprocess.run(
        [
            openssl,
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(p7s_path),
            "-content",
            str(json_path),
            "-CAfile",
            str(root),
            "-purpose",
            "any",
            "-out",
            str(tmp_path / "out.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert receipt.verify([pki.platform_root.certificate]) == RECORD
