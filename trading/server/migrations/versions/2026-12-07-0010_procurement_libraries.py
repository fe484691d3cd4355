"""procurement libraries: purchasers, suppliers (qualifications, certificates, contacts) and the
item catalogue by edition, with the shipped excerpt loaded as edition 1

Revision ID: 0043_procurement_libraries
Revises: 0042_guarantees_extra
Create Date: 2026-12-07 00:10:00

Runs on PostgreSQL and SQLite alike. On PostgreSQL the supplier names get a trigram index
(``pg_trgm``, created when the server offers it) for the library search; without the extension
the search still works, on the plain name index.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trading.kernel.db.types

revision: str = "0043_procurement_libraries"
down_revision: str | Sequence[str] | None = "0042_guarantees_extra"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, trading.kernel.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "procurement_purchasers",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        _time("created_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_purchasers")),
        sa.UniqueConstraint("code", name=op.f("uq_procurement_purchasers_code")),
        sa.UniqueConstraint("uscc", name=op.f("uq_procurement_purchasers_uscc")),
    )
    for column in ("name", "region_code", "parent_code"):
        op.create_index(op.f(f"ix_procurement_purchasers_{column}"), "procurement_purchasers", [column])

    op.create_table(
        "procurement_suppliers",
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("assets", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("size_class", sa.String(length=16), nullable=False),
        sa.Column("item_codes", _JSON, nullable=False),
        sa.Column("catalogue_edition", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        _time("registered_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["parties_organisations.id"],
            name=op.f("fk_procurement_suppliers_organisation_id_parties_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_suppliers")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_procurement_suppliers_organisation_id")),
        sa.UniqueConstraint("uscc", name=op.f("uq_procurement_suppliers_uscc")),
    )
    for column in ("name", "size_class"):
        op.create_index(op.f(f"ix_procurement_suppliers_{column}"), "procurement_suppliers", [column])
    op.create_index(
        "ix_procurement_suppliers_region_code",
        "procurement_suppliers",
        ["region_code"],
        postgresql_ops={"region_code": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_procurement_suppliers_uscc_pattern",
        "procurement_suppliers",
        ["uscc"],
        postgresql_ops={"uscc": "varchar_pattern_ops"},
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
        if available:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.create_index(
                "ix_procurement_suppliers_name_trgm",
                "procurement_suppliers",
                ["name"],
                postgresql_using="gin",
                postgresql_ops={"name": "gin_trgm_ops"},
            )
    else:
        # SQLite: the model's index under the same name, a plain one (name order and prefixes), so
        # the schema matches the models on both databases.
        op.create_index("ix_procurement_suppliers_name_trgm", "procurement_suppliers", ["name"])

    for table in ("procurement_supplier_qualifications", "procurement_supplier_contacts"):
        extra = (
            [
                sa.Column("kind", sa.String(length=16), nullable=False),
                sa.Column("name", sa.String(length=200), nullable=False),
                sa.Column("number", sa.String(length=100), nullable=False),
                sa.Column("issuer", sa.String(length=200), nullable=False),
                sa.Column("valid_from", sa.Date(), nullable=False),
                sa.Column("valid_until", sa.Date(), nullable=True),
            ]
            if table.endswith("qualifications")
            else [
                sa.Column("name", sa.String(length=100), nullable=False),
                sa.Column("phone", sa.String(length=40), nullable=False),
                sa.Column("email", sa.String(length=200), nullable=True),
            ]
        )
        op.create_table(
            table,
            sa.Column("supplier_id", sa.Uuid(), nullable=False),
            *extra,
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.ForeignKeyConstraint(
                ["supplier_id"],
                ["procurement_suppliers.id"],
                name=op.f(f"fk_{table}_supplier_id_procurement_suppliers"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_supplier_id"), table, ["supplier_id"])

    editions = op.create_table(
        "procurement_catalogue_editions",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        _time("loaded_at"),
        sa.Column("loaded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_catalogue_editions")),
        sa.UniqueConstraint("number", name=op.f("uq_procurement_catalogue_editions_number")),
    )
    items = op.create_table(
        "procurement_catalogue_items",
        sa.Column("edition_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=16), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["procurement_catalogue_editions.id"],
            name=op.f("fk_procurement_catalogue_items_edition_id_procurement_catalogue_editions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_catalogue_items")),
        sa.UniqueConstraint("edition_id", "code", name=op.f("uq_procurement_catalogue_items_edition_id_code")),
    )
    op.create_index(
        "ix_procurement_catalogue_items_edition_id_parent_code",
        "procurement_catalogue_items",
        ["edition_id", "parent_code"],
    )

    # Edition 1: the excerpt shipped with the platform (reference data, not a user's change).
    from procurement.libraries import catalogue  # noqa: PLC0415 - read only when the migration runs

    data = catalogue.EXCERPT.read_bytes()
    parsed = catalogue.parse(data)
    edition_id = uuid.uuid4()
    op.execute(
        editions.insert().values(
            id=edition_id,
            number=1,
            title=catalogue.EXCERPT_TITLE,
            sha256=hashlib.sha256(data).hexdigest(),
            item_count=len(parsed),
            loaded_at=sa.func.current_timestamp(),
            loaded_by=None,
        )
    )
    op.bulk_insert(
        items,
        [
            {
                "id": uuid.uuid4(),
                "edition_id": edition_id,
                "code": item.code,
                "name": item.name,
                "parent_code": item.parent_code,
                "level": item.level,
            }
            for item in parsed
        ],
    )


def downgrade() -> None:
    op.drop_table("procurement_catalogue_items")
    op.drop_table("procurement_catalogue_editions")
    op.drop_table("procurement_supplier_contacts")
    op.drop_table("procurement_supplier_qualifications")
    op.drop_index("ix_procurement_suppliers_name_trgm", table_name="procurement_suppliers", if_exists=True)
    op.drop_table("procurement_suppliers")
    op.drop_table("procurement_purchasers")
