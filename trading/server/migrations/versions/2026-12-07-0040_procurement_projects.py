"""procurement projects: intentions (采购意向), plans (采购计划) and projects with their method and tender

Revision ID: 0046_procurement_projects
Revises: 0045_procurement_requirements
Create Date: 2026-12-07 00:40:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0046_procurement_projects"
down_revision: str | Sequence[str] | None = "0045_procurement_requirements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_MONEY = sa.Numeric(precision=16, scale=2)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


_CATEGORY = ("goods", "works", "services")


def upgrade() -> None:
    op.create_table(
        "procurement_plans",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("budget_year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _time("created_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_procurement_plans_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_plans")),
        sa.UniqueConstraint(
            "organisation_id", "budget_year", name=op.f("uq_procurement_plans_organisation_id_budget_year")
        ),
    )
    op.create_index(op.f("ix_procurement_plans_organisation_id"), "procurement_plans", ["organisation_id"])
    op.create_table(
        "procurement_intentions",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("project_name", sa.String(length=300), nullable=False),
        sa.Column("budget", _MONEY, nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("category", _enum("itemcategory", *_CATEGORY), nullable=False),
        sa.Column("summary", sa.String(length=4000), nullable=False),
        sa.Column("expected_month", sa.String(length=7), nullable=False),
        _time("expected_start"),
        sa.Column("exemption", sa.String(length=32), nullable=True),
        sa.Column("exemption_text", sa.String(length=2000), nullable=True),
        _time("published_at"),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_procurement_intentions_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["procurement_plans.id"], name=op.f("fk_procurement_intentions_plan_id_procurement_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_intentions")),
    )
    for column in ("organisation_id", "plan_id", "published_at"):
        op.create_index(op.f(f"ix_procurement_intentions_{column}"), "procurement_intentions", [column])
    op.create_table(
        "procurement_projects",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("intention_id", sa.Uuid(), nullable=True),
        sa.Column("requirement_id", sa.Uuid(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("category", _enum("itemcategory", *_CATEGORY), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("budget", _MONEY, nullable=False),
        sa.Column(
            "method",
            _enum(
                "procurementmethod",
                "public-tender",
                "invitation",
                "competitive-negotiation",
                "competitive-consultation",
                "inquiry",
                "single-source",
            ),
            nullable=False,
        ),
        sa.Column("method_reason", sa.String(length=64), nullable=True),
        sa.Column("justification", sa.String(length=4000), nullable=True),
        sa.Column("approval_ref", sa.String(length=200), nullable=True),
        sa.Column("supplier_name", sa.String(length=200), nullable=True),
        _time("publicity_from", nullable=True),
        _time("publicity_until", nullable=True),
        _time("notice_at"),
        sa.Column("exemption", sa.String(length=32), nullable=True),
        sa.Column("exemption_text", sa.String(length=2000), nullable=True),
        sa.Column("evaluation_method", sa.String(length=32), nullable=False),
        sa.Column("criteria", _JSON, nullable=False),
        sa.Column("sme_deduction_percent", sa.Integer(), nullable=False),
        sa.Column("bid_security_amount", _MONEY, nullable=False),
        sa.Column(
            "status",
            _enum("projectstatus", "draft", "publicity", "ready", "tendered", "proceeding"),
            nullable=False,
        ),
        sa.Column("tender_id", sa.Uuid(), nullable=True),
        _time("warned_at", nullable=True),
        _time("next_check", nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_procurement_projects_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["procurement_plans.id"], name=op.f("fk_procurement_projects_plan_id_procurement_plans")
        ),
        sa.ForeignKeyConstraint(
            ["intention_id"],
            ["procurement_intentions.id"],
            name=op.f("fk_procurement_projects_intention_id_procurement_intentions"),
        ),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["procurement_requirements.id"],
            name=op.f("fk_procurement_projects_requirement_id_procurement_requirements"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_procurement_projects_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_procurement_projects_code")),
    )
    for column in ("organisation_id", "plan_id", "intention_id", "requirement_id", "next_check"):
        op.create_index(op.f(f"ix_procurement_projects_{column}"), "procurement_projects", [column])


def downgrade() -> None:
    for column in ("organisation_id", "plan_id", "intention_id", "requirement_id", "next_check"):
        op.drop_index(op.f(f"ix_procurement_projects_{column}"), table_name="procurement_projects")
    op.drop_table("procurement_projects")
    for column in ("organisation_id", "plan_id", "published_at"):
        op.drop_index(op.f(f"ix_procurement_intentions_{column}"), table_name="procurement_intentions")
    op.drop_table("procurement_intentions")
    op.drop_index(op.f("ix_procurement_plans_organisation_id"), table_name="procurement_plans")
    op.drop_table("procurement_plans")
