"""notifications: notices (the inbox), e-mail deliveries and users' e-mail addresses

Revision ID: 0014_notifications
Revises: 0013_ledger_withheld_chains
Create Date: 2026-12-06 14:00:00

Three new tables; nothing existing changes. Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0014_notifications"
down_revision: str | Sequence[str] | None = "0013_ledger_withheld_chains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_kind", sa.Enum("user", "organisation", native_enum=False, length=16), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("params", trading.kernel.db.types.JSONData, nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("legal", sa.Boolean(), nullable=False),
        sa.Column("project_code", sa.String(length=64), nullable=True),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["read_by"], ["parties_users.id"], name=op.f("fk_notifications_notices_read_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_notices")),
        sa.UniqueConstraint(
            "event_key",
            "recipient_kind",
            "recipient_id",
            name=op.f("uq_notifications_notices_event_key_recipient_kind_recipient_id"),
        ),
    )
    op.create_index(
        op.f("ix_notifications_notices_recipient_id"), "notifications_notices", ["recipient_id"], unique=False
    )
    op.create_table(
        "notifications_email_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Enum("pending", "sent", "failed", native_enum=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notifications_notices.id"],
            name=op.f("fk_notifications_email_deliveries_notice_id_notifications_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_notifications_email_deliveries_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_email_deliveries")),
        sa.UniqueConstraint(
            "notice_id", "address", name=op.f("uq_notifications_email_deliveries_notice_id_address")
        ),
    )
    op.create_index(
        op.f("ix_notifications_email_deliveries_notice_id"),
        "notifications_email_deliveries",
        ["notice_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_email_deliveries_next_check"),
        "notifications_email_deliveries",
        ["next_check"],
        unique=False,
    )
    op.create_table(
        "notifications_email_addresses",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_notifications_email_addresses_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notifications_email_addresses")),
    )


def downgrade() -> None:
    op.drop_table("notifications_email_addresses")
    op.drop_index(op.f("ix_notifications_email_deliveries_next_check"), table_name="notifications_email_deliveries")
    op.drop_index(op.f("ix_notifications_email_deliveries_notice_id"), table_name="notifications_email_deliveries")
    op.drop_table("notifications_email_deliveries")
    op.drop_index(op.f("ix_notifications_notices_recipient_id"), table_name="notifications_notices")
    op.drop_table("notifications_notices")
