"""guarantees extra: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0042_guarantees_extra
Revises: 0041_guarantees_flows
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0042_guarantees_extra"
down_revision: str | Sequence[str] | None = "0041_guarantees_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
