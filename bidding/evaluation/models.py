"""The evaluation stage's tables (issue 15), prefixed ``evaluation_``; the pool's are in `pool.models`.

One `Evaluation` per tender (or lot group): the method and its settings, the committee spec, the
venues, the session's state machine on the database clock, and — once completed — the result that
the award stage reads. Around it:

- the venue catalogue (`Venue`, `Seat`) and the evaluation's venues (`EvaluationVenue`);
- the committee draw (`CommitteeDraw`: seed committed before, revealed after, the candidate list and
  the excluded experts with their reasons) and the members it produced (`Member`, experts and the
  tenderee's representatives; a replacement is a new member, the replaced one is voided);
- the session's journal (`SessionEvent`: transitions, pauses, incidents, replacements, extension
  requests), chair votes, clarification requests with the bidders' signed answers, document reads;
- scoring: review decisions (qualification / compliance per bid), objective-criterion votes,
  subjective scores, sheet submissions, the Art. 64 findings with their resolutions;
- the report: its rendered revisions and one signature (or recorded refusal) per member.

Every change also appends a ledger entry in the same transaction (the services do that); these
tables hold the state, the ledger holds the proof. Enumerations are VARCHAR columns
(``native_enum=False``); amounts and scores are decimal strings in NUMERIC columns; moments are UTC.
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


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


SCORE = sa.Numeric(12, 4)
"""Scores and points: four decimals are enough for every method's rounding (methods round to 2)."""


class SessionState(StrEnum):
    """The evaluation session's states, only forward (pause is a flag, not a state)."""

    PREPARING = "preparing"  # 准备: draw, confirmations, seats
    SIGNED_IN = "signed-in"  # 签到完成: every member signed in at their seat, chair elected
    QUALIFICATION = "qualification-review"  # 资格审查 / 符合性审查
    DETAILED = "detailed-review"  # 详细评审
    SCORING = "scoring"  # 打分
    REPORT_SIGNING = "report-signing"  # 评标报告签署
    COMPLETED = "completed"  # 完成: the result goes to the award stage


SESSION_ORDER = (
    SessionState.PREPARING,
    SessionState.SIGNED_IN,
    SessionState.QUALIFICATION,
    SessionState.DETAILED,
    SessionState.SCORING,
    SessionState.REPORT_SIGNING,
    SessionState.COMPLETED,
)


class Evaluation(UUIDPrimaryKey, Base):
    """The evaluation of one tender (``lot_group`` ``all``) or one group of its lots."""

    __tablename__ = "evaluation_evaluations"
    __table_args__ = (sa.UniqueConstraint("tender_id", "lot_group"),)

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    lot_group: Mapped[str] = mapped_column(sa.String(40), default="all")
    lot_ids: Mapped[dict[str, Any]]
    """``{"lots": [lot id, …]}``: the lots this evaluation covers."""
    host_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    """The agency (or tenderee) that runs the tender and hosts the session."""
    method: Mapped[str] = mapped_column(sa.String(40))
    """A `methods.MethodCode` value (e.g. ``gp-comprehensive``)."""
    method_version: Mapped[str] = mapped_column(sa.String(20))
    settings: Mapped[dict[str, Any]]
    """The method settings (`methods.serialise`), checked by ``check_settings`` when saved."""
    committee_spec: Mapped[dict[str, Any]]
    """The committee spec (size, representatives, specialties, reserves, …), checked before any draw."""
    state: Mapped[SessionState] = mapped_column(_enum(SessionState), default=SessionState.PREPARING, index=True)
    state_entered_at: Mapped[datetime]
    state_ends_at: Mapped[datetime | None]
    """The current state's time limit (extended when more than 1/3 of members ask)."""
    paused_at: Mapped[datetime | None]
    remaining_seconds: Mapped[int | None]
    """While paused: what was left of the time limit."""
    scheduled_at: Mapped[datetime | None]
    """When the session is to start (the GP draw is not earlier than 2 working days before)."""
    chair_member_id: Mapped[uuid.UUID | None]
    result: Mapped[dict[str, Any] | None]
    """On completion: ranked candidates with scores, handed to the award stage."""
    results_published_at: Mapped[datetime | None]
    """From then on the committee's names and scores are public."""
    report_storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    """The latest revision of the report PDF in the file store (each member's signature adds one)."""
    report_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class VenueOwner(StrEnum):
    OWN = "own"  # the centre's own evaluation rooms
    PEER = "peer"  # another platform's rooms (远程异地评标: 副场)


class Venue(UUIDPrimaryKey, Base):
    """An evaluation venue (评标场地) of the catalogue, with its public signing certificate."""

    __tablename__ = "evaluation_venues"

    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    """GB/T 2260 code of where the venue is."""
    owner: Mapped[VenueOwner] = mapped_column(_enum(VenueOwner))
    platform: Mapped[str] = mapped_column(sa.String(200), default="")
    """For a peer's venue: the platform that runs it."""
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    certificate_pem: Mapped[str | None] = mapped_column(sa.Text)
    """The venue's signing certificate (its seat confirmations and incident notes are signed)."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Seat(UUIDPrimaryKey, Base):
    __tablename__ = "evaluation_seats"
    __table_args__ = (sa.UniqueConstraint("venue_id", "label"),)

    venue_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_venues.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)


class VenueRole(StrEnum):
    MAIN = "main"  # 主场
    SUB = "sub"  # 副场


class EvaluationVenue(Base):
    __tablename__ = "evaluation_evaluation_venues"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), primary_key=True)
    venue_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_venues.id"), primary_key=True)
    role: Mapped[VenueRole] = mapped_column(_enum(VenueRole))


class CommitteeDraw(UUIDPrimaryKey, Base):
    """One committee draw (专家抽取): committed, then drawn, then (with the result) published.

    The seed's SHA-256 is published when the draw is prepared; the candidate list (canonical order,
    after the avoidance filters) and its digest, the excluded experts with their reasons, and the
    revealed seed are stored when it runs, so anyone can re-derive the committee
    (``scripts/recompute_committee.py``).
    """

    __tablename__ = "evaluation_committee_draws"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    """The centre's draw operator who prepared and ran it."""
    spec: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(sa.String(40))
    seed_commitment: Mapped[str] = mapped_column(sa.String(64))
    committed_at: Mapped[datetime]
    seed: Mapped[str | None] = mapped_column(sa.String(128))
    """Revealed when the draw runs; kept secret (NULL on every page) before."""
    candidate_list_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    candidates: Mapped[dict[str, Any] | None]
    """``{"candidates": [...]}``: the published candidate list the draw ran over."""
    excluded: Mapped[dict[str, Any] | None]
    """``{"excluded": [{"expert": id, "reasons": [{"rule": …, "detail": …}]}]}``."""
    result: Mapped[dict[str, Any] | None]
    """The drawn order per group, reserves included (`draw.committee.published_result`)."""
    drawn_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    """When identities became public (with the evaluation's results)."""
    supplements_draw_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("evaluation_committee_draws.id"), index=True
    )
    """A supplementary draw (补抽): the evaluation's first draw, whose open places (a group's
    reserves exhausted) it fills. NULL: the first draw (migration 0026)."""


class DraftingRoleKind(StrEnum):
    """What a pool expert did in preparing this tender (a drafting role excludes them: 回避)."""

    DOCUMENTS = "documents"  # 招标文件编制
    REQUIREMENT = "requirement"  # 需求编制
    BILL_OF_QUANTITIES = "bill-of-quantities"  # 工程量清单编制
    CONSULTATION = "consultation"  # 论证、咨询


class Drafter(Base):
    """A pool expert the host declared as having taken part in drafting this tender's documents or
    requirement set; the draw's avoidance excludes them (reason ``drafting_role``). Declared only
    until the draw's seed is committed (migration 0026).
    """

    __tablename__ = "evaluation_drafters"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), primary_key=True)
    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), primary_key=True)
    role: Mapped[DraftingRoleKind] = mapped_column(_enum(DraftingRoleKind))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    declared_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    declared_at: Mapped[datetime]


class MemberKind(StrEnum):
    EXPERT = "expert"  # a drawn expert of the pool
    REPRESENTATIVE = "representative"  # the tenderee's (采购人) representative


class MemberStatus(StrEnum):
    NOTIFIED = "notified"  # drawn, asked to confirm within the time limit
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    TIMED_OUT = "timed-out"
    REPLACED = "replaced"  # replaced mid-session; their conclusions are void
    SIGNED_IN = "signed-in"  # at their seat


class Member(UUIDPrimaryKey, Base):
    """A committee member; a declined, timed-out or replaced member stays with their status."""

    __tablename__ = "evaluation_members"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    kind: Mapped[MemberKind] = mapped_column(_enum(MemberKind))
    expert_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_people.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    draw_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("evaluation_committee_draws.id"))
    group_code: Mapped[str] = mapped_column(sa.String(40), default="")
    """The specialty group the member was drawn for (empty: no split)."""
    draw_position: Mapped[int | None]
    """The position in the drawn order (reserves after the members)."""
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus), index=True)
    answer_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    replaces_member_id: Mapped[uuid.UUID | None]
    """The member this one replaced (a decline, timeout or mid-session replacement)."""
    seat_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("evaluation_seats.id"))
    signed_in_at: Mapped[datetime | None]
    sign_in_certificate_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    voided_at: Mapped[datetime | None]
    """Replaced mid-session: everything this member concluded is void from then on."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    """``answer_due_at`` while notified: the sweep times the answer out and draws the next reserve."""
    created_at: Mapped[datetime]


class ChairVote(Base):
    """Each member's vote for the chair (评标委员会主任), one per member; the majority elects."""

    __tablename__ = "evaluation_chair_votes"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), primary_key=True)
    voter_member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"), primary_key=True)
    candidate_member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    voted_at: Mapped[datetime]


class EventKind(StrEnum):
    TRANSITION = "transition"
    PAUSE = "pause"
    RESUME = "resume"
    INCIDENT = "incident"
    EXTENSION_REQUEST = "extension-request"
    EXTENSION = "extension"
    REPLACEMENT = "replacement"
    TIME_EXCEEDED = "time-exceeded"  # the state's time limit ran out (recorded, the state stays)


class SessionEvent(UUIDPrimaryKey, Base):
    """The session's journal, shown on the host's and the supervisor's live views."""

    __tablename__ = "evaluation_session_events"
    __table_args__ = (sa.Index("ix_evaluation_session_events_evaluation_at", "evaluation_id", "at"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    from_state: Mapped[SessionState | None] = mapped_column(_enum(SessionState))
    to_state: Mapped[SessionState | None] = mapped_column(_enum(SessionState))
    member_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    note: Mapped[str] = mapped_column(sa.String(2000), default="")
    details: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class ClarificationStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    OVERDUE = "overdue"


class Clarification(UUIDPrimaryKey, Base):
    """A clarification request (澄清) to one bidder, answered signed within the time limit."""

    __tablename__ = "evaluation_clarifications"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    asked_by_member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    question: Mapped[str] = mapped_column(sa.String(4000))
    asked_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[ClarificationStatus] = mapped_column(_enum(ClarificationStatus), index=True)
    answer: Mapped[str | None] = mapped_column(sa.String(8000))
    statement: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    """The signed statement (canonical JSON naming the request and the answer's digest)."""
    signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    answered_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    answered_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class DocumentRead(UUIDPrimaryKey, Base):
    """That a member read a file of an opened package, and whether its digest matched the manifest."""

    __tablename__ = "evaluation_document_reads"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"), index=True)
    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    file_name: Mapped[str] = mapped_column(sa.String(500))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    matches_manifest: Mapped[bool]
    read_at: Mapped[datetime]


class ReviewStage(StrEnum):
    QUALIFICATION = "qualification"  # 资格审查 / 符合性审查 (pass/fail per bid)
    DETAILED = "detailed"  # 详细评审 (pass/fail per ★ item, deviations)


class ReviewDecision(UUIDPrimaryKey, Base):
    """A member's pass/fail on one bid at a review stage, with the reason for a fail."""

    __tablename__ = "evaluation_review_decisions"
    __table_args__ = (sa.UniqueConstraint("member_id", "opening_bid_id", "stage", "item"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    stage: Mapped[ReviewStage] = mapped_column(_enum(ReviewStage))
    item: Mapped[str] = mapped_column(sa.String(60), default="")
    """The requirement's code (empty: the bid as a whole)."""
    passed: Mapped[bool]
    reason: Mapped[str] = mapped_column(sa.String(2000), default="")
    decided_at: Mapped[datetime]


class ObjectiveVote(UUIDPrimaryKey, Base):
    """A member's vote on an objective criterion's value for one bid (decided jointly, by majority)."""

    __tablename__ = "evaluation_objective_votes"
    __table_args__ = (sa.UniqueConstraint("member_id", "opening_bid_id", "criterion"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    criterion: Mapped[str] = mapped_column(sa.String(60))
    points: Mapped[Decimal] = mapped_column(SCORE)
    voted_at: Mapped[datetime]


class Score(UUIDPrimaryKey, Base):
    """A member's score for one bid on one criterion (subjective: alone; objective: the joint value)."""

    __tablename__ = "evaluation_scores"
    __table_args__ = (sa.UniqueConstraint("member_id", "opening_bid_id", "criterion"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"), index=True)
    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    criterion: Mapped[str] = mapped_column(sa.String(60))
    points: Mapped[Decimal] = mapped_column(SCORE)
    comment: Mapped[str] = mapped_column(sa.String(2000), default="")
    updated_at: Mapped[datetime]


class SheetSubmission(UUIDPrimaryKey, Base):
    """A member's submitted scoring sheet: after it, the member's scores are final (and visible to
    the chair); the digest is of the canonical sheet as submitted.
    """

    __tablename__ = "evaluation_sheet_submissions"
    __table_args__ = (sa.UniqueConstraint("member_id", "stage"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    stage: Mapped[SessionState] = mapped_column(_enum(SessionState))
    sheet_sha256: Mapped[str] = mapped_column(sa.String(64))
    submitted_at: Mapped[datetime]


class FindingSource(StrEnum):
    ART64 = "art64"  # the Art. 64 checks (`scoring_checks`)
    ASSISTANCE = "assistance"  # 智能辅助评标 (`assistance`)


class Resolution(StrEnum):
    CORRECTED = "corrected"
    JUSTIFIED = "justified"
    ACKNOWLEDGED = "acknowledged"  # an advisory finding the committee read and took into account


class Finding(UUIDPrimaryKey, Base):
    """A finding shown to the committee (an Art. 64 check or the assistance), and how it was resolved.

    Art. 64 findings block the report until each is corrected or justified in writing.
    """

    __tablename__ = "evaluation_findings"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"), index=True)
    source: Mapped[FindingSource] = mapped_column(_enum(FindingSource))
    rule: Mapped[str] = mapped_column(sa.String(60))
    member_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    opening_bid_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"))
    criterion: Mapped[str] = mapped_column(sa.String(60), default="")
    evidence: Mapped[dict[str, Any]]
    found_at: Mapped[datetime]
    resolution: Mapped[Resolution | None] = mapped_column(_enum(Resolution))
    justification: Mapped[str] = mapped_column(sa.String(2000), default="")
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    resolved_at: Mapped[datetime | None]


class ReportSignature(UUIDPrimaryKey, Base):
    """One member's PAdES signature on the report (a new revision of the PDF), or a recorded refusal.

    A refusal without written reasons counts as agreement (条例 Art. 53); dissent is written here and
    printed in the report.
    """

    __tablename__ = "evaluation_report_signatures"
    __table_args__ = (sa.UniqueConstraint("evaluation_id", "member_id"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_evaluations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_members.id"))
    signed: Mapped[bool]
    """False: refused to sign (with ``dissent`` as reasons, or none: counted as agreement)."""
    dissent: Mapped[str] = mapped_column(sa.String(8000), default="")
    revision_storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    revision_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signer_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime]


class RequirementSetRecord(Base):
    """A tender's machine-readable requirement set (``ggzy-requirements/1``, issue 15 item 5), as the
    host uploaded it before publication: published with the tender (its SHA-256 shown), read by the
    assistance when the committee enters the qualification review. Owned by `bidding.evaluation.requirementset`.
    """

    __tablename__ = "evaluation_requirement_sets"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), primary_key=True)
    format: Mapped[str] = mapped_column(sa.String(40))
    document: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """The document's bytes exactly as validated (what the public download serves and the SHA-256 is of)."""
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    uploaded_at: Mapped[datetime]
