"""Issuance, verification, the bid and the public view of a guarantee (part of the public service;
``trading.guarantees.service`` re-exports these functions). Flush only; a ledger entry per change.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.errors import GuaranteeAlreadyUsed, GuaranteeStateError
from trading.guarantees.models import (
    ApplicationStatus,
    Guarantee,
    GuaranteeApplication,
    GuaranteeKind,
    GuaranteeStatus,
    Guarantor,
)
from trading.guarantees.repository import LIVE, GuaranteesRepository
from trading.guarantees.rules import (
    STORE_NAMESPACE,
    Problems,
    end_of_day,
    ledger_entry,
    new_verification_code,
    normalise_code,
    required_row,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.storage import Store

# --- issuance, verification, the bid -----------------------------------------------------------------


async def record_issuance(
    session: AsyncSession,
    actor: Actor,
    application_id: uuid.UUID,
    *,
    guarantee_no: str,
    json_bytes: bytes,
    cades_bytes: bytes,
    pdf_bytes: bytes,
    signer_cert_sha256: str,
    claim_conditions: str,
    issued_at: datetime,
    store: Store,
    verification_code: str | None = None,
) -> Guarantee:
    """Record the guarantee the guarantor issued for a paid application (paid → issued).

    ``verification_code``: the code printed on the signed guarantee (`rules.verification_code_for`,
    checked by the caller), so the public page answers the code people read; None draws a new one.

    The caller has verified the signatures and that the canonical JSON states the application's
    facts (``document.py``); this stores the three files under their SHA-256 and takes the facts
    from the application. Refused when the signer is not the guarantor's issuing certificate
    (``signer_cert_sha256``/``signer_not_guarantor``) or the number is taken (``guarantee_no_taken``).
    """
    repo = GuaranteesRepository(session)
    application: GuaranteeApplication = await required_row(repo, GuaranteeApplication, application_id, "application_id")
    if application.status != ApplicationStatus.PAID:
        raise GuaranteeStateError(
            f"only a paid application is issued; this one is {application.status.value}",
            field="application_id",
            rule="application_status",
        )
    guarantor: Guarantor = await required_row(repo, Guarantor, application.guarantor_id, "guarantor_id", lock=False)
    problems = Problems()
    if signer_cert_sha256.lower() != guarantor.issuing_cert_sha256:
        problems.add(
            "signer_cert_sha256",
            "signer_not_guarantor",
            "the guarantee is not signed with the guarantor's issuing certificate",
        )
    if not guarantee_no.strip() or len(guarantee_no) > 64:  # noqa: PLR2004 - the column's width
        problems.add("guarantee_no", "required", "the guarantee number has 1 to 64 characters")
    elif await repo.guarantee_by_no(guarantee_no.strip()) is not None:
        problems.add("guarantee_no", "guarantee_no_taken", "a guarantee with this number is already on the platform")
    if not claim_conditions.strip():
        problems.add("claim_conditions", "required", "the claim conditions are required")
    problems.raise_any()
    json_sha256 = hashlib.sha256(json_bytes).hexdigest()
    pdf_sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    guarantee = Guarantee(
        guarantee_no=guarantee_no.strip(),
        kind=application.kind,
        application_id=application.id,
        guarantor_id=guarantor.id,
        applicant_organisation_id=application.applicant_organisation_id,
        applicant_name=application.applicant_name,
        applicant_uscc=application.applicant_uscc,
        beneficiary_name=application.beneficiary_name,
        beneficiary_uscc=application.beneficiary_uscc,
        project_code=application.project_code,
        lot_code=application.lot_code,
        lot_name=application.lot_name,
        amount=application.amount,
        currency=application.currency,
        valid_from=application.valid_from,
        valid_until=application.valid_until,
        claim_conditions=claim_conditions.strip(),
        issued_at=issued_at,
        json_key=store.put(STORE_NAMESPACE, json_sha256, json_bytes),
        json_sha256=json_sha256,
        cades_key=store.put(STORE_NAMESPACE, hashlib.sha256(cades_bytes).hexdigest(), cades_bytes),
        pdf_key=store.put(STORE_NAMESPACE, pdf_sha256, pdf_bytes),
        pdf_sha256=pdf_sha256,
        signer_cert_sha256=signer_cert_sha256.lower(),
        verification_code=verification_code or new_verification_code(),
        status=GuaranteeStatus.ISSUED,
        next_check=end_of_day(application.valid_until),
    )
    await repo.add(guarantee)
    application.status = ApplicationStatus.ISSUED
    application.decided_at = await clock.now(session)
    await session.flush()
    await guarantee_entry(session, actor, "issued", guarantee, json_sha256=json_sha256)
    return guarantee


async def guarantee_entry(session: AsyncSession, actor: Actor, action: str, guarantee: Guarantee, **extra: str) -> None:
    summary = {"guarantee_no": guarantee.guarantee_no, "status": guarantee.status.value, **extra}
    sealed = guarantee.kind == GuaranteeKind.BID and action in {
        "issued",
        "verified",
        "attached_to_bid",
        "detached_from_bid",
    }
    await ledger_entry(
        session, actor, action, "guarantee", guarantee.id, summary, project_code=guarantee.project_code, sealed=sealed
    )


async def mark_verified(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID) -> Guarantee:
    """The platform verified the guarantee (signature, trust, facts): issued → verified. Verifying
    again (at opening, at evaluation) changes nothing; a guarantee no longer live is refused.
    """
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.status == GuaranteeStatus.VERIFIED:
        return guarantee
    if guarantee.status != GuaranteeStatus.ISSUED:
        raise GuaranteeStateError(
            f"the guarantee is {guarantee.status.value}", field="guarantee_id", rule="guarantee_status"
        )
    guarantee.status = GuaranteeStatus.VERIFIED
    guarantee.verified_at = await clock.now(session)
    await session.flush()
    await guarantee_entry(session, actor, "verified", guarantee)
    return guarantee


async def attach_to_bid(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID, bid_id: uuid.UUID) -> Guarantee:
    """The guarantee secures ``bid_id``. Attaching it to the same bid again changes nothing.
    Refused: ``guarantee_already_used`` when another bid holds it, ``bid_has_guarantee`` when the
    bid holds another guarantee, ``guarantee_status`` when it is no longer live.
    """
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.bid_id == bid_id:
        return guarantee
    if guarantee.bid_id is not None:
        raise GuaranteeAlreadyUsed(
            "the guarantee already secures another bid", field="guarantee_id", rule="guarantee_already_used"
        )
    if guarantee.status not in LIVE:
        raise GuaranteeStateError(
            f"the guarantee is {guarantee.status.value}", field="guarantee_id", rule="guarantee_status"
        )
    if await repo.guarantee_of_bid(bid_id) is not None:
        raise GuaranteeAlreadyUsed(
            "the bid is already secured by another guarantee", field="bid_id", rule="bid_has_guarantee"
        )
    guarantee.bid_id = bid_id
    guarantee.attached_at = await clock.now(session)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent attach of another guarantee to the same bid won
        raise GuaranteeAlreadyUsed(
            "the bid is already secured by another guarantee", field="bid_id", rule="bid_has_guarantee"
        ) from None
    await guarantee_entry(session, actor, "attached_to_bid", guarantee, bid_id=str(bid_id))
    return guarantee


async def detach_from_bid(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID) -> Guarantee:
    """The bid was withdrawn before the deadline: the guarantee is free for another bid."""
    repo = GuaranteesRepository(session)
    guarantee: Guarantee = await required_row(repo, Guarantee, guarantee_id, "guarantee_id")
    if guarantee.bid_id is None:
        return guarantee
    guarantee.bid_id = None
    guarantee.attached_at = None
    await session.flush()
    await guarantee_entry(session, actor, "detached_from_bid", guarantee)
    return guarantee


# --- public verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicGuarantee:
    """All the public verification reveals: no fee, no contact, no bid, no files."""

    guarantee_no: str
    kind: GuaranteeKind
    issuer: str
    applicant: str
    beneficiary: str
    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    valid_from: date
    valid_until: date
    status: GuaranteeStatus


async def verify_code(session: AsyncSession, raw_code: str) -> PublicGuarantee | None:
    """The guarantee a verification code names, reduced to its public facts; None when no
    guarantee on the platform has it (a malformed code included): it may be forged.
    """
    code = normalise_code(raw_code)
    if not code:
        return None
    repo = GuaranteesRepository(session)
    guarantee = await repo.guarantee_by_code(code)
    if guarantee is None:
        return None
    guarantor = await repo.get(Guarantor, guarantee.guarantor_id)
    issuer = guarantor.display_name if guarantor else ""
    if guarantor and guarantor.branch:
        issuer = f"{issuer} {guarantor.branch}"
    return PublicGuarantee(
        guarantee.guarantee_no,
        guarantee.kind,
        issuer,
        guarantee.applicant_name,
        guarantee.beneficiary_name,
        guarantee.project_code,
        guarantee.lot_code,
        guarantee.lot_name,
        guarantee.amount,
        guarantee.currency,
        guarantee.valid_from,
        guarantee.valid_until,
        guarantee.status,
    )


async def guarantee_of_application(session: AsyncSession, application_id: uuid.UUID) -> Guarantee | None:
    return await GuaranteesRepository(session).guarantee_of_application(application_id)


async def guarantees_of_project(session: AsyncSession, project_code: str) -> Sequence[Guarantee]:
    """Every guarantee issued for a tender, oldest first (the tenderee's and the opening's list)."""
    return await GuaranteesRepository(session).guarantees_of_project(project_code)
