"""procurement requirements: requirements written on templates, their findings, justifications and reviews

Revision ID: 0045_procurement_requirements
Revises: 0044_procurement_rules
Create Date: 2026-12-07 00:30:00

Runs on PostgreSQL and SQLite alike: states are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0045_procurement_requirements"
down_revision: str | Sequence[str] | None = "0044_procurement_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=nullable)


def _requirement_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["requirement_id"],
        ["procurement_requirements.id"],
        name=op.f(f"fk_{table}_requirement_id_procurement_requirements"),
        ondelete="CASCADE",
    )


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["parties_users.id"], name=op.f(f"fk_{table}_{column}_parties_users"))


def upgrade() -> None:
    op.create_table(
        "procurement_requirements",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("content", _JSON, nullable=False),
        sa.Column("budget", sa.Numeric(16, 2), nullable=True),
        sa.Column("survey_required", sa.Boolean(), nullable=False),
        sa.Column("review_level", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("checked_at", nullable=True),
        _time("submitted_at", nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_procurement_requirements_organisation_id_parties_organisations"),
        ),
        _user_fk("procurement_requirements", "author_user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_requirements")),
    )
    op.create_index(
        op.f("ix_procurement_requirements_organisation_id"), "procurement_requirements", ["organisation_id"]
    )
    op.create_index(op.f("ix_procurement_requirements_state"), "procurement_requirements", ["state"])

    table = "procurement_requirement_findings"
    op.create_table(
        table,
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("field_path", sa.String(length=100), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("clause_start", sa.Integer(), nullable=False),
        sa.Column("clause_end", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.String(length=2000), nullable=False),
        sa.Column("fingerprint", sa.String(length=2200), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=1000), nullable=False),
        sa.Column("suggestion", sa.String(length=2000), nullable=False),
        _time("found_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        _requirement_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_requirement_id"), table, ["requirement_id"])

    table = "procurement_requirement_justifications"
    op.create_table(
        table,
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=2200), nullable=False),
        sa.Column("field_path", sa.String(length=100), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.String(length=2000), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=False),
        _time("filed_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewer_user_id", sa.Uuid(), nullable=True),
        _time("decided_at", nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _requirement_fk(table),
        _user_fk(table, "author_user_id"),
        _user_fk(table, "reviewer_user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_requirement_id"), table, ["requirement_id"])
    op.create_index(op.f(f"ix_{table}_status"), table, ["status"])

    table = "procurement_requirement_reviews"
    op.create_table(
        table,
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reviewer_user_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _time("decided_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        _requirement_fk(table),
        _user_fk(table, "reviewer_user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_requirement_id"), table, ["requirement_id"])


def downgrade() -> None:
    for table in ("procurement_requirement_reviews", "procurement_requirement_justifications"):
        op.drop_index(op.f(f"ix_{table}_requirement_id"), table_name=table)
    op.drop_index(
        op.f("ix_procurement_requirement_justifications_status"), table_name="procurement_requirement_justifications"
    )
    op.drop_table("procurement_requirement_reviews")
    op.drop_table("procurement_requirement_justifications")
    op.drop_index(
        op.f("ix_procurement_requirement_findings_requirement_id"), table_name="procurement_requirement_findings"
    )
    op.drop_table("procurement_requirement_findings")
    op.drop_index(op.f("ix_procurement_requirements_state"), table_name="procurement_requirements")
    op.drop_index(op.f("ix_procurement_requirements_organisation_id"), table_name="procurement_requirements")
    op.drop_table("procurement_requirements")
