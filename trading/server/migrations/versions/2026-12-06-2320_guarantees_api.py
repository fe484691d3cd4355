"""guarantees api: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0039_guarantees_api
Revises: 0038_guarantees_core
Create Date: 2026-12-06 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0039_guarantees_api"
down_revision: str | Sequence[str] | None = "0038_guarantees_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
