"""parties: agency mandates (委托代理), a tenderee organisation's mandate to an agency

Revision ID: 0017_agency_mandates
Revises: 0016_notice_reads
Create Date: 2026-12-06 17:00:00

Runs on PostgreSQL and SQLite alike: the status is a VARCHAR column, and the partial unique index
on active mandates has a WHERE clause for each backend (as the memberships' index).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0017_agency_mandates"
down_revision: str | Sequence[str] | None = "0016_notice_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "parties_agency_mandates",
        sa.Column("tenderee_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("agency_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "revoked", name="mandatestatus", native_enum=False, length=32),
            nullable=False,
        ),
        _time("valid_from"),
        _time("valid_until", nullable=True),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        _time("granted_at"),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        _time("revoked_at", nullable=True),
        _time("updated_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_agency_mandates_agency_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenderee_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_agency_mandates_tenderee_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["parties_users.id"], name=op.f("fk_parties_agency_mandates_granted_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["parties_users.id"], name=op.f("fk_parties_agency_mandates_revoked_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_agency_mandates")),
    )
    op.create_index(
        op.f("ix_parties_agency_mandates_tenderee_organisation_id"),
        "parties_agency_mandates",
        ["tenderee_organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_parties_agency_mandates_agency_organisation_id"),
        "parties_agency_mandates",
        ["agency_organisation_id"],
        unique=False,
    )
    op.create_index(
        "uq_parties_agency_mandates_active",
        "parties_agency_mandates",
        ["tenderee_organisation_id", "agency_organisation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_parties_agency_mandates_active", table_name="parties_agency_mandates")
    op.drop_index(op.f("ix_parties_agency_mandates_agency_organisation_id"), table_name="parties_agency_mandates")
    op.drop_index(op.f("ix_parties_agency_mandates_tenderee_organisation_id"), table_name="parties_agency_mandates")
    op.drop_table("parties_agency_mandates")
