"""The procurement libraries' tables: purchasers (budget units), suppliers with their
qualifications, certificates and contacts, and the commodity catalogue (政府采购品目分类目录) by
edition. Migration ``0043_procurement_libraries``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData


class Purchaser(UUIDPrimaryKey, Base):
    """A budget unit (预算单位) that buys under the government procurement rules."""

    __tablename__ = "procurement_purchasers"

    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    """The budget unit's code (预算单位编码) as the finance department numbers it."""
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    """GB/T 2260 administrative division (行政区划代码)."""
    parent_code: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    """The code of the department above it (主管部门), a purchaser of this library."""
    created_at: Mapped[datetime]


class Supplier(UUIDPrimaryKey, Base):
    """A supplier in the library (供应商库), keyed by its 统一社会信用代码; ``organisation_id`` is its
    organisation on the platform (always set when it registered itself, set by an import when the
    code is on the platform).
    """

    __tablename__ = "procurement_suppliers"
    __table_args__ = (
        sa.Index(
            "ix_procurement_suppliers_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        # A USCC or region prefix (LIKE 'prefix%') whatever the database's collation.
        sa.Index(
            "ix_procurement_suppliers_region_code",
            "region_code",
            postgresql_ops={"region_code": "varchar_pattern_ops"},
        ),
        sa.Index("ix_procurement_suppliers_uscc_pattern", "uscc", postgresql_ops={"uscc": "varchar_pattern_ops"}),
    )

    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"), unique=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    industry: Mapped[str] = mapped_column(sa.String(40))
    """An industry code of the size thresholds (``sizes.industries``)."""
    employees: Mapped[int | None]
    revenue: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    """营业收入, 万元."""
    assets: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    """资产总额, 万元."""
    size_class: Mapped[str] = mapped_column(sa.String(16), index=True)
    """``sizes.SizeClass``, computed from the industry and the figures when they are written."""
    item_codes: Mapped[list[str]] = mapped_column(JSONData)
    """The 品目 it supplies, codes of the catalogue edition ``catalogue_edition``."""
    catalogue_edition: Mapped[int | None]
    source: Mapped[str] = mapped_column(sa.String(16))
    """``self`` (registered from its page) or ``import``."""
    registered_at: Mapped[datetime]


class SupplierQualification(UUIDPrimaryKey, Base):
    """A qualification (资质) or a certificate (证书) of a supplier, with its validity."""

    __tablename__ = "procurement_supplier_qualifications"

    supplier_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("procurement_suppliers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    """``qualification`` or ``certificate``."""
    name: Mapped[str] = mapped_column(sa.String(200))
    number: Mapped[str] = mapped_column(sa.String(100))
    issuer: Mapped[str] = mapped_column(sa.String(200))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    """The last day in force; ``None``: no end (长期)."""


class SupplierContact(UUIDPrimaryKey, Base):
    __tablename__ = "procurement_supplier_contacts"

    supplier_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("procurement_suppliers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(200))


class CatalogueEdition(UUIDPrimaryKey, Base):
    """One edition of the item catalogue; the newest is used for new work, and what was written
    against an older one keeps naming its edition.
    """

    __tablename__ = "procurement_catalogue_editions"

    number: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    item_count: Mapped[int]
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[uuid.UUID | None]


class CatalogueItem(UUIDPrimaryKey, Base):
    """One 品目 of one edition: ``A`` goods, ``B`` works, ``C`` services, two digits a level."""

    __tablename__ = "procurement_catalogue_items"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "code"),
        sa.Index("ix_procurement_catalogue_items_edition_id_parent_code", "edition_id", "parent_code"),
    )

    edition_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("procurement_catalogue_editions.id"))
    code: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_code: Mapped[str | None] = mapped_column(sa.String(16))
    level: Mapped[int]
