"""reserved (issue 20: receipts and bid intake); filled in by the change that needs it

Revision ID: 0056_receipt_batches
Revises: 0055_integrity_price_columns
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0056_receipt_batches"
down_revision: str | Sequence[str] | None = "0055_integrity_price_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
