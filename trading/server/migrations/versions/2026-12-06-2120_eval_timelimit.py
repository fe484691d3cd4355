"""eval timelimit: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0027_eval_timelimit
Revises: 0026_eval_redraw
Create Date: 2026-12-06 21:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0027_eval_timelimit"
down_revision: str | Sequence[str] | None = "0026_eval_redraw"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
