"""intermediary market draws: the list frozen at the close, registrants' contributions, revocation time

The draw mixes the platform's committed seed with the digest of the list frozen at the close and
the registrants' revealed contributions (``trading.kernel.draws``); the sweep closes the list and
draws (``next_check``). A revoked qualification records when it was revoked, so eligibility is
judged as of the close.

Revision ID: 0009_intermediary_draws
Revises: 0008_opened_package_key
Create Date: 2026-12-06 09:00:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0009_intermediary_draws"
down_revision: str | Sequence[str] | None = "0008_opened_package_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intermediary_announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "closed_list",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("reveal_closes", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_intermediary_announcements_next_check"), ["next_check"], unique=False)
    # Open announcements get their first look at the close.
    op.execute("UPDATE intermediary_announcements SET next_check = registration_closes WHERE status = 'open'")
    with op.batch_alter_table("intermediary_registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contribution_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("contribution", sa.String(length=64), nullable=True))
    with op.batch_alter_table("intermediary_qualifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intermediary_qualifications", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("intermediary_registrations", schema=None) as batch_op:
        batch_op.drop_column("contribution")
        batch_op.drop_column("contribution_sha256")
    with op.batch_alter_table("intermediary_announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intermediary_announcements_next_check"))
        batch_op.drop_column("next_check")
        batch_op.drop_column("reveal_closes")
        batch_op.drop_column("closed_list")
        batch_op.drop_column("closed_at")
