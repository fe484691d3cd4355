"""eval drawcache: the pool's version, moved by triggers, that the draw's cache of candidate lines is keyed by

Table ``evaluation_pool_version`` (`bidding.evaluation.pool.models.PoolVersion`, one row, id 1)
and the triggers that bump it whenever an expert's id or joined codes can change (an insert, a
delete, an update naming ``id`` or ``specialty_codes``, and on PostgreSQL a truncate):

* PostgreSQL: one plpgsql function, one statement trigger (once per statement, however many
  rows: an import does not rewrite the row per expert).
* SQLite: row triggers (SQLite has no statement triggers and no TRUNCATE).

Each bump adds one to ``version`` and draws a fresh random ``token`` (the cache's key) in the
writing transaction; the row is re-created if someone deleted it. The triggers are not part of
the models' metadata (as the ledger's are not): this migration is where they are declared.

Revision ID: 0037_eval_drawcache
Revises: 0036_award_gp
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_eval_drawcache"
down_revision: str | Sequence[str] | None = "0036_award_gp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_BUMP_PG = (
    "INSERT INTO evaluation_pool_version (id, version, token) VALUES (1, 1, replace(gen_random_uuid()::text, '-', '')) "
    "ON CONFLICT (id) DO UPDATE SET version = evaluation_pool_version.version + 1, token = excluded.token"
)
_BUMP_SQLITE = (
    "INSERT INTO evaluation_pool_version (id, version, token) VALUES (1, 1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET version = evaluation_pool_version.version + 1, token = excluded.token"
)
_SQLITE_TRIGGERS = {
    "evaluation_experts_pool_inserted": "AFTER INSERT",
    "evaluation_experts_pool_deleted": "AFTER DELETE",
    "evaluation_experts_pool_updated": "AFTER UPDATE OF id, specialty_codes",
}


def upgrade() -> None:
    op.create_table(
        "evaluation_pool_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_pool_version")),
    )
    op.execute(
        sa.text("INSERT INTO evaluation_pool_version (id, version, token) VALUES (1, 1, :token)").bindparams(
            token=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION evaluation_pool_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_BUMP_PG}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER evaluation_experts_pool_changed "
            "AFTER INSERT OR DELETE OR UPDATE OF id, specialty_codes OR TRUNCATE ON evaluation_experts "
            "FOR EACH STATEMENT EXECUTE FUNCTION evaluation_pool_changed()"
        )
    else:
        for name, event in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {event} ON evaluation_experts BEGIN {_BUMP_SQLITE}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evaluation_experts_pool_changed ON evaluation_experts")
        op.execute("DROP FUNCTION IF EXISTS evaluation_pool_changed()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("evaluation_pool_version")
