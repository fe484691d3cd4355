from __future__ import annotations

import pytest
from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization

from certs.devpki.pki import DevPki
from certs.errors import Reason, Refused
from certs.tsa import client
from certs.tsa.asn1 import TimeStampResp
from certs.tsa.server import TimeStampAuthority
from tests.certs.external import run, write


def _files(tmp_path, pki: DevPki):
    root = write(tmp_path / "root.pem", pki.tsa.root.public_bytes(serialization.Encoding.PEM))
    return root, write(tmp_path / "untrusted.pem", pki.tsa.cert_pem + pki.tsa.chain_pem)


async def test_token_verifies_with_openssl_ts_verify(tsa, pki: DevPki, tmp_path) -> None:
    data = "开标记录 2026-12-01".encode()
    token = await client.timestamp(tsa, data)
    stamp = client.verify_token(token, data=data)
    assert stamp.tsa_certificate == pki.tsa.certificate
    # openssl wants the whole response; rebuild one around the token
    response = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": tsp.ContentInfo.load(token)})
    root, untrusted = _files(tmp_path, pki)
    result = run(
        "openssl",
        "ts",
        "-verify",
        "-in",
        write(tmp_path / "r.tsr", response.dump()),
        "-data",
        write(tmp_path / "d", data),
        "-CAfile",
        root,
        "-untrusted",
        untrusted,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verification: OK" in result.stdout


def test_answers_openssl_requests_and_openssl_agrees(tsa_authority: TimeStampAuthority, pki: DevPki, tmp_path) -> None:
    data = write(tmp_path / "bid.zip", b"PK\x03\x04 bid package" * 100)
    run("openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", tmp_path / "q.tsq", check=True)
    response = tsa_authority.respond((tmp_path / "q.tsq").read_bytes())
    write(tmp_path / "r.tsr", response)
    root, untrusted = _files(tmp_path, pki)
    for source in (["-queryfile", tmp_path / "q.tsq"], ["-data", data]):
        result = run(
            "openssl", "ts", "-verify", "-in", tmp_path / "r.tsr", *source, "-CAfile", root, "-untrusted", untrusted
        )
        assert "Verification: OK" in result.stdout, result.stdout + result.stderr
    text = run("openssl", "ts", "-reply", "-in", tmp_path / "r.tsr", "-text", check=True).stdout
    assert "Status: Granted." in text
    assert "Nonce: 0x" in text
    # openssl agrees the token does not cover other data
    result = run(
        "openssl",
        "ts",
        "-verify",
        "-in",
        tmp_path / "r.tsr",
        "-data",
        write(tmp_path / "other", b"x"),
        "-CAfile",
        root,
        "-untrusted",
        untrusted,
    )
    assert result.returncode != 0


def test_serials_increase_and_nonce_is_echoed(tsa_authority: TimeStampAuthority) -> None:
    first = client.make_request(b"a")
    second = client.make_request(b"b")
    t1 = client.token_from_response(tsa_authority.respond(first.der), first)
    t2 = client.token_from_response(tsa_authority.respond(second.der), second)
    assert client.verify_token(t2, data=b"b").serial_number > client.verify_token(t1, data=b"a").serial_number
    with pytest.raises(Refused) as info:
        client.token_from_response(tsa_authority.respond(first.der), second)
    assert info.value.reason is Reason.TIMESTAMP_INVALID


@pytest.mark.parametrize(
    ("request_der", "fail"),
    [
        (b"\x30\x03\x02\x01\x01", "bad_request"),
        (client.make_request(b"x", digest_name="sha1").der, "bad_alg"),
        (client.make_request(b"x", policy="1.2.3.4").der, "unaccepted_policy"),
    ],
    ids=["bad_request", "bad_alg", "unaccepted_policy"],  # the requests carry random nonces: stable ids for xdist
)
def test_rejections(tsa_authority: TimeStampAuthority, request_der: bytes, fail: str) -> None:
    response = TimeStampResp.load(tsa_authority.respond(request_der))
    assert response["status"]["status"].native == "rejection"
    assert fail in response["status"]["fail_info"].native
    request = client.TimestampRequest(request_der, "sha256", b"", None)
    with pytest.raises(Refused) as info:
        client.token_from_response(tsa_authority.respond(request_der), request)
    assert info.value.reason is Reason.TIMESTAMP_INVALID


async def test_token_over_other_data_or_tampered_is_refused(tsa) -> None:
    token = await client.timestamp(tsa, b"data")
    with pytest.raises(Refused) as info:
        client.verify_token(token, data=b"other")
    assert info.value.reason is Reason.TIMESTAMP_INVALID
    tampered = bytearray(token)
    tampered[-10] ^= 0xFF
    with pytest.raises(Refused):
        client.verify_token(bytes(tampered), data=b"data")


def test_non_tsa_certificate_is_refused(pki: DevPki) -> None:
    import itertools
    from datetime import UTC, datetime

    counter = itertools.count(1)
    rogue = TimeStampAuthority(
        identity=pki.org_sign.signing(), clock=lambda: datetime.now(UTC), serials=lambda: next(counter)
    )
    request = client.make_request(b"x")
    with pytest.raises(Refused) as info:
        client.token_from_response(rogue.respond(request.der), request)
    assert "timeStamping" in info.value.text
