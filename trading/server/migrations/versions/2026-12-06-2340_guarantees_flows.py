"""guarantees flows: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0041_guarantees_flows
Revises: 0040_tender_security
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0041_guarantees_flows"
down_revision: str | Sequence[str] | None = "0040_tender_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
