"""evaluation (assistance part, on the scoring part's reserved slot): the tender's requirement set

`evaluation_requirement_sets`: one ``ggzy-requirements/1`` document per tender (bytes as validated,
its SHA-256, who uploaded it and when), published with the tender and read by the assistance
(`bidding.evaluation.requirementset`).

Revision ID: 0022_eval_scoring
Revises: 0021_eval_session
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0022_eval_scoring"
down_revision: str | Sequence[str] | None = "0021_eval_session"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_requirement_sets",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["bidding_tenders.id"],
            name=op.f("fk_evaluation_requirement_sets_tender_id_bidding_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["parties_users.id"],
            name=op.f("fk_evaluation_requirement_sets_uploaded_by_parties_users"),
        ),
        sa.PrimaryKeyConstraint("tender_id", name=op.f("pk_evaluation_requirement_sets")),
    )


def downgrade() -> None:
    op.drop_table("evaluation_requirement_sets")
