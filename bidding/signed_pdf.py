"""What bidding asks of an uploaded PAdES revision (the evaluation report, the award's notices):
the upload is exactly the revision the platform handed out plus one incremental signature that
covers the whole file, and every signature in it verifies under the trust list at its timestamp.
"""

from __future__ import annotations

import io
from datetime import datetime

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession

from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import trust_context


async def check_incremental_signature(
    session: AsyncSession,
    settings: Settings,
    *,
    current: bytes,
    uploaded: bytes,
    signed: int,
    now: datetime,
    refusal: type[DomainError],
    what: str = "the document",
) -> str:
    """The upload is ``current`` plus exactly one valid signature (``signed`` were there before);
    the new signer's certificate SHA-256, or ``refusal`` naming the field and the rule.
    """
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
    return signer
