"""integrity party signals: the declared project manager and contacts, the bid security's payer account (issue 19)

- ``bidding_opening_bids.declared_parties``: the parties the opened package's structured response
  declares (``bidding.client.parties``: project manager, contacts, a cash bond's payer account),
  recorded at the opening like ``package_files``;
- ``guarantees_applications.payer_account_no`` / ``payer_bank``: the account the guarantee fee was
  paid from, recorded when the application is marked paid.

All nullable: rows before this revision have none.

Revision ID: 0054_integrity_party_signals
Revises: 0053_integrity_batch
Create Date: 2026-12-07 09:30:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0054_integrity_party_signals"
down_revision: str | Sequence[str] | None = "0053_integrity_batch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_parties", _JSON, nullable=True))
    with op.batch_alter_table("guarantees_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payer_account_no", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("payer_bank", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guarantees_applications", schema=None) as batch_op:
        batch_op.drop_column("payer_bank")
        batch_op.drop_column("payer_account_no")
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.drop_column("declared_parties")
