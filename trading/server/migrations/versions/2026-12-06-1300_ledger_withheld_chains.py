"""ledger: project chains withheld from public checkpoints until their project is published

Revision ID: 0013_ledger_withheld_chains
Revises: 0012_document_objections
Create Date: 2026-12-06 13:00:00

One new table; existing chains get no row and stay public as before. Runs on PostgreSQL and
SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0013_ledger_withheld_chains"
down_revision: str | Sequence[str] | None = "0012_document_objections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_withheld_chains",
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("withheld_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disclosed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_ledger_withheld_chains")),
    )


def downgrade() -> None:
    op.drop_table("ledger_withheld_chains")
