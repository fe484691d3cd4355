"""Wrap a content key to a recipient's encryption certificate, and unwrap it with the private key.

The method follows the certificate's key:

* EC P-256 / P-384: HPKE (RFC 9180) base mode, DHKEM with HKDF-SHA256/384 and AES-256-GCM;
* RSA: RSA-OAEP with SHA-256 (MGF1-SHA-256), the ``info`` string as OAEP label;
* SM2: SM2 public-key encryption (GmSSL, C1C3C2), when the optional provider is installed.

``info`` binds the wrapped key to its context (role, tender, lot, bidder): unwrapping with another
``info`` fails, so a wrapped key cannot be replayed into another envelope. The recipient
certificate must allow key agreement (EC) or key encipherment (RSA).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hpke as hpke_mod
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from certs.errors import Reason, Refused
from certs.providers import sm2

HPKE_P256: Final = "hpke-p256-sha256-aes256gcm"
HPKE_P384: Final = "hpke-p384-sha384-aes256gcm"
RSA_OAEP_SHA256: Final = "rsa-oaep-sha256"
SM2_ENCRYPT: Final = "sm2-encrypt"

_SUITES: Final = {
    HPKE_P256: hpke_mod.Suite(hpke_mod.KEM.P256, hpke_mod.KDF.HKDF_SHA256, hpke_mod.AEAD.AES_256_GCM),
    HPKE_P384: hpke_mod.Suite(hpke_mod.KEM.P384, hpke_mod.KDF.HKDF_SHA384, hpke_mod.AEAD.AES_256_GCM),
}

UnwrapKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | sm2.Sm2PrivateKey


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A content key (or share) encrypted to one certificate, named by its SHA-256 fingerprint."""

    method: str
    recipient_sha256: str
    value: bytes


def certificate_sha256(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


def _check_usage(certificate: x509.Certificate, *, agreement: bool) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    allowed = usage.key_agreement if agreement else usage.key_encipherment
    if not allowed:
        needed = "keyAgreement" if agreement else "keyEncipherment"
        raise Refused(Reason.WRONG_KEY_USAGE, f"the encryption certificate lacks {needed}")


def wrap(secret: bytes, recipient: x509.Certificate | sm2.Sm2PublicKey, info: bytes) -> WrappedKey:
    """Encrypt ``secret`` (a content key or a share) to ``recipient``'s key, bound to ``info``.

    SM2 encryption certificates do not load in `cryptography`; pass their `sm2.Sm2PublicKey`.
    """
    if isinstance(recipient, sm2.Sm2PublicKey):
        # SM2 encryption carries no label: bind ``info`` by encrypting its digest with the key.
        fingerprint = hashlib.sha256(recipient.spki_der()).hexdigest()
        return WrappedKey(SM2_ENCRYPT, fingerprint, sm2.encrypt(recipient, hashlib.sha256(info).digest() + secret))
    fingerprint = certificate_sha256(recipient)
    public = recipient.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        _check_usage(recipient, agreement=True)
        method = {"secp256r1": HPKE_P256, "secp384r1": HPKE_P384}.get(public.curve.name)
        if method is None:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"no key wrapping for curve {public.curve.name}")
        return WrappedKey(method, fingerprint, _SUITES[method].encrypt(secret, public, info=info))
    if isinstance(public, rsa.RSAPublicKey):
        _check_usage(recipient, agreement=False)
        return WrappedKey(RSA_OAEP_SHA256, fingerprint, public.encrypt(secret, _oaep(info)))
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"cannot wrap a key to a {type(public).__name__}")


def unwrap(wrapped: WrappedKey, key: UnwrapKey, info: bytes) -> bytes:
    """Decrypt ``wrapped`` with ``key``; refuses (not-a-recipient) when it does not open."""
    try:
        if wrapped.method in _SUITES and isinstance(key, ec.EllipticCurvePrivateKey):
            return _SUITES[wrapped.method].decrypt(wrapped.value, key, info=info)
        if wrapped.method == RSA_OAEP_SHA256 and isinstance(key, rsa.RSAPrivateKey):
            return key.decrypt(wrapped.value, _oaep(info))
        if wrapped.method == SM2_ENCRYPT and isinstance(key, sm2.Sm2PrivateKey):
            plain = key.decrypt(wrapped.value)
            if plain[:32] != hashlib.sha256(info).digest():
                raise Refused(Reason.NOT_A_RECIPIENT, "the wrapped key belongs to another context")
            return plain[32:]
    except (ValueError, InvalidTag):
        raise Refused(Reason.NOT_A_RECIPIENT, f"{wrapped.method} key does not open for this key and context") from None
    raise Refused(Reason.NOT_A_RECIPIENT, f"a {type(key).__name__} cannot open a {wrapped.method} wrapped key")
