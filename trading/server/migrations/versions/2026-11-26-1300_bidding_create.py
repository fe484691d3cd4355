"""bidding: tenders, lots, signed documents, downloads, questions, uploads, bids and their
versions (receipts); the ledger's unsealed chains

Revision ID: 0005_bidding
Revises: 0004_intermediary_market
Create Date: 2026-11-26 13:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import trading.kernel.db.types

revision: str = "0005_bidding"
down_revision: str | Sequence[str] | None = "0004_intermediary_market"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_unsealed_chains",
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("unsealed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_ledger_unsealed_chains")),
    )
    op.create_table(
        "bidding_tenders",
        sa.Column("project_code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "category",
            sa.Enum("engineering", "goods", "services", name="tendercategory", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("tender_type", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "closed",
                "opening",
                "failed",
                "cancelled",
                name="tenderstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tenderee_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("agency_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("estimate", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("bid_security_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column(
            "bid_security_forms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "evaluation_method",
            sa.Enum(
                "comprehensive",
                "lowest-evaluated-price",
                "reasonable-low-price",
                name="evaluationmethod",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "evaluation_criteria",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("documents_from", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("documents_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decryption_window_minutes", sa.Integer(), nullable=False),
        sa.Column("bid_validity_days", sa.Integer(), nullable=False),
        sa.Column("max_package_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "key_holders", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("published_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_tenders_agency_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["parties_users.id"], name=op.f("fk_bidding_tenders_created_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenderee_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_tenders_tenderee_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_tenders")),
        sa.UniqueConstraint("project_code", name=op.f("uq_bidding_tenders_project_code")),
    )
    op.create_index(op.f("ix_bidding_tenders_next_check"), "bidding_tenders", ["next_check"], unique=False)
    op.create_index(op.f("ix_bidding_tenders_status"), "bidding_tenders", ["status"], unique=False)
    op.create_table(
        "bidding_documents",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("tender-document", "clarification", "amendment", name="documentkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("published_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_before", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_after", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_documents_signer_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_documents_tender_id_bidding_tenders")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["parties_users.id"], name=op.f("fk_bidding_documents_uploaded_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_documents")),
    )
    op.create_index(op.f("ix_bidding_documents_tender_id"), "bidding_documents", ["tender_id"], unique=False)
    op.create_table(
        "bidding_lots",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("estimate", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_lots_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_lots")),
        sa.UniqueConstraint("tender_id", "code", name=op.f("uq_bidding_lots_tender_id_code")),
    )
    op.create_index(op.f("ix_bidding_lots_tender_id"), "bidding_lots", ["tender_id"], unique=False)
    op.create_table(
        "bidding_bids",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status", sa.Enum("submitted", "withdrawn", name="bidstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("current_version_id", sa.Uuid(), nullable=True),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["bidding_lots.id"], name=op.f("fk_bidding_bids_lot_id_bidding_lots")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_bids_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_bids_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_bids")),
        sa.UniqueConstraint("lot_id", "organisation_id", name=op.f("uq_bidding_bids_lot_id_organisation_id")),
    )
    op.create_index(op.f("ix_bidding_bids_organisation_id"), "bidding_bids", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_bidding_bids_tender_id"), "bidding_bids", ["tender_id"], unique=False)
    op.create_table(
        "bidding_document_downloads",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("downloaded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["bidding_documents.id"],
            name=op.f("fk_bidding_document_downloads_document_id_bidding_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_document_downloads_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_document_downloads_tender_id_bidding_tenders")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_bidding_document_downloads_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_document_downloads")),
    )
    op.create_index(
        op.f("ix_bidding_document_downloads_document_id"), "bidding_document_downloads", ["document_id"], unique=False
    )
    op.create_index(
        op.f("ix_bidding_document_downloads_organisation_id"),
        "bidding_document_downloads",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_bidding_document_downloads_tender_id"), "bidding_document_downloads", ["tender_id"], unique=False
    )
    op.create_table(
        "bidding_questions",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("asked_by", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("asked_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=8000), nullable=True),
        sa.Column("answered_in", sa.Uuid(), nullable=True),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_in"], ["bidding_documents.id"], name=op.f("fk_bidding_questions_answered_in_bidding_documents")
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["parties_users.id"], name=op.f("fk_bidding_questions_asked_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_questions_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_questions_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_questions")),
    )
    op.create_index(op.f("ix_bidding_questions_tender_id"), "bidding_questions", ["tender_id"], unique=False)
    op.create_table(
        "bidding_uploads",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("declared_size", sa.BigInteger(), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("receiving", "accepted", "refused", "abandoned", name="uploadstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "refusal", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["bidding_lots.id"], name=op.f("fk_bidding_uploads_lot_id_bidding_lots")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_uploads_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_uploads_tender_id_bidding_tenders")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_bidding_uploads_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_uploads")),
    )
    op.create_index(op.f("ix_bidding_uploads_next_check"), "bidding_uploads", ["next_check"], unique=False)
    op.create_index(op.f("ix_bidding_uploads_status"), "bidding_uploads", ["status"], unique=False)
    op.create_index(op.f("ix_bidding_uploads_tender_id"), "bidding_uploads", ["tender_id"], unique=False)
    op.create_table(
        "bidding_bid_versions",
        sa.Column("bid_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("submission", "withdrawal", name="versionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("received_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.Uuid(), nullable=False),
        sa.Column("upload_id", sa.Uuid(), nullable=True),
        sa.Column("container_sha256", sa.String(length=64), nullable=True),
        sa.Column("container_size", sa.BigInteger(), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("manifest", sa.LargeBinary(), nullable=True),
        sa.Column("manifest_signature", sa.LargeBinary(), nullable=True),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "parts", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("receipt", sa.LargeBinary(), nullable=False),
        sa.Column("receipt_signature", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bid_id"], ["bidding_bids.id"], name=op.f("fk_bidding_bid_versions_bid_id_bidding_bids")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["parties_users.id"], name=op.f("fk_bidding_bid_versions_submitted_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["bidding_uploads.id"], name=op.f("fk_bidding_bid_versions_upload_id_bidding_uploads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_bid_versions")),
        sa.UniqueConstraint("bid_id", "number", name=op.f("uq_bidding_bid_versions_bid_id_number")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_bidding_bid_versions_receipt_no")),
    )
    op.create_index(op.f("ix_bidding_bid_versions_bid_id"), "bidding_bid_versions", ["bid_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_bidding_bid_versions_bid_id"), table_name="bidding_bid_versions")
    op.drop_table("bidding_bid_versions")
    op.drop_index(op.f("ix_bidding_uploads_tender_id"), table_name="bidding_uploads")
    op.drop_index(op.f("ix_bidding_uploads_status"), table_name="bidding_uploads")
    op.drop_index(op.f("ix_bidding_uploads_next_check"), table_name="bidding_uploads")
    op.drop_table("bidding_uploads")
    op.drop_index(op.f("ix_bidding_questions_tender_id"), table_name="bidding_questions")
    op.drop_table("bidding_questions")
    op.drop_index(op.f("ix_bidding_document_downloads_tender_id"), table_name="bidding_document_downloads")
    op.drop_index(op.f("ix_bidding_document_downloads_organisation_id"), table_name="bidding_document_downloads")
    op.drop_index(op.f("ix_bidding_document_downloads_document_id"), table_name="bidding_document_downloads")
    op.drop_table("bidding_document_downloads")
    op.drop_index(op.f("ix_bidding_bids_tender_id"), table_name="bidding_bids")
    op.drop_index(op.f("ix_bidding_bids_organisation_id"), table_name="bidding_bids")
    op.drop_table("bidding_bids")
    op.drop_index(op.f("ix_bidding_lots_tender_id"), table_name="bidding_lots")
    op.drop_table("bidding_lots")
    op.drop_index(op.f("ix_bidding_documents_tender_id"), table_name="bidding_documents")
    op.drop_table("bidding_documents")
    op.drop_index(op.f("ix_bidding_tenders_status"), table_name="bidding_tenders")
    op.drop_index(op.f("ix_bidding_tenders_next_check"), table_name="bidding_tenders")
    op.drop_table("bidding_tenders")
    op.drop_table("ledger_unsealed_chains")
