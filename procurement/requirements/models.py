"""Requirements (采购需求), their findings, justifications and internal reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey


class RequirementState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the internal review
    APPROVED = "approved"  # reviewed; the project part publishes it
    PUBLISHED = "published"  # set by the project part (issue 18 point 5)


class ReviewLevel(StrEnum):
    GENERAL = "general"  # 一般性审查
    FOCUSED = "focused"  # 重点审查


class JustificationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Requirement(UUIDPrimaryKey, Base):
    """One requirement, written by a purchaser on a template version."""

    __tablename__ = "procurement_requirements"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    author_user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(16))
    template_version: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[str] = mapped_column(sa.String(16), default=RequirementState.DRAFT.value, index=True)
    content: Mapped[dict[str, Any]]
    budget: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    survey_required: Mapped[bool] = mapped_column(default=False)
    review_level: Mapped[str] = mapped_column(sa.String(16), default=ReviewLevel.GENERAL.value)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    checked_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]


class RequirementFinding(UUIDPrimaryKey, Base):
    """A finding of the last check: replaced at every check, so a fixed sentence's finding goes."""

    __tablename__ = "procurement_requirement_findings"

    requirement_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("procurement_requirements.id", ondelete="CASCADE"), index=True
    )
    field_path: Mapped[str] = mapped_column(sa.String(100))
    start: Mapped[int]
    end: Mapped[int]
    clause_start: Mapped[int]
    clause_end: Mapped[int]
    excerpt: Mapped[str] = mapped_column(sa.String(2000))  # the clause's words at the check
    fingerprint: Mapped[str] = mapped_column(sa.String(2200))
    rule_id: Mapped[str] = mapped_column(sa.String(64))
    rule_version: Mapped[int]
    severity: Mapped[str] = mapped_column(sa.String(16))
    basis: Mapped[str] = mapped_column(sa.String(1000))
    suggestion: Mapped[str] = mapped_column(sa.String(2000))
    found_at: Mapped[datetime]


class RequirementJustification(UUIDPrimaryKey, Base):
    """The purchaser's reason to keep a blocking finding's clause, and the reviewer's decision.

    Attached to the finding's fingerprint (field, rule, clause words): it keeps applying while the
    clause stays as justified, and lapses when the clause changes.
    """

    __tablename__ = "procurement_requirement_justifications"

    requirement_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("procurement_requirements.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(sa.String(2200))
    field_path: Mapped[str] = mapped_column(sa.String(100))
    rule_id: Mapped[str] = mapped_column(sa.String(64))
    rule_version: Mapped[int]
    excerpt: Mapped[str] = mapped_column(sa.String(2000))
    reason: Mapped[str] = mapped_column(sa.String(4000))
    author_user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    filed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default=JustificationStatus.PENDING.value, index=True)
    reviewer_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(sa.String(2000))


class RequirementReview(UUIDPrimaryKey, Base):
    """One reviewer's decision in the internal review (一般性审查 / 重点审查)."""

    __tablename__ = "procurement_requirement_reviews"

    requirement_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("procurement_requirements.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(sa.String(16))
    reviewer_user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    decision: Mapped[str] = mapped_column(sa.String(16))  # approve | return
    note: Mapped[str] = mapped_column(sa.String(2000))
    revision: Mapped[int]
    decided_at: Mapped[datetime]
