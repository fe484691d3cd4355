"""notifications: read state per user (notifications_notice_reads) instead of one per notice

Revision ID: 0016_notice_reads
Revises: 0015_credit_records
Create Date: 2026-12-06 16:00:00

An organisation's notice had one read_at/read_by for all its members, so the first member to open
it cleared it for the others. Existing readings move to the new table (the reader keeps theirs);
read_at/read_by go. Runs on PostgreSQL and SQLite alike (SQLite drops columns in batch mode).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0016_notice_reads"
down_revision: str | Sequence[str] | None = "0015_credit_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications_notice_reads",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notifications_notices.id"],
            name=op.f("fk_notifications_notice_reads_notice_id_notifications_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_notifications_notice_reads_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("notice_id", "user_id", name=op.f("pk_notifications_notice_reads")),
    )
    op.execute(
        "INSERT INTO notifications_notice_reads (notice_id, user_id, read_at) "
        "SELECT id, read_by, read_at FROM notifications_notices WHERE read_by IS NOT NULL AND read_at IS NOT NULL"
    )
    with op.batch_alter_table("notifications_notices") as batch:
        batch.drop_constraint("fk_notifications_notices_read_by_parties_users", type_="foreignkey")
        batch.drop_column("read_by")
        batch.drop_column("read_at")


def downgrade() -> None:
    with op.batch_alter_table("notifications_notices") as batch:
        batch.add_column(sa.Column("read_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("read_by", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_notifications_notices_read_by_parties_users", "parties_users", ["read_by"], ["id"]
        )
    # Back to one reading per notice: the earliest reader's.
    op.execute(
        "UPDATE notifications_notices SET "
        "read_at = (SELECT MIN(r.read_at) FROM notifications_notice_reads r WHERE r.notice_id = notifications_notices.id), "
        "read_by = (SELECT r.user_id FROM notifications_notice_reads r WHERE r.notice_id = notifications_notices.id "
        "ORDER BY r.read_at, r.user_id LIMIT 1)"
    )
    op.drop_table("notifications_notice_reads")
