"""``ggzy bid seal`` and ``ggzy bid verify-receipt`` work offline, from the files a bidder holds."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from bidding.client import format as fmt
from bidding.client.sdk import expected_binding, open_package, open_price_summary, read_built
from certs.devpki.pki import DevPki, build_dev_pki
from certs.sign.cades import sign_record
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority
from trading.server.cli import main

TENDER = "E3201000001002003001"
DEADLINE = "2026-12-01T09:30:00+08:00"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture
def inputs(pki: DevPki, tmp_path: Path) -> dict[str, Path]:
    files = {
        "p12": tmp_path / "sign.p12",
        "enc": tmp_path / "enc.pem",
        "doc": tmp_path / "技术标.pdf",
        "root": tmp_path / "platform_root.pem",
        "other_root": tmp_path / "jiangsu_root.pem",
    }
    files["p12"].write_bytes(pki.org_sign.pkcs12(b"secret"))
    files["enc"].write_bytes(pki.org_enc.cert_pem)
    files["doc"].write_bytes(b"%PDF-1.7 technical proposal")
    files["root"].write_bytes(pki.platform_root.certificate.public_bytes(Encoding.PEM))
    files["other_root"].write_bytes(pki.jiangsu_root.certificate.public_bytes(Encoding.PEM))
    for index, holder in enumerate(pki.key_holders[:3]):
        files[f"holder{index}"] = tmp_path / f"holder{index}.pem"
        files[f"holder{index}"].write_bytes(holder.cert_pem)
    return files


def seal_args(pki: DevPki, inputs: dict[str, Path], out: Path) -> list[str]:
    return [
        "bid",
        "seal",
        "--out",
        str(out),
        "--tender",
        TENDER,
        "--lot",
        "001",
        "--bidder",
        pki.org_uscc,
        "--deadline",
        DEADLINE,
        "--p12",
        str(inputs["p12"]),
        "--password",
        "secret",
        "--encryption-cert",
        str(inputs["enc"]),
        "--total-price",
        "1234567.891",
        "--duration-days",
        "180",
        "--item",
        "土建=1000000",
        "--item",
        "安装=234567.89",
        "--guarantee-form",
        "guarantee",
        "--guarantee-ref",
        "BH-1",
        str(inputs["doc"]),
    ]


def test_seal_writes_a_container_the_server_accepts(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bid.ggzy"
    result = CliRunner().invoke(main, seal_args(pki, inputs, out))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["container"] == str(out)

    fmt.inspect_container(out, max_package_bytes=1024 * 1024)
    inspected = read_built(out)
    assert inspected.sha256 == summary["sha256"]
    assert inspected.manifest["deadline"] == DEADLINE
    assert inspected.manifest["guarantee"] == {"form": "guarantee", "reference": "BH-1"}
    assert inspected.verify_signature().signer_certificate == pki.org_sign.certificate

    bound = expected_binding(TENDER, "001", pki.org_uscc, datetime.fromisoformat(DEADLINE))
    price = open_price_summary(out, pki.org_enc.key, bound)  # type: ignore[arg-type]
    assert price["totalPrice"] == "1234567.89"
    assert price["items"] == [{"name": "土建", "price": "1000000.00"}, {"name": "安装", "price": "234567.89"}]
    assert open_package(out, pki.org_enc.key, bound).names() == ["技术标.pdf"]  # type: ignore[arg-type]


def test_seal_with_a_key_holder_committee(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bid.ggzy"
    holders = [arg for i in range(3) for arg in ("--key-holder", str(inputs[f"holder{i}"]))]
    result = CliRunner().invoke(main, [*seal_args(pki, inputs, out), *holders, "--threshold", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["threshold"] == 2
    with out.open("rb") as stream:
        header = fmt.envelope_header(stream, read_built(out).layout.entries["package.sealed"])
    assert header is not None
    assert header["threshold"] == 2
    assert len(header["holders"]) == 3


def test_seal_refuses_bad_input_without_a_traceback(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bid.ggzy"
    args = seal_args(pki, inputs, out)
    naive = [a if a != DEADLINE else "2026-12-01T09:30:00" for a in args]
    result = CliRunner().invoke(main, naive)
    assert result.exit_code == 2
    assert "offset" in result.output
    wrong_password = [a if a != "secret" else "wrong" for a in args]
    result = CliRunner().invoke(main, wrong_password)
    assert result.exit_code == 2
    assert "--p12" in result.output
    too_many = [*args, "--key-holder", str(inputs["holder0"]), "--threshold", "2"]
    result = CliRunner().invoke(main, too_many)
    assert result.exit_code == 1
    assert "threshold" in result.output
    assert not out.exists()


async def test_verify_receipt_exit_codes(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    serials = itertools.count(1)
    tsa = LocalTsa(
        TimeStampAuthority(
            pki.tsa.signing(), clock=lambda: datetime.now(UTC).replace(microsecond=0), serials=lambda: next(serials)
        )
    )
    signed = await sign_record(
        {"receiptNo": "R-1", "containerSha256": "ab" * 32}, pki.platform_signer.signing(), tsa=tsa
    )
    receipt, p7s = tmp_path / "R-1.json", tmp_path / "R-1.p7s"
    receipt.write_bytes(signed.data)
    p7s.write_bytes(signed.signature)
    runner = CliRunner()

    valid = runner.invoke(main, ["bid", "verify-receipt", str(receipt), "--ca", str(inputs["root"])])
    assert valid.exit_code == 0, valid.output
    assert json.loads(valid.stdout)["receiptNo"] == "R-1"

    wrong_root = runner.invoke(main, ["bid", "verify-receipt", str(receipt), "--ca", str(inputs["other_root"])])
    assert wrong_root.exit_code == 1
    assert "invalid" in wrong_root.stderr

    receipt.write_bytes(signed.data.replace(b"R-1", b"R-2"))
    altered = runner.invoke(main, ["bid", "verify-receipt", str(receipt), "--ca", str(inputs["root"])])
    assert altered.exit_code == 1
    assert "digest-mismatch" in altered.stderr

    missing = runner.invoke(main, ["bid", "verify-receipt", str(receipt), "--signature", str(tmp_path / "none.p7s")])
    assert missing.exit_code == 2
