"""Credential primitives: password hashing, session tokens, TOTP secrets at rest and codes.

Pure functions and small classes (no database), so the rules are testable on their own:

* Passwords: argon2id (RFC 9106) through ``argon2-cffi``'s defaults; the parameters travel in
  the PHC string, so raising them later only needs a rehash at the next successful login.
* Session tokens: 256 random bits, given to the client once; the server keeps their SHA-256.
* TOTP (RFC 6238, 6 digits, 30 s): the base32 secret is encrypted with AES-256-GCM under a key
  derived (HKDF-SHA256) from the platform's ``secret_key``; the user id is the associated data,
  so a ciphertext copied onto another user's row does not decrypt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_COOKIE = "ggzy_session"
PASSWORD_MIN_LENGTH = 10
# argon2 accepts any length, but hashing megabytes on request is a denial of service.
PASSWORD_MAX_LENGTH = 128
TOTP_ISSUER = "ggzy"
_TOTP_INFO = b"ggzy/parties/totp-secret/v1"
_NONCE_BYTES = 12

_hasher = PasswordHasher()  # argon2id, RFC 9106 "low memory" defaults of argon2-cffi
# Verified against when the username is unknown, so the answer takes as long either way and the
# timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    ok: bool
    new_hash: str | None = None
    """Set when the hash used outdated parameters: store it in place of the old one."""


async def hash_password(password: str) -> str:
    # Off the event loop: argon2 spends tens of milliseconds of CPU by design.
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> PasswordCheck:
    if stored_hash is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return PasswordCheck(ok=False)
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if _hasher.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=_hasher.hash(password))
    return PasswordCheck(ok=True)


async def verify_password(stored_hash: str | None, password: str) -> PasswordCheck:
    """Check ``password`` against ``stored_hash`` (``None``: unknown user, still spends the time)."""
    return await asyncio.to_thread(_verify, stored_hash, password)


def new_session_token() -> tuple[str, str]:
    """A fresh token and the hash to store: ``(token, sha256_hex)``."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TotpBox:
    """Encrypts and decrypts TOTP secrets at rest."""

    def __init__(self, secret_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_TOTP_INFO).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, user_id: uuid.UUID, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), user_id.bytes)

    def open(self, user_id: uuid.UUID, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], user_id.bytes).decode()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans (or the user types in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_accepted_step(secret: str, code: str, now: datetime, *, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, or ``None`` when it is not accepted.

    Accepts the current step and one on either side (RFC 6238 §5.2 recommends at most one step
    of network delay) and refuses any step at or before ``last_step``, so a code works once.
    """
    code = code.strip()
    if len(code) != pyotp.TOTP(secret).digits or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current: int = totp.timecode(now)
    for offset in (-1, 0, 1):
        step = current + offset
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
