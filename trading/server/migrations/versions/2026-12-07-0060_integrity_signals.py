"""integrity signals captured with bids: device hash, authoring metadata, submission and decryption addresses (issue 19)

The device hash needs no column: it is in the signed public manifest the bid version keeps
(``signals.deviceHash``). What the platform itself observes gets a column where it happens:

- ``bidding_bid_versions.submit_ip``: the address of the submit request (the actor's client
  address, behind the trusted proxies as `trading.kernel.ratelimit.client_address` resolves it);
- ``bidding_opening_bids.decrypt_ip``: the address of the bidder's decryption (or backup) that
  opened the package;
- ``bidding_opening_bids.package_files``: per file of the opened package, its SHA-256 and size
  and its authoring metadata (PDF document info, DOCX core and app properties), read at opening.

All nullable: bids before this revision have none, escrow openings no decryption address.

Revision ID: 0048_integrity_signals
Revises: 0047_integrity_alerts
Create Date: 2026-12-07 00:60:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0048_integrity_signals"
down_revision: str | Sequence[str] | None = "0047_integrity_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("bidding_bid_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submit_ip", sa.String(length=45), nullable=True))
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decrypt_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("package_files", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.drop_column("package_files")
        batch_op.drop_column("decrypt_ip")
    with op.batch_alter_table("bidding_bid_versions", schema=None) as batch_op:
        batch_op.drop_column("submit_ip")
