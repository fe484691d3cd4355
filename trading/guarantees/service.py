"""The public service of electronic guarantees, up to issuance: guarantors and their products, the
neutral list bidders choose from, applications, issuance, verification and attaching to a bid.
Issuance, verification, the bid and the public view are in ``trading.guarantees.issuance`` (re-exported
here); claims, releases, expiry and cash-bond refunds in ``trading.guarantees.lifecycle``.

Plain async functions taking the caller's session. They only flush; the boundary commits. Every
state change appends a ledger entry in the same transaction. Who may call a function (the
centre's admin, the applicant, the guarantor's authenticated system) is checked by the boundary
(``opt=requires(...)``, the API's request signature); the functions check the facts.

Entries about a bid guarantee's application, issue and attachment go on the project's *sealed*
chain: before the bid deadline they would reveal who intends to bid (Order 20 Art. 21).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.errors import GuaranteeRefused, GuaranteeStateError

# Re-exported: callers use one entry point, ``service``.
from trading.guarantees.issuance import (
    PublicGuarantee,
    attach_to_bid,
    detach_from_bid,
    guarantee_of_application,
    guarantees_of_project,
    mark_verified,
    record_issuance,
    verify_code,
)
from trading.guarantees.models import (
    ApplicationStatus,
    GuaranteeApplication,
    GuaranteeKind,
    GuaranteeProduct,
    Guarantor,
    GuarantorStatus,
)
from trading.guarantees.payer import PayerAccount
from trading.guarantees.repository import GuaranteesRepository
from trading.guarantees.rules import (
    CENT,
    CHINA,
    CURRENCY,
    GUARANTOR_KINDS,
    Problems,
    check_amount,
    ledger_entry,
    required_row,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound

__all__ = [  # the functions of ``issuance`` re-exported here, so callers import one module
    "PublicGuarantee",
    "attach_to_bid",
    "detach_from_bid",
    "guarantee_of_application",
    "guarantees_of_project",
    "mark_verified",
    "record_issuance",
    "verify_code",
]

# --- guarantors and products -------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFacts:
    der: bytes
    sha256: str
    subject: str


def read_certificate(raw: bytes, field: str) -> CertificateFacts:
    """A certificate from PEM or DER bytes; refused naming ``field`` when it is neither."""
    try:
        cert = (
            x509.load_pem_x509_certificate(raw)
            if raw.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(raw)
        )
    except ValueError:
        raise GuaranteeRefused("not a PEM or DER certificate", field=field, rule="guarantor_certificate") from None
    der = cert.public_bytes(Encoding.DER)
    return CertificateFacts(der, hashlib.sha256(der).hexdigest(), cert.subject.rfc4514_string())


async def onboard_guarantor(
    session: AsyncSession,
    actor: Actor,
    *,
    organisation_id: uuid.UUID,
    issuing_certificate: bytes,
    api_certificate: bytes | None = None,
    display_name: str | None = None,
    branch: str | None = None,
    callback_url: str | None = None,
) -> Guarantor:
    """Onboard a bank, insurer or guarantee company. ``issuing_certificate`` (PEM or DER) signs its
    guarantees; ``api_certificate`` authenticates its system's API calls (the same one when None).
    Whether the issuing certificate is recognised for the trust-list usage ``guarantee`` is checked
    at every verification of a guarantee (``document.py``), since a trust list changes over time.
    """
    repo = GuaranteesRepository(session)
    organisation = await repo.organisation(organisation_id)
    if organisation is None:
        raise NotFound("no such organisation", field="organisation_id", rule="exists")
    problems = Problems()
    if organisation.kind not in GUARANTOR_KINDS:
        problems.add("organisation_id", "guarantor_kind", "a guarantor is a bank, an insurer or a guarantee company")
    elif await repo.guarantor_of_organisation(organisation_id) is not None:
        problems.add("organisation_id", "already_onboarded", "this organisation is already a guarantor")
    if callback_url and urlsplit(callback_url).scheme not in {"https", "http"}:
        problems.add("callback_url", "callback_url_scheme", "the callback URL starts with https:// or http://")
    problems.raise_any()
    issuing = read_certificate(issuing_certificate, "issuing_certificate")
    api = read_certificate(api_certificate, "api_certificate") if api_certificate else issuing
    for facts, field in ((issuing, "issuing_certificate"), (api, "api_certificate")):
        if await repo.guarantor_by_certificate(facts.sha256) is not None:
            problems.add(field, "certificate_in_use", "another guarantor already uses this certificate")
    problems.raise_any()
    now = await clock.now(session)
    guarantor = Guarantor(
        organisation_id=organisation.id,
        display_name=(display_name or "").strip() or organisation.name,
        uscc=organisation.uscc,
        kind=organisation.kind.value,
        branch=(branch or "").strip() or None,
        issuing_cert_der=issuing.der,
        issuing_cert_sha256=issuing.sha256,
        issuing_cert_subject=issuing.subject,
        api_cert_sha256=api.sha256,
        callback_url=callback_url or None,
        status=GuarantorStatus.ACTIVE,
        onboarded_by=actor.user_id,
        onboarded_at=now,
        updated_at=now,
    )
    await repo.add(guarantor)
    summary = {"organisation_id": str(organisation.id), "certificate_sha256": issuing.sha256}
    await ledger_entry(session, actor, "guarantor_onboarded", "guarantor", guarantor.id, summary)
    return guarantor


async def organisation_id_by_uscc(session: AsyncSession, uscc: str, field: str = "organisation") -> uuid.UUID:
    """The platform organisation with this 统一社会信用代码 (forms name organisations by it)."""
    organisation = await GuaranteesRepository(session).organisation_by_uscc(uscc.strip().upper())
    if organisation is None:
        raise GuaranteeRefused("no organisation on the platform has this credit code", field=field, rule="exists")
    return organisation.id


async def set_guarantor_status(
    session: AsyncSession, actor: Actor, guarantor_id: uuid.UUID, status: GuarantorStatus
) -> Guarantor:
    """Suspend (no longer listed, new applications refused) or reinstate a guarantor. Guarantees it
    has issued stay valid either way. Setting the status it already has changes nothing.
    """
    repo = GuaranteesRepository(session)
    guarantor: Guarantor = await required_row(repo, Guarantor, guarantor_id, "guarantor_id")
    if guarantor.status == status:
        return guarantor
    guarantor.status = status
    guarantor.updated_at = await clock.now(session)
    await session.flush()
    action = "guarantor_suspended" if status == GuarantorStatus.SUSPENDED else "guarantor_reinstated"
    await ledger_entry(
        session, actor, action, "guarantor", guarantor.id, {"organisation_id": str(guarantor.organisation_id)}
    )
    return guarantor


async def suspend(session: AsyncSession, actor: Actor, guarantor_id: uuid.UUID) -> Guarantor:
    return await set_guarantor_status(session, actor, guarantor_id, GuarantorStatus.SUSPENDED)


async def add_product(
    session: AsyncSession,
    actor: Actor,
    guarantor_id: uuid.UUID,
    *,
    kind: GuaranteeKind,
    name: str,
    fee_rate_percent: Decimal,
    minimum_fee: Decimal = Decimal("0.00"),
) -> GuaranteeProduct:
    """A product of the guarantor: fee = max(amount × rate %, minimum fee), rounded to the cent."""
    repo = GuaranteesRepository(session)
    guarantor: Guarantor = await required_row(repo, Guarantor, guarantor_id, "guarantor_id", lock=False)
    problems = Problems()
    if not name.strip():
        problems.add("name", "required", "name the product")
    if not fee_rate_percent.is_finite() or not Decimal(0) < fee_rate_percent <= Decimal(100):
        problems.add("fee_rate_percent", "fee_rate", "the fee rate is a percentage above 0 and at most 100")
    elif fee_rate_percent != fee_rate_percent.quantize(Decimal("0.0001")):
        problems.add("fee_rate_percent", "fee_rate", "the fee rate has at most 4 decimals")
    check_amount(problems, "minimum_fee", minimum_fee, allow_zero=True)
    problems.raise_any()
    product = GuaranteeProduct(
        guarantor_id=guarantor.id,
        kind=kind,
        name=name.strip(),
        fee_rate_percent=fee_rate_percent,
        minimum_fee=minimum_fee,
        active=True,
        created_at=await clock.now(session),
    )
    await repo.add(product)
    summary = {"organisation_id": str(guarantor.organisation_id), "kind": kind.value, "name": product.name}
    await ledger_entry(session, actor, "product_added", "product", product.id, summary)
    return product


def neutral_key(viewer: str, day: date, guarantor_id: uuid.UUID) -> bytes:
    return hashlib.sha256(f"{viewer}|{day.isoformat()}|{guarantor_id}".encode()).digest()


async def guarantors_for(session: AsyncSession, viewer: Actor) -> list[Guarantor]:
    """Every active guarantor, in an order that is random per viewer and day and stable within it.

    The platform never designates or ranks issuers (27号): no order by name, fee or volume, which
    would favour whoever sorts first. The order is the SHA-256 of the viewer, the Beijing date and
    the guarantor, so one viewer sees the same list all day and different viewers different lists.
    """
    viewer_key = str(viewer.organisation_id or viewer.user_id or viewer.client_ip or "anonymous")
    today = (await clock.now(session)).astimezone(CHINA).date()
    listed = await GuaranteesRepository(session).guarantors(active_only=True)
    return sorted(listed, key=lambda guarantor: neutral_key(viewer_key, today, guarantor.id))


async def products_of(
    session: AsyncSession, guarantor_id: uuid.UUID, *, active_only: bool = True
) -> Sequence[GuaranteeProduct]:
    return await GuaranteesRepository(session).products(guarantor_id, active_only=active_only)


async def all_guarantors(session: AsyncSession) -> Sequence[Guarantor]:
    """Every guarantor, suspended ones too, by name: the centre's administration list."""
    return await GuaranteesRepository(session).guarantors(active_only=False)


# --- applications ------------------------------------------------------------------------------------


def fee_for(product: GuaranteeProduct, amount: Decimal) -> Decimal:
    fee = (amount * product.fee_rate_percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(fee, product.minimum_fee)


@dataclass(frozen=True)
class ApplicationRequest:
    """What a bidder asks a guarantor for. ``security`` is the kind of security the guarantee is
    to serve (a tender's bid security: ``bid``); the product must be of that kind.
    """

    product_id: uuid.UUID
    applicant_organisation_id: uuid.UUID
    beneficiary_name: str
    beneficiary_uscc: str
    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    valid_from: date
    valid_until: date
    currency: str = CURRENCY
    security: GuaranteeKind = GuaranteeKind.BID


def _check_request(problems: Problems, request: ApplicationRequest) -> None:
    check_amount(problems, "amount", request.amount)
    if request.currency != CURRENCY:
        problems.add("currency", "guarantee_currency", "guarantees on this platform are in CNY")
    if request.valid_until <= request.valid_from:
        problems.add("valid_until", "validity_order", "the validity ends after it starts")
    for field in ("beneficiary_name", "project_code", "lot_code", "lot_name"):
        if not getattr(request, field).strip():
            problems.add(field, "required", f"{field} is required")
    if len(request.beneficiary_uscc.strip()) != 18:  # noqa: PLR2004 - 统一社会信用代码 is 18 characters
        problems.add("beneficiary_uscc", "uscc_length", "the unified social credit code has 18 characters")


async def apply(session: AsyncSession, actor: Actor, request: ApplicationRequest) -> GuaranteeApplication:
    """A bidder applies to the product's guarantor; the fee follows from the product. Refused with
    every broken rule named (``amount``/``positive``, ``valid_until``/``after_start``,
    ``product_id``/``product_kind``, ``product_id``/``guarantor_active`` …).
    """
    repo = GuaranteesRepository(session)
    problems = Problems()
    _check_request(problems, request)
    product = await repo.get(GuaranteeProduct, request.product_id)
    guarantor = await repo.get(Guarantor, product.guarantor_id) if product else None
    applicant = await repo.organisation(request.applicant_organisation_id)
    if product is None or guarantor is None:
        problems.add("product_id", "exists", "no such guarantee product")
    else:
        if product.kind != request.security:
            problems.add(
                "product_id",
                "product_kind",
                f"a {request.security.value} security needs a {request.security.value} guarantee",
            )
        if not product.active:
            problems.add("product_id", "product_active", "the guarantor no longer offers this product")
        if guarantor.status != GuarantorStatus.ACTIVE:
            problems.add("product_id", "guarantor_active", "the guarantor is suspended")
    if applicant is None:
        problems.add("applicant_organisation_id", "exists", "no such organisation")
    problems.raise_any()
    assert product is not None  # noqa: S101 - checked above
    assert guarantor is not None  # noqa: S101
    assert applicant is not None  # noqa: S101
    now = await clock.now(session)
    application = GuaranteeApplication(
        application_no=f"GA{now.astimezone(CHINA):%Y%m%d}{secrets.token_hex(5).upper()}",
        product_id=product.id,
        guarantor_id=guarantor.id,
        kind=product.kind,
        applicant_organisation_id=applicant.id,
        applicant_name=applicant.name,
        applicant_uscc=applicant.uscc,
        beneficiary_name=request.beneficiary_name.strip(),
        beneficiary_uscc=request.beneficiary_uscc.strip().upper(),
        project_code=request.project_code.strip(),
        lot_code=request.lot_code.strip(),
        lot_name=request.lot_name.strip(),
        amount=request.amount,
        currency=request.currency,
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        fee=fee_for(product, request.amount),
        status=ApplicationStatus.APPLIED,
        applied_by=actor.user_id,
        applied_at=now,
    )
    await repo.add(application)
    await _application_entry(session, actor, "applied", application)
    return application


async def _application_entry(
    session: AsyncSession, actor: Actor, action: str, application: GuaranteeApplication
) -> None:
    summary = {"application_no": application.application_no, "status": application.status.value}
    await ledger_entry(
        session,
        actor,
        action,
        "application",
        application.id,
        summary,
        project_code=application.project_code,
        sealed=application.kind == GuaranteeKind.BID,
    )


async def _move_application(  # noqa: PLR0917 - one private helper of the three moves
    session: AsyncSession,
    actor: Actor,
    application_id: uuid.UUID,
    allowed: frozenset[ApplicationStatus],
    to: ApplicationStatus,
    action: str,
    reason: str | None = None,
    payer: PayerAccount | None = None,
) -> GuaranteeApplication:
    repo = GuaranteesRepository(session)
    application: GuaranteeApplication = await required_row(repo, GuaranteeApplication, application_id, "application_id")
    if application.status not in allowed:
        raise GuaranteeStateError(
            f"the application is {application.status.value}", field="application_id", rule="application_status"
        )
    now = await clock.now(session)
    application.status = to
    if to == ApplicationStatus.PAID:
        application.paid_at = now
        if payer is not None:  # issue 19: the account the fee came from, for the integrity screens
            application.payer_account_no, application.payer_bank = payer.number, payer.bank
    else:
        application.decided_at = now
    if reason is not None:
        application.refusal_reason = reason
    await session.flush()
    await _application_entry(session, actor, action, application)
    return application


async def mark_paid(
    session: AsyncSession, actor: Actor, application_id: uuid.UUID, payer: PayerAccount | None = None
) -> GuaranteeApplication:
    """The bidder paid the fee: applied → paid. ``payer`` (`payer.payer_account`, checked): the
    account the fee was paid from (issue 19), kept with ``paid_at``; never in the ledger's summary.
    """
    return await _move_application(
        session,
        actor,
        application_id,
        frozenset({ApplicationStatus.APPLIED}),
        ApplicationStatus.PAID,
        "application_paid",
        payer=payer,
    )


async def refuse(session: AsyncSession, actor: Actor, application_id: uuid.UUID, reason: str) -> GuaranteeApplication:
    """The guarantor declines (applied or paid → refused), saying why."""
    if not reason.strip():
        raise GuaranteeRefused("say why the application is refused", field="reason", rule="required")
    allowed = frozenset({ApplicationStatus.APPLIED, ApplicationStatus.PAID})
    return await _move_application(
        session, actor, application_id, allowed, ApplicationStatus.REFUSED, "application_refused", reason.strip()
    )


async def withdraw(session: AsyncSession, actor: Actor, application_id: uuid.UUID) -> GuaranteeApplication:
    """The applicant gives up before issue (applied or paid → withdrawn)."""
    allowed = frozenset({ApplicationStatus.APPLIED, ApplicationStatus.PAID})
    return await _move_application(
        session, actor, application_id, allowed, ApplicationStatus.WITHDRAWN, "application_withdrawn"
    )


# --- lookups for the API, the client and the pages ----------------------------------------------------


async def guarantor_by_api_key(session: AsyncSession, cert_sha256: str) -> Guarantor | None:
    """The guarantor whose API certificate has this SHA-256 (the RFC 9421 ``keyid``)."""
    return await GuaranteesRepository(session).guarantor_by_api_key(cert_sha256.lower())


async def applications_of(
    session: AsyncSession, applicant_organisation_id: uuid.UUID
) -> Sequence[GuaranteeApplication]:
    """A bidder's applications, newest first."""
    return await GuaranteesRepository(session).applications_of(applicant_organisation_id)


async def guarantor_queue(
    session: AsyncSession,
    guarantor_id: uuid.UUID,
    statuses: Sequence[ApplicationStatus] = (ApplicationStatus.APPLIED, ApplicationStatus.PAID),
) -> Sequence[GuaranteeApplication]:
    """The guarantor's applications waiting for it (applied or paid by default), oldest first."""
    return await GuaranteesRepository(session).applications_for(guarantor_id, [status.value for status in statuses])
