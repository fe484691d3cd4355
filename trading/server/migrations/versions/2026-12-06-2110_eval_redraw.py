"""eval redraw: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0026_eval_redraw
Revises: 0025_eval_drawperf
Create Date: 2026-12-06 21:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0026_eval_redraw"
down_revision: str | Sequence[str] | None = "0025_eval_drawperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
