"""A signed PDF that grows one incremental PAdES signature at a time (the evaluation report, the
award's notices and contract): the check that an upload is exactly the current revision plus one valid
signature, shared by the services that accept such uploads.

Accepted only when the current revision is a byte prefix of the upload, the upload carries exactly
one signature more than the revision, the new one covers the whole file, and every signature
verifies under the trust list in force (with its timestamp). Refusals raise the caller's
``refusal`` type naming the field and the rule; nothing is stored by this check.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from certs.pathval.identity import Party, party_of
from certs.report import VerificationReport
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import trust_context


@dataclass(frozen=True, slots=True)
class SignedRevision:
    signer_sha256: str
    """The new signature's certificate (SHA-256 of its DER)."""
    reports: tuple[VerificationReport, ...]
    """One per signature on the upload, in document order (every one passed)."""
    embedded: Any
    """pyHanko's embedded signature object of the new signature."""


async def check_signed_revision(
    session: AsyncSession,
    settings: Settings,
    *,
    current: bytes,
    uploaded: bytes,
    signed: int,
    now: datetime,
    refusal: type[DomainError],
    what: str = "the document",
) -> SignedRevision:
    """The upload is ``current`` plus exactly one valid signature (``signed`` were on ``current``)."""
    if len(uploaded) <= len(current) or not uploaded.startswith(current):
        raise refusal(
            f"the upload must be the current revision of {what} with one incremental signature appended;"
            " the current revision was changed",
            field="pdf",
            rule="incremental-update-only",
        )
    try:
        embedded = PdfFileReader(io.BytesIO(uploaded), strict=False).embedded_regular_signatures
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for a broken file
        raise refusal(f"the PDF cannot be read: {exc}", field="pdf", rule="malformed") from None
    if len(embedded) != signed + 1:
        raise refusal(
            f"{what} must carry exactly one new signature ({signed + 1} in all), not {len(embedded)}",
            field="pdf",
            rule="one-new-signature",
        )
    byte_range = [int(v) for v in embedded[-1].sig_object["/ByteRange"]]
    if byte_range[2] + byte_range[3] != len(uploaded):
        raise refusal(
            "the new signature must cover the whole file (nothing appended after it)",
            field="pdf",
            rule="signature-covers-file",
        )
    context = await trust_context(session, settings, now)
    reports = await verify_pdf(uploaded, context.validator, usage=Usage.SEAL)
    for index, report in enumerate(reports):
        if not report.passed:
            rule = report.reason.value if report.reason else "indeterminate"
            raise refusal(
                f"signature {index + 1} does not verify: {report.message}", field=f"signatures[{index}]", rule=rule
            )
    signer = reports[-1].signer_certificate_sha256
    if signer is None:
        raise refusal("the new signature names no certificate", field=f"signatures[{signed}]", rule="malformed")
    return SignedRevision(signer, tuple(reports), embedded[-1])


async def signer_party_of(
    session: AsyncSession, settings: Settings, revision: SignedRevision, *, refusal: type[DomainError]
) -> Party:
    """The party (organisation by USCC, or person) the new signature's certificate names, by its
    recognised CA's identity rule, validated for seals at the signature's timestamp.
    """
    report = revision.reports[-1]
    at = report.timestamp_time
    index = len(revision.reports) - 1
    if at is None:  # pragma: no cover - a passed PAdES report has its timestamp
        raise refusal("the new signature has no timestamp", field=f"signatures[{index}]", rule="timestamp-missing")
    signer = x509.load_der_x509_certificate(revision.embedded.signer_cert.dump())
    certificates = [x509.load_der_x509_certificate(c.dump()) for c in revision.embedded.signed_data["certificates"]]
    context = await trust_context(session, settings, at)
    try:
        path = await context.validator.validate(signer, certificates, at=at, usage=Usage.SEAL)
    except Refused as exc:
        raise refusal(
            f"the signing certificate is not accepted: {exc.text}", field=f"signatures[{index}]", rule=exc.reason.value
        ) from None
    return party_of(path)
