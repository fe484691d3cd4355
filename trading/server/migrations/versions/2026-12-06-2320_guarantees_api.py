"""guarantees api: the guarantor API's nonces and idempotency records (trading.guarantees.api_store)

Revision ID: 0039_guarantees_api
Revises: 0038_guarantees_core
Create Date: 2026-12-06 23:20:00

``guarantees_api_nonces``: every signature nonce seen per key, kept until its window closes (replay
protection). ``guarantees_api_idempotency``: per key and ``Idempotency-Key`` the first request's method,
path and body digest and the response it got. Both purged by ``guarantees.purge_api_records``. Runs on
PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0039_guarantees_api"
down_revision: str | Sequence[str] | None = "0038_guarantees_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guarantees_api_nonces",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "nonce", name=op.f("pk_guarantees_api_nonces")),
    )
    op.create_index(op.f("ix_guarantees_api_nonces_expires_at"), "guarantees_api_nonces", ["expires_at"], unique=False)
    op.create_table(
        "guarantees_api_idempotency",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_media_type", sa.String(length=128), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_api_idempotency")),
        sa.UniqueConstraint(
            "key_id", "idempotency_key", name=op.f("uq_guarantees_api_idempotency_key_id_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_guarantees_api_idempotency_created_at"), "guarantees_api_idempotency", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guarantees_api_idempotency_created_at"), table_name="guarantees_api_idempotency")
    op.drop_table("guarantees_api_idempotency")
    op.drop_index(op.f("ix_guarantees_api_nonces_expires_at"), table_name="guarantees_api_nonces")
    op.drop_table("guarantees_api_nonces")
