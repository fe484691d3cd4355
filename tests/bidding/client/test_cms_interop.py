"""Order 20 Art. 8 (tools developed separately): a part sealed by ``ggzy bid seal`` opens with
``openssl cms -decrypt`` and the bidder's key, and a bid whose parts OpenSSL sealed
(``openssl cms -encrypt -aes-256-gcm``) and ``ggzy bid bind`` bound is accepted by the container
checks and opened at the opening with the content keys the bidder unwrapped on its own machine.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from bidding.client import format as fmt
from bidding.client.sdk import PriceSummary, bind_part, build_container, content_keys, read_built
from bidding.opening.decryption import OpenFailed, StoredBid, envelope_headers, open_with_key, price_summary_of
from certs.devpki.pki import DevPki, Identity, build_dev_pki
from certs.envelope.sealed_bid import BidBinding
from tests.certs.external import run, write
from trading.server.cli import main

TENDER = "E3201000001002003001"
DEADLINE = "2026-12-01T09:30:00+00:00"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


def encryption(pki: DevPki, kind: str) -> Identity:
    return pki.org_enc if kind == "ec" else pki.anhui_org_enc


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_openssl_opens_the_parts_ggzy_bid_seal_wrote(pki: DevPki, tmp_path: Path, kind: str) -> None:
    enc = encryption(pki, kind)
    p12 = write(tmp_path / "sign.p12", pki.org_sign.pkcs12(b"secret"))
    enc_pem = write(tmp_path / "enc.pem", enc.cert_pem)
    doc = write(tmp_path / "技术标.pdf", b"%PDF-1.7 technical proposal")
    out = tmp_path / "bid.ggzy"
    args = ["bid", "seal", "--out", str(out), "--tender", TENDER, "--lot", "001", "--bidder", pki.org_uscc,
            "--deadline", DEADLINE, "--p12", str(p12), "--password", "secret", "--encryption-cert", str(enc_pem),
            "--total-price", "1234567.89", "--duration-days", "180", "--guarantee-form", "cash", str(doc)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    manifest = read_built(out).manifest
    key = write(tmp_path / "enc.key", enc.key_pem)
    with zipfile.ZipFile(out) as archive:
        for kind_of_part, name in fmt.PART_NAMES.items():
            part = write(tmp_path / name, archive.read(name))
            plain = tmp_path / f"{name}.plain"
            run("openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", part, "-inkey", key, "-out", plain,
                check=True)  # fmt: skip
            assert hashlib.sha256(plain.read_bytes()).hexdigest() == manifest["contentSha256"][kind_of_part]
    price = json.loads((tmp_path / f"{fmt.PART_NAMES[fmt.PRICE_SUMMARY]}.plain").read_bytes())
    assert (price["tender"], price["bidder"], price["totalPrice"]) == (TENDER, pki.org_uscc, "1234567.89")


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_an_openssl_sealed_and_bound_bid_opens_at_the_opening(pki: DevPki, tmp_path: Path, kind: str) -> None:
    enc = encryption(pki, kind)
    cert = write(tmp_path / "enc.pem", enc.cert_pem)
    options = (
        ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]
        if isinstance(enc.certificate.public_key(), rsa.RSAPublicKey)
        else ["-keyopt", "ecdh_kdf_md:sha256"]
    )

    def openssl_sealer(plaintext: bytes, binding: BidBinding) -> bytes:
        source = write(tmp_path / "part.in", plaintext)
        made = tmp_path / "part.der"
        run("openssl", "cms", "-encrypt", "-aes-256-gcm", "-binary", "-outform", "DER", "-in", source, "-out", made,
            "-recip", cert, *options, check=True)  # fmt: skip
        return bind_part(made.read_bytes(), binding)

    doc = write(tmp_path / "技术标.pdf", b"%PDF-1.7 technical proposal " * 100)
    deadline = datetime.fromisoformat(DEADLINE)
    built = build_container(
        tmp_path / "bid.ggzy",
        tender=TENDER,
        lot="001",
        bidder_uscc=pki.org_uscc,
        deadline=deadline,
        files=[doc],
        price_summary=PriceSummary(
            tender=TENDER, lot="001", bidder=pki.org_uscc, total_price=Decimal("99.5"), duration_days=30, items=[]
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=enc.certificate,
        sealer=openssl_sealer,
    )
    inspected = read_built(built.path)
    inspected.check_part_digests()
    parts = {
        kind_of_part: {
            "name": name,
            "offset": inspected.layout.entries[name].offset,
            "size": inspected.layout.entries[name].size,
            "sha256": inspected.entry_sha256[name],
        }
        for kind_of_part, name in fmt.PART_NAMES.items()
    }
    stored = StoredBid(built.path, parts, inspected.manifest, TENDER, "001", pki.org_uscc, deadline)
    headers = envelope_headers(stored)  # what intake checks and the hall serves
    for header in headers.values():
        assert header["version"] == 2
        assert header["bindingAuthenticated"] is False
        assert fmt.envelope_binding(header) == built.binding
    envelope = {"parts": {k: {"header": h} for k, h in headers.items()}}
    keys = content_keys(envelope, enc.key, tender=TENDER, lot="001", bidder=pki.org_uscc)  # type: ignore[arg-type]
    price = open_with_key(stored, fmt.PRICE_SUMMARY, keys[fmt.PRICE_SUMMARY])
    assert price_summary_of(price.plaintext, stored)["totalPrice"] == "99.50"
    package = open_with_key(stored, fmt.PACKAGE, keys[fmt.PACKAGE])
    assert package.sha256 == inspected.manifest["contentSha256"][fmt.PACKAGE]


def test_ggzy_bid_seal_with_openssl_and_ggzy_bid_bind(pki: DevPki, tmp_path: Path) -> None:
    p12 = write(tmp_path / "sign.p12", pki.org_sign.pkcs12(b"secret"))
    enc_pem = write(tmp_path / "enc.pem", pki.org_enc.cert_pem)
    doc = write(tmp_path / "技术标.pdf", b"%PDF-1.7 technical proposal")
    out = tmp_path / "bid.ggzy"
    command = f"openssl cms -encrypt -aes-256-gcm -binary -outform DER -recip {enc_pem}"
    args = ["bid", "seal", "--out", str(out), "--tender", TENDER, "--lot", "001", "--bidder", pki.org_uscc,
            "--deadline", DEADLINE, "--p12", str(p12), "--password", "secret", "--encryption-cert", str(enc_pem),
            "--total-price", "1.00", "--duration-days", "1", "--seal-with", command, str(doc)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        part = archive.read(fmt.PART_NAMES[fmt.PRICE_SUMMARY])
    assert part.startswith(b"\x30")  # a DER ContentInfo, not the first format
    with out.open("rb") as stream:
        layout = read_built(out).layout
        header = fmt.envelope_header(stream, layout.entries[fmt.PART_NAMES[fmt.PRICE_SUMMARY]])
    assert header is not None
    assert header["bindingAuthenticated"] is False

    made = write(tmp_path / "alone.der", b"")
    run("openssl", "cms", "-encrypt", "-aes-256-gcm", "-binary", "-outform", "DER", "-in", doc, "-out", made,
        "-recip", enc_pem, check=True)  # fmt: skip
    bound = tmp_path / "bound.der"
    bind_args = ["bid", "bind", str(made), "--out", str(bound), "--tender", TENDER, "--lot", "001",
                 "--bidder", pki.org_uscc, "--deadline", DEADLINE, "--manifest-sha256", "ab" * 32]  # fmt: skip
    result = CliRunner().invoke(main, bind_args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["binding"]["tender"] == TENDER
    refused = CliRunner().invoke(main, [*bind_args[:-1], "not-hex"])
    assert refused.exit_code != 0
    assert "--manifest-sha256" in refused.output


def test_a_cms_part_changed_outside_its_ciphertext_is_a_digest_mismatch(pki: DevPki, tmp_path: Path) -> None:
    """GCM covers only the ciphertext: a changed recipient info (here the ephemeral ECDH key) still
    decrypts with the content key, so the opening compares the stored part with the receipt's digest.
    """
    doc = write(tmp_path / "技术标.pdf", b"%PDF-1.7 technical proposal")
    deadline = datetime.fromisoformat(DEADLINE)
    built = build_container(
        tmp_path / "bid.ggzy",
        tender=TENDER,
        lot="001",
        bidder_uscc=pki.org_uscc,
        deadline=deadline,
        files=[doc],
        price_summary=PriceSummary(
            tender=TENDER, lot="001", bidder=pki.org_uscc, total_price=Decimal(1), duration_days=1, items=[]
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=pki.org_enc.certificate,
    )
    inspected = read_built(built.path)
    parts = {
        k: {
            "name": n,
            "offset": inspected.layout.entries[n].offset,
            "size": inspected.layout.entries[n].size,
            "sha256": inspected.entry_sha256[n],
        }
        for k, n in fmt.PART_NAMES.items()
    }
    stored = StoredBid(built.path, parts, inspected.manifest, TENDER, "001", pki.org_uscc, deadline)
    envelope = {"parts": {k: {"header": h} for k, h in envelope_headers(stored).items()}}
    keys = content_keys(envelope, pki.org_enc.key, tender=TENDER, lot="001", bidder=pki.org_uscc)  # type: ignore[arg-type]
    data = bytearray(built.path.read_bytes())
    part = data[parts[fmt.PRICE_SUMMARY]["offset"] : parts[fmt.PRICE_SUMMARY]["offset"] + 400]
    ephemeral = part.index(b"\x03\x42\x00\x04") + 8  # inside the originator's EC point
    data[parts[fmt.PRICE_SUMMARY]["offset"] + ephemeral] ^= 0x01
    built.path.write_bytes(bytes(data))
    with pytest.raises(OpenFailed) as changed:
        open_with_key(stored, fmt.PRICE_SUMMARY, keys[fmt.PRICE_SUMMARY])
    assert changed.value.rule == "digest-mismatch"
