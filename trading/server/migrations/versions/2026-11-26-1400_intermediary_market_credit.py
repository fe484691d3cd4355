"""intermediary_market credit: complaints, the regulator's credit inputs, credit snapshots

Revision ID: 0006_intermediary_credit
Revises: 0005_bidding
Create Date: 2026-11-26 14:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import trading.kernel.db.types

revision: str = "0006_intermediary_credit"
down_revision: str | Sequence[str] | None = "0005_bidding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intermediary_credit_inputs",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("regulator_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("regulator_source", sa.String(length=1000), nullable=True),
        sa.Column("public_credit_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("public_credit_source", sa.String(length=1000), nullable=True),
        sa.Column("recorded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_credit_inputs_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_credit_inputs")),
        sa.UniqueConstraint("organisation_id", "year", name=op.f("uq_intermediary_credit_inputs_organisation_id_year")),
    )
    op.create_table(
        "intermediary_credit_records",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column(
            "components", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("computed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_credit_records_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_intermediary_credit_records")),
    )
    op.create_index(
        op.f("ix_intermediary_credit_records_grade"), "intermediary_credit_records", ["grade"], unique=False
    )
    op.create_table(
        "intermediary_complaints",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("complainant_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("filed", "upheld", "dismissed", name="complaintstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("response", sa.String(length=4000), nullable=True),
        sa.Column("responded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["intermediary_announcements.id"],
            name=op.f("fk_intermediary_complaints_announcement_id_intermediary_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["complainant_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_complaints_complainant_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_complaints_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_complaints")),
    )
    op.create_index(
        op.f("ix_intermediary_complaints_announcement_id"), "intermediary_complaints", ["announcement_id"], unique=False
    )
    op.create_index(
        op.f("ix_intermediary_complaints_organisation_id"), "intermediary_complaints", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_intermediary_complaints_status"), "intermediary_complaints", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_intermediary_complaints_status"), table_name="intermediary_complaints")
    op.drop_index(op.f("ix_intermediary_complaints_organisation_id"), table_name="intermediary_complaints")
    op.drop_index(op.f("ix_intermediary_complaints_announcement_id"), table_name="intermediary_complaints")
    op.drop_table("intermediary_complaints")
    op.drop_index(op.f("ix_intermediary_credit_records_grade"), table_name="intermediary_credit_records")
    op.drop_table("intermediary_credit_records")
    op.drop_table("intermediary_credit_inputs")
