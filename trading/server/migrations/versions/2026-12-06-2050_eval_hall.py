"""evaluation (hall part): columns or tables this part needed beyond 0019 (none if the body is empty)

Revision ID: 0024_eval_hall
Revises: 0023_eval_report
Create Date: 2026-12-06 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0024_eval_hall"
down_revision: str | Sequence[str] | None = "0023_eval_report"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
