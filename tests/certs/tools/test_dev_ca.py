from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from certs.devpki.pki import DevPki
from certs.tools.dev_ca import build_dev_ca, write_files
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from tests.certs.external import run

ROOT = Path(__file__).resolve().parents[3]


async def test_dev_ca_writes_a_usable_pki(pki: DevPki, tmp_path) -> None:
    files, manifest = await build_dev_ca(password=b"secret", pki=pki)
    write_files(tmp_path, files)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["identifiers"]["org"] == pki.org_uscc
    p12 = pkcs12.load_pkcs12((tmp_path / manifest["leaves"]["org_sign"]["p12"]).read_bytes(), b"secret")
    assert p12.cert is not None
    assert p12.cert.certificate == pki.org_sign.certificate
    document, signature = ((tmp_path / name).read_bytes() for name in manifest["trustLists"]["own"])
    verified = load_trust_list(
        document, signature, pinned=[pki.operator.certificate], now=pki.now, store=MemorySequenceStore()
    )
    assert verified.sequence == 1
    crl = x509.load_der_x509_crl((tmp_path / manifest["cas"]["jiangsu_ca"]["crl"]).read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(pki.revoked.certificate.serial_number) is not None
    # openssl reads the PKCS#12 files (AES-256 / PBKDF2, as cryptography's BestAvailableEncryption writes them)
    result = run(
        "openssl",
        "pkcs12",
        "-in",
        tmp_path / manifest["leaves"]["org_sign"]["p12"],
        "-passin",
        "pass:secret",
        "-nokeys",
    )
    assert result.returncode == 0, result.stderr
    wallet = tmp_path / manifest["wallets"]["e-licence"]
    shown = subprocess.run(
        [sys.executable, "-m", "certs.tools.holder_app", "show", "--wallet", str(wallet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert pki.org_uscc in shown.stdout


def test_dev_ca_command_line(tmp_path) -> None:
    out = tmp_path / "dev-ca"
    result = subprocess.run(
        [sys.executable, "-m", "certs.tools.dev_ca", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert "trust lists" in result.stdout
    assert (out / "p12" / "org_sign.p12").exists()
    assert (out / "wallets" / "e-id.json").exists()
