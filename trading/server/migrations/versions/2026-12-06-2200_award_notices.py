"""award notices: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0031_award_notices
Revises: 0030_award_schema
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0031_award_notices"
down_revision: str | Sequence[str] | None = "0030_award_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
