"""The shapes the libraries take on the API (msgspec Structs)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from procurement.libraries.models import CatalogueItem, Purchaser, Supplier, SupplierQualification
from procurement.libraries.service import SupplierRefusal, SupplierView
from trading.credit.models import CreditRecord
from trading.kernel.bounds import Input, Text


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class LibraryImportCreate(Input):
    """A library file: CSV as text, or an Excel workbook as base64 (``content_base64``)."""

    format: FileFormat
    content: Text = ""
    content_base64: Text = ""


class ImportResultRead(msgspec.Struct):
    sha256: str
    created: int


class PurchaserRead(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    uscc: str
    region_code: str
    parent_code: str | None

    @classmethod
    def of(cls, row: Purchaser) -> PurchaserRead:
        return cls(row.id, row.code, row.name, row.uscc, row.region_code, row.parent_code)


class PurchaserPage(msgspec.Struct):
    items: list[PurchaserRead]
    total: int
    """Matches, counted up to 10,001 (``more`` when there are more than 10,000)."""
    more: bool
    offset: int
    limit: int


class SupplierRead(msgspec.Struct):
    id: uuid.UUID
    uscc: str
    name: str
    organisation_id: uuid.UUID | None
    region_code: str
    industry: str
    size_class: str
    employees: int | None
    revenue: Decimal | None
    assets: Decimal | None
    item_codes: list[str]
    catalogue_edition: int | None

    @classmethod
    def of(cls, row: Supplier) -> SupplierRead:
        return cls(
            row.id,
            row.uscc,
            row.name,
            row.organisation_id,
            row.region_code,
            row.industry,
            row.size_class,
            row.employees,
            row.revenue,
            row.assets,
            list(row.item_codes),
            row.catalogue_edition,
        )


class SupplierPage(msgspec.Struct):
    items: list[SupplierRead]
    total: int
    more: bool
    offset: int
    limit: int


class QualificationRead(msgspec.Struct):
    kind: str
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date | None
    valid_now: bool

    @classmethod
    def of(cls, row: SupplierQualification, today: date) -> QualificationRead:
        valid = row.valid_from <= today and (row.valid_until is None or today <= row.valid_until)
        return cls(row.kind, row.name, row.number, row.issuer, row.valid_from, row.valid_until, valid)


class CreditRecordBrief(msgspec.Struct):
    kind: str
    reason: str
    decision_no: str
    issuing_body: str
    valid_from: datetime
    valid_until: datetime | None
    status: str

    @classmethod
    def of(cls, row: CreditRecord) -> CreditRecordBrief:
        return cls(
            row.kind.value, row.reason, row.decision_no, row.issuing_body, row.valid_from, row.valid_until, row.status
        )


class RefusalRead(msgspec.Struct):
    reason: str
    valid_from: datetime
    valid_until: datetime | None
    records: list[CreditRecordBrief]

    @classmethod
    def of(cls, refusal: SupplierRefusal, records: list[CreditRecord]) -> RefusalRead:
        blocking = {record.record_id for record in refusal.records}
        return cls(
            refusal.reason,
            refusal.valid_from,
            refusal.valid_until,
            [CreditRecordBrief.of(row) for row in records if row.id in blocking],
        )


class SupplierDetail(msgspec.Struct):
    supplier: SupplierRead
    qualifications: list[QualificationRead]
    credit_records: list[CreditRecordBrief]
    refusal: RefusalRead | None
    """Set when a credit record bars the supplier from government procurement now."""

    @classmethod
    def of(cls, view: SupplierView) -> SupplierDetail:
        return cls(
            SupplierRead.of(view.supplier),
            [QualificationRead.of(row, view.today) for row in view.qualifications],
            [CreditRecordBrief.of(row) for row in view.credit_records],
            RefusalRead.of(view.refusal, list(view.credit_records)) if view.refusal else None,
        )


class CatalogueItemRead(msgspec.Struct):
    code: str
    name: str
    parent_code: str | None
    level: int

    @classmethod
    def of(cls, row: CatalogueItem) -> CatalogueItemRead:
        return cls(row.code, row.name, row.parent_code, row.level)


class CatalogueItemDetail(msgspec.Struct):
    edition: int
    item: CatalogueItemRead
    children: list[CatalogueItemRead]


class CataloguePage(msgspec.Struct):
    edition: int
    items: list[CatalogueItemRead]
    total: int
    offset: int
    limit: int
