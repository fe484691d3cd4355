"""eval drawdb: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0028_eval_drawdb
Revises: 0027_eval_timelimit
Create Date: 2026-12-06 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0028_eval_drawdb"
down_revision: str | Sequence[str] | None = "0027_eval_timelimit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
