"""ledger: entries, chain heads, checkpoints; the database refuses changes to entries and checkpoints

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-26 10:00:00

The audit ledger is append-only in the database itself, on both backends, so that not even a
bug or a hand-written statement in the application can rewrite history (Order 20 Art. 49):

* PostgreSQL: one plpgsql function raises on UPDATE and DELETE (row triggers) and on TRUNCATE
  (a statement trigger, since TRUNCATE fires no row triggers).
* SQLite: BEFORE UPDATE / BEFORE DELETE triggers that RAISE(ABORT). SQLite has no TRUNCATE; its
  "DELETE without WHERE" shortcut is disabled whenever a DELETE trigger exists.

Someone with DDL rights can still drop or disable the triggers; that is what the hash chains and
the signed checkpoints are for: `ggzy ledger verify` then names the entry that was changed.
Chain heads stay mutable: they are the lock and the cursor, and verification checks them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0001_ledger"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("ledger_entries", "ledger_checkpoints")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sa.String(length=150), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("data_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_ledger_entries_chain_seq")),
    )
    op.create_index(op.f("ix_ledger_entries_action"), "ledger_entries", ["action"], unique=False)
    op.create_index(op.f("ix_ledger_entries_actor_label"), "ledger_entries", ["actor_label"], unique=False)
    op.create_index(
        "ix_ledger_entries_occurred_at_seq_id", "ledger_entries", ["occurred_at", "seq", "id"], unique=False
    )
    op.create_index("ix_ledger_entries_subject", "ledger_entries", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "ledger_chain_heads",
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_ledger_chain_heads")),
    )

    op.create_table(
        "ledger_checkpoints",
        sa.Column(
            "number",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "heads",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("previous_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_ledger_checkpoints")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ggzy ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation',
                          HINT = 'ledger entries and checkpoints are never changed; append a new entry';
            END
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ggzy ledger is append-only: {operation} on {table} is refused'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_chain_heads")
    op.drop_index("ix_ledger_entries_subject", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_occurred_at_seq_id", table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_actor_label"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_action"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
