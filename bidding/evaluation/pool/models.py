"""Expert-pool tables, prefixed ``evaluation_``.

An `Expert` is a person of ``trading.parties`` (the ID number itself is never stored: the person
row keeps its keyed hash and masked form) with the pool's own facts: specialties from the shipped
code list (`Specialty`, versioned per code like the marketplace's item list), region, home library
and fee standard, employer, status and the records that feed the draw and the rules: declared
unavailable days, declared conflicts, status changes (suspensions, removals, restorations), ratings,
and the draw and attendance records later stages write.

Enumerations are VARCHAR columns (``native_enum=False``) as elsewhere; days are civil dates in
Asia/Shanghai (``DATE`` columns), moments are UTC.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

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


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # until ``suspended_until``; the sweep restores the expert then
    REMOVED = "removed"  # 清退: out of the pool until a centre admin restores them


class RelationType(StrEnum):
    """Declared relations with an organisation (GP 实施条例 Art. 9; 12号令 Art. 12; local rules)."""

    EMPLOYMENT = "employment"  # 任职 / 劳动关系
    DIRECTOR = "director"  # 董事、监事
    SHAREHOLDER = "shareholder"  # 控股股东或实际控制人 / 投资关系
    RELATIVE = "relative"  # 近亲属在该单位任职或为其负责人
    ADVISER = "adviser"  # 顾问、咨询服务
    DISPUTE = "dispute"  # 诉讼或仲裁纠纷
    OTHER = "other"  # 其他可能影响公正评审的关系


class StatusChangeRule(StrEnum):
    """Why a status changed: a centre admin's decision or one of the pool's rules."""

    MANUAL = "manual"
    RATING_AVERAGE = "rating-average"  # the average rating fell below the rules' threshold
    SUSPENSION_ENDED = "suspension-ended"  # the sweep restored an expert whose suspension ran out


class Specialty(UUIDPrimaryKey, Base):
    """One version of one code of the specialty list (评标专家专业分类). A changed code becomes its
    next version and the previous one is no longer current; a code gone from the shipped list is
    retired (no current version). Experts name codes, so their history stays readable.
    """

    __tablename__ = "evaluation_specialties"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.Index(
            "uq_evaluation_specialties_current",
            "code",
            unique=True,
            postgresql_where=sa.text("current"),
            sqlite_where=sa.text("current"),
        ),
    )

    code: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int]
    current: Mapped[bool]
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    parent_code: Mapped[str | None] = mapped_column(sa.String(16))
    level: Mapped[int]
    list_version: Mapped[str] = mapped_column(sa.String(40))
    """The edition of the shipped list this version came from."""
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class PoolVersion(Base):
    """The version of the pool's candidate lines (each expert's id and `Expert.specialty_codes`),
    one row (``id`` 1): what the committee draw's in-memory cache of the lines is keyed by
    (`bidding.evaluation.pool.linecache`).

    Database triggers (migration ``0037_eval_drawcache``; PostgreSQL: one statement trigger per
    INSERT, DELETE, UPDATE OF ``id``/``specialty_codes`` and TRUNCATE on ``evaluation_experts``;
    SQLite: row triggers for the first three) add one to ``version`` and set ``token`` to a fresh
    random value in the writing transaction itself, so the lines a snapshot sees and the token it
    sees always go together. The token, never reused (a rolled-back change's token is never seen
    again; a migrated database starts with its own), is the cache's key; ``version`` counts changes
    for people and tests. A write that bypasses the triggers (``session_replication_role =
    replica``) must bump the row itself.
    """

    __tablename__ = "evaluation_pool_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    token: Mapped[str] = mapped_column(sa.String(32))


class SpecialtyListLoad(UUIDPrimaryKey, Base):
    """Each load of the shipped list that changed something: its edition and digest."""

    __tablename__ = "evaluation_specialty_lists"

    list_version: Mapped[str] = mapped_column(sa.String(40))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created: Mapped[int]
    updated: Mapped[int]
    retired: Mapped[int]
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))


class Expert(UUIDPrimaryKey, Base):
    """An expert of the pool: one row per person."""

    __tablename__ = "evaluation_experts"
    __table_args__ = (
        # The committee draw reads the pool in id order through this index alone (PostgreSQL's
        # index-only scan; the INCLUDE columns are ignored elsewhere): status, employer and codes
        # are what the draw filters on and publishes (`CandidateRepository.avoided`).
        sa.Index(
            "ix_evaluation_experts_draw",
            "id",
            postgresql_include=["status", "employer_uscc", "specialty_codes"],
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_people.id"), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"), unique=True)
    """The platform account the expert signs in with (the user whose person this is), once known."""
    name: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    """职称 (e.g. 高级工程师), as given."""
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    """GB/T 2260 code of where the expert works (the draw's region filter)."""
    home_library: Mapped[str] = mapped_column(sa.String(200))
    """The expert library the expert belongs to (an expert shared from another platform keeps it)."""
    shared: Mapped[bool] = mapped_column(default=False)
    """Shared from another platform's library (807号: shared expert catalogue)."""
    fee_standard: Mapped[str] = mapped_column(sa.String(200), default="")
    """The home library's fee standard, in words (807号: the expert's own library standard applies)."""
    employer_uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    employer_name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ExpertStatus] = mapped_column(_enum(ExpertStatus), default=ExpertStatus.ACTIVE, index=True)
    suspended_until: Mapped[datetime | None]
    status_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    senior: Mapped[bool] = mapped_column(default=False)
    """资深专家: enough ratings in the window, all high (the rules file)."""
    senior_since: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    """``suspended_until`` while suspended (the sweep restores the expert), NULL otherwise."""
    specialty_codes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    """The expert's `ExpertSpecialty` codes, sorted (code points) and joined with commas: the
    published candidate list's form, kept by `PoolRepository.set_specialties` (the only writer of
    the codes) so the draw reads one row per expert instead of aggregating the codes table."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExpertSpecialty(Base):
    __tablename__ = "evaluation_expert_specialties"

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True, index=True)
    added_at: Mapped[datetime]


class Unavailability(UUIDPrimaryKey, Base):
    """Days the expert declared they cannot evaluate (both ends included)."""

    __tablename__ = "evaluation_expert_unavailability"
    __table_args__ = (sa.Index("ix_evaluation_expert_unavailability_days", "last_day", "first_day"),)

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    declared_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class ConflictDeclaration(UUIDPrimaryKey, Base):
    """A relation with an organisation the expert declared (回避申报), for a period.

    Declarations are never deleted: an ended relation gets its end day. ``organisation_id`` is set
    when the credit code is an organisation on the platform.
    """

    __tablename__ = "evaluation_expert_conflicts"

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    organisation_uscc: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    organisation_name: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    relation: Mapped[RelationType] = mapped_column(_enum(RelationType))
    period_from: Mapped[date]
    period_until: Mapped[date | None]
    """The last day of the relation; NULL: ongoing."""
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    declared_at: Mapped[datetime]


class StatusChange(UUIDPrimaryKey, Base):
    """Every change of an expert's status (suspension, removal, restoration), with its reason."""

    __tablename__ = "evaluation_expert_status_changes"

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    from_status: Mapped[ExpertStatus] = mapped_column(_enum(ExpertStatus))
    to_status: Mapped[ExpertStatus] = mapped_column(_enum(ExpertStatus))
    suspended_until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(sa.String(1000))
    rule: Mapped[StatusChangeRule] = mapped_column(_enum(StatusChangeRule))
    changed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    changed_at: Mapped[datetime]


class Rating(UUIDPrimaryKey, Base):
    """An agency's rating of an expert after an evaluation (0–100, with a comment).

    Until evaluations exist the rating names the tender the agency ran (``evaluation_id`` is for the
    evaluation stage to fill); one rating per expert per tender.
    """

    __tablename__ = "evaluation_expert_ratings"
    __table_args__ = (sa.UniqueConstraint("expert_id", "tender_id"),)

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    evaluation_id: Mapped[uuid.UUID | None]
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    rated_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.String(1000))
    rated_at: Mapped[datetime] = mapped_column(index=True)


class DrawOutcome(StrEnum):
    DRAWN = "drawn"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    TIMED_OUT = "timed-out"
    RESERVE = "reserve"


class DrawRecord(UUIDPrimaryKey, Base):
    """That the expert was drawn for a tender, and how they answered (written by the draw stage).

    The tenderee is kept so the avoidance rule "drawn for the same tenderee more than N times in M
    months" reads one table.
    """

    __tablename__ = "evaluation_expert_draws"
    __table_args__ = (sa.Index("ix_evaluation_expert_draws_tenderee", "tenderee_organisation_id", "drawn_at"),)

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    tenderee_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    draw_id: Mapped[uuid.UUID | None]
    outcome: Mapped[DrawOutcome] = mapped_column(_enum(DrawOutcome))
    drawn_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]


class AttendanceOutcome(StrEnum):
    ATTENDED = "attended"
    ABSENT = "absent"
    REPLACED = "replaced"


class Attendance(UUIDPrimaryKey, Base):
    """That the expert sat an evaluation (written by the session stage)."""

    __tablename__ = "evaluation_expert_attendances"

    expert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evaluation_experts.id"), index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    session_id: Mapped[uuid.UUID | None]
    outcome: Mapped[AttendanceOutcome] = mapped_column(_enum(AttendanceOutcome))
    signed_in_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
