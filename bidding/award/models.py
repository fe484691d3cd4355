"""The award stage's tables (issue 16), prefixed ``award_``.

One `Award` per evaluation whose results were published (a tender, or one group of its lots): the
sector and the rules it runs under (version and snapshot, so a later change of the defaults never
changes a running tender), its position in `states` (the progress state plus the conditions that
suspend it), the order of succession (`succession.Order.record`) and who is chosen, and the
``next_check`` of the sweep. Around it:

- `AwardStep`: the journal of every transition, in order (`states.replay` re-checks it; an upheld
  complaint marks the voided acts, `states.void_acts`, they stay on the record);
- `Publicity`: the candidates' publicity (engineering) or the result announcement (GP), with the
  content shown and the tenderee's signature over it;
- `AwardObjection` and `Complaint`: a bidder's objection (signed), its answer, and a complaint to
  the supervisor with its acceptance and decision (`states.ComplaintState`);
- `AwardNotice`: the award notice and the result notices, signed PDFs with read receipts;
- `Contract`: the draft from the winning bid, the two signatures (winner first), the deadline.

Every change also appends a ledger entry in the same transaction (the services do that).
Enumerations are VARCHAR columns (``native_enum=False``) holding the values of `states` and
`rules`; amounts are NUMERIC; moments are UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bidding.award.rules import Sector
from bidding.award.states import AwardEvent, AwardState, ComplaintState
from bidding.models import MONEY
from trading.kernel.db.base import Base, UUIDPrimaryKey


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Award(UUIDPrimaryKey, Base):
    """The award of one evaluation's result: from the published report to the closed archive."""

    __tablename__ = "award_awards"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), unique=True)
    lot_group: Mapped[str] = mapped_column(sa.String(40), default="all")
    sector: Mapped[Sector] = mapped_column(_enum(Sector))
    rules_version: Mapped[str] = mapped_column(sa.String(40))
    rules: Mapped[dict[str, Any]]
    """`AwardRules.to_dict()` as the award started: the periods it runs under."""
    state: Mapped[AwardState] = mapped_column(_enum(AwardState), default=AwardState.REPORT_SIGNED, index=True)
    """The progress state (`states.Position.state`)."""
    objections_pending: Mapped[int] = mapped_column(default=0)
    complaints_pending: Mapped[int] = mapped_column(default=0)
    suspended: Mapped[bool] = mapped_column(default=False)
    """The supervisor's suspension (责令暂停)."""
    suspended_at: Mapped[datetime | None]
    report_sha256: Mapped[str] = mapped_column(sa.String(64))
    report_published_at: Mapped[datetime]
    """When the evaluation's results were published: the periods count from it."""
    publicity_due: Mapped[datetime | None]
    """Engineering: the publicity is opened before this instant (``publicity_publish``)."""
    late_warned_at: Mapped[datetime | None]
    """When the supervisor was warned that the publicity was not opened in time."""
    announcement_due: Mapped[datetime | None] = mapped_column(index=True)
    """GP: the result announcement is published before this instant (``result_announcement``, 2
    working days from the winner's determination; `announcement.schedule`)."""
    announcement_warned_at: Mapped[datetime | None]
    """GP: when the supervisors were warned that the result announcement was not published in time."""
    order_record: Mapped[dict[str, Any] | None]
    """`succession.Order.record`: the order candidates succeed in, fixed once."""
    passed_over: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``{"dropped": [{"bid", "reason", "note", "at"}]}``: candidates passed over, with why."""
    chosen_bid_id: Mapped[uuid.UUID | None]
    """The opening bid awarded (`succession.Candidate.bid`)."""
    chosen_organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    awarded_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class AwardStep(UUIDPrimaryKey, Base):
    """One transition of an award, in order (`states.Step`; `states.replay` re-checks them)."""

    __tablename__ = "award_steps"
    __table_args__ = (sa.UniqueConstraint("award_id", "seq"),)

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    seq: Mapped[int]
    event: Mapped[AwardEvent] = mapped_column(_enum(AwardEvent, 40))
    from_state: Mapped[AwardState] = mapped_column(_enum(AwardState))
    to_state: Mapped[AwardState] = mapped_column(_enum(AwardState))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    """None: the sweep or the platform."""
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    """The certificate that signed the act (a legal act, `Transition.signers`)."""
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    """An upheld complaint made the act void (`states.void_acts`)."""


class PublicityKind(StrEnum):
    CANDIDATES = "candidates"  # 中标候选人公示 (engineering)
    RESULT = "result"  # 中标/成交结果公告 (GP)


class Publicity(UUIDPrimaryKey, Base):
    """The candidates' publicity or the result announcement: what was published, signed."""

    __tablename__ = "award_publicities"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    kind: Mapped[PublicityKind] = mapped_column(_enum(PublicityKind))
    content: Mapped[dict[str, Any]]
    """What the page shows: candidates, ranking, prices, scores, the committee's names."""
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """Detached CAdES (DER) over the publicity statement (`publicity.statement`)."""
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    signer_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    opened_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    """The earliest close (``publicity_duration``, exclusive); the sweep closes it then."""
    late: Mapped[bool] = mapped_column(default=False)
    """Opened at or after the award's ``publicity_due``."""
    closed_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]


class AwardObjection(UUIDPrimaryKey, Base):
    """A bidder's objection to the result (异议 / 质疑), signed, and the tenderee's answer."""

    __tablename__ = "award_objections"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    filed_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    text: Mapped[str] = mapped_column(sa.String(4000))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime]
    answer_due: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(8000))
    answer_signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    answer_signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    answered_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    answered_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    """Answered (or still unanswered) at or after ``answer_due``: the supervisor was warned."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class Complaint(UUIDPrimaryKey, Base):
    """A complaint (投诉) to the supervisor after an objection, and its handling."""

    __tablename__ = "award_complaints"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    objection_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("award_objections.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    filed_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    text: Mapped[str] = mapped_column(sa.String(8000))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime]
    state: Mapped[ComplaintState] = mapped_column(_enum(ComplaintState), default=ComplaintState.FILED, index=True)
    acceptance_due: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    """When the supervisor accepted or rejected it (``state`` says which)."""
    acceptance_note: Mapped[str | None] = mapped_column(sa.String(4000))
    acceptance_signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    decision_due: Mapped[datetime | None]
    decision: Mapped[AwardEvent | None] = mapped_column(_enum(AwardEvent, 40))
    """The award event the decision caused (continue, re-evaluate, re-tender)."""
    decision_text: Mapped[str | None] = mapped_column(sa.String(8000))
    decision_signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    decided_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class NoticeKind(StrEnum):
    AWARD = "award"  # 中标通知书, to the winner
    RESULT = "result"  # 中标结果通知书, to every other bidder


class AwardNotice(UUIDPrimaryKey, Base):
    """A notice as a signed PDF (tenderee's certificate), delivered in the platform, read receipt."""

    __tablename__ = "award_notices"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind))
    recipient_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime]
    issued_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    read_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    voided_at: Mapped[datetime | None]


class Contract(UUIDPrimaryKey, Base):
    """The contract (合同) drafted from the template and the winning bid, signed winner first."""

    __tablename__ = "award_contracts"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    winner_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    tenderee_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    draft: Mapped[dict[str, Any]]
    """The data the draft was rendered from (parties, lots, duration, terms)."""
    price: Mapped[Decimal] = mapped_column(MONEY)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    """The latest revision of the PDF (each signature adds one)."""
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    due_at: Mapped[datetime]
    """The signing deadline (``contract_signing`` from the award notice)."""
    deadline_state: Mapped[str] = mapped_column(sa.String(32), default="on_time")
    """`contract_rules` deadline state (``on_time``, ``reminder_due``, ``overdue``, ``signed_*``)."""
    reminders_sent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``{"days_before": [7, 3]}``: reminders already sent."""
    warned_at: Mapped[datetime | None]
    winner_signed_at: Mapped[datetime | None]
    winner_signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    tenderee_signed_at: Mapped[datetime | None]
    tenderee_signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    performance_security: Mapped[dict[str, Any] | None]
    """What the tender asks and what was recorded (the guarantee issue verifies it)."""
    published_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]


class AwardNoticeDraft(UUIDPrimaryKey, Base):
    """A notice's draft PDF (what the tenderee downloads and signs) and, once uploaded, its signed
    revision; the signed notice becomes an `AwardNotice` when every draft of the award is signed.
    A draft naming a winner passed over since is void (``voided_at``).
    """

    __tablename__ = "award_notice_drafts"

    award_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("award_awards.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind))
    recipient_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    winner_bid_id: Mapped[uuid.UUID]
    """The awarded bid the draft names (`Award.chosen_bid_id` when it was drafted)."""
    content: Mapped[dict[str, Any]]
    """The data the PDF was rendered from (tender, winner, price, dates, recipient)."""
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    created_at: Mapped[datetime]
    signed_storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    signed_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    signed_at: Mapped[datetime | None]
    notice_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("award_notices.id"))
    """The issued notice (set when every draft of the award is signed)."""
    voided_at: Mapped[datetime | None]
