"""procurement libraries: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0043_procurement_libraries
Revises: 0042_guarantees_extra
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0043_procurement_libraries"
down_revision: str | Sequence[str] | None = "0042_guarantees_extra"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
