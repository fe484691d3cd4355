"""evaluation: the expert pool (专家库): specialties, experts, availability, conflicts and records

Revision ID: 0018_expert_pool
Revises: 0017_agency_mandates
Create Date: 2026-12-06 18:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, days are DATE columns, and
the partial unique index on each code's current version has a WHERE clause for each backend (as
the memberships' index). The specialty list itself is loaded by the application (each load is a
ledger entry), not by this migration.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0018_expert_pool"
down_revision: str | Sequence[str] | None = "0017_agency_mandates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_specialties",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=16), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("list_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_specialties")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_evaluation_specialties_code_version")),
    )
    op.create_index(
        "uq_evaluation_specialties_current",
        "evaluation_specialties",
        ["code"],
        unique=True,
        postgresql_where=sa.text("current"),
        sqlite_where=sa.text("current"),
    )
    op.create_table(
        "evaluation_experts",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("home_library", sa.String(length=200), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("fee_standard", sa.String(length=200), nullable=False),
        sa.Column("employer_uscc", sa.String(length=18), nullable=False),
        sa.Column("employer_name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", "removed", name="expertstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("suspended_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(length=1000), nullable=False),
        sa.Column("senior", sa.Boolean(), nullable=False),
        sa.Column("senior_since", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["parties_people.id"], name=op.f("fk_evaluation_experts_person_id_parties_people")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_evaluation_experts_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_experts")),
        sa.UniqueConstraint("person_id", name=op.f("uq_evaluation_experts_person_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_evaluation_experts_user_id")),
    )
    op.create_index(op.f("ix_evaluation_experts_employer_uscc"), "evaluation_experts", ["employer_uscc"], unique=False)
    op.create_index(op.f("ix_evaluation_experts_next_check"), "evaluation_experts", ["next_check"], unique=False)
    op.create_index(op.f("ix_evaluation_experts_region_code"), "evaluation_experts", ["region_code"], unique=False)
    op.create_index(op.f("ix_evaluation_experts_status"), "evaluation_experts", ["status"], unique=False)
    op.create_table(
        "evaluation_specialty_lists",
        sa.Column("list_version", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Integer(), nullable=False),
        sa.Column("loaded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loaded_by"], ["parties_users.id"], name=op.f("fk_evaluation_specialty_lists_loaded_by_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_specialty_lists")),
    )
    op.create_index(
        op.f("ix_evaluation_specialty_lists_sha256"), "evaluation_specialty_lists", ["sha256"], unique=False
    )
    op.create_table(
        "evaluation_expert_attendances",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("attended", "absent", "replaced", name="attendanceoutcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("signed_in_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_attendances_expert_id_evaluation_experts"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["bidding_tenders.id"],
            name=op.f("fk_evaluation_expert_attendances_tender_id_bidding_tenders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_attendances")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_attendances_expert_id"), "evaluation_expert_attendances", ["expert_id"], unique=False
    )
    op.create_index(
        op.f("ix_evaluation_expert_attendances_tender_id"), "evaluation_expert_attendances", ["tender_id"], unique=False
    )
    op.create_table(
        "evaluation_expert_conflicts",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_uscc", sa.String(length=18), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column(
            "relation",
            sa.Enum(
                "employment",
                "director",
                "shareholder",
                "relative",
                "adviser",
                "dispute",
                "other",
                name="relationtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_until", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("declared_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_conflicts_expert_id_evaluation_experts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_evaluation_expert_conflicts_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_conflicts")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_conflicts_expert_id"), "evaluation_expert_conflicts", ["expert_id"], unique=False
    )
    op.create_index(
        op.f("ix_evaluation_expert_conflicts_organisation_uscc"),
        "evaluation_expert_conflicts",
        ["organisation_uscc"],
        unique=False,
    )
    op.create_table(
        "evaluation_expert_draws",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("tenderee_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("draw_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "drawn",
                "confirmed",
                "declined",
                "timed-out",
                "reserve",
                name="drawoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("drawn_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_draws_expert_id_evaluation_experts"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_evaluation_expert_draws_tender_id_bidding_tenders")
        ),
        sa.ForeignKeyConstraint(
            ["tenderee_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_evaluation_expert_draws_tenderee_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_draws")),
    )
    op.create_index(op.f("ix_evaluation_expert_draws_drawn_at"), "evaluation_expert_draws", ["drawn_at"], unique=False)
    op.create_index(
        op.f("ix_evaluation_expert_draws_expert_id"), "evaluation_expert_draws", ["expert_id"], unique=False
    )
    op.create_index(
        op.f("ix_evaluation_expert_draws_tender_id"), "evaluation_expert_draws", ["tender_id"], unique=False
    )
    op.create_table(
        "evaluation_expert_ratings",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("rated_by", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("rated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_ratings_expert_id_evaluation_experts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_evaluation_expert_ratings_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["rated_by"], ["parties_users.id"], name=op.f("fk_evaluation_expert_ratings_rated_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_evaluation_expert_ratings_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_ratings")),
        sa.UniqueConstraint("expert_id", "tender_id", name=op.f("uq_evaluation_expert_ratings_expert_id_tender_id")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_ratings_expert_id"), "evaluation_expert_ratings", ["expert_id"], unique=False
    )
    op.create_index(
        op.f("ix_evaluation_expert_ratings_rated_at"), "evaluation_expert_ratings", ["rated_at"], unique=False
    )
    op.create_index(
        op.f("ix_evaluation_expert_ratings_tender_id"), "evaluation_expert_ratings", ["tender_id"], unique=False
    )
    op.create_table(
        "evaluation_expert_specialties",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("added_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_specialties_expert_id_evaluation_experts"),
        ),
        sa.PrimaryKeyConstraint("expert_id", "code", name=op.f("pk_evaluation_expert_specialties")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_specialties_code"), "evaluation_expert_specialties", ["code"], unique=False
    )
    op.create_table(
        "evaluation_expert_status_changes",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum("active", "suspended", "removed", name="expertstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "to_status",
            sa.Enum("active", "suspended", "removed", name="expertstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("suspended_until", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(
                "manual", "rating-average", "suspension-ended", name="statuschangerule", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["parties_users.id"],
            name=op.f("fk_evaluation_expert_status_changes_changed_by_parties_users"),
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_status_changes_expert_id_evaluation_experts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_status_changes")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_status_changes_expert_id"),
        "evaluation_expert_status_changes",
        ["expert_id"],
        unique=False,
    )
    op.create_table(
        "evaluation_expert_unavailability",
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("declared_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["evaluation_experts.id"],
            name=op.f("fk_evaluation_expert_unavailability_expert_id_evaluation_experts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_expert_unavailability")),
    )
    op.create_index(
        op.f("ix_evaluation_expert_unavailability_expert_id"),
        "evaluation_expert_unavailability",
        ["expert_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evaluation_expert_unavailability_expert_id"), table_name="evaluation_expert_unavailability")
    op.drop_table("evaluation_expert_unavailability")
    op.drop_index(op.f("ix_evaluation_expert_status_changes_expert_id"), table_name="evaluation_expert_status_changes")
    op.drop_table("evaluation_expert_status_changes")
    op.drop_index(op.f("ix_evaluation_expert_specialties_code"), table_name="evaluation_expert_specialties")
    op.drop_table("evaluation_expert_specialties")
    op.drop_index(op.f("ix_evaluation_expert_ratings_tender_id"), table_name="evaluation_expert_ratings")
    op.drop_index(op.f("ix_evaluation_expert_ratings_rated_at"), table_name="evaluation_expert_ratings")
    op.drop_index(op.f("ix_evaluation_expert_ratings_expert_id"), table_name="evaluation_expert_ratings")
    op.drop_table("evaluation_expert_ratings")
    op.drop_index(op.f("ix_evaluation_expert_draws_tender_id"), table_name="evaluation_expert_draws")
    op.drop_index(op.f("ix_evaluation_expert_draws_expert_id"), table_name="evaluation_expert_draws")
    op.drop_index(op.f("ix_evaluation_expert_draws_drawn_at"), table_name="evaluation_expert_draws")
    op.drop_table("evaluation_expert_draws")
    op.drop_index(op.f("ix_evaluation_expert_conflicts_organisation_uscc"), table_name="evaluation_expert_conflicts")
    op.drop_index(op.f("ix_evaluation_expert_conflicts_expert_id"), table_name="evaluation_expert_conflicts")
    op.drop_table("evaluation_expert_conflicts")
    op.drop_index(op.f("ix_evaluation_expert_attendances_tender_id"), table_name="evaluation_expert_attendances")
    op.drop_index(op.f("ix_evaluation_expert_attendances_expert_id"), table_name="evaluation_expert_attendances")
    op.drop_table("evaluation_expert_attendances")
    op.drop_index(op.f("ix_evaluation_specialty_lists_sha256"), table_name="evaluation_specialty_lists")
    op.drop_table("evaluation_specialty_lists")
    op.drop_index(op.f("ix_evaluation_experts_status"), table_name="evaluation_experts")
    op.drop_index(op.f("ix_evaluation_experts_region_code"), table_name="evaluation_experts")
    op.drop_index(op.f("ix_evaluation_experts_next_check"), table_name="evaluation_experts")
    op.drop_index(op.f("ix_evaluation_experts_employer_uscc"), table_name="evaluation_experts")
    op.drop_table("evaluation_experts")
    op.drop_index(
        "uq_evaluation_specialties_current",
        table_name="evaluation_specialties",
        postgresql_where=sa.text("current"),
        sqlite_where=sa.text("current"),
    )
    op.drop_table("evaluation_specialties")
