"""procurement rules: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0044_procurement_rules
Revises: 0043_procurement_libraries
Create Date: 2026-12-07 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0044_procurement_rules"
down_revision: str | Sequence[str] | None = "0043_procurement_libraries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
