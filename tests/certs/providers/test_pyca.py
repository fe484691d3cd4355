from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from certs import algorithms as algs
from certs.devpki.pki import new_key
from certs.errors import Reason, Refused
from certs.providers import pyca
from certs.providers.base import SignatureValue, Signer
from tests.certs.external import run, write


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("p256", "ecdsa-p256-sha256"),
        ("p384", "ecdsa-p384-sha384"),
        ("ed25519", "ed25519"),
        ("rsa2048", "rsa-pss-sha256"),
    ],
)
def test_sign_verify_each_key_type_records_its_algorithm(kind, expected) -> None:
    key = new_key(kind)
    signer = pyca.PycaSigner(key)
    assert isinstance(signer, Signer)
    sig = signer.sign(b"bid")
    assert sig.algorithm.name == expected
    pyca.verify_spki(signer.public_key_der(), b"bid", sig)
    restored = SignatureValue.from_dict(sig.to_dict())
    assert restored == sig
    with pytest.raises(Refused) as info:
        pyca.verify_spki(signer.public_key_der(), b"bid!", sig)
    assert info.value.reason is Reason.BAD_SIGNATURE


def test_rsa_pkcs1_v15_signatures_verify() -> None:
    key = new_key("rsa2048")
    sig = pyca.sign(key, b"x", algs.RSA_PKCS1_SHA256)  # type: ignore[arg-type]
    pyca.verify(key.public_key(), b"x", sig)  # type: ignore[arg-type]


def test_algorithm_must_match_key_type() -> None:
    key = new_key("p256")
    with pytest.raises(Refused) as info:
        pyca.sign(key, b"x", algs.ED25519)  # type: ignore[arg-type]
    assert info.value.reason is Reason.UNSUPPORTED_ALGORITHM


def test_ecdsa_signature_verifies_with_openssl(tmp_path) -> None:
    key = new_key("p256")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    sig = pyca.sign(key, b"opening record")
    pub = tmp_path / "pub.pem"
    pub.write_bytes(pyca.PycaSigner(key).public_key_der())
    result = run(
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        pub,
        "-rawin",
        "-digest",
        "sha256",
        "-in",
        write(tmp_path / "msg", b"opening record"),
        "-sigfile",
        write(tmp_path / "sig", sig.value),
    )
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_sm3_known_answer() -> None:
    assert pyca.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_known_answer() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert pyca.sm4_ecb_block(key, key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_round_trip_and_tamper() -> None:
    key, nonce = bytes(range(16)), bytes(12)
    ct = pyca.sm4_gcm_encrypt(key, nonce, b"price 1000000", b"tender-1")
    assert pyca.sm4_gcm_decrypt(key, nonce, ct, b"tender-1") == b"price 1000000"
    with pytest.raises(Refused) as info:
        pyca.sm4_gcm_decrypt(key, nonce, ct, b"tender-2")
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT
    bad = bytes([ct[0] ^ 1]) + ct[1:]
    with pytest.raises(Refused):
        pyca.sm4_gcm_decrypt(key, nonce, bad, b"tender-1")


def test_aes_gcm_tamper_is_refused() -> None:
    key, nonce = bytes(32), bytes(12)
    ct = pyca.aes_gcm_encrypt(key, nonce, b"x" * 100, b"a")
    with pytest.raises(Refused) as info:
        pyca.aes_gcm_decrypt(key, nonce, ct[:-1] + bytes([ct[-1] ^ 1]), b"a")
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT
