"""integrity market state: the market screens' state kept between runs (incremental per opened lot)

Revision ID: 0049_integrity_market_state
Revises: 0048_integrity_signals
Create Date: 2026-12-07 00:70:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0049_integrity_market_state"
down_revision: str | Sequence[str] | None = "0048_integrity_signals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_market_states",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lots", sa.Integer(), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_integrity_market_states")),
    )


def downgrade() -> None:
    op.drop_table("integrity_market_states")
