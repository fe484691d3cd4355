from __future__ import annotations

import pytest

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.providers import pyca, sm2
from tests.certs.external import run, write

pytestmark = pytest.mark.skipif(not sm2.available(), reason="optional SM2 provider (gmssl-pyx) not installed")


def test_sign_verify_and_record_algorithm() -> None:
    key = sm2.Sm2PrivateKey.generate()
    sig = sm2.Sm2Signer(key).sign(b"login challenge")
    assert sig.algorithm is algs.SM2_SM3
    sm2.verify(key.public_key(), b"login challenge", sig)
    pyca.verify_spki(key.public_key().spki_der(), b"login challenge", sig)
    with pytest.raises(Refused) as info:
        sm2.verify(key.public_key(), b"login challenge!", sig)
    assert info.value.reason is Reason.BAD_SIGNATURE


def test_nonces_are_random() -> None:
    key = sm2.Sm2PrivateKey.generate()
    assert key.sign(b"m").value != key.sign(b"m").value


def test_wrong_distinguishing_id_fails() -> None:
    key = sm2.Sm2PrivateKey.generate()
    sig = key.sign(b"m", sm2_id=b"another-id")
    with pytest.raises(Refused):
        sm2.verify(key.public_key(), b"m", sig)
    sm2.verify(key.public_key(), b"m", sig, sm2_id=b"another-id")


def test_our_signature_verifies_with_openssl(tmp_path) -> None:
    key = sm2.Sm2PrivateKey.generate()
    sig = key.sign(b"seal data")
    result = run(
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        write(tmp_path / "pub.pem", key.public_key().spki_pem()),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:1234567812345678",
        "-in",
        write(tmp_path / "msg", b"seal data"),
        "-sigfile",
        write(tmp_path / "sig", sig.value),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_openssl_signature_verifies_here(tmp_path) -> None:
    run("openssl", "genpkey", "-algorithm", "SM2", "-out", tmp_path / "k.pem", check=True)
    run("openssl", "pkey", "-in", tmp_path / "k.pem", "-pubout", "-out", tmp_path / "pub.pem", check=True)
    write(tmp_path / "msg", b"from openssl")
    run(
        "openssl",
        "pkeyutl",
        "-sign",
        "-inkey",
        tmp_path / "k.pem",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:1234567812345678",
        "-in",
        tmp_path / "msg",
        "-out",
        tmp_path / "sig",
        check=True,
    )
    public = sm2.Sm2PublicKey.from_spki_pem((tmp_path / "pub.pem").read_bytes())
    sig = pyca.SignatureValue(algs.SM2_SM3, (tmp_path / "sig").read_bytes())
    sm2.verify(public, b"from openssl", sig)


def test_encrypt_decrypt_short_secret() -> None:
    key = sm2.Sm2PrivateKey.generate()
    ct = sm2.encrypt(key.public_key(), b"k" * 32)
    assert key.decrypt(ct) == b"k" * 32
    other = sm2.Sm2PrivateKey.generate()
    with pytest.raises(Refused) as info:
        other.decrypt(ct)
    assert info.value.reason is Reason.NOT_A_RECIPIENT


def test_malformed_keys_are_refused() -> None:
    with pytest.raises(Refused):
        sm2.Sm2PublicKey(b"short")
    with pytest.raises(Refused):
        sm2.Sm2PublicKey.from_spki_der(b"\x30\x00")
