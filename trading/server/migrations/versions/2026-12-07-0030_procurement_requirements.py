"""procurement requirements: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0045_procurement_requirements
Revises: 0044_procurement_rules
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0045_procurement_requirements"
down_revision: str | Sequence[str] | None = "0044_procurement_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
