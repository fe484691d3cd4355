"""guarantees extra: the outbox of callbacks to guarantors (trading.guarantees.callbacks)

Revision ID: 0042_guarantees_extra
Revises: 0041_guarantees_flows
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0042_guarantees_extra"
down_revision: str | Sequence[str] | None = "0041_guarantees_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guarantees_callbacks",
        sa.Column("guarantor_id", sa.Uuid(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guarantor_id"],
            ["guarantees_guarantors.id"],
            name=op.f("fk_guarantees_callbacks_guarantor_id_guarantees_guarantors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_callbacks")),
        sa.UniqueConstraint("event_key", name=op.f("uq_guarantees_callbacks_event_key")),
    )
    op.create_index(op.f("ix_guarantees_callbacks_guarantor_id"), "guarantees_callbacks", ["guarantor_id"], unique=False)
    op.create_index(
        op.f("ix_guarantees_callbacks_next_attempt_at"), "guarantees_callbacks", ["next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guarantees_callbacks_next_attempt_at"), table_name="guarantees_callbacks")
    op.drop_index(op.f("ix_guarantees_callbacks_guarantor_id"), table_name="guarantees_callbacks")
    op.drop_table("guarantees_callbacks")
