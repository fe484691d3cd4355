"""integrity batch: reserved (filled in by the change that needs it)

Revision ID: 0053_integrity_batch
Revises: 0052_cheaper_bid
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0053_integrity_batch"
down_revision: str | Sequence[str] | None = "0052_cheaper_bid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
