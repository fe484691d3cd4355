"""evaluation (drawperf part): what the committee draw's candidate query reads, and its indexes

Revision ID: 0025_eval_drawperf
Revises: 0024_eval_hall
Create Date: 2026-12-06 21:00:00

- ``evaluation_experts.specialty_codes``: each expert's codes, sorted (code points) and joined
  with commas, as the published candidate list writes them; kept by the pool's repository
  (``set_specialties``) and filled here from ``evaluation_expert_specialties``.
- ``ix_evaluation_experts_draw``: the experts in id order with what the draw filters on and
  publishes (PostgreSQL: ``INCLUDE``, so the draw's scan reads the index only; SQLite: on id).
- ``ix_evaluation_expert_draws_tenderee`` and ``ix_evaluation_expert_unavailability_days``: the
  few experts the frequency and availability rules could exclude are found through these.

Runs on PostgreSQL and SQLite alike (the backfill sorts the codes in Python, one statement per
expert with codes: the pool is filled by imports, so the table is small when this runs).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_eval_drawperf"
down_revision: str | Sequence[str] | None = "0024_eval_hall"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_experts") as batch:
        batch.add_column(sa.Column("specialty_codes", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    codes: dict[object, list[str]] = {}
    for expert_id, code in connection.execute(sa.text("SELECT expert_id, code FROM evaluation_expert_specialties")):
        codes.setdefault(expert_id, []).append(code)
    update = sa.text("UPDATE evaluation_experts SET specialty_codes = :codes WHERE id = :id")
    for expert_id, found in codes.items():
        connection.execute(update, {"codes": ",".join(sorted(found)), "id": expert_id})
    op.create_index(
        "ix_evaluation_experts_draw",
        "evaluation_experts",
        ["id"],
        unique=False,
        postgresql_include=["status", "employer_uscc", "specialty_codes"],
    )
    op.create_index(
        "ix_evaluation_expert_draws_tenderee",
        "evaluation_expert_draws",
        ["tenderee_organisation_id", "drawn_at"],
        unique=False,
    )
    op.create_index(
        "ix_evaluation_expert_unavailability_days",
        "evaluation_expert_unavailability",
        ["last_day", "first_day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_evaluation_expert_unavailability_days", table_name="evaluation_expert_unavailability")
    op.drop_index("ix_evaluation_expert_draws_tenderee", table_name="evaluation_expert_draws")
    op.drop_index("ix_evaluation_experts_draw", table_name="evaluation_experts")
    with op.batch_alter_table("evaluation_experts") as batch:
        batch.drop_column("specialty_codes")
