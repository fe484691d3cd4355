"""reserved (issue 19: integrity batch columns); filled in by the change that needs it

Revision ID: 0055_integrity_price_columns
Revises: 0054_integrity_party_signals
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0055_integrity_price_columns"
down_revision: str | Sequence[str] | None = "0054_integrity_party_signals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
