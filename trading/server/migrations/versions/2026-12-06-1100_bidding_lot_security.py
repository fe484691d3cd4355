"""bidding: bid security per lot

实施条例 Art. 26 bounds bid security by the estimate of what is bid for, and a bid is for one lot: a
lot may name its own bid security (NULL: the tender's amount applies to each lot), and publication
checks either against that lot's estimate.

Revision ID: 0011_bidding_lot_security
Revises: 0010_ledger_checkpoint_v2
Create Date: 2026-12-06 10:00:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_bidding_lot_security"
down_revision: str | Sequence[str] | None = "0010_ledger_checkpoint_v2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bidding_lots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bid_security_amount", sa.Numeric(16, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bidding_lots", schema=None) as batch_op:
        batch_op.drop_column("bid_security_amount")
