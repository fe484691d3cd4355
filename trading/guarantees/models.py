"""Electronic guarantees (电子保函): guarantors and their products, applications, the guarantees
issued, claims (索赔), releases (注销) and the refunds of cash bonds.

Every table is prefixed ``guarantees_``. Enumerations are VARCHAR columns (no native enum), so the
schema is the same on PostgreSQL and SQLite. Amounts are ``Numeric(18, 2)`` yuan (two decimals, as
DB3401/T 308 requires). Tender, lot and bid are referred to by code or id without a foreign key:
the domains sit above this package, and bidding holds the reference the other way round.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey

AMOUNT = sa.Numeric(18, 2)
RATE = sa.Numeric(7, 4)
"""A fee rate in percent of the amount (0.5 → 0.5 %), four decimals."""


class GuarantorStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # not listed, applications refused; guarantees already issued stay valid


class GuaranteeKind(StrEnum):
    BID = "bid"  # 投标保函
    PERFORMANCE = "performance"  # 履约保函
    ADVANCE_PAYMENT = "advance_payment"  # 预付款保函
    QUALITY = "quality"  # 质量保函


class ApplicationStatus(StrEnum):
    APPLIED = "applied"  # 申请
    PAID = "paid"  # 已支付
    ISSUED = "issued"  # 已开立: a Guarantee row exists
    REFUSED = "refused"  # the guarantor declined
    WITHDRAWN = "withdrawn"  # the applicant gave up before issue


class GuaranteeStatus(StrEnum):
    ISSUED = "issued"  # 已开立 (and 已传输: the platform holds it)
    VERIFIED = "verified"  # 已核验
    CLAIMED = "claimed"  # 已索赔
    PAID_OUT = "paid_out"  # 已赔付
    RELEASED = "released"  # 已注销
    EXPIRED = "expired"  # 已失效


class ClaimTrigger(StrEnum):
    """The statutory triggers of a claim on a bid guarantee (domain rules §6.1)."""

    WITHDRAWAL_AFTER_DEADLINE = "withdrawal_after_deadline"  # 实施条例 Art. 35; 87号令 Art. 23
    DECRYPTION_FAILURE = "decryption_failure"  # deemed 撤销 (§1.4)
    REFUSED_TO_SIGN = "refused_to_sign"  # 实施条例 Art. 74
    NO_PERFORMANCE_SECURITY = "no_performance_security"  # 实施条例 Art. 74


class ClaimStatus(StrEnum):
    FILED = "filed"
    PAID = "paid"
    REJECTED = "rejected"


class ReleaseReason(StrEnum):
    CONTRACT_SIGNED = "contract_signed"
    NOT_AWARDED = "not_awarded"
    EXPIRED = "expired"
    TENDER_ENDED = "tender_ended"  # terminated or failed tender


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class Guarantor(UUIDPrimaryKey, Base):
    """An issuer onboarded by the centre: a bank, insurer or guarantee company of the platform.

    ``issuing_cert_*`` is the certificate it signs guarantees with (recognised on the trust list
    for the usage ``guarantee``; the verifier checks that at every verification, not only here).
    ``api_cert_sha256`` is the certificate its own system authenticates API calls with (the RFC
    9421 ``keyid``); it may be the same certificate.
    """

    __tablename__ = "guarantees_guarantors"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    uscc: Mapped[str] = mapped_column(sa.String(18))
    kind: Mapped[str] = mapped_column(sa.String(32))
    """The organisation's kind: ``bank``, ``insurer`` or ``guarantee_company``."""
    branch: Mapped[str | None] = mapped_column(sa.String(200))
    issuing_cert_der: Mapped[bytes] = mapped_column(sa.LargeBinary)
    issuing_cert_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issuing_cert_subject: Mapped[str] = mapped_column(sa.String(1000))
    api_cert_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    callback_url: Mapped[str | None] = mapped_column(sa.String(1000))
    status: Mapped[GuarantorStatus] = mapped_column(_enum(GuarantorStatus))
    onboarded_by: Mapped[uuid.UUID | None]
    onboarded_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GuaranteeProduct(UUIDPrimaryKey, Base):
    """A guarantee a guarantor offers: its kind, fee rate (percent of the amount) and minimum fee."""

    __tablename__ = "guarantees_products"

    guarantor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantors.id"), index=True)
    kind: Mapped[GuaranteeKind] = mapped_column(_enum(GuaranteeKind))
    name: Mapped[str] = mapped_column(sa.String(200))
    fee_rate_percent: Mapped[Decimal] = mapped_column(RATE)
    minimum_fee: Mapped[Decimal] = mapped_column(AMOUNT)
    active: Mapped[bool]
    created_at: Mapped[datetime]


class GuaranteeApplication(UUIDPrimaryKey, Base):
    """A bidder's application for a guarantee (投保申请), from applied to issued, refused or withdrawn."""

    __tablename__ = "guarantees_applications"

    application_no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_products.id"))
    guarantor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantors.id"), index=True)
    kind: Mapped[GuaranteeKind] = mapped_column(_enum(GuaranteeKind))
    applicant_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(sa.String(200))
    applicant_uscc: Mapped[str] = mapped_column(sa.String(18))
    beneficiary_name: Mapped[str] = mapped_column(sa.String(200))
    beneficiary_uscc: Mapped[str] = mapped_column(sa.String(18))
    project_code: Mapped[str] = mapped_column(sa.String(64), index=True)
    lot_code: Mapped[str] = mapped_column(sa.String(64))
    lot_name: Mapped[str] = mapped_column(sa.String(300))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(sa.String(3))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    """Last day of validity, inclusive (Beijing dates, as the guarantee states them)."""
    fee: Mapped[Decimal] = mapped_column(AMOUNT)
    status: Mapped[ApplicationStatus] = mapped_column(_enum(ApplicationStatus), index=True)
    refusal_reason: Mapped[str | None] = mapped_column(sa.String(2000))
    applied_by: Mapped[uuid.UUID | None]
    applied_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    """When it was issued, refused or withdrawn."""
    payer_account_no: Mapped[str | None] = mapped_column(sa.String(32), default=None)
    """Issue 19: the account the fee was paid from (digits only), recorded with ``paid_at``; shown
    masked (`payer.mask_account`). The integrity screens compare it across a lot's bidders."""
    payer_bank: Mapped[str | None] = mapped_column(sa.String(100), default=None)


class Guarantee(UUIDPrimaryKey, Base):
    """An issued guarantee: the facts of its canonical JSON (§6.4), where its signed files are and
    its status. The signatures were verified by the caller (``document.py``) before it was recorded.
    """

    __tablename__ = "guarantees_guarantees"

    guarantee_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[GuaranteeKind] = mapped_column(_enum(GuaranteeKind))
    application_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_applications.id"), unique=True)
    guarantor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantors.id"), index=True)
    applicant_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(sa.String(200))
    applicant_uscc: Mapped[str] = mapped_column(sa.String(18))
    beneficiary_name: Mapped[str] = mapped_column(sa.String(200))
    beneficiary_uscc: Mapped[str] = mapped_column(sa.String(18))
    project_code: Mapped[str] = mapped_column(sa.String(64), index=True)
    lot_code: Mapped[str] = mapped_column(sa.String(64))
    lot_name: Mapped[str] = mapped_column(sa.String(300))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(sa.String(3))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    claim_conditions: Mapped[str] = mapped_column(sa.Text)
    issued_at: Mapped[datetime]
    json_key: Mapped[str] = mapped_column(sa.String(200))
    json_sha256: Mapped[str] = mapped_column(sa.String(64))
    cades_key: Mapped[str] = mapped_column(sa.String(200))
    pdf_key: Mapped[str] = mapped_column(sa.String(200))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    signer_cert_sha256: Mapped[str] = mapped_column(sa.String(64))
    verification_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    status: Mapped[GuaranteeStatus] = mapped_column(_enum(GuaranteeStatus), index=True)
    verified_at: Mapped[datetime | None]
    bid_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    """The bid it secures: one guarantee serves one bid (NULLs never collide in a unique index)."""
    attached_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    """When it was paid out, released or expired."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    """The end of validity while it is live: the sweep expires it then."""


class GuaranteeClaim(UUIDPrimaryKey, Base):
    """A claim (索赔) filed by the beneficiary on a statutory trigger, answered by the guarantor."""

    __tablename__ = "guarantees_claims"

    guarantee_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantees.id"), index=True)
    trigger: Mapped[ClaimTrigger] = mapped_column(_enum(ClaimTrigger))
    claimant_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    statement: Mapped[str] = mapped_column(sa.Text)
    filed_by: Mapped[uuid.UUID | None]
    filed_at: Mapped[datetime]
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus), index=True)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None]
    claim_signature_key: Mapped[str | None] = mapped_column(sa.String(200))
    """The claimant's signature over the claim (stored by the claims flow), if any."""
    answer_signature_key: Mapped[str | None] = mapped_column(sa.String(200))
    """The guarantor's signature over its answer, if any."""


class GuaranteeRelease(UUIDPrimaryKey, Base):
    """A release (注销) sent to the guarantor; retried until its system acknowledges it."""

    __tablename__ = "guarantees_releases"

    guarantee_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantees.id"), unique=True)
    reason: Mapped[ReleaseReason] = mapped_column(_enum(ReleaseReason))
    requested_by: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the worker pushes it again; ``None`` once acknowledged."""
    last_error: Mapped[str | None] = mapped_column(sa.String(2000))


class CashBondRefund(UUIDPrimaryKey, Base):
    """A cash bid bond to refund within 5 working days (87号令 Art. 38), with the late interest."""

    __tablename__ = "guarantees_cash_bond_refunds"
    __table_args__ = (sa.UniqueConstraint("project_code", "lot_code", "bidder_organisation_id"),)

    project_code: Mapped[str] = mapped_column(sa.String(64), index=True)
    lot_code: Mapped[str] = mapped_column(sa.String(64))
    bidder_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    cause_date: Mapped[date]
    """The day the refund became owed (contract signed, tender ended …)."""
    due_date: Mapped[date]
    """The 5th working day after ``cause_date``: refunded on or before it is on time."""
    recorded_at: Mapped[datetime]
    refunded_on: Mapped[date | None]
    refunded_at: Mapped[datetime | None]
    late_days: Mapped[int | None]
    late_interest: Mapped[Decimal | None] = mapped_column(AMOUNT)
    annual_rate_percent: Mapped[Decimal | None] = mapped_column(RATE)
    """The rate the interest was computed at (PBOC rate × 1.2), kept with the figure."""
