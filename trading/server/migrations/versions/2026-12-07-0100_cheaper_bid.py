"""cheaper bid: reserved (filled in by the change that needs it)

Revision ID: 0052_cheaper_bid
Revises: 0051_object_storage
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0052_cheaper_bid"
down_revision: str | Sequence[str] | None = "0051_object_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
