"""award gp: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0036_award_gp
Revises: 0035_award_decisions
Create Date: 2026-12-06 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0036_award_gp"
down_revision: str | Sequence[str] | None = "0035_award_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
