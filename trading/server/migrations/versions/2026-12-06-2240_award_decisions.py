"""award decisions: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0035_award_decisions
Revises: 0034_award_complaints
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0035_award_decisions"
down_revision: str | Sequence[str] | None = "0034_award_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
