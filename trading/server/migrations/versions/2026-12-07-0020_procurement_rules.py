"""procurement rules: the negative-list rule catalogue as data (issue 18, point 4)

Every version of every rule (immutable once written: findings name ``(rule_id, version)``) and each
rule's current version. Runs on PostgreSQL and SQLite alike.

Revision ID: 0044_procurement_rules
Revises: 0043_procurement_libraries
Create Date: 2026-12-07 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0044_procurement_rules"
down_revision: str | Sequence[str] | None = "0043_procurement_libraries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "procurement_rule_versions",
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=500), nullable=False),
        sa.Column(
            "severity", sa.Enum("blocking", "warning", name="severity", native_enum=False, length=16), nullable=False
        ),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("patterns", _json(), nullable=False),
        sa.Column("negations", _json(), nullable=False),
        sa.Column("structured", sa.String(length=64), nullable=True),
        sa.Column("positive_examples", _json(), nullable=False),
        sa.Column("negative_examples", _json(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("thresholds", _json(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["parties_users.id"],
            name=op.f("fk_procurement_rule_versions_author_id_parties_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_rule_versions")),
        sa.UniqueConstraint("rule_id", "version", name=op.f("uq_procurement_rule_versions_rule_id_version")),
    )
    op.create_index(
        op.f("ix_procurement_rule_versions_rule_id"), "procurement_rule_versions", ["rule_id"], unique=False
    )
    op.create_table(
        "procurement_rule_heads",
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_procurement_rule_heads")),
    )


def downgrade() -> None:
    op.drop_table("procurement_rule_heads")
    op.drop_index(op.f("ix_procurement_rule_versions_rule_id"), table_name="procurement_rule_versions")
    op.drop_table("procurement_rule_versions")
