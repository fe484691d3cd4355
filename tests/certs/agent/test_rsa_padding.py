"""The agent's RSA paddings (for tokens that only do raw RSA) agree with OpenSSL's."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from certs.agent import rsa_padding

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIZE = 256


def raw_decrypt(ciphertext: bytes) -> bytes:
    """What a token's CKM_RSA_X_509 does with the private key."""
    numbers = KEY.private_numbers()
    value = pow(int.from_bytes(ciphertext, "big"), numbers.d, numbers.public_numbers.n)
    return value.to_bytes(SIZE, "big")


@given(data=st.binary(max_size=500))
def test_pss_blocks_signed_raw_verify_as_rsa_pss(data: bytes) -> None:
    digest = hashlib.sha256(data).digest()
    signature = raw_decrypt(rsa_padding.pss_encode(digest, KEY.key_size))
    scheme = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    KEY.public_key().verify(signature, data, scheme, hashes.SHA256())


def encrypt(message: bytes, label: bytes) -> bytes:
    scheme = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    return KEY.public_key().encrypt(message, scheme)


@given(message=st.binary(max_size=SIZE - 2 * 32 - 2), label=st.binary(max_size=300))
def test_decodes_what_openssl_encodes(message: bytes, label: bytes) -> None:
    assert rsa_padding.oaep_decode(raw_decrypt(encrypt(message, label)), label) == message


def test_refuses_a_wrong_label_or_an_altered_block() -> None:
    block = raw_decrypt(encrypt(b"k" * 32, b"binding"))
    with pytest.raises(ValueError, match="decryption error"):
        rsa_padding.oaep_decode(block, b"other binding")
    for position in (0, 5, 100, SIZE - 1):
        altered = bytearray(block)
        altered[position] ^= 1
        with pytest.raises(ValueError, match="decryption error"):
            rsa_padding.oaep_decode(bytes(altered), b"binding")
    with pytest.raises(ValueError, match="decryption error"):
        rsa_padding.oaep_decode(b"\0" * 40, b"")
