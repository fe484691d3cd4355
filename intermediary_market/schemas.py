"""The shapes marketplace data takes on the API (msgspec Structs). Rules live in the service."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from intermediary_market.models import (
    MONEY_INTEGER_DIGITS,
    Announcement,
    AnnouncementStatus,
    Blacklisting,
    BlacklistStatus,
    Complaint,
    ComplaintStatus,
    CreditInput,
    Delivery,
    Qualification,
    QualificationStatus,
    Registration,
    ServiceItem,
)
from intermediary_market.selection import FundingType, SelectionMethod
from trading.kernel.bounds import Digits, Input, MaxLength, ShortText, SingleLine

Money = Annotated[Decimal, Digits(MONEY_INTEGER_DIGITS)]
"""``intermediary_market.models.MONEY``: NUMERIC(14, 2), 12 digits before the point."""
Score = Annotated[Decimal, Digits(3)]
"""Credit scores: NUMERIC(5, 2)."""


class ServiceItemCreate(Input):
    """A new item, or a new version of an existing ``code``."""

    code: ShortText
    name: ShortText
    legal_basis: str
    approval: str
    required_qualification: str
    fee_basis: str
    standard_days: int


class ServiceItemRead(msgspec.Struct):
    id: uuid.UUID
    code: str
    version: int
    current: bool
    name: str
    legal_basis: str
    approval: str
    required_qualification: str
    fee_basis: str
    standard_days: int

    @classmethod
    def of(cls, row: ServiceItem) -> ServiceItemRead:
        return cls(
            row.id,
            row.code,
            row.version,
            row.current,
            row.name,
            row.legal_basis,
            row.approval,
            row.required_qualification,
            row.fee_basis,
            row.standard_days,
        )


class QualificationRecord(Input):
    """A reviewed qualification (new or renewed) of an intermediary for one item."""

    organisation_id: uuid.UUID
    item_code: ShortText
    level: int
    certificate_no: ShortText
    valid_until: datetime


class QualificationRead(msgspec.Struct):
    id: uuid.UUID
    organisation_id: uuid.UUID
    item_code: str
    level: int
    certificate_no: str
    valid_until: datetime
    status: QualificationStatus

    @classmethod
    def of(cls, row: Qualification) -> QualificationRead:
        return cls(
            row.id, row.organisation_id, row.item_code, row.level, row.certificate_no, row.valid_until, row.status
        )


class AnnouncementCreate(Input):
    project_name: ShortText
    item_code: ShortText
    method: SelectionMethod
    funding: FundingType
    budget: Money
    time_limit_days: int
    registration_opens: datetime
    registration_closes: datetime
    max_level: int = 3
    price_min: Money | None = None
    price_max: Money | None = None
    direct_organisation_id: uuid.UUID | None = None


class AnnouncementRead(msgspec.Struct):
    id: uuid.UUID
    owner_organisation_id: uuid.UUID
    project_name: str
    item_code: str
    method: SelectionMethod
    funding: FundingType
    budget: Decimal
    price_min: Decimal | None
    price_max: Decimal | None
    max_level: int
    time_limit_days: int
    registration_opens: datetime
    registration_closes: datetime
    seed_sha256: str
    status: AnnouncementStatus
    winner_organisation_id: uuid.UUID | None
    winner_price: Decimal | None
    failure_rule: str | None
    computation: dict[str, Any] | None
    """The published computation (seed revealed, registrants, r, M, R …) once decided."""
    closed_list: dict[str, Any] | None = None
    """From the close: the frozen registrant list with the contribution commitments and its digest."""
    reveal_closes: datetime | None = None
    """When the reveal window of the registrants' contributions ends (None: nothing to reveal)."""

    @classmethod
    def of(cls, row: Announcement) -> AnnouncementRead:
        return cls(
            id=row.id,
            owner_organisation_id=row.owner_organisation_id,
            project_name=row.project_name,
            item_code=row.item_code,
            method=row.method,
            funding=row.funding,
            budget=row.budget,
            price_min=row.price_min,
            price_max=row.price_max,
            max_level=row.max_level,
            time_limit_days=row.time_limit_days,
            registration_opens=row.registration_opens,
            registration_closes=row.registration_closes,
            seed_sha256=row.seed_sha256,
            status=row.status,
            winner_organisation_id=row.winner_organisation_id,
            winner_price=row.winner_price,
            failure_rule=row.failure_rule,
            computation=row.computation,
            closed_list=row.closed_list,
            reveal_closes=row.reveal_closes,
        )


class RegistrationCreate(Input):
    price: Money | None = None
    contribution_sha256: ShortText | None = None
    """SHA-256 (hex) of a secret the registrant keeps and reveals after the close: its share of
    the draw's randomness (``scripts/draw_scheme.md``)."""


CONTRIBUTION_MAX_CHARACTERS = 64
"""``Registration.contribution`` is String(64): a longer secret could be committed but never revealed."""


class ContributionReveal(Input):
    contribution: Annotated[str, SingleLine(), MaxLength(CONTRIBUTION_MAX_CHARACTERS)]
    """The secret whose SHA-256 was registered: one line of at most 64 characters."""


class QualificationRevocation(Input):
    organisation_id: uuid.UUID
    item_code: ShortText
    reason: str


class RegistrationRead(msgspec.Struct):
    id: uuid.UUID
    announcement_id: uuid.UUID
    organisation_id: uuid.UUID
    price: Decimal | None

    contribution_sha256: str | None = None

    @classmethod
    def of(cls, row: Registration) -> RegistrationRead:
        return cls(row.id, row.announcement_id, row.organisation_id, row.price, row.contribution_sha256)


class PanelScores(Input):
    """择优: the panel's scores for one registrant, entered by the owner."""

    organisation_id: uuid.UUID
    scores: list[Score]


class RatingCreate(Input):
    quality: int
    timeliness: int
    attitude: int
    fees: int


class BlacklistNotice(Input):
    organisation_id: uuid.UUID
    reason: str
    response_days: int = 10


class BlacklistResponse(Input):
    response: str


class BlacklistDecision(Input):
    uphold: bool
    months: int = 12


class BlacklistAppeal(Input):
    appeal: str


class AppealDecision(Input):
    overturn: bool


class BlacklistingRead(msgspec.Struct):
    id: uuid.UUID
    organisation_id: uuid.UUID
    reason: str
    status: BlacklistStatus
    noticed_at: datetime
    response_due: datetime
    response: str | None
    decided_at: datetime | None
    effective_until: datetime | None
    appeal: str | None
    appealed_at: datetime | None
    appeal_decided_at: datetime | None

    @classmethod
    def of(cls, row: Blacklisting) -> BlacklistingRead:
        return cls(
            row.id,
            row.organisation_id,
            row.reason,
            row.status,
            row.noticed_at,
            row.response_due,
            row.response,
            row.decided_at,
            row.effective_until,
            row.appeal,
            row.appealed_at,
            row.appeal_decided_at,
        )


class CreditRead(msgspec.Struct):
    organisation_id: uuid.UUID
    regulator: Decimal
    public_credit: Decimal
    social: Decimal
    overdue_deduction: Decimal
    total: Decimal
    grade: str


class ContractFiling(Input):
    contract_no: ShortText


class DeliverableUpload(Input):
    sha256: str
    """SHA-256 (hex) of the deliverable file, stored by the document service."""


class DeliveryRead(msgspec.Struct):
    id: uuid.UUID
    announcement_id: uuid.UUID
    organisation_id: uuid.UUID
    contract_no: str
    filed_at: datetime
    due_at: datetime
    deliverable_sha256: str | None
    warned_at: datetime | None
    overdue: bool
    completed_at: datetime | None

    @classmethod
    def of(cls, row: Delivery) -> DeliveryRead:
        return cls(
            row.id,
            row.announcement_id,
            row.organisation_id,
            row.contract_no,
            row.filed_at,
            row.due_at,
            row.deliverable_sha256,
            row.warned_at,
            row.overdue,
            row.completed_at,
        )


class IntermediaryRead(msgspec.Struct):
    """A line of the public directory (执业公示): who, which items, and the credit grade."""

    organisation_id: uuid.UUID
    name: str
    uscc: str
    qualifications: list[QualificationRead]
    credit_score: Decimal | None
    """From the credit snapshot; None until it is first computed."""
    credit_grade: str | None
    red_listed: bool = False
    """On the 诚信红名单: listed first (priority display)."""


class ComplaintCreate(Input):
    text: str


class ComplaintResponse(Input):
    response: str


class ComplaintDecision(Input):
    uphold: bool
    reason: str


class ComplaintRead(msgspec.Struct):
    id: uuid.UUID
    announcement_id: uuid.UUID
    organisation_id: uuid.UUID
    complainant_organisation_id: uuid.UUID
    text: str
    filed_at: datetime
    status: ComplaintStatus
    response: str | None
    responded_at: datetime | None
    reason: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, row: Complaint) -> ComplaintRead:
        return cls(
            row.id,
            row.announcement_id,
            row.organisation_id,
            row.complainant_organisation_id,
            row.text,
            row.filed_at,
            row.status,
            row.response,
            row.responded_at,
            row.reason,
            row.decided_at,
        )


class CreditInputRecord(Input):
    """One year's regulator inputs; a part left out takes the configured default."""

    organisation_id: uuid.UUID
    year: int
    regulator_score: Score | None = None
    """The industry regulator's evaluation, 0–70."""
    regulator_source: str | None = None
    public_credit_score: Score | None = None
    """The government enterprise-credit result, 0–10."""
    public_credit_source: str | None = None


class CreditInputRead(msgspec.Struct):
    id: uuid.UUID
    organisation_id: uuid.UUID
    year: int
    regulator_score: Decimal | None
    regulator_source: str | None
    public_credit_score: Decimal | None
    public_credit_source: str | None
    recorded_at: datetime

    @classmethod
    def of(cls, row: CreditInput) -> CreditInputRead:
        return cls(
            row.id,
            row.organisation_id,
            row.year,
            row.regulator_score,
            row.regulator_source,
            row.public_credit_score,
            row.public_credit_source,
            row.recorded_at,
        )


class CreditSnapshotRead(msgspec.Struct):
    """An intermediary's credit snapshot: score, grade, the computation and list membership."""

    organisation_id: uuid.UUID
    name: str
    uscc: str
    score: Decimal
    grade: str
    components: dict[str, Any]
    computed_at: datetime
    red_listed: bool
    blacklisted: bool


class RecomputeRead(msgspec.Struct):
    recomputed: int


class OverdueLine(msgspec.Struct):
    """A delivery past its deadline (``overdue``) or within the warning period (``warning``)."""

    delivery_id: uuid.UUID
    announcement_id: uuid.UUID
    project_name: str
    owner_organisation_id: uuid.UUID
    owner_name: str
    organisation_id: uuid.UUID
    intermediary_name: str
    contract_no: str
    due_at: datetime
    state: str
    days_overdue: int
    """Whole days past the deadline (0 for a warning)."""
