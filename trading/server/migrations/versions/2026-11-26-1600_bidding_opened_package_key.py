"""bidding opening: keep an opened package's content key instead of a second, plaintext copy

An opened package stays in the file store as the sealed container the receipt acknowledged; the
opening records the content key that opened it (and the plaintext's SHA-256, as before), so the
package is decrypted again where it is read. Writing a plaintext copy cost a 10 MB fsynced write per
bid at the opening.

Revision ID: 0008_opened_package_key
Revises: 0007_bidding_opening
Create Date: 2026-11-26 16:00:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_opened_package_key"
down_revision: str | Sequence[str] | None = "0007_bidding_opening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_content_key", sa.LargeBinary(), nullable=True))
        batch_op.drop_column("package_storage_key")


def downgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_storage_key", sa.String(length=200), nullable=True))
        batch_op.drop_column("package_content_key")
