"""eval redraw: drafting roles declared by the host, and supplementary committee draws (补抽)

Revision ID: 0026_eval_redraw
Revises: 0025_eval_drawperf
Create Date: 2026-12-06 21:10:00

- ``evaluation_drafters``: the pool experts the tender's host declared as having taken part in
  drafting the tender's documents or requirement set (role, note); avoidance excludes them
  (reason ``drafting_role``).
- ``evaluation_committee_draws.supplements_draw_id``: a supplementary draw points at the
  evaluation's first draw, whose open places (a group's reserves exhausted) it fills.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0026_eval_redraw"
down_revision: str | Sequence[str] | None = "0025_eval_drawperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_drafters",
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "documents",
                "requirement",
                "bill-of-quantities",
                "consultation",
                name="draftingrolekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("declared_by", sa.Uuid(), nullable=False),
        sa.Column("declared_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation_evaluations.id"],
            name=op.f("fk_evaluation_drafters_evaluation_id_evaluation_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["evaluation_experts.id"], name=op.f("fk_evaluation_drafters_expert_id_evaluation_experts")
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"], ["parties_users.id"], name=op.f("fk_evaluation_drafters_declared_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "expert_id", name=op.f("pk_evaluation_drafters")),
    )
    with op.batch_alter_table("evaluation_committee_draws") as batch:
        batch.add_column(sa.Column("supplements_draw_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_evaluation_committee_draws_supplements_draw_id_evaluation_committee_draws"),
            "evaluation_committee_draws",
            ["supplements_draw_id"],
            ["id"],
        )
        batch.create_index(
            op.f("ix_evaluation_committee_draws_supplements_draw_id"), ["supplements_draw_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_committee_draws") as batch:
        batch.drop_index(op.f("ix_evaluation_committee_draws_supplements_draw_id"))
        batch.drop_constraint(
            op.f("fk_evaluation_committee_draws_supplements_draw_id_evaluation_committee_draws"), type_="foreignkey"
        )
        batch.drop_column("supplements_draw_id")
    op.drop_table("evaluation_drafters")
