"""integrity signals captured with bids: device hash, authoring metadata, submission and decryption addresses (issue 19)

Revision ID: 0048_integrity_signals
Revises: 0047_integrity_alerts
Create Date: 2026-12-07 00:60:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0048_integrity_signals"
down_revision: str | Sequence[str] | None = "0047_integrity_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
