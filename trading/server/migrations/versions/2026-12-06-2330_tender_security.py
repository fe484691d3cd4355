"""tender security: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0040_tender_security
Revises: 0039_guarantees_api
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0040_tender_security"
down_revision: str | Sequence[str] | None = "0039_guarantees_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
