"""eval drawcache: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0037_eval_drawcache
Revises: 0036_award_gp
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0037_eval_drawcache"
down_revision: str | Sequence[str] | None = "0036_award_gp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
