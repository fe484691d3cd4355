"""RSA paddings done in the agent for tokens that offer only raw RSA (``CKM_RSA_X_509``) where
the platform needs RSASSA-PSS or RSAES-OAEP with SHA-256 (RFC 8017; SHA-256, MGF1-SHA-256).

`pss_encode` (EMSA-PSS, 32-byte salt, as `certs.providers.pyca` signs) makes the block the token
raises to the private exponent; the agent checks the signature against the certificate anyway.
`oaep_decode` (EME-OAEP) opens the block the token's raw decryption returns: every check is made
before any is reported, and all failures raise the same error, so the answer says nothing about
which check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import os

_H = 32  # SHA-256 output length


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def pss_encode(digest: bytes, modulus_bits: int) -> bytes:
    """EM for a SHA-256 ``digest`` under a ``modulus_bits``-bit key, left-padded to the modulus length."""
    em_bits = modulus_bits - 1
    em_len = (em_bits + 7) // 8
    salt = os.urandom(_H)
    h = hashlib.sha256(b"\0" * 8 + digest + salt).digest()
    db = b"\0" * (em_len - 2 * _H - 2) + b"\x01" + salt
    masked = bytearray(_xor(db, _mgf1(h, em_len - _H - 1)))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return (bytes(masked) + h + b"\xbc").rjust((modulus_bits + 7) // 8, b"\0")


def oaep_decode(block: bytes, label: bytes) -> bytes:
    """The message in the encoded block ``EM`` (the raw RSA result, ``k`` bytes); `ValueError` if
    it is not a valid OAEP encoding under ``label``.
    """
    k = len(block)
    if k < 2 * _H + 2:
        msg = "decryption error"
        raise ValueError(msg)
    y, masked_seed, masked_db = block[0], block[1 : 1 + _H], block[1 + _H :]
    seed = _xor(masked_seed, _mgf1(masked_db, _H))
    db = _xor(masked_db, _mgf1(seed, k - _H - 1))
    label_ok = hmac.compare_digest(db[:_H], hashlib.sha256(label).digest())
    # the first 0x01 after the zero padding, found without stopping early
    separator = 0
    bad_padding = 0
    for index in range(_H, len(db)):
        byte = db[index]
        found = separator != 0
        if not found and byte == 1:
            separator = index
        elif not found and byte != 0:
            bad_padding = 1
    if y != 0 or not label_ok or separator == 0 or bad_padding:
        msg = "decryption error"
        raise ValueError(msg)
    return db[separator + 1 :]
