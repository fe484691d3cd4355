"""integrity alerts: rule versions, alerts, their evidence and reviews (issue 19)

Revision ID: 0047_integrity_alerts
Revises: 0046_procurement_projects
Create Date: 2026-12-07 00:50:00

Runs on PostgreSQL and SQLite alike: JSON is JSONB on PostgreSQL, statuses are VARCHAR columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0047_integrity_alerts"
down_revision: str | Sequence[str] | None = "0046_procurement_projects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "integrity_rule_versions",
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["parties_users.id"], name=op.f("fk_integrity_rule_versions_author_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_rule_versions")),
        sa.UniqueConstraint("rule_id", "version", name=op.f("uq_integrity_rule_versions_rule_id_version")),
    )
    op.create_index(op.f("ix_integrity_rule_versions_rule_id"), "integrity_rule_versions", ["rule_id"])
    op.create_table(
        "integrity_alerts",
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("subjects", _JSON, nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=True),
        sa.Column("ocid", sa.String(length=200), nullable=False),
        sa.Column("lot", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_integrity_alerts_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_integrity_alerts_dedupe_key")),
    )
    for column in ("rule_id", "severity", "tender_id", "ocid", "status", "created_at"):
        op.create_index(op.f(f"ix_integrity_alerts_{column}"), "integrity_alerts", [column])
    op.create_table(
        "integrity_reviews",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("reviewer_name", sa.String(length=200), nullable=False),
        _time("at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["integrity_alerts.id"], name=op.f("fk_integrity_reviews_alert_id_integrity_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["parties_users.id"], name=op.f("fk_integrity_reviews_reviewer_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_reviews")),
    )
    op.create_index(op.f("ix_integrity_reviews_alert_id"), "integrity_reviews", ["alert_id"])
    op.create_table(
        "integrity_lot_screenings",
        sa.Column("tender_id", sa.Uuid(), nullable=True),
        sa.Column("ocid", sa.String(length=200), nullable=False),
        sa.Column("lot", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("values", _JSON, nullable=False),
        _time("computed_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_integrity_lot_screenings_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_lot_screenings")),
        sa.UniqueConstraint("ocid", "lot", "scope", name=op.f("uq_integrity_lot_screenings_ocid_lot_scope")),
    )
    op.create_index(op.f("ix_integrity_lot_screenings_tender_id"), "integrity_lot_screenings", ["tender_id"])
    op.create_index(op.f("ix_integrity_lot_screenings_scope"), "integrity_lot_screenings", ["scope"])


def downgrade() -> None:
    op.drop_table("integrity_lot_screenings")
    op.drop_table("integrity_reviews")
    op.drop_table("integrity_alerts")
    op.drop_table("integrity_rule_versions")
