"""Marketplace tables, prefixed ``intermediary_``.

Enumerations are VARCHAR columns (``native_enum=False``) as in ``trading.parties.models``. Rows
that change with time carry ``next_check`` for the sweep (qualification expiry, blacklisting
response period and expiry).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from intermediary_market.selection import FundingType, SelectionMethod
from trading.kernel.db.base import Base, UUIDPrimaryKey

MONEY_PRECISION = 14
MONEY_SCALE = 2
MONEY_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE
"""Digits before the point: what the API schemas and the forms allow, so that every amount they
accept fits the column."""
MONEY = sa.Numeric(MONEY_PRECISION, MONEY_SCALE)


class QualificationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # expired: no registration for this item until renewed
    REVOKED = "revoked"


class AnnouncementStatus(StrEnum):
    OPEN = "open"  # published, registration per its window
    SELECTED = "selected"  # the result is published with its computation
    FAILED = "failed"  # the selection failed under the rules (``failure_rule``)


class ComplaintStatus(StrEnum):
    FILED = "filed"  # awaiting the regulator's decision; the intermediary may answer meanwhile
    UPHELD = "upheld"  # counts against the intermediary's credit
    DISMISSED = "dismissed"


class BlacklistStatus(StrEnum):
    NOTICED = "noticed"  # notice given, the response period runs
    EFFECTIVE = "effective"  # decided: the intermediary cannot register until ``effective_until``
    WITHDRAWN = "withdrawn"  # decided not to list
    EXPIRED = "expired"


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class ServiceItem(UUIDPrimaryKey, Base):
    """One version of an item of the 中介服务事项清单; a new version supersedes the current one."""

    __tablename__ = "intermediary_service_items"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    code: Mapped[str] = mapped_column(sa.String(40), index=True)
    version: Mapped[int]
    current: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    legal_basis: Mapped[str] = mapped_column(sa.String(500))
    approval: Mapped[str] = mapped_column(sa.String(200))
    """The administrative approval the service serves (审批事项)."""
    required_qualification: Mapped[str] = mapped_column(sa.String(200))
    fee_basis: Mapped[str] = mapped_column(sa.String(500))
    standard_days: Mapped[int]
    created_at: Mapped[datetime]


class Qualification(UUIDPrimaryKey, Base):
    """An intermediary's qualification for one service item (level 1 is the highest, 甲级)."""

    __tablename__ = "intermediary_qualifications"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "item_code"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    item_code: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[int]
    certificate_no: Mapped[str] = mapped_column(sa.String(100))
    valid_until: Mapped[datetime]
    status: Mapped[QualificationStatus] = mapped_column(_enum(QualificationStatus))
    revoked_at: Mapped[datetime | None]
    """When a regulator revoked it (a draw's eligibility is judged as of its close, so the time counts)."""
    expiry_noticed_at: Mapped[datetime | None]
    """When the intermediary was told the qualification is about to expire (reset on renewal)."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class Announcement(UUIDPrimaryKey, Base):
    """A selection announcement (选取公告) of a project owner and, once drawn, its result."""

    __tablename__ = "intermediary_announcements"

    owner_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    project_name: Mapped[str] = mapped_column(sa.String(200))
    item_code: Mapped[str] = mapped_column(sa.String(40))
    method: Mapped[SelectionMethod] = mapped_column(_enum(SelectionMethod))
    funding: Mapped[FundingType] = mapped_column(_enum(FundingType))
    budget: Mapped[Decimal] = mapped_column(MONEY)
    price_min: Mapped[Decimal | None] = mapped_column(MONEY)
    price_max: Mapped[Decimal | None] = mapped_column(MONEY)
    max_level: Mapped[int]
    """The lowest acceptable qualification level (1 = 甲级 only; 3 accepts 甲, 乙 and 丙)."""
    time_limit_days: Mapped[int]
    registration_opens: Mapped[datetime]
    registration_closes: Mapped[datetime]
    direct_organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    seed: Mapped[str] = mapped_column(sa.String(64))
    """Secret until the draw; only ``seed_sha256`` is shown before."""
    seed_sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[AnnouncementStatus] = mapped_column(_enum(AnnouncementStatus), index=True)
    closed_at: Mapped[datetime | None]
    """When the registrant list was frozen (eligibility judged as of ``registration_closes``)."""
    closed_list: Mapped[dict[str, Any] | None]
    """The frozen list, public from the close: eligible registrants with their contribution
    commitments, the excluded with the rule, and ``closed_list_sha256`` (``trading.kernel.draws``).
    """
    reveal_closes: Mapped[datetime | None]
    """End of the window in which registrants reveal their contributions (None: nothing to reveal)."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    """The sweep closes the list at ``registration_closes`` and draws at the end of the reveal window."""
    winner_organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    winner_price: Mapped[Decimal | None] = mapped_column(MONEY)
    failure_rule: Mapped[str | None] = mapped_column(sa.String(64))
    computation: Mapped[dict[str, Any] | None]
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Registration(UUIDPrimaryKey, Base):
    __tablename__ = "intermediary_registrations"
    __table_args__ = (sa.UniqueConstraint("announcement_id", "organisation_id"),)

    announcement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("intermediary_announcements.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    panel_scores: Mapped[dict[str, Any] | None]
    """择优: ``{"scores": ["87.5", …]}`` entered by the owner for the panel."""
    contribution_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    """The commitment to the registrant's contribution to the draw's randomness (optional)."""
    contribution: Mapped[str | None] = mapped_column(sa.String(64))
    """The revealed contribution: kept unpublished until the draw, then in the computation."""
    created_at: Mapped[datetime]


class Rating(UUIDPrimaryKey, Base):
    """The owner's rating of the selected intermediary for one announcement (one per announcement)."""

    __tablename__ = "intermediary_ratings"
    __table_args__ = (sa.UniqueConstraint("announcement_id"),)

    announcement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("intermediary_announcements.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    quality: Mapped[int]
    timeliness: Mapped[int]
    attitude: Mapped[int]
    fees: Mapped[int]
    created_at: Mapped[datetime]


class Blacklisting(UUIDPrimaryKey, Base):
    """A listing on the 失信中介服务机构名单 with its due process."""

    __tablename__ = "intermediary_blacklistings"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(1000))
    status: Mapped[BlacklistStatus] = mapped_column(_enum(BlacklistStatus))
    noticed_at: Mapped[datetime]
    response_due: Mapped[datetime]
    response: Mapped[str | None] = mapped_column(sa.String(4000))
    decided_at: Mapped[datetime | None]
    effective_until: Mapped[datetime | None]
    appeal: Mapped[str | None] = mapped_column(sa.String(4000))
    """The intermediary's appeal against the decision; the listing stays in force meanwhile."""
    appealed_at: Mapped[datetime | None]
    appeal_decided_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class Delivery(UUIDPrimaryKey, Base):
    """Service delivery after the selection: contract filing, the committed time limit as a running
    clock (限时办结) with a warning before and a mark at overdue, and the owner's confirmation.
    """

    __tablename__ = "intermediary_deliveries"
    __table_args__ = (sa.UniqueConstraint("announcement_id"),)

    announcement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("intermediary_announcements.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    contract_no: Mapped[str] = mapped_column(sa.String(100))
    filed_at: Mapped[datetime]
    due_at: Mapped[datetime]
    deliverable_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    warned_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class Complaint(UUIDPrimaryKey, Base):
    """A complaint by an announcement's owner against the intermediary selected for it, decided by
    a regulator. Only upheld complaints count for credit (``credit.CreditConfig.complaint_deduction``).
    """

    __tablename__ = "intermediary_complaints"

    announcement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("intermediary_announcements.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    """The intermediary complained about (the announcement's winner)."""
    complainant_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    text: Mapped[str] = mapped_column(sa.String(4000))
    filed_at: Mapped[datetime]
    filed_by: Mapped[uuid.UUID | None]
    status: Mapped[ComplaintStatus] = mapped_column(_enum(ComplaintStatus), index=True)
    response: Mapped[str | None] = mapped_column(sa.String(4000))
    """The intermediary's answer, accepted until the decision."""
    responded_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(sa.String(2000))
    """The regulator's reason for upholding or dismissing."""
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]


class CreditInput(UUIDPrimaryKey, Base):
    """The regulator's inputs to one intermediary's credit for one year: the industry regulator's
    evaluation (0–70) and the government enterprise-credit result (0–10), each with its source.
    Recording the same year again replaces the row; the credit uses the latest year on record. A
    part left empty takes ``CreditConfig``'s default.
    """

    __tablename__ = "intermediary_credit_inputs"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "year"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    year: Mapped[int]
    regulator_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    regulator_source: Mapped[str | None] = mapped_column(sa.String(1000))
    public_credit_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    public_credit_source: Mapped[str | None] = mapped_column(sa.String(1000))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID | None]


class CreditRecord(Base):
    """The credit snapshot of one intermediary: what the directory, the red list and the reports
    read (never recomputed per request). ``components`` is the computation: the parts, the
    deductions, the counts and which parts were defaults. Kept current by
    ``credit_records.CreditService.recompute_one`` after each credit event and by the daily job.
    """

    __tablename__ = "intermediary_credit_records"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), primary_key=True)
    score: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    grade: Mapped[str] = mapped_column(sa.String(8), index=True)
    components: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]
