"""evaluation (session part): columns or tables this part needed beyond 0019 (none if the body is empty)

Revision ID: 0021_eval_session
Revises: 0020_eval_committee
Create Date: 2026-12-06 20:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0021_eval_session"
down_revision: str | Sequence[str] | None = "0020_eval_committee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
