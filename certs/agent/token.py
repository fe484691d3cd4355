"""The PKCS#11 side of the agent: the token's certificates and the three private-key operations.

Only raw private-key operations happen here, exactly those of the pages' ``KeyHolder``
(``static/js/pki/keyholder.js``): a signature as the platform's signer makes it (ECDSA with
SHA-256 for P-256 and SHA-384 for P-384, as a DER Ecdsa-Sig-Value; RSASSA-PSS with SHA-256), the
raw ECDH shared secret Z with an ephemeral point, and RSA-OAEP (SHA-256, MGF1-SHA-256, with a
label). Hashing happens in the agent, so a token needs only the plain mechanisms (``CKM_ECDSA``,
``CKM_RSA_PKCS_PSS``, ``CKM_ECDH1_DERIVE``, ``CKM_RSA_PKCS_OAEP``).

A token that refuses PSS, or OAEP with SHA-256 and a label (SoftHSM2 2.6 accepts OAEP only with
SHA-1 and no label), is asked for the raw RSA operation (``CKM_RSA_X_509``) instead and the
padding is done here (`certs.agent.rsa_padding`), if the token allows that mechanism for the key;
otherwise the operation is refused as unsupported.

One PKCS#11 session serves the agent's lifetime; a lock keeps its operations one at a time.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import pkcs11
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from pkcs11 import KDF, MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.types import DecryptMixin, DeriveMixin, SignMixin

from certs.agent import rsa_padding
from certs.errors import Refused
from certs.providers import pyca
from certs.providers.base import SignatureValue

KeyKind = Literal["ec", "rsa"]
_Capability = TypeVar("_Capability", SignMixin, DecryptMixin, DeriveMixin)
# The token's answers meaning "not this mechanism or these parameters".
_UNSUPPORTED = (p11.MechanismInvalid, p11.MechanismParamInvalid, p11.ArgumentsBad, p11.FunctionNotSupported)


class TokenRefused(Exception):
    """An operation the agent will not or cannot do; ``code`` and ``field`` go to the page."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class TokenKey:
    """A private key on the token with its certificate (paired by ``CKA_ID``)."""

    id: str
    """``CKA_ID`` in hex: how the pages name the key."""
    label: str
    """The certificate's subject CN (else the object's label)."""
    kind: KeyKind
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default=())

    @property
    def usage(self) -> tuple[str, ...]:
        """What the certificate's key usage allows, so a page can tell a USB key's signing
        certificate from its encryption certificate (both usually name the same holder).
        """
        try:
            usage = self.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return ("sign", "encrypt")
        found = []
        if usage.digital_signature or usage.content_commitment:
            found.append("sign")
        if usage.key_agreement or usage.key_encipherment:
            found.append("encrypt")
        return tuple(found)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "kind": self.kind,
            "usage": list(self.usage),
            "certificate": base64.b64encode(self.certificate.public_bytes(Encoding.DER)).decode(),
            "chain": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in self.chain],
        }


def _attribute(obj: pkcs11.Object, attribute: Attribute) -> bytes:
    """A byte or text attribute of ``obj``; empty when the token does not have it."""
    try:
        value = obj[attribute]
    except p11.PKCS11Error:
        return b""
    if isinstance(value, str):
        return value.encode()
    return bytes(value or b"")


def _common_name(certificate: x509.Certificate) -> str | None:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The issuers of ``leaf`` among the token's other certificates, nearest first."""
    chain: list[x509.Certificate] = []
    current = leaf
    while current.issuer != current.subject:
        issuer = next((c for c in others if c.subject == current.issuer and c not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return tuple(chain)


class Token:
    """An open, logged-in session on one token (see the module docstring)."""

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        try:
            library = pkcs11.lib(module)
        except p11.PKCS11Error:
            raise TokenRefused(500, "no-module", f"{module} is not a PKCS#11 module") from None
        try:
            token = library.get_token(token_label=token_label)
        except p11.NoSuchToken:
            raise TokenRefused(404, "no-token", f"no token labelled {token_label!r} in {module}") from None
        except p11.MultipleTokensReturned:
            raise TokenRefused(409, "many-tokens", f"more than one token is labelled {token_label!r}") from None
        try:
            self._session = token.open(user_pin=pin)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
            raise TokenRefused(401, "pin-incorrect", "the token refused the PIN") from None
        except p11.PinLocked:
            raise TokenRefused(401, "pin-locked", "the token's PIN is locked") from None
        self._lock = threading.Lock()
        self.keys = self._find_keys()

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def _find_keys(self) -> dict[str, TokenKey]:
        certificates: list[tuple[bytes, str, x509.Certificate]] = []
        for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            try:
                certificate = x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
            except (ValueError, p11.PKCS11Error):
                continue
            certificates.append((_attribute(obj, Attribute.ID), _attribute(obj, Attribute.LABEL).decode(), certificate))
        private_ids = {
            _attribute(obj, Attribute.ID)
            for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
        }
        leaves = [(i, lbl, c) for i, lbl, c in certificates if i and i in private_ids]
        others = [c for i, _, c in certificates if not (i and i in private_ids)]
        keys: dict[str, TokenKey] = {}
        for key_id, label, certificate in leaves:
            try:
                public = certificate.public_key()
            except (ValueError, UnsupportedAlgorithm):
                continue  # e.g. an SM2 certificate: not served (docs/agent.md)
            kind: KeyKind
            if isinstance(public, ec.EllipticCurvePublicKey):
                kind = "ec"
            elif isinstance(public, rsa.RSAPublicKey):
                kind = "rsa"
            else:
                continue
            keys[key_id.hex()] = TokenKey(
                id=key_id.hex(),
                label=_common_name(certificate) or label or key_id.hex(),
                kind=kind,
                certificate=certificate,
                chain=_chain(certificate, others),
            )
        return keys

    def key(self, key_id: str) -> TokenKey:
        if key_id not in self.keys:
            raise TokenRefused(404, "unknown-key", f"no key {key_id!r} on the token", "key")
        return self.keys[key_id]

    def _private(self, key: TokenKey, capability: type[_Capability]) -> _Capability:
        """The key's object on the token, if the token lets it do ``capability`` (sign, decrypt, derive)."""
        private = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=bytes.fromhex(key.id))
        if not isinstance(private, capability):
            doing = capability.__name__.removesuffix("Mixin").lower()
            raise TokenRefused(501, "unsupported", f"the token does not let this key {doing}", "key")
        return private

    def sign(self, key: TokenKey, data: bytes) -> tuple[bytes, str]:
        """``data`` signed by the key as the platform's own signer signs (`pyca.default_algorithm`):
        ECDSA with SHA-256 (P-256) or SHA-384 (P-384) as a DER Ecdsa-Sig-Value, RSASSA-PSS with
        SHA-256, MGF1-SHA-256 and a 32-byte salt for RSA; with the algorithm's name.

        The signature is checked against the certificate before it is returned, so a token whose
        key and certificate do not belong together is noticed here, not by the platform.
        """
        public = key.certificate.public_key()
        algorithm = pyca.default_algorithm(public)  # type: ignore[arg-type]
        digest = pyca.digest(data, algorithm.digest.name if algorithm.digest else "sha256")
        with self._lock, _token_errors():
            private = self._private(key, SignMixin)
            if isinstance(public, ec.EllipticCurvePublicKey):
                raw = bytes(private.sign(digest, mechanism=Mechanism.ECDSA))
                half = len(raw) // 2
                signature = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
            elif isinstance(public, rsa.RSAPublicKey):
                signature = self._sign_pss(private, digest, public.key_size)
            else:
                raise TokenRefused(501, "unsupported", "the agent signs with EC and RSA keys only", "key")
        try:
            pyca.verify(public, data, SignatureValue(algorithm, signature))
        except Refused:
            raise TokenRefused(
                502, "key-mismatch", "the token's signature does not verify with its certificate"
            ) from None
        return signature, algorithm.name

    @staticmethod
    def _sign_pss(private: SignMixin, digest: bytes, modulus_bits: int) -> bytes:
        try:
            return bytes(
                private.sign(
                    digest, mechanism=Mechanism.RSA_PKCS_PSS, mechanism_param=(Mechanism.SHA256, MGF.SHA256, 32)
                )
            )
        except _UNSUPPORTED:
            pass  # the token has no PSS: pad here, let it do the raw RSA
        return bytes(private.sign(rsa_padding.pss_encode(digest, modulus_bits), mechanism=Mechanism.RSA_X_509))

    @staticmethod
    def check_point(key: TokenKey, point: bytes) -> int:
        """Refuse (422) anything but an uncompressed point on the key's curve, before anyone is asked;
        the size of the shared secret in bytes.
        """
        public = key.certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise TokenRefused(422, "wrong-key-kind", "key agreement needs an EC key", "key")
        size = (public.curve.key_size + 7) // 8
        if len(point) != 1 + 2 * size or point[0] != 0x04:  # noqa: PLR2004 - the uncompressed form's first byte
            raise TokenRefused(
                422, "bad-field", f"must be an uncompressed point (04‖X‖Y, {1 + 2 * size} bytes)", "point"
            )
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(public.curve, point)
        except ValueError:
            raise TokenRefused(422, "bad-field", f"not a point on {public.curve.name}", "point") from None
        return size

    @staticmethod
    def check_encrypted_key(key: TokenKey, encrypted: bytes) -> None:
        """Refuse (422) a non-RSA key or a ciphertext of the wrong length, before anyone is asked."""
        public = key.certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise TokenRefused(422, "wrong-key-kind", "RSA-OAEP needs an RSA key", "key")
        size = (public.key_size + 7) // 8
        if len(encrypted) != size:
            raise TokenRefused(422, "bad-field", f"must be {size} bytes for this key", "encryptedKey")

    def derive(self, key: TokenKey, point: bytes) -> bytes:
        """ECDH (``CKM_ECDH1_DERIVE``, no KDF) with the uncompressed ``point``: the raw secret Z."""
        size = self.check_point(key, point)
        with self._lock, _token_errors():
            secret = self._private(key, DeriveMixin).derive_key(
                KeyType.GENERIC_SECRET,
                size * 8,
                mechanism=Mechanism.ECDH1_DERIVE,
                mechanism_param=(KDF.NULL, None, point),
                template={Attribute.TOKEN: False, Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
            )
            try:
                return bytes(secret[Attribute.VALUE])
            finally:
                secret.destroy()

    def decrypt_oaep(self, key: TokenKey, encrypted: bytes, label: bytes) -> bytes:
        """RSA-OAEP (SHA-256, MGF1-SHA-256, ``label``) decryption of ``encrypted`` by the key."""
        self.check_encrypted_key(key, encrypted)
        size = len(encrypted)
        with self._lock, _token_errors():
            private = self._private(key, DecryptMixin)
            try:
                return _whole(
                    private.decrypt(
                        encrypted,
                        mechanism=Mechanism.RSA_PKCS_OAEP,
                        mechanism_param=(Mechanism.SHA256, MGF.SHA256, label or None),
                    )
                )
            except _UNSUPPORTED:
                pass  # fall back to the raw operation below
            except (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange):
                raise TokenRefused(422, "decrypt-failed", "the key does not decrypt this", "encryptedKey") from None
            try:
                block = _whole(private.decrypt(encrypted, mechanism=Mechanism.RSA_X_509))
            except _UNSUPPORTED:
                raise TokenRefused(
                    501,
                    "unsupported",
                    "the token offers neither RSA-OAEP with SHA-256 and a label nor raw RSA for this key",
                ) from None
        try:
            return rsa_padding.oaep_decode(block.rjust(size, b"\0"), label)
        except ValueError:
            raise TokenRefused(422, "decrypt-failed", "the key does not decrypt this", "encryptedKey") from None


def _whole(result: bytes | Iterator[bytes]) -> bytes:
    """python-pkcs11 answers a one-part call with bytes (an iterator only for streamed input)."""
    return result if isinstance(result, bytes) else b"".join(result)


class _token_errors:  # noqa: N801 - used as a context manager, like contextlib's helpers
    """Turn any other PKCS#11 error into a 502 naming only its kind (never data or the PIN)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if isinstance(error, p11.DeviceRemoved | p11.TokenNotPresent):
            raise TokenRefused(503, "token-removed", "the token was removed") from None
        if isinstance(error, _UNSUPPORTED):
            raise TokenRefused(501, "unsupported", f"the token does not offer this: {type(error).__name__}") from None
        if isinstance(error, p11.PKCS11Error):
            raise TokenRefused(502, "token-error", f"the token failed: {type(error).__name__}") from None
