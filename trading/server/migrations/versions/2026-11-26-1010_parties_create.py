"""parties: organisations, people, users, memberships, authentication sessions

Revision ID: 0002_parties
Revises: 0001_ledger
Create Date: 2026-11-26 10:10:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, server defaults use
CURRENT_TIMESTAMP (which both understand), and the partial unique index on active memberships
has a WHERE clause for each backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0002_parties"
down_revision: str | Sequence[str] | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parties_organisations",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "enterprise",
                "purchaser_unit",
                "agency",
                "intermediary",
                "bank",
                "insurer",
                "guarantee_company",
                "supervisory_department",
                "trading_centre",
                name="organisationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", name="organisationstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            trading.kernel.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_organisations")),
        sa.UniqueConstraint("uscc", name=op.f("uq_parties_organisations_uscc")),
    )
    op.create_table(
        "parties_people",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("id_masked", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            trading.kernel.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_people")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_parties_people_id_hash")),
    )
    op.create_table(
        "parties_users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            trading.kernel.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "password_changed_at",
            trading.kernel.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["parties_people.id"], name=op.f("fk_parties_users_person_id_parties_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_users")),
        sa.UniqueConstraint("username", name=op.f("uq_parties_users_username")),
    )
    op.create_index(op.f("ix_parties_users_person_id"), "parties_users", ["person_id"], unique=False)
    op.create_table(
        "parties_auth_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("web", "api", name="sessionkind", native_enum=False, length=8), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_auth_sessions_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_parties_auth_sessions_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_parties_auth_sessions_token_hash")),
    )
    op.create_index(op.f("ix_parties_auth_sessions_user_id"), "parties_auth_sessions", ["user_id"], unique=False)
    op.create_table(
        "parties_memberships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "bidder",
                "tenderee",
                "agency",
                "expert",
                "intermediary",
                "guarantor",
                "supervisor",
                "admin",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "expired", "revoked", name="membershipstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            trading.kernel.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("ended_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_memberships_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_parties_memberships_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_memberships")),
    )
    op.create_index(op.f("ix_parties_memberships_next_check"), "parties_memberships", ["next_check"], unique=False)
    op.create_index(
        op.f("ix_parties_memberships_organisation_id"), "parties_memberships", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_parties_memberships_user_id"), "parties_memberships", ["user_id"], unique=False)
    op.create_index(
        "uq_parties_memberships_active_role",
        "parties_memberships",
        ["user_id", "organisation_id", "role"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_parties_memberships_active_role",
        table_name="parties_memberships",
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_parties_memberships_user_id"), table_name="parties_memberships")
    op.drop_index(op.f("ix_parties_memberships_organisation_id"), table_name="parties_memberships")
    op.drop_index(op.f("ix_parties_memberships_next_check"), table_name="parties_memberships")
    op.drop_table("parties_memberships")
    op.drop_index(op.f("ix_parties_auth_sessions_user_id"), table_name="parties_auth_sessions")
    op.drop_table("parties_auth_sessions")
    op.drop_index(op.f("ix_parties_users_person_id"), table_name="parties_users")
    op.drop_table("parties_users")
    op.drop_table("parties_people")
    op.drop_table("parties_organisations")
