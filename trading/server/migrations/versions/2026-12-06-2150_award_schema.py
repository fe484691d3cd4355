"""award schema: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0030_award_schema
Revises: 0029_eval_sealform
Create Date: 2026-12-06 21:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0030_award_schema"
down_revision: str | Sequence[str] | None = "0029_eval_sealform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
