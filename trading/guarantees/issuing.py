"""Accepting a guarantor's issued guarantee: verify what was uploaded, then record it.

One function for both ways a guarantor issues — the platform's console (``web_guarantor.py``) and
the guarantor API — so both refuse the same files for the same reasons. The three files are
checked by ``verify.verify_guarantee`` against the *application's* facts (beneficiary, project,
lot, applicant, amount at least the application's, currency, kind, validity covering the
application's dates), the PDF must be signed by the same certificate and embed the same JSON; then
``issuance.record_issuance`` stores them (and refuses a signer other than the guarantor's issuing
certificate or a number already taken).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from certs.pathval.validate import PathValidator
from trading.guarantees import issuance
from trading.guarantees.document import GuaranteeKind as DocumentKind
from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.models import Guarantee, GuaranteeApplication
from trading.guarantees.repository import GuaranteesRepository
from trading.guarantees.rules import CHINA, Problems, normalise_code, required_row
from trading.guarantees.verify import Expectation, GuaranteeReason, verify_guarantee
from trading.kernel.auth.identity import Actor
from trading.kernel.storage import Store

# Which uploaded file a verification reason is about, so a form or API names the right field.
_FIELD_OF = {
    GuaranteeReason.SIGNATURE_INVALID: "cades",
    GuaranteeReason.ISSUER_NOT_RECOGNISED: "cades",
    GuaranteeReason.ISSUER_REVOKED: "cades",
}


def expectation_of(application: GuaranteeApplication) -> Expectation:
    """The terms a guarantee for ``application`` must state: in force from the first valid day's
    00:00 to the last valid day's 24:00 (Beijing), for at least the amount applied for.
    """
    return Expectation(
        beneficiary_uscc=application.beneficiary_uscc,
        project_code=application.project_code,
        lot_code=application.lot_code,
        applicant_uscc=application.applicant_uscc,
        minimum_amount=application.amount,
        bid_deadline=datetime.combine(application.valid_from, time(), CHINA),
        bid_validity_end=datetime.combine(application.valid_until + timedelta(days=1), time(), CHINA),
        currency=application.currency,
        kind=DocumentKind(application.kind.value),
    )


async def accept_issuance(
    session: AsyncSession,
    actor: Actor,
    application_id: uuid.UUID,
    *,
    json_bytes: bytes,
    cades_bytes: bytes,
    pdf_bytes: bytes,
    validator: PathValidator,
    store: Store,
    verification_code: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Guarantee:
    """Verify the three files against the application and record the guarantee (paid → issued).

    Refused (``GuaranteeRefused``, 422) with one error per verification reason, the field being
    ``cades`` for signature and issuer reasons and ``json`` for the document and its terms; the
    application's state and the signer are ``record_issuance``'s rules. The guarantee must print
    ``verification_code`` (`rules.verification_code_for` of the application, shown to the guarantor
    before issue): it is stored as the guarantee's code, so the public page answers the printed one.
    """
    application: GuaranteeApplication = await required_row(
        GuaranteesRepository(session), GuaranteeApplication, application_id, "application_id", lock=False
    )
    verdict = await verify_guarantee(
        json_bytes, cades_bytes, validator, expectation_of(application), pdf=pdf_bytes, clock=clock
    )
    if not verdict.valid or verdict.guarantee is None or verdict.signer is None:
        problems = Problems()
        for finding in verdict.findings:
            problems.add(_FIELD_OF.get(finding.reason, "json"), finding.reason.value, finding.detail)
        if not problems.items:  # pragma: no cover - an invalid verdict always has a finding
            problems.add("json", GuaranteeReason.MALFORMED.value, "the guarantee could not be read")
        problems.raise_any()
    assert verdict.guarantee is not None  # noqa: S101 - raise_any raised otherwise
    assert verdict.signer is not None  # noqa: S101
    document = verdict.guarantee
    if normalise_code(document.verification_code) != verification_code:
        raise GuaranteeRefused(
            f"the guarantee must print the verification code {verification_code}",
            field="json",
            rule="verification_code",
        )
    return await issuance.record_issuance(
        session,
        actor,
        application.id,
        guarantee_no=document.guarantee_no,
        json_bytes=json_bytes,
        cades_bytes=cades_bytes,
        pdf_bytes=pdf_bytes,
        signer_cert_sha256=verdict.signer.certificate_sha256,
        claim_conditions=document.claim_conditions,
        issued_at=document.issued_at,
        store=store,
        verification_code=verification_code,
    )
