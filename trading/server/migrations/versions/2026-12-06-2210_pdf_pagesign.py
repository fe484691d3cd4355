"""pdf pagesign: reserved so parts built in parallel keep one migration chain (empty until the part needs it)

Revision ID: 0032_pdf_pagesign
Revises: 0031_award_notices
Create Date: 2026-12-06 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0032_pdf_pagesign"
down_revision: str | Sequence[str] | None = "0031_award_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
