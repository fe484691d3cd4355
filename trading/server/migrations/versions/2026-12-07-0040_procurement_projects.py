"""procurement projects: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0046_procurement_projects
Revises: 0045_procurement_requirements
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0046_procurement_projects"
down_revision: str | Sequence[str] | None = "0045_procurement_requirements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
