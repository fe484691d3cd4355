"""pdf pagesign: PDFs prepared for a signature made in the page (trading.parties.pdf_signing)

Revision ID: 0032_pdf_pagesign
Revises: 0031_award_notices
Create Date: 2026-12-06 22:10:00

One table, ``parties_pdf_signing_requests``: a PDF with an empty signature placeholder waiting for
the CMS the user's key makes in the browser (who, for which purpose and subject, the prepared
bytes, the ``/ByteRange``, the expiry, when it was used). Runs on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0032_pdf_pagesign"
down_revision: str | Sequence[str] | None = "0031_award_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parties_pdf_signing_requests",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("digest_algorithm", sa.String(length=16), nullable=False),
        sa.Column("prepared_pdf", sa.LargeBinary(), nullable=False),
        sa.Column(
            "byte_range", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["parties_users.id"],
            name=op.f("fk_parties_pdf_signing_requests_user_id_parties_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_pdf_signing_requests")),
    )
    op.create_index(
        op.f("ix_parties_pdf_signing_requests_user_id"), "parties_pdf_signing_requests", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_parties_pdf_signing_requests_user_id"), table_name="parties_pdf_signing_requests")
    op.drop_table("parties_pdf_signing_requests")
