"""Signing a PDF in the page: the platform prepares, the user's key in the browser signs, the platform finishes.

Any page whose user signs a PDF with their own certificate (the evaluation report, award notices,
the contract) uses the same two steps, each in the caller's transaction (services only flush):

1. `prepare_pdf_signature` — the caller hands the PDF it wants signed (e.g. the current revision),
   the signature field's name, an optional seal appearance, and the certificate the page sent
   (DER, the KeyHolder's). The PDF gets the signature field and an empty ``/Contents`` placeholder as
   an incremental update (`certs.sign.pades_prepared.prepare_pdf`); the prepared state is stored
   (`PdfSigningRequest`: user, purpose + subject so the caller can bind it, the prepared bytes, the
   ``/ByteRange``, the expiry) and `PreparedSignature` says what the browser must sign
   (`PreparedSignature.to_sign`: exactly the bytes the ``/ByteRange`` covers; ``cades.js`` hashes
   them itself, it cannot sign a precomputed digest). `prepared_json` is the answer a page's
   prepare route returns to ``sign-pdf.js``.
2. `finish_pdf_signature` — with the prepared id and the detached CMS the page made
   (``signDetached(toSign, holder)``): refused unless the request is the actor's, for this purpose
   and subject, unexpired and unused; the CMS must verify over exactly those bytes, by the prepared
   certificate, with the prepared digest. The platform TSA's signature timestamp is added as an
   unsigned attribute (PAdES B-T), the CMS goes into the placeholder, the request is marked used,
   and the signed PDF is returned: the caller treats it exactly like an uploaded signed PDF (its
   own checks: trust list, binding to the signer, incremental update of its current revision).

Refusals are `PdfSigningRefused` (422) naming ``field`` and ``rule``; nothing is stored by a refused
step. Requests expired for a day are deleted by beat (`purge_expired`, task
``parties.purge_pdf_signing_requests``). The browser side is ``static/js/pki/sign-pdf.js`` (forms
``[data-pki-sign-pdf]``).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from certs.errors import Refused
from certs.sign.pades import SealAppearance
from certs.sign.pades_prepared import PreparedPdf, finish_pdf, prepare_pdf
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData
from trading.kernel.errors import ValidationFailed
from trading.kernel.settings import Settings
from trading.parties.records import SessionTsa

LIFETIME: Final = timedelta(minutes=15)
"""How long a prepared signature waits for the page's CMS."""
MAX_CMS_BYTES: Final = 40 * 1024


class PdfSigningRefused(ValidationFailed):
    """A PDF signature made in the page is refused (422); nothing is stored."""


class PdfSigningRequest(UUIDPrimaryKey, Base):
    """A PDF prepared for one user's signature in the page, waiting for (or consumed by) its CMS."""

    __tablename__ = "parties_pdf_signing_requests"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(64))
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    field_name: Mapped[str] = mapped_column(sa.String(64))
    source_sha256: Mapped[str] = mapped_column(sa.String(64))
    certificate: Mapped[bytes] = mapped_column(sa.LargeBinary)
    certificate_sha256: Mapped[str] = mapped_column(sa.String(64))
    digest_algorithm: Mapped[str] = mapped_column(sa.String(16))
    prepared_pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    byte_range: Mapped[list[int]] = mapped_column(JSONData)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


@dataclass(frozen=True, slots=True)
class PreparedSignature:
    """What the page signs: ``to_sign`` (the ``/ByteRange`` bytes) under request ``id``."""

    id: uuid.UUID
    to_sign: bytes
    digest_algorithm: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """The finished PDF, the SHA-256 of the PDF it was prepared from, and the signer's certificate."""

    pdf: bytes
    source_sha256: str
    certificate_sha256: str


def prepared_json(prepared: PreparedSignature) -> dict[str, Any]:
    """The prepare route's JSON for ``sign-pdf.js``: ``id``, ``toSign`` (base64), ``digestAlgorithm``, ``expiresAt``."""
    return {
        "id": str(prepared.id),
        "toSign": base64.b64encode(prepared.to_sign).decode(),
        "digestAlgorithm": prepared.digest_algorithm,
        "expiresAt": prepared.expires_at.isoformat(),
    }


def read_certificate(value: str | bytes) -> x509.Certificate:
    """The page's certificate (DER, or its base64 as a form sends it); refused with field ``certificate``."""
    try:
        der = base64.b64decode(value, validate=True) if isinstance(value, str) else value
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise PdfSigningRefused(
            "send the signing certificate (DER, base64)", field="certificate", rule="certificate_unreadable"
        ) from None


def read_cms(value: str) -> bytes:
    """The page's CMS signature from a form field (base64); refused with field ``signature``."""
    try:
        der = base64.b64decode(value, validate=True)
    except ValueError:
        der = b""
    if not der or len(der) > MAX_CMS_BYTES:
        raise PdfSigningRefused(
            "send the signature made in the page (CMS, base64)", field="signature", rule="pdf-signature-cms"
        )
    return der


async def prepare_pdf_signature(
    session: AsyncSession,
    *,
    actor: Actor,
    purpose: str,
    subject_id: str,
    pdf: bytes,
    certificate: x509.Certificate,
    field_name: str,
    seal: SealAppearance | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> PreparedSignature:
    """Prepare ``pdf`` for ``actor``'s signature in the page with ``certificate`` (see the module docstring)."""
    if actor.user_id is None:
        raise PdfSigningRefused("only a signed-in user signs in the page", field="user", rule="active")
    try:
        prepared = await prepare_pdf(
            pdf, certificate, field_name=field_name, seal=seal, reason=reason, location=location
        )
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for a PDF it cannot extend
        raise PdfSigningRefused(f"the PDF cannot be prepared: {exc}", field="pdf", rule="malformed") from None
    now = await clock.now(session)
    request = PdfSigningRequest(
        user_id=actor.user_id,
        purpose=purpose,
        subject_id=subject_id,
        field_name=field_name,
        source_sha256=hashlib.sha256(pdf).hexdigest(),
        certificate=certificate.public_bytes(Encoding.DER),
        certificate_sha256=hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest(),
        digest_algorithm=prepared.digest_algorithm,
        prepared_pdf=prepared.pdf,
        byte_range=list(prepared.byte_range),
        created_at=now,
        expires_at=now + LIFETIME,
        finished_at=None,
    )
    session.add(request)
    await session.flush()
    return PreparedSignature(request.id, prepared.signed_bytes, prepared.digest_algorithm, request.expires_at)


async def finish_pdf_signature(
    session: AsyncSession,
    settings: Settings,
    *,
    actor: Actor,
    request_id: uuid.UUID | str,
    purpose: str,
    subject_id: str,
    signature_cms: bytes,
) -> SignedPdf:
    """The signed PDF of a prepared request (see the module docstring); the request is used up."""
    request = await _request(session, request_id)
    if (
        request is None
        or request.user_id != actor.user_id
        or (request.purpose, request.subject_id)
        != (
            purpose,
            subject_id,
        )
    ):
        raise PdfSigningRefused(
            "no such signature prepared for you here; sign again", field="prepared", rule="pdf-signing-unknown"
        )
    if request.finished_at is not None:
        raise PdfSigningRefused(
            "this prepared signature was already used; sign again", field="prepared", rule="pdf-signing-reused"
        )
    now = await clock.now(session)
    if now >= request.expires_at:
        raise PdfSigningRefused(
            "the prepared signature expired; sign again", field="prepared", rule="pdf-signing-expired"
        )
    prepared = PreparedPdf(request.prepared_pdf, _byte_range(request.byte_range), request.digest_algorithm)
    certificate = x509.load_der_x509_certificate(request.certificate)
    try:
        pdf = await finish_pdf(prepared, signature_cms, certificate, tsa=SessionTsa(session, settings))
    except Refused as refusal:
        raise PdfSigningRefused(
            f"the signature made in the page is refused: {refusal.text}", field="signature", rule=refusal.reason.value
        ) from None
    request.finished_at = now
    request.prepared_pdf = b""  # the signed PDF is the caller's now
    await session.flush()
    return SignedPdf(pdf, request.source_sha256, request.certificate_sha256)


async def purge_expired(session: AsyncSession, expired_before: datetime) -> int:
    """Delete the requests that expired before ``expired_before`` (used or not: an expired one can no
    longer be finished, and an unused one still holds its prepared PDF); how many.
    """
    result = await session.execute(
        sa.delete(PdfSigningRequest)
        .where(PdfSigningRequest.expires_at < expired_before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _request(session: AsyncSession, request_id: uuid.UUID | str) -> PdfSigningRequest | None:
    try:
        key = request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    except ValueError:
        return None
    return await session.get(PdfSigningRequest, key, with_for_update=True)


def _byte_range(values: list[int]) -> tuple[int, int, int, int]:
    start, first, second, length = (int(v) for v in values)
    return start, first, second, length
