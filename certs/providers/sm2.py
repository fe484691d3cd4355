"""Optional SM2 provider (GB/T 32918) on gmssl-pyx, the Python binding of GmSSL.

`cryptography` has no SM2 and will not get it, so SM2 signing, verification and encryption go
through gmssl-pyx (extra ``[gm]``). Its nonces come from GmSSL's cryptographic RNG. Two other
libraries are deliberately not used: gmssl 3.2.2 draws SM2 nonces from Python's ``random``
(Mersenne Twister), which can reveal the private key, and snowland-smx's ``Sign`` takes the nonce
from the caller.

SM2 signs ``SM3(Z_A ‖ M)``, where ``Z_A`` depends on a distinguishing ID; every Chinese CA uses the
GM/T 0009 default ``1234567812345678``, which is the default here too. OpenSSL verifies these
signatures with ``-pkeyopt distid:1234567812345678``.
"""

from __future__ import annotations

import base64
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Final

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.providers.base import SignatureValue

# DER prefix of an SM2 SubjectPublicKeyInfo: id-ecPublicKey with the sm2p256v1 named curve, then a
# 66-byte BIT STRING holding the uncompressed point 04‖X‖Y.
_SPKI_PREFIX: Final = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


def _gmssl() -> ModuleType:
    try:
        return importlib.import_module("gmssl_pyx")
    except ImportError:
        raise Refused(
            Reason.UNSUPPORTED_ALGORITHM, "SM2 needs the optional provider: install ggzy[gm] (gmssl-pyx)"
        ) from None


def available() -> bool:
    """True when the SM2 provider's library is installed."""
    try:
        _gmssl()
    except Refused:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Sm2PublicKey:
    """An SM2 public key as the 64-byte point X‖Y."""

    point: bytes

    def __post_init__(self) -> None:
        if len(self.point) != 64:  # noqa: PLR2004 - two 32-byte coordinates
            raise Refused(Reason.MALFORMED, "an SM2 public key is 64 bytes (X‖Y)")

    def spki_der(self) -> bytes:
        return _SPKI_PREFIX + self.point

    def spki_pem(self) -> bytes:
        b64 = base64.encodebytes(self.spki_der()).replace(b"\n", b"")
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        return b"-----BEGIN PUBLIC KEY-----\n" + b"\n".join(lines) + b"\n-----END PUBLIC KEY-----\n"

    @classmethod
    def from_spki_der(cls, der: bytes) -> Sm2PublicKey:
        """Read the SM2 SubjectPublicKeyInfo ``der`` (id-ecPublicKey on sm2p256v1, uncompressed point)."""
        if len(der) != len(_SPKI_PREFIX) + 64 or not der.startswith(_SPKI_PREFIX):
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, "not an uncompressed SM2 public key")
        return cls(der[len(_SPKI_PREFIX) :])

    @classmethod
    def from_spki_pem(cls, pem: bytes) -> Sm2PublicKey:
        body = b"".join(line for line in pem.splitlines() if line and not line.startswith(b"-----"))
        return cls.from_spki_der(base64.b64decode(body))


class Sm2PrivateKey:
    """An SM2 key pair held in memory (32-byte scalar and its public point)."""

    def __init__(self, private: bytes, public: bytes) -> None:
        if len(private) != 32:  # noqa: PLR2004 - SM2 scalars are 32 bytes
            raise Refused(Reason.MALFORMED, "an SM2 private key is 32 bytes")
        self._private = private
        self._public = Sm2PublicKey(public)

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        public, private = _gmssl().sm2_key_generate()
        return cls(bytes(private), bytes(public))

    def public_key(self) -> Sm2PublicKey:
        return self._public

    def sign(self, data: bytes, *, sm2_id: bytes = algs.SM2_DEFAULT_ID) -> SignatureValue:
        """SM2 signature (DER r,s) over ``SM3(Z_A ‖ data)``; GmSSL draws the nonce from its RNG."""
        value = _gmssl().sm2_sign(self._private, self._public.point, data, signer_id=sm2_id)
        return SignatureValue(algs.SM2_SM3, bytes(value))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt an SM2 ciphertext (DER, C1C3C2) addressed to this key."""
        gm = _gmssl()
        try:
            return bytes(gm.sm2_decrypt(self._private, ciphertext))
        except gm.GmsslInnerError:
            raise Refused(Reason.NOT_A_RECIPIENT, "SM2 decryption failed") from None


class Sm2Signer:
    """A `Signer` over an in-memory SM2 key."""

    def __init__(self, key: Sm2PrivateKey, *, sm2_id: bytes = algs.SM2_DEFAULT_ID) -> None:
        self._key = key
        self._sm2_id = sm2_id

    @property
    def algorithm(self) -> algs.SignatureAlgorithm:
        return algs.SM2_SM3

    def sign(self, data: bytes) -> SignatureValue:
        return self._key.sign(data, sm2_id=self._sm2_id)

    def public_key_der(self) -> bytes:
        return self._key.public_key().spki_der()


def verify(key: Sm2PublicKey, data: bytes, signature: SignatureValue, *, sm2_id: bytes = algs.SM2_DEFAULT_ID) -> None:
    """Check an SM2 signature; raise `Refused` (bad-signature) when it does not verify."""
    if signature.algorithm != algs.SM2_SM3:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"an SM2 key cannot check {signature.algorithm.name} signatures")
    gm = _gmssl()
    try:
        ok = bool(gm.sm2_verify(key.point, data, signature.value, signer_id=sm2_id))
    except gm.GmsslInnerError:
        ok = False
    if not ok:
        raise Refused(Reason.BAD_SIGNATURE, "SM2 signature does not verify")


def encrypt(key: Sm2PublicKey, plaintext: bytes) -> bytes:
    """SM2 public-key encryption of a short secret (≤ 255 bytes), DER C1C3C2 as GmSSL emits it."""
    return bytes(_gmssl().sm2_encrypt(key.point, plaintext))


def certificate_public_key(certificate_der: bytes) -> Sm2PublicKey | None:
    """The SM2 public key of a DER certificate, or None when its key is not SM2.

    `cryptography` parses SM2 certificates but refuses their keys, so the SubjectPublicKeyInfo is
    read with asn1crypto.
    """
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        spki = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]["subject_public_key_info"].dump()
        return Sm2PublicKey.from_spki_der(bytes(spki))
    except (Refused, ValueError, TypeError, KeyError):
        return None
