"""ledger: checkpoints of format 2 (per-entry hashes, sealed heads apart, an RFC 3161 timestamp)

Revision ID: 0010_ledger_checkpoint_v2
Revises: 0009_intermediary_draws
Create Date: 2026-12-06 10:00:00

Adds three columns to ``ledger_checkpoints``: ``format`` (1 for every existing row), the heads of
still-sealed chains, and the TSA token. Plain ``ADD COLUMN`` on both backends: SQLite would lose
the table's append-only triggers if batch mode rebuilt it, so nothing here rebuilds a table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_ledger_checkpoint_v2"
down_revision: str | Sequence[str] | None = "0009_intermediary_draws"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("timestamp_token", "sealed_heads", "format")


def upgrade() -> None:
    op.add_column("ledger_checkpoints", sa.Column("format", sa.SmallInteger(), server_default="1", nullable=False))
    op.add_column(
        "ledger_checkpoints",
        sa.Column(
            "sealed_heads",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("ledger_checkpoints", sa.Column("timestamp_token", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN directly (SQLite ≥ 3.35): a batch rebuild would drop the triggers.
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE ledger_checkpoints DROP COLUMN {column}")
