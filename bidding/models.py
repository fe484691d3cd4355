"""Bidding tables, prefixed ``bidding_``.

Enumerations are VARCHAR columns (``native_enum=False``) as elsewhere. Money is NUMERIC(16, 2) in
yuan. Files (tender documents, sealed bid containers) live in the file store under
``storage_key``; the database holds their digests, never a bid's plaintext.

A bid is one row per (lot, bidder) pointing at its current version; every submission, replacement
and withdrawal is a new `BidVersion` with its own signed receipt, so nothing accepted is lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey

MONEY_PRECISION = 16
MONEY_SCALE = 2
MONEY_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE
"""Digits before the point: what the API schemas and the forms allow, so that every amount they
accept fits the column."""
MONEY = sa.Numeric(MONEY_PRECISION, MONEY_SCALE)


class TenderCategory(StrEnum):
    ENGINEERING = "engineering"  # 工程
    GOODS = "goods"  # 货物
    SERVICES = "services"  # 服务


class TenderStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # documents available, bids accepted until the deadline
    CLOSED = "closed"  # the deadline passed: no bid changes; waiting for the opening
    OPENING = "opening"  # the opening hall runs (issue 5)
    FAILED = "failed"  # 流标: too few bids, re-tender
    CANCELLED = "cancelled"


class EvaluationMethod(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合评估法
    LOWEST_EVALUATED_PRICE = "lowest-evaluated-price"  # 经评审的最低投标价法
    REASONABLE_LOW_PRICE = "reasonable-low-price"  # 合理低价法


class DocumentKind(StrEnum):
    TENDER_DOCUMENT = "tender-document"  # 招标文件
    CLARIFICATION = "clarification"  # 澄清/答疑
    AMENDMENT = "amendment"  # 修改


class UploadStatus(StrEnum):
    RECEIVING = "receiving"
    ACCEPTED = "accepted"  # became a bid version (with a receipt)
    REFUSED = "refused"  # checked and refused; the bytes are deleted
    ABANDONED = "abandoned"  # expired or cancelled before completion: never a bid


class BidStatus(StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"  # 撤回 before the deadline
    REVOKED = "revoked"  # 撤销 after the deadline, within the bid validity period (实施条例 Art. 35)


class VersionKind(StrEnum):
    SUBMISSION = "submission"
    WITHDRAWAL = "withdrawal"
    REVOCATION = "revocation"  # 撤销: a signed act after the deadline (`intake/revocation.py`)


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Tender(UUIDPrimaryKey, Base):
    """A tender (招标项目) of one trading project, with the rules it was published under."""

    __tablename__ = "bidding_tenders"

    project_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """统一交易标识码: also names the tender's ledger chain."""
    title: Mapped[str] = mapped_column(sa.String(300))
    category: Mapped[TenderCategory] = mapped_column(_enum(TenderCategory))
    tender_type: Mapped[str] = mapped_column(sa.String(40))
    """Key of the rule set (`bidding.rules`) the tender is checked against."""
    status: Mapped[TenderStatus] = mapped_column(_enum(TenderStatus), index=True)
    tenderee_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    agency_organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    estimate: Mapped[Decimal] = mapped_column(MONEY)
    """Estimated price (招标估算价 / 预算金额), yuan."""
    bid_security_amount: Mapped[Decimal] = mapped_column(MONEY)
    bid_security_forms: Mapped[dict[str, Any]]
    """``{"forms": ["cash", "guarantee"]}``: what a bidder may give as bid security."""
    evaluation_method: Mapped[EvaluationMethod] = mapped_column(_enum(EvaluationMethod))
    evaluation_criteria: Mapped[dict[str, Any]]
    """``{"criteria": [{"name": …, "weight": 30}, …]}``: weights sum to 100 (comprehensive)."""
    documents_from: Mapped[datetime | None]
    documents_until: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    """Bid deadline = opening time, decided by the database clock."""
    decryption_window_minutes: Mapped[int]
    bid_validity_days: Mapped[int]
    max_package_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    key_holders: Mapped[dict[str, Any]]
    """``{"holders": [{"name": …, "certificate": PEM, "sha256": …}], "threshold": k, "remedy": bool}``:
    the escrow committee a bid's content key is split among (k of n)."""
    rules: Mapped[dict[str, Any] | None]
    """The rule set as applied at publication (kept: rules change, a tender's do not)."""
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    extensions: Mapped[int] = mapped_column(default=0)
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Lot(UUIDPrimaryKey, Base):
    """A lot (标段) of a tender; bids are per lot."""

    __tablename__ = "bidding_lots"
    __table_args__ = (sa.UniqueConstraint("tender_id", "code"),)

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(300))
    estimate: Mapped[Decimal] = mapped_column(MONEY)
    bid_security_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    """Bid security for a bid on this lot; None: the tender's ``bid_security_amount``. Either is
    checked against this lot's estimate (实施条例 Art. 26: ≤ 2 % of the estimate, per lot)."""
    bid_security_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Whether a bid on this lot must give bid security (投标保证金/投标保函); the terms are
    ``bidding.tenders.security.lot_terms``."""
    bid_security_forms: Mapped[dict[str, Any] | None]
    """``{"forms": [...]}`` the lot accepts (`bidding.rules.BID_SECURITY_FORMS`); None: the tender's."""
    position: Mapped[int]


class TenderDocument(UUIDPrimaryKey, Base):
    """A signed tender document, clarification or amendment, as published to every downloader."""

    __tablename__ = "bidding_documents"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind))
    title: Mapped[str] = mapped_column(sa.String(300))
    filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """Detached CAdES signature (DER) by the tenderee's or agency's certificate."""
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    signer_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    published_at: Mapped[datetime | None]
    """NULL while the tender is a draft; set when published (with the tender, or at once after)."""
    deadline_before: Mapped[datetime | None]
    deadline_after: Mapped[datetime | None]
    """For clarifications that moved the deadline."""
    created_at: Mapped[datetime]


class DocumentDownload(UUIDPrimaryKey, Base):
    """Who downloaded which document when (secret until the deadline, Order 20 Art. 21)."""

    __tablename__ = "bidding_document_downloads"

    document_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_documents.id"), index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    client_ip: Mapped[str | None] = mapped_column(sa.String(64))
    downloaded_at: Mapped[datetime]


class Question(UUIDPrimaryKey, Base):
    """A bidder's question (答疑); answered in a clarification published to all, without the asker."""

    __tablename__ = "bidding_questions"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    asked_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    text: Mapped[str] = mapped_column(sa.String(4000))
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(8000))
    answered_in: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_documents.id"))
    answered_at: Mapped[datetime | None]


class DocumentObjection(UUIDPrimaryKey, Base):
    """An objection to the tender documents (实施条例 Art. 22, Order 20 Art. 39): signed by the
    objecting organisation, filed through the platform at least N days before the deadline,
    answered by the tenderee or its agency within the answer limit; the tender is suspended
    meanwhile (the deadline moves by the time it was pending).
    """

    __tablename__ = "bidding_document_objections"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    filed_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    text: Mapped[str] = mapped_column(sa.String(4000))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """Detached CAdES (DER) over ``format.document_objection_statement(tender, uscc, text)``."""
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime]
    answer_due: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(8000))
    answered_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    answered_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    """When the sweep recorded that the answer limit passed unanswered."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class BidUpload(UUIDPrimaryKey, Base):
    """A resumable upload of one sealed bid container; it becomes a bid only when accepted."""

    __tablename__ = "bidding_uploads"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_lots.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    declared_size: Mapped[int] = mapped_column(sa.BigInteger)
    declared_sha256: Mapped[str] = mapped_column(sa.String(64))
    received: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[UploadStatus] = mapped_column(_enum(UploadStatus), index=True)
    refusal: Mapped[dict[str, Any] | None]
    """``{"field": …, "rule": …, "message": …}`` when refused."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class Bid(UUIDPrimaryKey, Base):
    """One bidder's bid for one lot; ``current_version_id`` is what counts at the opening."""

    __tablename__ = "bidding_bids"
    __table_args__ = (sa.UniqueConstraint("lot_id", "organisation_id"),)

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_lots.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    status: Mapped[BidStatus] = mapped_column(_enum(BidStatus))
    current_version_id: Mapped[uuid.UUID | None]
    """The version that counts (no foreign key: versions point at their bid, and a cycle of keys
    would need ALTER TABLE, which SQLite cannot do)."""
    versions: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BidVersion(UUIDPrimaryKey, Base):
    """One accepted submission or withdrawal with its signed receipt (回执)."""

    __tablename__ = "bidding_bid_versions"
    __table_args__ = (sa.UniqueConstraint("bid_id", "number"),)

    bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_bids.id"), index=True)
    number: Mapped[int]
    kind: Mapped[VersionKind] = mapped_column(_enum(VersionKind))
    receipt_no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    received_at: Mapped[datetime]
    submitted_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    upload_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_uploads.id"), index=True)
    """The upload it came from; indexed: a retried one-request bid finds its receipt by it."""
    container_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    container_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    manifest: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    """The exact public manifest bytes the bidder signed (ciphertext digests, no plaintext); for a
    withdrawal, the withdrawal statement it signed (`bidding.client.format.withdrawal_statement`).
    """
    manifest_signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    parts: Mapped[dict[str, Any] | None]
    """``{"price-summary": {"offset", "size", "sha256"}, "package": {…}}`` inside the container."""
    receipt: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """The receipt record, canonical JSON, exactly as signed."""
    receipt_signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """Detached CAdES-B-T signature (DER) of the platform over ``receipt``."""
    submit_ip: Mapped[str | None] = mapped_column(sa.String(45), default=None)
    """Issue 19: the client address of the submit request (the actor's, as the platform's trusted
    proxies resolve it), for the integrity screens only; never shown to other bidders."""
