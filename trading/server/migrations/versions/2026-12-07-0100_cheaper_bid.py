"""cheaper bid: bid versions indexed by their upload (a retried one-request bid finds its receipt)

Revision ID: 0052_cheaper_bid
Revises: 0049_integrity_market_state
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0052_cheaper_bid"
down_revision: str | Sequence[str] | None = "0049_integrity_market_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_bidding_bid_versions_upload_id"), "bidding_bid_versions", ["upload_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bidding_bid_versions_upload_id"), table_name="bidding_bid_versions")
