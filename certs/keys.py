"""Platform signing keys: generate, load, sign and verify raw signatures.

The platform signs its own records (ledger checkpoints today; receipts and opening records later)
with one key held in settings. Ed25519 is the default because its signatures are deterministic and
small; ECDSA P-256 keys are accepted too, since many HSMs and CAs issue nothing else. Every
signature is returned together with the name of its algorithm, so stored signatures say how to
verify them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from certs import algorithms

ED25519: str = algorithms.ED25519.name
ECDSA_P256_SHA256: str = algorithms.ECDSA_P256_SHA256.name

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class UnusableKey(ValueError):
    """A key that cannot be loaded or is of an unsupported type."""


@dataclass(frozen=True, slots=True)
class Signature:
    algorithm: str
    key_id: str
    value: bytes


def generate_private_key_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM (kept secret by the caller)."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as exc:
        msg = "the signing key is not an unencrypted PEM private key"
        raise UnusableKey(msg) from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    msg = f"unsupported signing key type {type(key).__name__}; use Ed25519 or ECDSA P-256"
    raise UnusableKey(msg)


def public_key_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes) -> PublicKey:
    key = serialization.load_pem_public_key(pem)
    if isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        return key
    msg = f"unsupported public key type {type(key).__name__}"
    raise UnusableKey(msg)


def key_id(key: PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex: names a key without showing it."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign(key: PrivateKey, message: bytes) -> Signature:
    """Sign ``message`` with the platform key."""
    kid = key_id(key.public_key())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Signature(ED25519, kid, key.sign(message))
    return Signature(ECDSA_P256_SHA256, kid, key.sign(message, ec.ECDSA(hashes.SHA256())))


def verify(key: PublicKey, signature: Signature, message: bytes) -> bool:
    """True when ``signature`` is the key's signature over ``message`` with the named algorithm."""
    try:
        if signature.algorithm == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature.value, message)
            return True
        if signature.algorithm == ECDSA_P256_SHA256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature.value, message, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False
