"""credit: records shared by every domain, and their change history

Revision ID: 0015_credit_records
Revises: 0014_notifications
Create Date: 2026-12-06 15:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0015_credit_records"
down_revision: str | Sequence[str] | None = "0014_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "credit_records",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "serious_violation",
                "blacklist",
                "administrative_penalty",
                "performance_evaluation",
                "commendation",
                name="creditkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("scope", _JSON, nullable=False),
        _time("valid_from"),
        _time("valid_until", nullable=True),
        sa.Column("issuing_body", sa.String(length=200), nullable=False),
        sa.Column("decision_no", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=1000), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence_url", sa.String(length=1000), nullable=True),
        sa.Column(
            "status",
            sa.Enum("effective", "withdrawn", "expired", name="creditstatus", native_enum=False, length=32),
            nullable=False,
        ),
        _time("created_at"),
        _time("updated_at"),
        _time("next_check", nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_credit_records_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_records")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_credit_records_source_ref")),
    )
    op.create_index(op.f("ix_credit_records_uscc"), "credit_records", ["uscc"], unique=False)
    op.create_index(op.f("ix_credit_records_organisation_id"), "credit_records", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_credit_records_next_check"), "credit_records", ["next_check"], unique=False)
    op.create_table(
        "credit_record_changes",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        _time("at"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("changes", _JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_credit_record_changes_record_id_credit_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_record_changes")),
    )
    op.create_index(
        op.f("ix_credit_record_changes_record_id"), "credit_record_changes", ["record_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_record_changes_record_id"), table_name="credit_record_changes")
    op.drop_table("credit_record_changes")
    op.drop_index(op.f("ix_credit_records_next_check"), table_name="credit_records")
    op.drop_index(op.f("ix_credit_records_organisation_id"), table_name="credit_records")
    op.drop_index(op.f("ix_credit_records_uscc"), table_name="credit_records")
    op.drop_table("credit_records")
