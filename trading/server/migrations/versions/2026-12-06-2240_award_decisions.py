"""award decisions: the tender's published 定标 rule (评定分离), ``award_tender_rules``

Revision ID: 0035_award_decisions
Revises: 0034_award_complaints
Create Date: 2026-12-06 22:40:00

One row per tender (`bidding.award.rule_models.TenderAwardRule`). Runs on PostgreSQL and SQLite
alike (JSON is JSONB on PostgreSQL, the kernel's type).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0035_award_decisions"
down_revision: str | Sequence[str] | None = "0034_award_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award_tender_rules",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("tie_break", sa.String(length=32), nullable=False),
        sa.Column(
            "voters", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("seed_sha256", sa.String(length=64), nullable=True),
        sa.Column("set_by", sa.Uuid(), nullable=False),
        sa.Column("set_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["parties_users.id"], name=op.f("fk_award_tender_rules_set_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_award_tender_rules_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_tender_rules")),
        sa.UniqueConstraint("tender_id", name=op.f("uq_award_tender_rules_tender_id")),
    )


def downgrade() -> None:
    op.drop_table("award_tender_rules")
