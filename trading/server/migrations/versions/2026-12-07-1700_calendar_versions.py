"""calendar versions: the working-day calendar's loaded years in the database (issue 20)

Reserved; filled by the change that moves the calendar off the node's disk.

Revision ID: 0056_calendar_versions
Revises: 0055_integrity_price_columns
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0056_calendar_versions"
down_revision: str | Sequence[str] | None = "0055_integrity_price_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
