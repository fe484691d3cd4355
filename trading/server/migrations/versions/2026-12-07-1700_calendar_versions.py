"""calendar versions: the working-day calendar's loaded years in the database (issue 20)

- ``calendar_versions``: every edition of a year's schedule an administrator loaded, byte for byte
  (``content``, UTF-8 text, with its ``sha256``), numbered per year; the primary key (year, number)
  keeps two concurrent loads from sharing a number. The highest number is the year's schedule in
  force (`trading.kernel.calendar.load_calendar`), for every web and worker process alike.

The files that earlier versions kept under a node's storage directory (``<storage>/calendar/``) are
not read here: a migration runs once, on whichever node runs it, and knows no storage directory
(``ggzy db upgrade --url`` is run against databases whose nodes' disks it never sees), while the
files lived on each node's own disk; and every load belongs on the ledger, which a migration cannot
append to. ``ggzy calendar import-files`` brings them in instead, run on each node that had loaded
years (idempotent; `docs/storage.md`). Until then such a node counts on the shipped years only.
Downgrading drops the table and the loaded versions with it (the ledger keeps their digests).

Revision ID: 0056_calendar_versions
Revises: 0055_integrity_price_columns
Create Date: 2026-12-07 17:00:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0056_calendar_versions"
down_revision: str | Sequence[str] | None = "0055_integrity_price_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_versions",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "number", name=op.f("pk_calendar_versions")),
    )


def downgrade() -> None:
    op.drop_table("calendar_versions")
