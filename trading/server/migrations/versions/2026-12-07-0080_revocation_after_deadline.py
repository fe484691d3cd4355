"""revocation after deadline: reserved (filled in by the change that needs it)

Revision ID: 0050_guarantee_revocations
Revises: 0049_integrity_market_state
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0050_guarantee_revocations"
down_revision: str | Sequence[str] | None = "0049_integrity_market_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
