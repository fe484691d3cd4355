"""award: the award stage's tables — awards, their steps, publicity, objections, complaints, notices, contracts

Revision ID: 0030_award_schema
Revises: 0029_eval_sealform
Create Date: 2026-12-06 21:50:00

The award stage's tables (`bidding.award.models`). Runs on PostgreSQL and SQLite alike:
enumerations are VARCHAR columns, JSON columns are JSONB on PostgreSQL (the kernel's type).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0030_award_schema"
down_revision: str | Sequence[str] | None = "0029_eval_sealform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "award_awards",
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("lot_group", sa.String(length=40), nullable=False),
        sa.Column(
            "sector",
            sa.Enum("engineering", "government_procurement", name="sector", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "state",
            sa.Enum(
                "report_signed",
                "publicity_open",
                "publicity_closed",
                "awarded",
                "notices_issued",
                "contract_signed",
                "closed",
                "failed",
                "re_tender",
                "voided",
                "objection_pending",
                "complaint_accepted",
                "suspended",
                name="awardstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("objections_pending", sa.Integer(), nullable=False),
        sa.Column("complaints_pending", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_published_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("publicity_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late_warned_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "order_record", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "passed_over", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("chosen_bid_id", sa.Uuid(), nullable=True),
        sa.Column("chosen_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("awarded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_awards_chosen_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation_evaluations.id"],
            name=op.f("fk_award_awards_evaluation_id_evaluation_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["bidding_tenders.id"], name=op.f("fk_award_awards_tender_id_bidding_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_awards")),
        sa.UniqueConstraint("evaluation_id", name=op.f("uq_award_awards_evaluation_id")),
    )
    op.create_index(op.f("ix_award_awards_next_check"), "award_awards", ["next_check"], unique=False)
    op.create_index(op.f("ix_award_awards_state"), "award_awards", ["state"], unique=False)
    op.create_index(op.f("ix_award_awards_tender_id"), "award_awards", ["tender_id"], unique=False)
    op.create_table(
        "award_contracts",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("winner_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("tenderee_organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "draft", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("due_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_state", sa.String(length=32), nullable=False),
        sa.Column(
            "reminders_sent",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("warned_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("winner_signed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("winner_signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("tenderee_signed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenderee_signer_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "performance_security",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("published_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award_awards.id"], name=op.f("fk_award_contracts_award_id_award_awards")
        ),
        sa.ForeignKeyConstraint(
            ["tenderee_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_contracts_tenderee_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["winner_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_contracts_winner_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_contracts")),
    )
    op.create_index(op.f("ix_award_contracts_award_id"), "award_contracts", ["award_id"], unique=False)
    op.create_index(op.f("ix_award_contracts_next_check"), "award_contracts", ["next_check"], unique=False)
    op.create_table(
        "award_notices",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("award", "result", name="noticekind", native_enum=False, length=32), nullable=False),
        sa.Column("recipient_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.Uuid(), nullable=True),
        sa.Column("voided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["award_id"], ["award_awards.id"], name=op.f("fk_award_notices_award_id_award_awards")),
        sa.ForeignKeyConstraint(["read_by"], ["parties_users.id"], name=op.f("fk_award_notices_read_by_parties_users")),
        sa.ForeignKeyConstraint(
            ["recipient_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_notices_recipient_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_notices")),
    )
    op.create_index(op.f("ix_award_notices_award_id"), "award_notices", ["award_id"], unique=False)
    op.create_index(
        op.f("ix_award_notices_recipient_organisation_id"), "award_notices", ["recipient_organisation_id"], unique=False
    )
    op.create_table(
        "award_objections",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=8000), nullable=True),
        sa.Column("answer_signature", sa.LargeBinary(), nullable=True),
        sa.Column("answer_signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["parties_users.id"], name=op.f("fk_award_objections_answered_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award_awards.id"], name=op.f("fk_award_objections_award_id_award_awards")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["parties_users.id"], name=op.f("fk_award_objections_filed_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_objections_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_objections")),
    )
    op.create_index(op.f("ix_award_objections_award_id"), "award_objections", ["award_id"], unique=False)
    op.create_index(op.f("ix_award_objections_next_check"), "award_objections", ["next_check"], unique=False)
    op.create_index(op.f("ix_award_objections_organisation_id"), "award_objections", ["organisation_id"], unique=False)
    op.create_table(
        "award_publicities",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", sa.Enum("candidates", "result", name="publicitykind", native_enum=False, length=32), nullable=False
        ),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opened_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("closed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award_awards.id"], name=op.f("fk_award_publicities_award_id_award_awards")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["parties_users.id"], name=op.f("fk_award_publicities_opened_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["signer_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_publicities_signer_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_publicities")),
    )
    op.create_index(op.f("ix_award_publicities_award_id"), "award_publicities", ["award_id"], unique=False)
    op.create_table(
        "award_steps",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "open_publicity",
                "close_publicity",
                "confirm_award",
                "reassign_award",
                "issue_notices",
                "sign_contract",
                "close",
                "fail",
                "re_tender",
                "file_objection",
                "answer_objection",
                "accept_complaint",
                "decide_complaint_continue",
                "uphold_complaint_reevaluate",
                "uphold_complaint_re_tender",
                "suspend",
                "resume",
                name="awardevent",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_state",
            sa.Enum(
                "report_signed",
                "publicity_open",
                "publicity_closed",
                "awarded",
                "notices_issued",
                "contract_signed",
                "closed",
                "failed",
                "re_tender",
                "voided",
                "objection_pending",
                "complaint_accepted",
                "suspended",
                name="awardstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "report_signed",
                "publicity_open",
                "publicity_closed",
                "awarded",
                "notices_issued",
                "contract_signed",
                "closed",
                "failed",
                "re_tender",
                "voided",
                "objection_pending",
                "complaint_accepted",
                "suspended",
                name="awardstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["parties_users.id"], name=op.f("fk_award_steps_actor_user_id_parties_users")
        ),
        sa.ForeignKeyConstraint(["award_id"], ["award_awards.id"], name=op.f("fk_award_steps_award_id_award_awards")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_steps_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_steps")),
        sa.UniqueConstraint("award_id", "seq", name=op.f("uq_award_steps_award_id_seq")),
    )
    op.create_index(op.f("ix_award_steps_award_id"), "award_steps", ["award_id"], unique=False)
    op.create_table(
        "award_complaints",
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("objection_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=8000), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=False),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "filed",
                "accepted",
                "rejected",
                "upheld",
                "dismissed",
                "withdrawn",
                name="complaintstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("acceptance_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acceptance_note", sa.String(length=4000), nullable=True),
        sa.Column("acceptance_signature", sa.LargeBinary(), nullable=True),
        sa.Column("decision_due", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "open_publicity",
                "close_publicity",
                "confirm_award",
                "reassign_award",
                "issue_notices",
                "sign_contract",
                "close",
                "fail",
                "re_tender",
                "file_objection",
                "answer_objection",
                "accept_complaint",
                "decide_complaint_continue",
                "uphold_complaint_reevaluate",
                "uphold_complaint_re_tender",
                "suspend",
                "resume",
                name="awardevent",
                native_enum=False,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("decision_text", sa.String(length=8000), nullable=True),
        sa.Column("decision_signature", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award_awards.id"], name=op.f("fk_award_complaints_award_id_award_awards")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["parties_users.id"], name=op.f("fk_award_complaints_decided_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["parties_users.id"], name=op.f("fk_award_complaints_filed_by_parties_users")
        ),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["award_objections.id"], name=op.f("fk_award_complaints_objection_id_award_objections")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_award_complaints_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_complaints")),
    )
    op.create_index(op.f("ix_award_complaints_award_id"), "award_complaints", ["award_id"], unique=False)
    op.create_index(op.f("ix_award_complaints_next_check"), "award_complaints", ["next_check"], unique=False)
    op.create_index(op.f("ix_award_complaints_organisation_id"), "award_complaints", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_award_complaints_state"), "award_complaints", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_award_complaints_state"), table_name="award_complaints")
    op.drop_index(op.f("ix_award_complaints_organisation_id"), table_name="award_complaints")
    op.drop_index(op.f("ix_award_complaints_next_check"), table_name="award_complaints")
    op.drop_index(op.f("ix_award_complaints_award_id"), table_name="award_complaints")
    op.drop_table("award_complaints")
    op.drop_index(op.f("ix_award_steps_award_id"), table_name="award_steps")
    op.drop_table("award_steps")
    op.drop_index(op.f("ix_award_publicities_award_id"), table_name="award_publicities")
    op.drop_table("award_publicities")
    op.drop_index(op.f("ix_award_objections_organisation_id"), table_name="award_objections")
    op.drop_index(op.f("ix_award_objections_next_check"), table_name="award_objections")
    op.drop_index(op.f("ix_award_objections_award_id"), table_name="award_objections")
    op.drop_table("award_objections")
    op.drop_index(op.f("ix_award_notices_recipient_organisation_id"), table_name="award_notices")
    op.drop_index(op.f("ix_award_notices_award_id"), table_name="award_notices")
    op.drop_table("award_notices")
    op.drop_index(op.f("ix_award_contracts_next_check"), table_name="award_contracts")
    op.drop_index(op.f("ix_award_contracts_award_id"), table_name="award_contracts")
    op.drop_table("award_contracts")
    op.drop_index(op.f("ix_award_awards_tender_id"), table_name="award_awards")
    op.drop_index(op.f("ix_award_awards_state"), table_name="award_awards")
    op.drop_index(op.f("ix_award_awards_next_check"), table_name="award_awards")
    op.drop_table("award_awards")
