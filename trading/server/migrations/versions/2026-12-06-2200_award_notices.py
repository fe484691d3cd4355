"""award notices: the notices' drafts and their signed revisions (`bidding.award.models.AwardNoticeDraft`)

Revision ID: 0031_award_notices
Revises: 0030_award_schema
Create Date: 2026-12-06 22:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON columns are JSONB on
PostgreSQL (the kernel's type).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0031_award_notices"
down_revision: str | Sequence[str] | None = "0030_award_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award_notice_drafts",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("award", "result", name="noticekind", native_enum=False, length=32), nullable=False),
        sa.Column("recipient_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("winner_bid_id", sa.Uuid(), nullable=False),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_storage_key", sa.String(length=200), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        sa.Column("signed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("voided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award_awards.id"], name=op.f("fk_award_notice_drafts_award_id_award_awards")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["parties_users.id"], name=op.f("fk_award_notice_drafts_created_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["award_notices.id"], name=op.f("fk_award_notice_drafts_notice_id_award_notices")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_notice_drafts_recipient_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["parties_users.id"], name=op.f("fk_award_notice_drafts_signed_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_notice_drafts")),
    )
    op.create_index(op.f("ix_award_notice_drafts_award_id"), "award_notice_drafts", ["award_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_award_notice_drafts_award_id"), table_name="award_notice_drafts")
    op.drop_table("award_notice_drafts")
