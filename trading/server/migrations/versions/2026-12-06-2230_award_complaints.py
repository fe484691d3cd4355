"""award complaints: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0034_award_complaints
Revises: 0033_award_contract
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0034_award_complaints"
down_revision: str | Sequence[str] | None = "0033_award_contract"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
