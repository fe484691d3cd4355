"""The shapes bidding data takes on the API (msgspec Structs, camelCase on the wire as the bidder
client's contract in AGENTS.md). Rules live in the services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile

from bidding.models import (
    MONEY_INTEGER_DIGITS,
    DocumentKind,
    DocumentObjection,
    EvaluationMethod,
    Lot,
    Question,
    Tender,
    TenderCategory,
    TenderDocument,
    TenderStatus,
)
from bidding.remedy_plan import remedy_plan
from bidding.tenders import security
from trading.kernel.bounds import BigInt, Digits, Input, MaxLength, ShortText, check_object

Money = Annotated[Decimal, Digits(MONEY_INTEGER_DIGITS)]
"""``bidding.models.MONEY``: NUMERIC(16, 2), 14 digits before the point."""
# Single-line text of the String(n) columns in bidding.models: longer is a 422, not a 500.
ProjectCode = Annotated[ShortText, MaxLength(64)]
Title = Annotated[ShortText, MaxLength(300)]
ShortCode = Annotated[ShortText, MaxLength(40)]

# --- tenders -------------------------------------------------------------------------------------


class LotCreate(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    code: ShortCode
    name: Title
    estimate: Money
    bid_security_amount: Money | None = None
    """Bid security for this lot; absent: the tender's amount applies to each lot."""
    bid_security_required: bool | None = None
    """Whether a bid on this lot must give bid security; absent: when its amount (the lot's, else
    the tender's) is positive."""
    bid_security_forms: list[ShortText] | None = None
    """The forms this lot accepts (``cash``, ``guarantee`` = 保函/电子保函); absent: the tender's."""


class Criterion(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A scoring factor of the comprehensive method; weights of all factors sum to 100."""

    name: ShortText
    weight: int


class CoefficientCreate(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A random coefficient (浮动系数, K) drawn in public in the opening hall: its allowed values
    ``low … high`` on a ``step`` grid, decimal strings (`bidding.coefficients`, checked at publication).
    """

    name: str
    low: str
    high: str
    step: str


class KeyHolderCreate(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A custodian of the tender's escrow key (k of n): a name and an encryption certificate (PEM)."""

    name: ShortText
    certificate: str


class TenderCreate(Input, rename="camel"):
    """A new draft. An agency names the tenderee it acts for, which must have mandated it (a mandate in
    force, ``GET /api/v1/parties/mandates``; else 422 naming ``tendereeOrganisationId``, rule
    ``mandated``); a tenderee acts for itself.
    """

    project_code: ProjectCode
    title: Title
    category: TenderCategory
    tender_type: ShortCode
    estimate: Money
    evaluation_method: EvaluationMethod
    lots: list[LotCreate]
    tenderee_organisation_id: uuid.UUID | None = None
    bid_security_amount: Money = Decimal(0)
    bid_security_forms: list[ShortText] = msgspec.field(default_factory=lambda: ["cash", "guarantee"])
    evaluation_criteria: list[Criterion] = msgspec.field(default_factory=list)
    coefficients: list[CoefficientCreate] = msgspec.field(default_factory=list)
    """The random coefficients the opening draws (`bidding.coefficients`); none: no draw stage."""
    documents_from: datetime | None = None
    documents_until: datetime | None = None
    deadline: datetime | None = None
    decryption_window_minutes: int | None = None
    """Default: the rule set's."""
    bid_validity_days: int = 90
    max_package_bytes: BigInt | None = None
    """Default: the rule set's."""
    key_holders: list[KeyHolderCreate] = msgspec.field(default_factory=list)
    key_threshold: int | None = None
    key_remedy: bool = False


class TenderUpdate(Input, rename="camel"):
    """Changes to a draft; absent fields stay as they are. ``lots`` replaces every lot."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    category: TenderCategory | msgspec.UnsetType = msgspec.UNSET
    tender_type: ShortCode | msgspec.UnsetType = msgspec.UNSET
    estimate: Money | msgspec.UnsetType = msgspec.UNSET
    evaluation_method: EvaluationMethod | msgspec.UnsetType = msgspec.UNSET
    lots: list[LotCreate] | msgspec.UnsetType = msgspec.UNSET
    bid_security_amount: Money | msgspec.UnsetType = msgspec.UNSET
    bid_security_forms: list[ShortText] | msgspec.UnsetType = msgspec.UNSET
    evaluation_criteria: list[Criterion] | msgspec.UnsetType = msgspec.UNSET
    coefficients: list[CoefficientCreate] | msgspec.UnsetType = msgspec.UNSET
    documents_from: datetime | msgspec.UnsetType | None = msgspec.UNSET
    documents_until: datetime | msgspec.UnsetType | None = msgspec.UNSET
    deadline: datetime | msgspec.UnsetType | None = msgspec.UNSET
    decryption_window_minutes: int | msgspec.UnsetType = msgspec.UNSET
    bid_validity_days: int | msgspec.UnsetType = msgspec.UNSET
    max_package_bytes: BigInt | msgspec.UnsetType = msgspec.UNSET
    key_holders: list[KeyHolderCreate] | msgspec.UnsetType = msgspec.UNSET
    key_threshold: int | msgspec.UnsetType | None = msgspec.UNSET
    key_remedy: bool | msgspec.UnsetType = msgspec.UNSET


class DeadlineExtension(Input, rename="camel"):
    deadline: datetime
    reason: str


class Cancellation(Input, rename="camel"):
    reason: str


class QuestionCreate(Input, rename="camel"):
    text: str


class DocumentObjectionCreate(Input, rename="camel"):
    """An objection to the tender documents: the text and a detached CAdES signature (base64 DER)
    over ``format.document_objection_statement(tender, uscc, text)``.
    """

    text: str
    signature: str


class DocumentObjectionAnswer(Input, rename="camel"):
    answer: str


@dataclass
class DocumentUpload:
    """Multipart form of a signed tender document: the file and its detached CAdES signature (.p7s, DER)."""

    file: UploadFile
    signature: UploadFile
    title: ShortText
    kind: ShortText = DocumentKind.TENDER_DOCUMENT.value

    def __post_init__(self) -> None:
        check_object(self)


@dataclass
class ClarificationUpload:
    """Multipart form of a signed clarification; ``answers`` is a JSON object {question id: answer}."""

    file: UploadFile
    signature: UploadFile
    title: ShortText
    deadline: ShortText | None = None
    answers: str | None = None

    def __post_init__(self) -> None:
        check_object(self)


class SecurityRead(msgspec.Struct, rename="camel"):
    """A lot's bid security as a bidder must give it (`bidding.tenders.security`): the amount, the
    forms accepted (``cash``, ``guarantee`` = 保函/电子保函) and the validity it must cover, from the
    bid deadline to the end of the bid validity period (None while the draft has no deadline).
    """

    required: bool
    amount: Decimal
    currency: str
    forms: list[str]
    valid_from: datetime | None
    valid_until: datetime | None


class LotRead(msgspec.Struct, rename="camel"):
    id: uuid.UUID
    code: str
    name: str
    estimate: Decimal
    bid_security_amount: Decimal | None
    """The lot's own amount (None: the tender's); ``security`` is what applies."""
    bid_security_forms: list[str] | None
    """The lot's own forms (None: the tender's)."""
    security: SecurityRead

    @classmethod
    def of(cls, tender: Tender, row: Lot) -> LotRead:
        terms = security.lot_terms(tender, row)
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            estimate=row.estimate,
            bid_security_amount=row.bid_security_amount,
            bid_security_forms=None
            if row.bid_security_forms is None
            else list(row.bid_security_forms.get("forms", [])),
            security=SecurityRead(
                required=terms.required,
                amount=terms.amount,
                currency=security.CURRENCY,
                forms=sorted(terms.forms),
                valid_from=tender.deadline,
                valid_until=security.validity_end(tender),
            ),
        )


class DocumentRead(msgspec.Struct, rename="camel"):
    id: uuid.UUID
    kind: DocumentKind
    title: str
    filename: str
    media_type: str
    size: int
    sha256: str
    signer_sha256: str
    published_at: datetime | None
    deadline_before: datetime | None
    deadline_after: datetime | None

    @classmethod
    def of(cls, row: TenderDocument) -> DocumentRead:
        return cls(
            id=row.id,
            kind=row.kind,
            title=row.title,
            filename=row.filename,
            media_type=row.media_type,
            size=row.size,
            sha256=row.sha256,
            signer_sha256=row.signer_sha256,
            published_at=row.published_at,
            deadline_before=row.deadline_before,
            deadline_after=row.deadline_after,
        )


class KeyHolderRead(msgspec.Struct, rename="camel"):
    name: str
    sha256: str
    certificate: str


class TenderRead(msgspec.Struct, rename="camel"):
    """A tender with its lots and (published) documents; ``server_time`` is the database clock,
    from which clients compute their countdown to the deadline.
    """

    id: uuid.UUID
    code: str
    title: str
    category: TenderCategory
    tender_type: str
    status: TenderStatus
    tenderee_organisation_id: uuid.UUID
    agency_organisation_id: uuid.UUID | None
    estimate: Decimal
    bid_security_amount: Decimal
    bid_security_forms: list[str]
    evaluation_method: EvaluationMethod
    evaluation_criteria: list[dict[str, Any]]
    coefficients: list[dict[str, Any]]
    """The random coefficients the opening hall draws (`bidding.coefficients`)."""
    documents_from: datetime | None
    documents_until: datetime | None
    deadline: datetime | None
    decryption_window_minutes: int
    bid_validity_days: int
    max_package_bytes: int
    key_holders: list[KeyHolderRead]
    key_threshold: int | None
    rules: dict[str, Any] | None
    remedy_plan: dict[str, Any]
    """The decryption-failure remedy plan (Order 20 Art. 31): escrow, backup (`bidding.remedy_plan`)."""
    published_at: datetime | None
    closed_at: datetime | None
    extensions: int
    lots: list[LotRead]
    documents: list[DocumentRead]
    server_time: datetime

    @classmethod
    def of(cls, tender: Tender, lots: list[Lot], documents: list[TenderDocument], server_time: datetime) -> TenderRead:
        holders = tender.key_holders.get("holders", [])
        return cls(
            id=tender.id,
            code=tender.project_code,
            title=tender.title,
            category=tender.category,
            tender_type=tender.tender_type,
            status=tender.status,
            tenderee_organisation_id=tender.tenderee_organisation_id,
            agency_organisation_id=tender.agency_organisation_id,
            estimate=tender.estimate,
            bid_security_amount=tender.bid_security_amount,
            bid_security_forms=list(tender.bid_security_forms.get("forms", [])),
            evaluation_method=tender.evaluation_method,
            evaluation_criteria=list(tender.evaluation_criteria.get("criteria", [])),
            coefficients=list(tender.evaluation_criteria.get("coefficients", [])),
            documents_from=tender.documents_from,
            documents_until=tender.documents_until,
            deadline=tender.deadline,
            decryption_window_minutes=tender.decryption_window_minutes,
            bid_validity_days=tender.bid_validity_days,
            max_package_bytes=tender.max_package_bytes,
            key_holders=[KeyHolderRead(h["name"], h["sha256"], h["certificate"]) for h in holders],
            key_threshold=tender.key_holders.get("threshold"),
            rules=tender.rules,
            remedy_plan=remedy_plan(tender.key_holders, tender.rules),
            published_at=tender.published_at,
            closed_at=tender.closed_at,
            extensions=tender.extensions,
            lots=[LotRead.of(tender, lot) for lot in lots],
            documents=[DocumentRead.of(document) for document in documents],
            server_time=server_time,
        )


class TenderSummary(msgspec.Struct, rename="camel"):
    code: str
    title: str
    category: TenderCategory
    tender_type: str
    status: TenderStatus
    deadline: datetime | None
    published_at: datetime | None

    @classmethod
    def of(cls, row: Tender) -> TenderSummary:
        return cls(
            row.project_code, row.title, row.category, row.tender_type, row.status, row.deadline, row.published_at
        )


class TenderPage(msgspec.Struct, rename="camel"):
    items: list[TenderSummary]
    next_cursor: str | None
    server_time: datetime


class QuestionRead(msgspec.Struct, rename="camel"):
    """A question as its owner sees it: the text and the answer, never who asked (until the deadline
    nobody may learn who took part; the answer goes to every downloader in a clarification).
    """

    id: uuid.UUID
    text: str
    asked_at: datetime
    answer: str | None
    answered_in: uuid.UUID | None
    answered_at: datetime | None

    @classmethod
    def of(cls, row: Question) -> QuestionRead:
        return cls(row.id, row.text, row.asked_at, row.answer, row.answered_in, row.answered_at)


class DownloaderRead(msgspec.Struct, rename="camel"):
    organisation_id: uuid.UUID
    name: str
    uscc: str
    downloads: int
    first_download_at: datetime


class DownloadsRead(msgspec.Struct, rename="camel"):
    code: str
    downloaders: list[DownloaderRead]


# --- bids (intake) ---


class DocumentObjectionRead(msgspec.Struct, rename="camel"):
    """An objection to the documents as the owners (and its objector) see it: never who objected."""

    id: uuid.UUID
    text: str
    filed_at: datetime
    answer_due: datetime
    answer: str | None
    answered_at: datetime | None
    overdue: bool

    @classmethod
    def of(cls, row: DocumentObjection) -> DocumentObjectionRead:
        return cls(
            row.id, row.text, row.filed_at, row.answer_due, row.answer, row.answered_at, row.overdue_at is not None
        )
