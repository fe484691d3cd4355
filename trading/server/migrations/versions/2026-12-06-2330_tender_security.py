"""tender security: per-lot bid security terms (issue 17, point 2)

A lot now says whether a bid on it must give bid security and which forms it accepts (NULL: the
tender's ``bid_security_forms``); the amount was already per lot (0011). Existing lots require
security exactly when their effective amount (the lot's, else the tender's) is positive, which is
what their published terms already meant; their forms stay the tender's (NULL).

Revision ID: 0040_tender_security
Revises: 0039_guarantees_api
Create Date: 2026-12-06 23:30:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040_tender_security"
down_revision: str | Sequence[str] | None = "0039_guarantees_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bidding_lots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bid_security_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "bid_security_forms",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    # The same statement on both backends: a correlated subquery, no UPDATE … FROM.
    op.execute(
        """
        UPDATE bidding_lots SET bid_security_required = (
            COALESCE(
                bid_security_amount,
                (SELECT t.bid_security_amount FROM bidding_tenders t WHERE t.id = bidding_lots.tender_id)
            ) > 0
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("bidding_lots", schema=None) as batch_op:
        batch_op.drop_column("bid_security_forms")
        batch_op.drop_column("bid_security_required")
