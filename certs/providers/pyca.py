"""The `cryptography` provider: RSA, ECDSA P-256/P-384, Ed25519, SM3, SM4-GCM and AES-256-GCM.

Everything not SM2 goes through `cryptography`. RSA signatures default to PSS with SHA-256 and a
salt as long as the digest (the reference's platform default); PKCS#1 v1.5 is verified because many
CA certificates and middleware still produce it.
"""

from __future__ import annotations

import hashlib
from typing import Final

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from certs import algorithms as algs
from certs.algorithms import SignatureAlgorithm
from certs.errors import Reason, Refused
from certs.providers import sm2
from certs.providers.base import SignatureValue

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,
    "sm3": hashes.SM3,
}


def hash_for(digest: algs.DigestAlgorithm) -> hashes.HashAlgorithm:
    """The `cryptography` hash object for a registered digest."""
    return _HASHES[digest.name]()


_HASHLIB_DIGESTS: Final = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def digest(data: bytes, name: str = "sha256") -> bytes:
    """The digest of ``data`` with the named algorithm (sha256, sha384, sha512, sm3, sha1)."""
    fast = _HASHLIB_DIGESTS.get(name)
    if fast is not None:  # the same digest as `cryptography`'s, without its per-call objects
        return fast(data).digest()
    h = hashes.Hash(hash_for(algs.digest_algorithm(name)))
    h.update(data)
    return h.finalize()


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of ``data``."""
    return digest(data, "sm3")


def default_algorithm(key: PrivateKey | PublicKey) -> SignatureAlgorithm:
    """The platform default signature algorithm for a key type."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return algs.ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return algs.ECDSA_P256_SHA256
        if isinstance(key.curve, ec.SECP384R1):
            return algs.ECDSA_P384_SHA384
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"elliptic curve {key.curve.name} is not supported")
    return algs.RSA_PSS_SHA256


def _pss(h: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH)


_FAMILIES: Final = {
    rsa.RSAPrivateKey: "rsa",
    rsa.RSAPublicKey: "rsa",
    ec.EllipticCurvePrivateKey: "ecdsa",
    ec.EllipticCurvePublicKey: "ecdsa",
    ed25519.Ed25519PrivateKey: "eddsa",
    ed25519.Ed25519PublicKey: "eddsa",
}
_FAMILY_BY_TYPE: dict[type, str | None] = {}


def _family(key: PrivateKey | PublicKey) -> str | None:
    """The key's family (``rsa``, ``ecdsa``, ``eddsa`` or None), found by isinstance once per concrete type."""
    kind = type(key)
    if kind not in _FAMILY_BY_TYPE:
        _FAMILY_BY_TYPE[kind] = next((name for cls, name in _FAMILIES.items() if isinstance(key, cls)), None)
    return _FAMILY_BY_TYPE[kind]


def _check_pairing(key: PrivateKey | PublicKey, algorithm: SignatureAlgorithm) -> None:
    kind = _family(key)
    if kind != algorithm.family:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"a {kind} key cannot make or check {algorithm.name} signatures")


def sign(key: PrivateKey, data: bytes, algorithm: SignatureAlgorithm | None = None) -> SignatureValue:
    """Sign ``data`` with ``key`` under ``algorithm`` (default: `default_algorithm`)."""
    algorithm = algorithm or default_algorithm(key)
    _check_pairing(key, algorithm)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return SignatureValue(algorithm, key.sign(data))
    assert algorithm.digest is not None  # noqa: S101 - every non-EdDSA algorithm names its digest
    h = hash_for(algorithm.digest)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return SignatureValue(algorithm, key.sign(data, ec.ECDSA(h)))
    pad: padding.AsymmetricPadding = _pss(h) if algorithm.padding == "pss" else padding.PKCS1v15()
    return SignatureValue(algorithm, key.sign(data, pad, h))


def verify(key: PublicKey, data: bytes, signature: SignatureValue) -> None:
    """Check ``signature`` over ``data``; raise `Refused` (bad-signature) when it does not verify."""
    algorithm = signature.algorithm
    _check_pairing(key, algorithm)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature.value, data)
            return
        assert algorithm.digest is not None  # noqa: S101 - every non-EdDSA algorithm names its digest
        h = hash_for(algorithm.digest)
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature.value, data, ec.ECDSA(h))
            return
        if algorithm.padding == "pss":
            key.verify(signature.value, data, padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.AUTO), h)
        else:
            key.verify(signature.value, data, padding.PKCS1v15(), h)
    except InvalidSignature:
        raise Refused(Reason.BAD_SIGNATURE, f"{algorithm.name} signature does not verify") from None


def load_public_key(spki_der: bytes) -> PublicKey:
    """A supported public key from DER SubjectPublicKeyInfo; refuses other key types (SM2 included)."""
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"public key cannot be loaded: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return key
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"public key type {type(key).__name__} is not supported")


def public_key_der(key: PrivateKey | PublicKey) -> bytes:
    private_types = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    public = key.public_key() if isinstance(key, private_types) else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class PycaSigner:
    """A `Signer` over an in-memory `cryptography` private key."""

    def __init__(self, key: PrivateKey, algorithm: SignatureAlgorithm | None = None) -> None:
        self._key = key
        self._algorithm = algorithm or default_algorithm(key)
        _check_pairing(key, self._algorithm)

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    @property
    def key(self) -> PrivateKey:
        return self._key

    def sign(self, data: bytes) -> SignatureValue:
        return sign(self._key, data, self._algorithm)

    def public_key_der(self) -> bytes:
        return public_key_der(self._key)


def verify_spki(
    spki_der: bytes, data: bytes, signature: SignatureValue, *, sm2_id: bytes = algs.SM2_DEFAULT_ID
) -> None:
    """`Verifier` over a DER SubjectPublicKeyInfo; SM2 goes to the SM2 provider when it is installed."""
    if signature.algorithm.family == "sm2":
        sm2.verify(sm2.Sm2PublicKey.from_spki_der(spki_der), data, signature, sm2_id=sm2_id)
        return
    verify(load_public_key(spki_der), data, signature)


# --- symmetric ---------------------------------------------------------------------------------


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes | None) -> bytes:
    """AES-GCM (key of 16, 24 or 32 bytes; 12-byte nonce): ciphertext with the 16-byte tag appended."""
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes | memoryview, aad: bytes | None) -> bytes:
    """Decrypt AES-GCM; refuses (tampered-ciphertext) when the tag does not authenticate."""
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "AES-GCM authentication failed") from None


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes | None) -> bytes:
    """SM4-GCM (GB/T 32907; 16-byte key, 12-byte nonce): ciphertext with the 16-byte tag appended."""
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes | None) -> bytes:
    """Decrypt SM4-GCM; refuses (tampered-ciphertext) when the tag does not authenticate."""
    if len(ciphertext) < 16:  # noqa: PLR2004 - the GCM tag length
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "SM4-GCM ciphertext shorter than its tag")
    body, tag = ciphertext[:-16], ciphertext[-16:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if aad:
        decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "SM4-GCM authentication failed") from None


def sm4_ecb_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block encryption (for known-answer tests only; never a mode of operation)."""
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - KAT of the block cipher
    return encryptor.update(block) + encryptor.finalize()
