"""integrity party signals: reserved (filled in by the change that needs it)

Revision ID: 0054_integrity_party_signals
Revises: 0053_integrity_batch
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0054_integrity_party_signals"
down_revision: str | Sequence[str] | None = "0053_integrity_batch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
