"""Verifying a guarantee a guarantor uploads through the API against its application, before the core
records it (`trading.guarantees.api_guarantor`'s upload).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.document import GuaranteeKind as DocumentKind
from trading.guarantees.document import parse_guarantee
from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.models import GuaranteeApplication, Guarantor
from trading.guarantees.rules import CHINA, end_of_day, normalise_code
from trading.guarantees.verify import Expectation, verify_guarantee
from trading.kernel import clock
from trading.parties.certificates.trust import PlatformRefused, trust_context


def claim_conditions(json_bytes: bytes) -> str:
    return parse_guarantee(json_bytes).claim_conditions


async def verify_upload(  # noqa: PLR0917 - the upload's parts, checked together
    session: AsyncSession,
    request: Request[Any, Any, Any],
    application: GuaranteeApplication,
    guarantor: Guarantor,
    code: str,
    guarantee_no: str,
    files: tuple[bytes, bytes, bytes],
) -> str:
    """Verify the uploaded guarantee against the application; the signer's certificate SHA-256, or a 422."""
    json_bytes, cades_bytes, pdf_bytes = files
    now = await clock.now(session)
    try:
        context = await trust_context(session, request.app.state.settings, now)
    except PlatformRefused as refusal:
        raise GuaranteeRefused(
            f"no trust list in force to verify with: {refusal}", field="cades", rule="guarantee_issuer_not_recognised"
        ) from None
    expectation = Expectation(
        beneficiary_uscc=application.beneficiary_uscc,
        project_code=application.project_code,
        lot_code=application.lot_code,
        applicant_uscc=application.applicant_uscc,
        minimum_amount=application.amount,
        bid_deadline=datetime.combine(application.valid_from, time(0), tzinfo=CHINA),
        bid_validity_end=end_of_day(application.valid_until),
        currency=application.currency,
        kind=DocumentKind(application.kind.value),
    )
    verdict = await verify_guarantee(
        json_bytes, cades_bytes, context.validator, expectation, pdf=pdf_bytes, clock=lambda: now
    )
    errors = [
        {"field": _field_of(finding.reason.value), "rule": finding.reason.value, "message": finding.detail}
        for finding in verdict.findings
    ]
    signer_sha256 = verdict.report.signer_certificate_sha256 if verdict.report is not None else None
    if verdict.guarantee is not None and not errors:
        if signer_sha256 != guarantor.issuing_cert_sha256:
            errors.append(
                {
                    "field": "cades",
                    "rule": "signer_not_guarantor",
                    "message": "signed by another certificate than this guarantor's issuing certificate",
                }
            )
        if normalise_code(verdict.guarantee.verification_code) != code:
            errors.append(
                {
                    "field": "json",
                    "rule": "verification_code",
                    "message": f"verification.code must be {code}, the code the application's read gives",
                }
            )
        if verdict.guarantee.guarantee_no != guarantee_no:
            errors.append(
                {"field": "guarantee_no", "rule": "guarantee_no", "message": "differs from the JSON's guaranteeNo"}
            )
    if errors or signer_sha256 is None:
        first = (
            errors[0] if errors else {"field": "cades", "rule": "guarantee_signature_invalid", "message": "unsigned"}
        )
        raise GuaranteeRefused(
            f"the guarantee was not accepted: {first['message']}",
            field=first["field"],
            rule=first["rule"],
            extra={"errors": errors or [first], "reasons": [error["rule"] for error in errors]},
        )
    return signer_sha256


def _field_of(reason: str) -> str:
    """The upload member a verification reason points at."""
    if reason in {"guarantee_signature_invalid", "guarantee_issuer_not_recognised", "guarantee_issuer_revoked"}:
        return "cades"
    return "json"
