"""Certificate login: a one-time challenge bound to the site's origin and an expiry, signed by the user.

1. The server issues a `Challenge` (32 random bytes, origin, purpose, issue and expiry times) and
   keeps it in a `ChallengeStore` (`trading/` uses a table with row locks; `MemoryChallengeStore`
   here).
2. The client (the bidder's USB-key middleware, or the holder's app for QR login) signs
   ``challenge.to_sign()`` — canonical JSON naming the origin, so a signature obtained by a phishing
   site for its own origin is useless here.
3. `verify_login` consumes the challenge (once only), checks origin and expiry, verifies the
   signature and validates the certificate for ``login`` (chain, revocation, trust list), and maps it
   to a party. Each refusal says why (``challenge-unknown``, ``challenge-reused``,
   ``challenge-expired``, ``challenge-wrong-origin``, ``bad-signature``, or any path refusal).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.canonical import canonical_json
from certs.errors import Reason, Refused
from certs.pathval.identity import Party, party_of
from certs.pathval.validate import PathValidator, ValidatedPath
from certs.providers.base import SignatureValue, Signer
from certs.sign.verify import verify_raw
from certs.trustlist.model import Usage

VERSION = "ggzy-login/1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Challenge:
    nonce: str
    origin: str
    purpose: str
    issued_at: datetime
    expires_at: datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "version": VERSION,
            "nonce": self.nonce,
            "origin": self.origin,
            "purpose": self.purpose,
            "issuedAt": self.issued_at.isoformat(),
            "expiresAt": self.expires_at.isoformat(),
        }

    def to_sign(self) -> bytes:
        """The exact bytes the client signs."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Challenge:
        try:
            if data["version"] != VERSION:
                raise Refused(Reason.MALFORMED, f"challenge version {data['version']}")
            return cls(
                nonce=str(data["nonce"]),
                origin=str(data["origin"]),
                purpose=str(data["purpose"]),
                issued_at=datetime.fromisoformat(data["issuedAt"]),
                expires_at=datetime.fromisoformat(data["expiresAt"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise Refused(Reason.MALFORMED, f"challenge: {exc}") from None


def issue_challenge(
    origin: str, *, now: datetime, ttl: timedelta = timedelta(minutes=2), purpose: str = "login"
) -> Challenge:
    """A fresh challenge for ``origin`` (e.g. ``https://ggzy.example.cn``), valid for ``ttl``."""
    return Challenge(b64url(os.urandom(32)), origin, purpose, now, now + ttl)


class ChallengeStore(Protocol):
    """Holds issued challenges; `consume` hands one out once and refuses unknown or reused nonces."""

    def put(self, challenge: Challenge) -> None: ...

    def consume(self, nonce: str) -> Challenge: ...


@dataclass
class MemoryChallengeStore:
    """An in-memory `ChallengeStore` (tests, the holder-app demo)."""

    issued: dict[str, Challenge] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def put(self, challenge: Challenge) -> None:
        self.issued[challenge.nonce] = challenge

    def consume(self, nonce: str) -> Challenge:
        if nonce in self.used:
            raise Refused(Reason.CHALLENGE_REUSED, nonce)
        challenge = self.issued.pop(nonce, None)
        if challenge is None:
            raise Refused(Reason.CHALLENGE_UNKNOWN, nonce)
        self.used.add(nonce)
        return challenge


def check_challenge(challenge: Challenge, *, expected_origin: str, purpose: str, now: datetime) -> None:
    if challenge.origin != expected_origin:
        raise Refused(Reason.CHALLENGE_WRONG_ORIGIN, f"{challenge.origin} is not {expected_origin}")
    if challenge.purpose != purpose:
        raise Refused(Reason.CHALLENGE_UNKNOWN, f"challenge for {challenge.purpose}, not {purpose}")
    if now > challenge.expires_at:
        raise Refused(Reason.CHALLENGE_EXPIRED, at=challenge.expires_at)


@dataclass(frozen=True)
class LoginResponse:
    """What the client sends back: the nonce, its certificate (and chain), and the signature."""

    nonce: str
    certificate: x509.Certificate
    signature: SignatureValue
    chain: tuple[x509.Certificate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def b64(c: x509.Certificate) -> str:
            return base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()

        return {
            "nonce": self.nonce,
            "certificate": b64(self.certificate),
            "chain": [b64(c) for c in self.chain],
            "signature": self.signature.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoginResponse:
        try:

            def cert(text: str) -> x509.Certificate:
                return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))

            return cls(
                nonce=str(data["nonce"]),
                certificate=cert(data["certificate"]),
                chain=tuple(cert(c) for c in data.get("chain", [])),
                signature=SignatureValue.from_dict(data["signature"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise Refused(Reason.MALFORMED, f"login response: {exc}") from None


@dataclass(frozen=True)
class LoginResult:
    party: Party
    path: ValidatedPath
    algorithm: str


def sign_challenge(
    challenge: Challenge, signer: Signer, certificate: x509.Certificate, chain: Sequence[x509.Certificate] = ()
) -> LoginResponse:
    """The client side (what CA middleware does): sign the challenge with the certificate's key."""
    return LoginResponse(challenge.nonce, certificate, signer.sign(challenge.to_sign()), tuple(chain))


async def verify_login(
    response: LoginResponse,
    *,
    store: ChallengeStore,
    expected_origin: str,
    now: datetime,
    validator: PathValidator,
    region: str | None = None,
) -> LoginResult:
    """Verify a certificate login; returns the party to map to a user, or raises `Refused`."""
    challenge = store.consume(response.nonce)
    check_challenge(challenge, expected_origin=expected_origin, purpose="login", now=now)
    path = await verify_raw(
        challenge.to_sign(),
        response.signature,
        response.certificate,
        validator,
        usage=Usage.LOGIN,
        at=now,
        intermediates=response.chain,
        region=region,
    )
    return LoginResult(party_of(path), path, response.signature.algorithm.name)
