"""integrity batch: the market state kept in a compact binary form

Revision ID: 0053_integrity_batch
Revises: 0052_cheaper_bid
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike. ``integrity_market_states.data`` holds the state as
`MarketState.to_bytes` writes it (format 2: arrays, not JSON numbers); ``state`` (the JSON of
format 1) becomes optional: a row kept before this migration still loads from it until the next
batch rewrites it in the binary form. Downgrading drops the binary states (rows without JSON):
the next batch rebuilds the market from every opened lot.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0053_integrity_batch"
down_revision: str | Sequence[str] | None = "0052_cheaper_bid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integrity_market_states") as batch:
        batch.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
        batch.alter_column("state", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM integrity_market_states WHERE state IS NULL")
    with op.batch_alter_table("integrity_market_states") as batch:
        batch.alter_column("state", existing_type=sa.Text(), nullable=False)
        batch.drop_column("data")
