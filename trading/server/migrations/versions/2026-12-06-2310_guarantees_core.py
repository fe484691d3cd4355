"""guarantees core: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0038_guarantees_core
Revises: 0037_eval_drawcache
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0038_guarantees_core"
down_revision: str | Sequence[str] | None = "0037_eval_drawcache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
