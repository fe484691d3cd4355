"""award contract: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0033_award_contract
Revises: 0032_pdf_pagesign
Create Date: 2026-12-06 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0033_award_contract"
down_revision: str | Sequence[str] | None = "0032_pdf_pagesign"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
