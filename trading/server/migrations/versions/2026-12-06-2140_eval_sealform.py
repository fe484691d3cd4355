"""eval sealform: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0029_eval_sealform
Revises: 0028_eval_drawdb
Create Date: 2026-12-06 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0029_eval_sealform"
down_revision: str | Sequence[str] | None = "0028_eval_drawdb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
