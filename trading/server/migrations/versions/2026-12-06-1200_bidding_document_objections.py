"""bidding: objections to the tender documents (实施条例 Art. 22, Order 20 Art. 39)

Revision ID: 0012_document_objections
Revises: 0011_bidding_lot_security
Create Date: 2026-12-06 11:00:00

Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0012_document_objections"
down_revision: str | Sequence[str] | None = "0011_bidding_lot_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bidding_document_objections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=8000), nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_document_objections_tender_id_bidding_tenders")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_document_objections_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["parties_users.id"], name=op.f("fk_bidding_document_objections_filed_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["parties_users.id"], name=op.f("fk_bidding_document_objections_answered_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_document_objections")),
    )
    op.create_index(
        op.f("ix_bidding_document_objections_tender_id"), "bidding_document_objections", ["tender_id"], unique=False
    )
    op.create_index(
        op.f("ix_bidding_document_objections_next_check"), "bidding_document_objections", ["next_check"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bidding_document_objections_next_check"), table_name="bidding_document_objections")
    op.drop_index(op.f("ix_bidding_document_objections_tender_id"), table_name="bidding_document_objections")
    op.drop_table("bidding_document_objections")
