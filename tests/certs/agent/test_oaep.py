"""The agent's OAEP decoding (for tokens that only do raw RSA) agrees with OpenSSL's encryption."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from certs.agent import oaep

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIZE = 256


def raw_decrypt(ciphertext: bytes) -> bytes:
    numbers = KEY.private_numbers()
    value = pow(int.from_bytes(ciphertext, "big"), numbers.d, numbers.public_numbers.n)
    return value.to_bytes(SIZE, "big")


def encrypt(message: bytes, label: bytes) -> bytes:
    scheme = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    return KEY.public_key().encrypt(message, scheme)


@given(message=st.binary(max_size=SIZE - 2 * 32 - 2), label=st.binary(max_size=300))
def test_decodes_what_openssl_encodes(message: bytes, label: bytes) -> None:
    assert oaep.decode(raw_decrypt(encrypt(message, label)), label) == message


def test_refuses_a_wrong_label_or_an_altered_block() -> None:
    block = raw_decrypt(encrypt(b"k" * 32, b"binding"))
    with pytest.raises(ValueError, match="decryption error"):
        oaep.decode(block, b"other binding")
    for position in (0, 5, 100, SIZE - 1):
        altered = bytearray(block)
        altered[position] ^= 1
        with pytest.raises(ValueError, match="decryption error"):
            oaep.decode(bytes(altered), b"binding")
    with pytest.raises(ValueError, match="decryption error"):
        oaep.decode(b"\0" * 40, b"")
