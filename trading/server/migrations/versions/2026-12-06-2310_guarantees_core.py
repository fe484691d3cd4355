"""guarantees core: guarantors, products, applications, guarantees, claims, releases, cash-bond refunds

Revision ID: 0038_guarantees_core
Revises: 0037_eval_drawcache
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0038_guarantees_core"
down_revision: str | Sequence[str] | None = "0037_eval_drawcache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guarantees_cash_bond_refunds",
        sa.Column("project_code", sa.String(length=64), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("bidder_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cause_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=True),
        sa.Column("refunded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late_days", sa.Integer(), nullable=True),
        sa.Column("late_interest", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("annual_rate_percent", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bidder_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_guarantees_cash_bond_refunds_bidder_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_cash_bond_refunds")),
        sa.UniqueConstraint(
            "project_code",
            "lot_code",
            "bidder_organisation_id",
            name=op.f("uq_guarantees_cash_bond_refunds_project_code_lot_code_bidder_organisation_id"),
        ),
    )
    op.create_index(
        op.f("ix_guarantees_cash_bond_refunds_project_code"),
        "guarantees_cash_bond_refunds",
        ["project_code"],
        unique=False,
    )
    op.create_table(
        "guarantees_guarantors",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("branch", sa.String(length=200), nullable=True),
        sa.Column("issuing_cert_der", sa.LargeBinary(), nullable=False),
        sa.Column("issuing_cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuing_cert_subject", sa.String(length=1000), nullable=False),
        sa.Column("api_cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("callback_url", sa.String(length=1000), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", name="guarantorstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("onboarded_by", sa.Uuid(), nullable=True),
        sa.Column("onboarded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_guarantees_guarantors_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_guarantors")),
        sa.UniqueConstraint("api_cert_sha256", name=op.f("uq_guarantees_guarantors_api_cert_sha256")),
        sa.UniqueConstraint("issuing_cert_sha256", name=op.f("uq_guarantees_guarantors_issuing_cert_sha256")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_guarantees_guarantors_organisation_id")),
    )
    op.create_table(
        "guarantees_products",
        sa.Column("guarantor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bid", "performance", "advance_payment", "quality", name="guaranteekind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fee_rate_percent", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("minimum_fee", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guarantor_id"],
            ["guarantees_guarantors.id"],
            name=op.f("fk_guarantees_products_guarantor_id_guarantees_guarantors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_products")),
    )
    op.create_index(op.f("ix_guarantees_products_guarantor_id"), "guarantees_products", ["guarantor_id"], unique=False)
    op.create_table(
        "guarantees_applications",
        sa.Column("application_no", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("guarantor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bid", "performance", "advance_payment", "quality", name="guaranteekind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("applicant_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_uscc", sa.String(length=18), nullable=False),
        sa.Column("beneficiary_name", sa.String(length=200), nullable=False),
        sa.Column("beneficiary_uscc", sa.String(length=18), nullable=False),
        sa.Column("project_code", sa.String(length=64), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("lot_name", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("fee", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "paid",
                "issued",
                "refused",
                "withdrawn",
                name="applicationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("refusal_reason", sa.String(length=2000), nullable=True),
        sa.Column("applied_by", sa.Uuid(), nullable=True),
        sa.Column("applied_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_guarantees_applications_applicant_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["guarantor_id"],
            ["guarantees_guarantors.id"],
            name=op.f("fk_guarantees_applications_guarantor_id_guarantees_guarantors"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["guarantees_products.id"],
            name=op.f("fk_guarantees_applications_product_id_guarantees_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_applications")),
        sa.UniqueConstraint("application_no", name=op.f("uq_guarantees_applications_application_no")),
    )
    op.create_index(
        op.f("ix_guarantees_applications_applicant_organisation_id"),
        "guarantees_applications",
        ["applicant_organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_guarantees_applications_guarantor_id"), "guarantees_applications", ["guarantor_id"], unique=False
    )
    op.create_index(
        op.f("ix_guarantees_applications_project_code"), "guarantees_applications", ["project_code"], unique=False
    )
    op.create_index(op.f("ix_guarantees_applications_status"), "guarantees_applications", ["status"], unique=False)
    op.create_table(
        "guarantees_guarantees",
        sa.Column("guarantee_no", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bid", "performance", "advance_payment", "quality", name="guaranteekind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("guarantor_id", sa.Uuid(), nullable=False),
        sa.Column("applicant_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_uscc", sa.String(length=18), nullable=False),
        sa.Column("beneficiary_name", sa.String(length=200), nullable=False),
        sa.Column("beneficiary_uscc", sa.String(length=18), nullable=False),
        sa.Column("project_code", sa.String(length=64), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("lot_name", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("claim_conditions", sa.Text(), nullable=False),
        sa.Column("issued_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("json_key", sa.String(length=200), nullable=False),
        sa.Column("json_sha256", sa.String(length=64), nullable=False),
        sa.Column("cades_key", sa.String(length=200), nullable=False),
        sa.Column("pdf_key", sa.String(length=200), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("verification_code", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "verified",
                "claimed",
                "paid_out",
                "released",
                "expired",
                name="guaranteestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("verified_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bid_id", sa.Uuid(), nullable=True),
        sa.Column("attached_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_guarantees_guarantees_applicant_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["guarantees_applications.id"],
            name=op.f("fk_guarantees_guarantees_application_id_guarantees_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["guarantor_id"],
            ["guarantees_guarantors.id"],
            name=op.f("fk_guarantees_guarantees_guarantor_id_guarantees_guarantors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_guarantees")),
        sa.UniqueConstraint("application_id", name=op.f("uq_guarantees_guarantees_application_id")),
        sa.UniqueConstraint("bid_id", name=op.f("uq_guarantees_guarantees_bid_id")),
        sa.UniqueConstraint("guarantee_no", name=op.f("uq_guarantees_guarantees_guarantee_no")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_guarantees_guarantees_verification_code")),
    )
    op.create_index(
        op.f("ix_guarantees_guarantees_applicant_organisation_id"),
        "guarantees_guarantees",
        ["applicant_organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_guarantees_guarantees_guarantor_id"), "guarantees_guarantees", ["guarantor_id"], unique=False
    )
    op.create_index(op.f("ix_guarantees_guarantees_next_check"), "guarantees_guarantees", ["next_check"], unique=False)
    op.create_index(
        op.f("ix_guarantees_guarantees_project_code"), "guarantees_guarantees", ["project_code"], unique=False
    )
    op.create_index(op.f("ix_guarantees_guarantees_status"), "guarantees_guarantees", ["status"], unique=False)
    op.create_table(
        "guarantees_claims",
        sa.Column("guarantee_id", sa.Uuid(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "withdrawal_after_deadline",
                "decryption_failure",
                "refused_to_sign",
                "no_performance_security",
                name="claimtrigger",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("claimant_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=True),
        sa.Column("filed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("filed", "paid", "rejected", name="claimstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim_signature_key", sa.String(length=200), nullable=True),
        sa.Column("answer_signature_key", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claimant_organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_guarantees_claims_claimant_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["guarantee_id"],
            ["guarantees_guarantees.id"],
            name=op.f("fk_guarantees_claims_guarantee_id_guarantees_guarantees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_claims")),
    )
    op.create_index(op.f("ix_guarantees_claims_guarantee_id"), "guarantees_claims", ["guarantee_id"], unique=False)
    op.create_index(op.f("ix_guarantees_claims_status"), "guarantees_claims", ["status"], unique=False)
    op.create_table(
        "guarantees_releases",
        sa.Column("guarantee_id", sa.Uuid(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "contract_signed",
                "not_awarded",
                "expired",
                "tender_ended",
                name="releasereason",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guarantee_id"],
            ["guarantees_guarantees.id"],
            name=op.f("fk_guarantees_releases_guarantee_id_guarantees_guarantees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees_releases")),
        sa.UniqueConstraint("guarantee_id", name=op.f("uq_guarantees_releases_guarantee_id")),
    )
    op.create_index(
        op.f("ix_guarantees_releases_next_attempt_at"), "guarantees_releases", ["next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guarantees_releases_next_attempt_at"), table_name="guarantees_releases")
    op.drop_table("guarantees_releases")
    op.drop_index(op.f("ix_guarantees_claims_status"), table_name="guarantees_claims")
    op.drop_index(op.f("ix_guarantees_claims_guarantee_id"), table_name="guarantees_claims")
    op.drop_table("guarantees_claims")
    op.drop_index(op.f("ix_guarantees_guarantees_status"), table_name="guarantees_guarantees")
    op.drop_index(op.f("ix_guarantees_guarantees_project_code"), table_name="guarantees_guarantees")
    op.drop_index(op.f("ix_guarantees_guarantees_next_check"), table_name="guarantees_guarantees")
    op.drop_index(op.f("ix_guarantees_guarantees_guarantor_id"), table_name="guarantees_guarantees")
    op.drop_index(op.f("ix_guarantees_guarantees_applicant_organisation_id"), table_name="guarantees_guarantees")
    op.drop_table("guarantees_guarantees")
    op.drop_index(op.f("ix_guarantees_applications_status"), table_name="guarantees_applications")
    op.drop_index(op.f("ix_guarantees_applications_project_code"), table_name="guarantees_applications")
    op.drop_index(op.f("ix_guarantees_applications_guarantor_id"), table_name="guarantees_applications")
    op.drop_index(op.f("ix_guarantees_applications_applicant_organisation_id"), table_name="guarantees_applications")
    op.drop_table("guarantees_applications")
    op.drop_index(op.f("ix_guarantees_products_guarantor_id"), table_name="guarantees_products")
    op.drop_table("guarantees_products")
    op.drop_table("guarantees_guarantors")
    op.drop_index(op.f("ix_guarantees_cash_bond_refunds_project_code"), table_name="guarantees_cash_bond_refunds")
    op.drop_table("guarantees_cash_bond_refunds")
