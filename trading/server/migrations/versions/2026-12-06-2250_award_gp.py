"""award gp: the GP result announcement's due instant and the supervisors' warning on the award

Revision ID: 0036_award_gp
Revises: 0035_award_decisions
Create Date: 2026-12-06 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0036_award_gp"
down_revision: str | Sequence[str] | None = "0035_award_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("award_awards") as batch:
        batch.add_column(
            sa.Column("announcement_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("announcement_warned_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index(op.f("ix_award_awards_announcement_due"), ["announcement_due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("award_awards") as batch:
        batch.drop_index(op.f("ix_award_awards_announcement_due"))
        batch.drop_column("announcement_warned_at")
        batch.drop_column("announcement_due")
