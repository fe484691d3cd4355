"""bidding opening: opening sessions, the bids at the opening, released escrow shares, objections
and confirmations

Revision ID: 0007_bidding_opening
Revises: 0006_intermediary_credit
Create Date: 2026-11-26 15:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import trading.kernel.db.types

revision: str = "0007_bidding_opening"
down_revision: str | Sequence[str] | None = "0006_intermediary_credit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bidding_opening_sessions",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("host_organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "sign-in",
                "decryption",
                "price-reading",
                "confirmation",
                "closed",
                name="stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stage_started_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stage_ends_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remaining_seconds", sa.Integer(), nullable=True),
        sa.Column("decryption_closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "lots", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "timeline", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("record_storage_key", sa.String(length=200), nullable=True),
        sa.Column("record_sha256", sa.String(length=64), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_opening_sessions_host_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_bidding_opening_sessions_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_opening_sessions")),
        sa.UniqueConstraint("tender_id", name=op.f("uq_bidding_opening_sessions_tender_id")),
    )
    op.create_index(
        op.f("ix_bidding_opening_sessions_next_check"), "bidding_opening_sessions", ["next_check"], unique=False
    )
    op.create_index(op.f("ix_bidding_opening_sessions_stage"), "bidding_opening_sessions", ["stage"], unique=False)
    op.create_table(
        "bidding_opening_confirmations",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("confirmed_by", sa.Uuid(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by"],
            ["parties_users.id"],
            name=op.f("fk_bidding_opening_confirmations_confirmed_by_parties_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_opening_confirmations_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["bidding_opening_sessions.id"],
            name=op.f("fk_bidding_opening_confirmations_session_id_bidding_opening_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_opening_confirmations")),
        sa.UniqueConstraint(
            "session_id", "organisation_id", name=op.f("uq_bidding_opening_confirmations_session_id_organisation_id")
        ),
    )
    op.create_index(
        op.f("ix_bidding_opening_confirmations_session_id"),
        "bidding_opening_confirmations",
        ["session_id"],
        unique=False,
    )
    op.create_table(
        "bidding_opening_objections",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=4000), nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["parties_users.id"], name=op.f("fk_bidding_opening_objections_answered_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["parties_users.id"], name=op.f("fk_bidding_opening_objections_filed_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_opening_objections_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["bidding_opening_sessions.id"],
            name=op.f("fk_bidding_opening_objections_session_id_bidding_opening_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_opening_objections")),
    )
    op.create_index(
        op.f("ix_bidding_opening_objections_session_id"), "bidding_opening_objections", ["session_id"], unique=False
    )
    op.create_table(
        "bidding_opening_bids",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("bid_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("bidder_uscc", sa.String(length=40), nullable=False),
        sa.Column("bidder_name", sa.String(length=300), nullable=False),
        sa.Column("signed_in_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "price_status", sa.Enum("sealed", "opened", name="partstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column(
            "price_summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("price_opened_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "package_status",
            sa.Enum("sealed", "opened", name="partstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("package_storage_key", sa.String(length=200), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("package_opened_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "decrypted",
                "escrow-pending",
                "escrow",
                "revoked",
                "withdrawn",
                name="outcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cause", sa.String(length=1000), nullable=True),
        sa.Column(
            "incident", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "last_refusal", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bid_id"], ["bidding_bids.id"], name=op.f("fk_bidding_opening_bids_bid_id_bidding_bids")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["bidding_lots.id"], name=op.f("fk_bidding_opening_bids_lot_id_bidding_lots")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_bidding_opening_bids_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["bidding_opening_sessions.id"],
            name=op.f("fk_bidding_opening_bids_session_id_bidding_opening_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["bidding_bid_versions.id"],
            name=op.f("fk_bidding_opening_bids_version_id_bidding_bid_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_opening_bids")),
        sa.UniqueConstraint("session_id", "bid_id", name=op.f("uq_bidding_opening_bids_session_id_bid_id")),
    )
    op.create_index(
        op.f("ix_bidding_opening_bids_organisation_id"), "bidding_opening_bids", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_bidding_opening_bids_session_id"), "bidding_opening_bids", ["session_id"], unique=False)
    op.create_table(
        "bidding_opening_shares",
        sa.Column("opening_bid_id", sa.Uuid(), nullable=False),
        sa.Column("holder_sha256", sa.String(length=64), nullable=False),
        sa.Column("holder_index", sa.Integer(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("released_by", sa.Uuid(), nullable=False),
        sa.Column("released_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opening_bid_id"],
            ["bidding_opening_bids.id"],
            name=op.f("fk_bidding_opening_shares_opening_bid_id_bidding_opening_bids"),
        ),
        sa.ForeignKeyConstraint(
            ["released_by"], ["parties_users.id"], name=op.f("fk_bidding_opening_shares_released_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_opening_shares")),
        sa.UniqueConstraint(
            "opening_bid_id", "holder_sha256", name=op.f("uq_bidding_opening_shares_opening_bid_id_holder_sha256")
        ),
    )
    op.create_index(
        op.f("ix_bidding_opening_shares_opening_bid_id"), "bidding_opening_shares", ["opening_bid_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bidding_opening_shares_opening_bid_id"), table_name="bidding_opening_shares")
    op.drop_table("bidding_opening_shares")
    op.drop_index(op.f("ix_bidding_opening_bids_session_id"), table_name="bidding_opening_bids")
    op.drop_index(op.f("ix_bidding_opening_bids_organisation_id"), table_name="bidding_opening_bids")
    op.drop_table("bidding_opening_bids")
    op.drop_index(op.f("ix_bidding_opening_objections_session_id"), table_name="bidding_opening_objections")
    op.drop_table("bidding_opening_objections")
    op.drop_index(op.f("ix_bidding_opening_confirmations_session_id"), table_name="bidding_opening_confirmations")
    op.drop_table("bidding_opening_confirmations")
    op.drop_index(op.f("ix_bidding_opening_sessions_stage"), table_name="bidding_opening_sessions")
    op.drop_index(op.f("ix_bidding_opening_sessions_next_check"), table_name="bidding_opening_sessions")
    op.drop_table("bidding_opening_sessions")
