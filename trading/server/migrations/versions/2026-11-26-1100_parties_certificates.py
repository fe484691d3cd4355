"""parties: trust-list versions and marks, revocation cache, login challenges, certificate
bindings, platform TSA serials

Revision ID: 0003_parties_certificates
Revises: 0002_parties
Create Date: 2026-11-26 11:00:00

Runs on PostgreSQL and SQLite alike: enumerations are VARCHAR columns, the TSA serial is an
auto-incremented integer key on both (BIGSERIAL / INTEGER PRIMARY KEY), and the partial unique
index on live certificate bindings has a WHERE clause for each backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trading.kernel.db.types

revision: str = "0003_parties_certificates"
down_revision: str | Sequence[str] | None = "0002_parties"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parties_revocation_cache",
        sa.Column("key", sa.String(length=1200), nullable=False),
        sa.Column("kind", sa.Enum("crl", "ocsp", name="revocationkind", native_enum=False, length=8), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("issuer_sha256", sa.String(length=64), nullable=False),
        sa.Column("this_update", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_update", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_revocation_cache")),
        sa.UniqueConstraint("key", name=op.f("uq_parties_revocation_cache_key")),
    )
    with op.batch_alter_table("parties_revocation_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_revocation_cache_next_update"), ["next_update"], unique=False)

    op.create_table(
        "parties_timestamp_tokens",
        sa.Column("serial", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("issued_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest_algorithm", sa.String(length=16), nullable=False),
        sa.Column("message_imprint", sa.String(length=128), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_parties_timestamp_tokens")),
    )
    op.create_table(
        "parties_trust_list_marks",
        sa.Column("series", sa.String(length=300), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_parties_trust_list_marks")),
    )
    op.create_table(
        "parties_trust_lists",
        sa.Column("series", sa.String(length=300), nullable=False),
        sa.Column("peer_name", sa.String(length=200), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_update", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("operator_certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("timestamped_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_trust_lists")),
        sa.UniqueConstraint("series", "sequence", name=op.f("uq_parties_trust_lists_series_sequence")),
    )
    op.create_table(
        "parties_certificate_bindings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("not_after", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ca_name", sa.String(length=200), nullable=False),
        sa.Column(
            "party_kind",
            sa.Enum("organisation", "person", name="partykind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("bound_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("unbound_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_certificate_bindings_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["parties_people.id"], name=op.f("fk_parties_certificate_bindings_person_id_parties_people")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_parties_certificate_bindings_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties_certificate_bindings")),
    )
    with op.batch_alter_table("parties_certificate_bindings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_certificate_bindings_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_parties_certificate_bindings_live",
            ["certificate_sha256"],
            unique=True,
            postgresql_where=sa.text("unbound_at IS NULL"),
            sqlite_where=sa.text("unbound_at IS NULL"),
        )

    op.create_table(
        "parties_login_challenges",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("login", "qr-login", "bind-certificate", name="challengepurpose", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("issued_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("browser_hash", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("verified_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", trading.kernel.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_parties_login_challenges_organisation_id_parties_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["parties_users.id"], name=op.f("fk_parties_login_challenges_user_id_parties_users")
        ),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_parties_login_challenges")),
    )
    with op.batch_alter_table("parties_login_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_login_challenges_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("parties_login_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_login_challenges_expires_at"))

    op.drop_table("parties_login_challenges")
    with op.batch_alter_table("parties_certificate_bindings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_parties_certificate_bindings_live",
            postgresql_where=sa.text("unbound_at IS NULL"),
            sqlite_where=sa.text("unbound_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_parties_certificate_bindings_user_id"))

    op.drop_table("parties_certificate_bindings")
    op.drop_table("parties_trust_lists")
    op.drop_table("parties_trust_list_marks")
    op.drop_table("parties_timestamp_tokens")
    with op.batch_alter_table("parties_revocation_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_revocation_cache_next_update"))

    op.drop_table("parties_revocation_cache")
