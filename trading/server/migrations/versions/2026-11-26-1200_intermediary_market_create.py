"""intermediary_market: service items, qualifications, announcements, registrations, ratings,
blacklistings, deliveries

Revision ID: 0004_intermediary_market
Revises: 0003_parties_certificates
Create Date: 2026-11-26 12:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import trading.kernel.db.types

revision: str = "0004_intermediary_market"
down_revision: str | Sequence[str] | None = "0003_parties_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intermediary_service_items",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("approval", sa.String(length=200), nullable=False),
        sa.Column("required_qualification", sa.String(length=200), nullable=False),
        sa.Column("fee_basis", sa.String(length=500), nullable=False),
        sa.Column("standard_days", sa.Integer(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_service_items")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_intermediary_service_items_code_version")),
    )
    op.create_index(op.f("ix_intermediary_service_items_code"), "intermediary_service_items", ["code"], unique=False)
    op.create_table(
        "intermediary_announcements",
        sa.Column("owner_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "direct",
                "random",
                "lowest_price",
                "reference_price",
                "merit",
                name="selectionmethod",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "funding", sa.Enum("state", "social", name="fundingtype", native_enum=False, length=32), nullable=False
        ),
        sa.Column("budget", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("price_min", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("price_max", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("max_level", sa.Integer(), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("registration_opens", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registration_closes", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("direct_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("seed_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "selected", "failed", name="announcementstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("winner_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("winner_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("failure_rule", sa.String(length=64), nullable=True),
        sa.Column(
            "computation", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["direct_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_announcements_direct_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_announcements_owner_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["winner_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_announcements_winner_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_announcements")),
    )
    op.create_index(
        op.f("ix_intermediary_announcements_status"), "intermediary_announcements", ["status"], unique=False
    )
    op.create_table(
        "intermediary_blacklistings",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "noticed", "effective", "withdrawn", "expired", name="blackliststatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("noticed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response", sa.String(length=4000), nullable=True),
        sa.Column("decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("effective_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appeal", sa.String(length=4000), nullable=True),
        sa.Column("appealed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appeal_decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_blacklistings_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_blacklistings")),
    )
    op.create_index(
        op.f("ix_intermediary_blacklistings_next_check"), "intermediary_blacklistings", ["next_check"], unique=False
    )
    op.create_index(
        op.f("ix_intermediary_blacklistings_organisation_id"),
        "intermediary_blacklistings",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "intermediary_qualifications",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=100), nullable=False),
        sa.Column("valid_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", "revoked", name="qualificationstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("expiry_noticed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_qualifications_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_qualifications")),
        sa.UniqueConstraint(
            "organisation_id", "item_code", name=op.f("uq_intermediary_qualifications_organisation_id_item_code")
        ),
    )
    op.create_index(
        op.f("ix_intermediary_qualifications_next_check"), "intermediary_qualifications", ["next_check"], unique=False
    )
    op.create_table(
        "intermediary_ratings",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("timeliness", sa.Integer(), nullable=False),
        sa.Column("attitude", sa.Integer(), nullable=False),
        sa.Column("fees", sa.Integer(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["intermediary_announcements.id"],
            name=op.f("fk_intermediary_ratings_announcement_id_intermediary_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_ratings_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_ratings")),
        sa.UniqueConstraint("announcement_id", name=op.f("uq_intermediary_ratings_announcement_id")),
    )
    op.create_index(
        op.f("ix_intermediary_ratings_organisation_id"), "intermediary_ratings", ["organisation_id"], unique=False
    )
    op.create_table(
        "intermediary_registrations",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "panel_scores", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["intermediary_announcements.id"],
            name=op.f("fk_intermediary_registrations_announcement_id_intermediary_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_registrations_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_registrations")),
        sa.UniqueConstraint(
            "announcement_id",
            "organisation_id",
            name=op.f("uq_intermediary_registrations_announcement_id_organisation_id"),
        ),
    )
    op.create_table(
        "intermediary_deliveries",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("contract_no", sa.String(length=100), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deliverable_sha256", sa.String(length=64), nullable=True),
        sa.Column("warned_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("completed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["intermediary_announcements.id"],
            name=op.f("fk_intermediary_deliveries_announcement_id_intermediary_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_intermediary_deliveries_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intermediary_deliveries")),
        sa.UniqueConstraint("announcement_id", name=op.f("uq_intermediary_deliveries_announcement_id")),
    )
    op.create_index(
        op.f("ix_intermediary_deliveries_next_check"), "intermediary_deliveries", ["next_check"], unique=False
    )
    op.create_index(
        op.f("ix_intermediary_deliveries_organisation_id"), "intermediary_deliveries", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_intermediary_deliveries_organisation_id"), table_name="intermediary_deliveries")
    op.drop_index(op.f("ix_intermediary_deliveries_next_check"), table_name="intermediary_deliveries")
    op.drop_table("intermediary_deliveries")
    op.drop_table("intermediary_registrations")
    op.drop_index(op.f("ix_intermediary_ratings_organisation_id"), table_name="intermediary_ratings")
    op.drop_table("intermediary_ratings")
    op.drop_index(op.f("ix_intermediary_qualifications_next_check"), table_name="intermediary_qualifications")
    op.drop_table("intermediary_qualifications")
    op.drop_index(op.f("ix_intermediary_blacklistings_organisation_id"), table_name="intermediary_blacklistings")
    op.drop_index(op.f("ix_intermediary_blacklistings_next_check"), table_name="intermediary_blacklistings")
    op.drop_table("intermediary_blacklistings")
    op.drop_index(op.f("ix_intermediary_announcements_status"), table_name="intermediary_announcements")
    op.drop_table("intermediary_announcements")
    op.drop_index(op.f("ix_intermediary_service_items_code"), table_name="intermediary_service_items")
    op.drop_table("intermediary_service_items")
