"""The platform TSA (RFC 3161) behind ``POST /api/v1/tsa``: certs' pure TSA with the platform's
key, the database's clock and a database serial.

`certs.tsa.server.TimeStampAuthority.respond` turns a DER TimeStampReq into a DER
TimeStampResp; the platform injects what a TSA must not invent itself:

* the signing key and certificate: the PKCS#12 named by ``GGZY_CERTS_TSA_P12`` (embedded: the
  development PKI's TSA, listed in the development trust list for ``timestamp``);
* the time: the database clock, whole seconds (the token states an accuracy of one second);
* the serial number: the key of a ``parties_timestamp_tokens`` row, strictly increasing (its
  sequence's ``nextval`` on PostgreSQL). The row is written only for granted tokens, so a rejected
  request leaves nothing.

The row is the TSA's own log (serial, time, digest, requester's address); the token it answers
with is the signed evidence. Issuing a token is a service answer, not a change to anything the
platform manages, so it appends no ledger entry: the endpoint is public, and a ledger that anyone
could grow without limit would be a poor audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from asn1crypto import tsp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.ext.asyncio import AsyncSession

from certs.cms import SigningIdentity
from certs.tsa.asn1 import TimeStampResp
from certs.tsa.server import TimeStampAuthority
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.parties.errors import TimestampServiceUnavailable
from trading.parties.models import TimestampToken
from trading.parties.repository import TimestampRepository

log = structlog.get_logger(__name__)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY_BYTES = 16 * 1024

_identities: dict[tuple[Path, float], SigningIdentity] = {}


def tsa_identity(settings: Settings) -> SigningIdentity:
    """The TSA's key, certificate and chain from the configured PKCS#12 (read once per file version)."""
    path = settings.certs.tsa_p12
    if path is None or not path.is_file():
        raise TimestampServiceUnavailable("the platform TSA has no key configured (GGZY_CERTS_TSA_P12)")
    key = (path, path.stat().st_mtime)
    identity = _identities.get(key)
    if identity is not None:
        return identity
    password = settings.certs.tsa_p12_password
    try:
        private_key, certificate, chain = pkcs12.load_key_and_certificates(
            path.read_bytes(), password.get_secret_value().encode() if password is not None else None
        )
    except ValueError as exc:
        log.warning("parties.tsa_key_unreadable", path=str(path), error=str(exc))
        raise TimestampServiceUnavailable("the platform TSA key cannot be read") from None
    if certificate is None or not isinstance(
        private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise TimestampServiceUnavailable("the platform TSA's PKCS#12 holds no usable key and certificate")
    identity = SigningIdentity.from_key(private_key, certificate, chain)
    _identities.clear()
    _identities[key] = identity
    return identity


def _granted(response: bytes) -> bytes | None:
    """The token of a granted response, or None for a rejection."""
    parsed = TimeStampResp.load(response)
    if parsed["status"]["status"].native not in {"granted", "granted_with_mods"}:
        return None
    return bytes(parsed["time_stamp_token"].dump())


@dataclass(frozen=True)
class _Imprint:
    algorithm: str
    digest: str


def _imprint(request: bytes) -> _Imprint:
    imprint = tsp.TimeStampReq.load(request)["message_imprint"]
    return _Imprint(imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native.hex())


async def timestamp(
    session: AsyncSession, settings: Settings, request: bytes, *, client_ip: str | None, at: datetime | None = None
) -> bytes:
    """Answer one TimeStampReq (DER) with a TimeStampResp (DER); malformed requests get a rejection.

    ``at`` is the database clock as the caller already read it in this transaction (on PostgreSQL
    ``now()`` is the transaction's start, so reading it again gives the same time): given, the TSA
    does not ask again. On PostgreSQL the serial comes from the table's sequence (``nextval``, one
    round trip) and the complete row is added to the session, written by the caller's next flush or
    commit; a rejection adds no row (its serial number stays unused, as a rolled-back insert's did).
    SQLite has no sequence: there the row is inserted in a savepoint first and completed after.
    """
    identity = tsa_identity(settings)
    now: datetime = (at if at is not None else await clock.now(session)).replace(microsecond=0)
    repository = TimestampRepository(session)
    if session.get_bind().dialect.name != "postgresql":
        return await _timestamp_in_savepoint(session, identity, request, now, client_ip)
    serial = await repository.next_serial()
    response = TimeStampAuthority(identity, clock=lambda: now, serials=lambda: serial).respond(request)
    token = _granted(response)
    if token is None:
        return response
    imprint = _imprint(request)
    repository.add(
        TimestampToken(
            serial=serial,
            issued_at=now,
            digest_algorithm=imprint.algorithm[:16],
            message_imprint=imprint.digest[:128],
            token_sha256=hashlib.sha256(token).hexdigest(),
            client_ip=client_ip or None,
        )
    )
    return response


async def _timestamp_in_savepoint(
    session: AsyncSession, identity: SigningIdentity, request: bytes, now: datetime, client_ip: str | None
) -> bytes:
    """SQLite: the serial is the key of a row inserted in a savepoint, kept only for a granted token."""
    savepoint = await session.begin_nested()
    try:
        token_row = TimestampToken(issued_at=now, digest_algorithm="", message_imprint="", client_ip=client_ip or None)
        serial = await TimestampRepository(session).allocate(token_row)
        authority = TimeStampAuthority(identity, clock=lambda: now, serials=lambda: serial)
        response = authority.respond(request)
        token = _granted(response)
    except BaseException:
        await savepoint.rollback()
        raise
    if token is None:
        await savepoint.rollback()  # a rejection consumes no serial row
        return response
    imprint = _imprint(request)
    token_row.digest_algorithm = imprint.algorithm[:16]
    token_row.message_imprint = imprint.digest[:128]
    token_row.token_sha256 = hashlib.sha256(token).hexdigest()
    await session.flush()
    await savepoint.commit()
    return response
