"""Request signatures for the guarantor API (RFC 9421 HTTP Message Signatures, RFC 9530 Content-Digest), both
sides. Pure: no database, no web (the guarantor's client uses it).

Two directions share one profile:

* **requests** a guarantor's system sends to the platform, signed with the key of the guarantor's API
  certificate (`sign_request` on the client, `verify_request` on the server);
* **callbacks** the platform's worker pushes to a guarantor's callback URL, signed with the platform's own
  signing key (`sign_callback` on the worker, `verify_callback` on the guarantor's system).

The signature covers the method, the path and query (the target URI less the scheme and authority, which
the centre's TLS terminator rewrites), the body through its SHA-256 ``Content-Digest``, and, on unsafe
methods, ``Content-Type`` and ``Idempotency-Key``. Its parameters carry ``created``/``expires`` (a short
window), a random ``nonce`` (the server remembers it: replay protection is stateful and lives in
`trading.guarantees.api_auth`), ``keyid`` (hex SHA-256 of the signer's certificate DER, so a key is named by
the very certificate the centre onboarded) and a ``tag`` that keeps a callback from being accepted as a
request and the reverse.

The RFC 9421 mechanics (signature base, structured fields, ECDSA's raw ``r || s`` encoding, digest
checks) are the ``http-message-signatures`` package's; this module is the profile: which components are
required, how a key id is found, the time window, and a refusal code for every way a request can fail.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import http_sf
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    VerifyResult,
    algorithms,
)

from certs.providers.base import Signer

REQUEST_TAG = "ggzy-guarantor-api"
"""The ``tag`` parameter of a guarantor's request signature (RFC 9421 §2.3)."""
CALLBACK_TAG = "ggzy-guarantor-callback"
"""The ``tag`` of a callback the platform signs: a callback replayed to the API is refused, and back."""
SIGNATURE_LABEL = "ggzy"
"""The label in ``Signature-Input``/``Signature`` (not signed; selection is by ``tag``)."""

CLOCK_WINDOW = timedelta(seconds=300)
"""``created`` may be this far from the verifier's clock either way; it also bounds how long a nonce
must be remembered (created + window), so the nonce store stays small."""
LIFETIME = timedelta(seconds=300)
"""``expires`` = ``created`` + this, as the signer sets it."""
NONCE_MAX = 64
"""Longest nonce accepted (characters): the server stores every nonce it sees."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALGORITHMS = ("ecdsa-p256-sha256", "rsa-pss-sha512")
"""What a verifier accepts; the algorithm follows from the certificate's key, never from the message."""

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | Signer
KeyResolver = Callable[[str], x509.Certificate | None]
"""``keyid`` (hex SHA-256 of a certificate's DER) → the certificate, or None when no such key is known.
Whether the certificate is still valid or revoked is the server's business (`api_auth`), not this one's."""


class Refusal(StrEnum):
    """Why a signed message was refused; each code has words in ``trading/kernel/web/refusals.py``."""

    UNSIGNED = "request_unsigned"
    SIGNATURE_INVALID = "request_signature_invalid"
    KEY_UNKNOWN = "request_key_unknown"
    EXPIRED = "request_expired"
    DIGEST_MISMATCH = "request_digest_mismatch"
    COMPONENT_MISSING = "request_component_missing"
    REPLAYED = "request_replayed"


class SignatureRefused(Exception):
    """A message failed verification: ``code`` for machines, ``detail`` (English) for the person debugging."""

    def __init__(self, code: Refusal, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Verified:
    """What a verified signature vouches for."""

    key_id: str
    certificate: x509.Certificate
    nonce: str
    created: datetime
    expires: datetime | None
    idempotency_key: str | None
    """The signed ``Idempotency-Key`` (None on safe methods, where it is not required)."""

    @property
    def remember_until(self) -> datetime:
        """When the nonce can be forgotten: after that the ``created`` window refuses the message anyway."""
        return self.created + CLOCK_WINDOW


def key_id(certificate: x509.Certificate) -> str:
    """The ``keyid`` for a certificate: lower-case hex SHA-256 of its DER (the onboarded certificate's)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` field value for ``body`` (``sha-256=:base64:``)."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def required_components(method: str) -> tuple[str, ...]:
    """The components a signature on a ``method`` request must cover, in the order the signer lists them."""
    base = ("@method", "@path", "@query", "content-digest")
    if method.upper() in SAFE_METHODS:
        return base
    return (*base, "content-type", "idempotency-key")


# --- signing ---------------------------------------------------------------------------------------


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: SignerKey,
    certificate: x509.Certificate,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a guarantor's request; return ``headers`` plus ``Content-Digest``, ``Signature-Input``, ``Signature``.

    ``url`` is absolute and already encoded (as the HTTP client sends it); ``headers`` must hold
    ``Content-Type`` and ``Idempotency-Key`` on unsafe methods (a ValueError names a missing one).
    ``nonce`` defaults to 128 random bits; ``now`` to the signer's clock.
    """
    return _sign(
        method=method,
        url=url,
        headers=headers,
        body=body,
        key=key,
        certificate=certificate,
        now=now,
        nonce=nonce,
        tag=REQUEST_TAG,
    )


def sign_callback(
    *,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: SignerKey,
    certificate: x509.Certificate,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a callback POST the platform pushes to a guarantor, with the platform's signing key.

    Same profile as a request (the guarantor checks digest, window and nonce the same way), but tagged
    ``CALLBACK_TAG`` so neither kind can pass for the other. ``headers`` need ``Content-Type`` and an
    ``Idempotency-Key`` (the worker's delivery id: retries of one delivery carry the same one).
    """
    return _sign(
        method="POST",
        url=url,
        headers=headers,
        body=body,
        key=key,
        certificate=certificate,
        now=now,
        nonce=nonce,
        tag=CALLBACK_TAG,
    )


def _sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: SignerKey,
    certificate: x509.Certificate,
    now: datetime | None,
    nonce: str | None,
    tag: str,
) -> dict[str, str]:
    method = method.upper()
    algorithm = _algorithm_for(_public_key_of(key))
    out = {name: value for name, value in headers.items() if name.lower() not in _SIGNATURE_FIELDS}
    present = {name.lower() for name in out}
    for needed in ("content-type", "idempotency-key"):
        if needed in required_components(method) and needed not in present:
            msg = f"a signed {method} needs the {needed} header"
            raise ValueError(msg)
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    signer = HTTPMessageSigner(signature_algorithm=algorithm)
    message = _Message(method=method, url=url, headers=out)
    prepared = signer.prepare(
        message,
        key_id=key_id(certificate),
        created=created,
        expires=created + LIFETIME,
        nonce=nonce if nonce is not None else secrets.token_urlsafe(16),
        label=SIGNATURE_LABEL,
        tag=tag,
        covered_component_ids=required_components(method),
        body=body,  # adds Content-Digest (sha-256) to ``out``; it is already in the covered list
    )
    signer.apply(message, prepared, _raw_signature(key, prepared.signature_base))
    return out


def _raw_signature(key: SignerKey, base: bytes) -> bytes:
    """The RFC 9421 signature bytes: ECDSA as fixed-size ``r || s`` (§3.3.4), RSA-PSS with SHA-512 (§3.3.1)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return algorithms.ECDSA_P256_SHA256(private_key=key).sign(base)  # type: ignore[no-untyped-call,no-any-return]
    if isinstance(key, rsa.RSAPrivateKey):
        return algorithms.RSA_PSS_SHA512(private_key=key).sign(base)  # type: ignore[no-untyped-call,no-any-return]
    # A `certs` signer (an HSM, the platform's PKCS#12 identity): ECDSA P-256 only, its DER re-encoded.
    if key.algorithm.name != "ecdsa-p256-sha256":
        msg = f"a {key.algorithm.name} signer cannot make an RFC 9421 signature here (ecdsa-p256-sha256 only)"
        raise ValueError(msg)
    return algorithms.ECDSA_P256_SHA256.signature_from_der(key.sign(base).value)


def _public_key_of(key: SignerKey) -> Any:
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return key.public_key()
    return serialization.load_der_public_key(key.public_key_der())


def _algorithm_for(public_key: Any) -> type[algorithms.HTTPSignatureAlgorithm]:
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return algorithms.ECDSA_P256_SHA256
    if isinstance(public_key, rsa.RSAPublicKey):
        return algorithms.RSA_PSS_SHA512
    msg = f"no RFC 9421 algorithm here for a {type(public_key).__name__} (supported: {', '.join(ALGORITHMS)})"
    raise ValueError(msg)


# --- verifying -------------------------------------------------------------------------------------


def verify_request(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    resolve: KeyResolver,
    now: datetime,
) -> Verified:
    """Verify a guarantor's request as the server received it, or raise `SignatureRefused`.

    ``headers`` are the field lines as received (repeats kept); ``body`` the raw bytes before any
    decoding; ``url`` any absolute form of the request URL (only its path and query are covered, so the
    scheme and host the proxy rewrote do not matter); ``now`` the server's clock. Replay (the nonce) is
    NOT checked here: the caller records `Verified.nonce` and refuses a repeat as `Refusal.REPLAYED`.
    """
    return _verify(method=method, url=url, headers=headers, body=body, resolve=resolve, now=now, tag=REQUEST_TAG)


def verify_callback(
    *,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    platform_certificate: x509.Certificate,
    now: datetime,
) -> Verified:
    """Verify a callback from the platform on the guarantor's side, against the platform's certificate.

    The guarantor's system should also remember `Verified.nonce` until `Verified.remember_until`.
    """
    expected = key_id(platform_certificate)

    def resolve(candidate: str) -> x509.Certificate | None:
        return platform_certificate if candidate == expected else None

    return _verify(method="POST", url=url, headers=headers, body=body, resolve=resolve, now=now, tag=CALLBACK_TAG)


def _verify(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    resolve: KeyResolver,
    now: datetime,
    tag: str,
) -> Verified:
    method = method.upper()
    kid, certificate, result = _authenticate(method, url, _Fields(list(headers)), resolve, tag)
    # Everything below reads values the signature has just authenticated.
    covered = {_component_name(identifier) for identifier in result.covered_components}
    missing = [name for name in required_components(method) if name not in covered]
    if missing:
        raise SignatureRefused(Refusal.COMPONENT_MISSING, f"the signature does not cover {', '.join(missing)}")
    nonce = str(result.parameters["nonce"])
    if not nonce or len(nonce) > NONCE_MAX:
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, f"the nonce must have 1 to {NONCE_MAX} characters")
    created, expires = _check_window(result.parameters, now)
    try:
        ContentDigest.verify_components(result.covered_components, body)
    except HTTPMessageSignaturesException:
        raise SignatureRefused(Refusal.DIGEST_MISMATCH, "the body does not match its signed Content-Digest") from None
    return Verified(
        key_id=kid,
        certificate=certificate,
        nonce=nonce,
        created=created,
        expires=expires,
        idempotency_key=result.covered_components.get('"idempotency-key"'),
    )


def _authenticate(
    method: str, url: str, fields: _Fields, resolve: KeyResolver, tag: str
) -> tuple[str, x509.Certificate, VerifyResult]:
    """Find the signature tagged ``tag``, its key by ``keyid``, and check it cryptographically."""
    kid = _claimed(fields, tag)
    certificate = resolve(kid)
    if certificate is None:
        raise SignatureRefused(Refusal.KEY_UNKNOWN, f"no guarantor certificate has the keyid {kid}")
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, f"the certificate's key suits none of {ALGORITHMS}")
    try:
        algorithm = _algorithm_for(public_key)
    except ValueError as exc:
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, str(exc)) from None
    verifier = _Verifier(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={kid: public_key}, private_keys={}),
    )
    try:
        (result,) = verifier.verify(_Message(method=method, url=url, headers=fields), max_age=None, expect_tag=tag)
    except HTTPMessageSignaturesException as exc:
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, f"the signature does not verify: {exc}") from None
    return kid, certificate, result


def _check_window(parameters: Mapping[str, int | str], now: datetime) -> tuple[datetime, datetime | None]:
    created = datetime.fromtimestamp(int(parameters["created"]), UTC)
    if abs(now - created) > CLOCK_WINDOW:
        raise SignatureRefused(
            Refusal.EXPIRED,
            f"created {created.isoformat()} is more than {int(CLOCK_WINDOW.total_seconds())} s from the "
            f"server's clock {now.replace(microsecond=0).isoformat()}",
        )
    if "expires" not in parameters:
        return created, None
    expires = datetime.fromtimestamp(int(parameters["expires"]), UTC)
    if expires < now:
        raise SignatureRefused(Refusal.EXPIRED, f"the signature expired at {expires.isoformat()}")
    return created, expires


def claimed_key_id(headers: Iterable[tuple[str, str]], *, tag: str = REQUEST_TAG) -> str:
    """The ``keyid`` a message's signature names, NOT yet verified: for looking the key up (asynchronously,
    in a database) before calling `verify_request` with a resolver that answers from what was found.

    Raises `SignatureRefused` as `verify_request` would for an unsigned or malformed message.
    """
    return _claimed(_Fields(list(headers)), tag)


def _claimed(fields: _Fields, tag: str) -> str:
    names = {name.lower() for name, _ in fields.items()}
    if "signature-input" not in names or "signature" not in names:
        raise SignatureRefused(Refusal.UNSIGNED, "the request has no Signature-Input and Signature headers")
    params = _select(fields, tag)
    for needed in ("keyid", "created", "nonce"):
        if needed not in params:
            raise SignatureRefused(Refusal.COMPONENT_MISSING, f"the signature has no {needed} parameter")
    kid = params["keyid"]
    if not isinstance(kid, str):
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, "the keyid parameter is not a string")
    return kid


def _select(fields: _Fields, tag: str) -> dict[str, Any]:
    """The parameters of the one signature tagged ``tag`` (to find its key before verifying it)."""
    values = [value for name, value in fields.items() if name.lower() == "signature-input"]
    try:
        parsed = http_sf.parse(", ".join(values).encode(), tltype="dictionary")
    except (ValueError, TypeError) as exc:
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, f"Signature-Input is malformed: {exc}") from None
    tagged = [
        member[1]
        for member in parsed.values()  # type: ignore[union-attr]
        if isinstance(member, tuple) and isinstance(member[1], dict) and member[1].get("tag") == tag
    ]
    if len(tagged) != 1:
        raise SignatureRefused(Refusal.SIGNATURE_INVALID, f"expected one signature tagged {tag!r}, found {len(tagged)}")
    return dict(tagged[0])


def _component_name(identifier: str) -> str:
    """``'"content-digest"'`` → ``content-digest`` (parameters such as ``;sf`` dropped)."""
    return identifier.split(";", 1)[0].strip('"')


_SIGNATURE_FIELDS = frozenset({"signature", "signature-input", "content-digest"})


class _Verifier(HTTPMessageVerifier):
    """The package's verifier with its own wall-clock checks off.

    `_check_window` checks the times against the server's clock (the database's, shiftable in tests) after
    the signature has authenticated them; the package would compare with the machine's clock.
    """

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:  # noqa: ARG002
        if "created" not in sig_input.params:
            raise InvalidSignature("the signature has no created parameter")


@dataclass
class _Message:
    """The request view the package reads: upper-case method, absolute URL, header field lines."""

    method: str
    url: str
    headers: Any


class _Fields:
    """Read-only header field lines in wire order (repeats kept), as the package's verifier reads them."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self._lines = lines

    def items(self) -> list[tuple[str, str]]:
        return self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(field.lower() == name.lower() for field, _ in self._lines)
