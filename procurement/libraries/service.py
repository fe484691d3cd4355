"""Reading and writing the libraries: search with filters and pages, a supplier's page (its
qualifications, contacts and credit records), a supplier registering itself, and the one credit
question procurement asks (`supplier_refusal`). Services only flush; the boundary commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from procurement.libraries import catalogue, sizes
from procurement.libraries.errors import SupplierRefused
from procurement.libraries.models import Purchaser, Supplier, SupplierContact, SupplierQualification
from trading.credit.models import Activity, CreditRecord
from trading.credit.service import BlockingRecord, may_take_part
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, ValidationFailed
from trading.ledger.service import append_entry
from trading.parties.models import Organisation

T = TypeVar("T")
PAGE_SIZE = 20
COUNT_CAP = 10_000
"""Counting stops here: "more than 10,000" is all a reader of a search needs, and counting a
million matches would cost more than the page itself."""


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    total: int
    """Matches, up to ``COUNT_CAP`` (``capped`` says when there are more)."""
    offset: int
    limit: int

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _page(
    session: AsyncSession,
    query: sa.Select[T],
    entity: type[T],
    order: Sequence[InstrumentedAttribute[Any]],
    *,
    offset: int,
    limit: int,
) -> Page[T]:
    """Count (up to ``COUNT_CAP`` + 1) and the page, in one pass when the matches are few.

    One statement takes up to ``COUNT_CAP`` + 1 matching rows, counts them and sorts the page out
    of them: the rows are read once (a broad filter such as a region and a trade word matches
    thousands of suppliers scattered over as many pages, and reading them twice was half the
    search's time). When there are more matches than that, those rows are not the first by
    ``order``: the page is read again by walking the order's index and filtering, which stops
    early when matches are dense — as they are when there are that many.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Plan each search for its own values: a cached generic plan cannot use the prefix
        # indexes (LIKE $1) nor judge how rare a name is. For this transaction only.
        await session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    matches = query.limit(COUNT_CAP + 1).cte("matches")
    found = aliased(entity, matches)
    counted = sa.select(sa.func.count()).select_from(matches).scalar_subquery()
    first = (
        await session.execute(
            sa.select(found, counted)
            .order_by(*(getattr(found, column.key) for column in order))
            .offset(offset)
            .limit(limit)
        )
    ).all()
    if first:
        total = int(first[0][1])
    else:  # no match, or an offset past the last one: the count alone
        total = await session.scalar(sa.select(sa.func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())) or 0
    if total <= COUNT_CAP:
        return Page([row[0] for row in first], total, offset, limit)
    rows = (await session.scalars(query.order_by(*order).offset(offset).limit(limit))).all()
    return Page(rows, total, offset, limit)


@dataclass(frozen=True)
class PurchaserFilter:
    text: str = ""
    """In the name, or the start of the code or the USCC."""
    region: str = ""
    """Region code prefix (32 a province, 3201 a city)."""
    parent_code: str = ""


async def search_purchasers(
    session: AsyncSession, where: PurchaserFilter, *, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[Purchaser]:
    query = sa.select(Purchaser)
    text = where.text.strip()
    if text:
        pattern = _escaped(text)
        query = query.where(
            sa.or_(
                Purchaser.name.ilike(f"%{pattern}%", escape="\\"),
                Purchaser.code.like(f"{pattern}%", escape="\\"),
                Purchaser.uscc.like(f"{pattern.upper()}%", escape="\\"),
            )
        )
    if where.region.strip():
        query = query.where(Purchaser.region_code.like(f"{_escaped(where.region.strip())}%", escape="\\"))
    if where.parent_code.strip():
        query = query.where(Purchaser.parent_code == where.parent_code.strip())
    return await _page(session, query, Purchaser, (Purchaser.code,), offset=offset, limit=limit)


@dataclass(frozen=True)
class SupplierFilter:
    text: str = ""
    """In the name, or the start of the USCC."""
    region: str = ""
    size_class: str = ""
    industry: str = ""


async def search_suppliers(
    session: AsyncSession, where: SupplierFilter, *, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[Supplier]:
    """Suppliers matching every filter given, by name. On PostgreSQL the name match uses the
    trigram index (``pg_trgm``); the USCC prefix the unique index.
    """
    query = sa.select(Supplier)
    text = where.text.strip()
    if text:
        pattern = _escaped(text)
        name = Supplier.name.ilike(f"%{pattern}%", escape="\\")
        code_like = text.isascii() and text.isalnum()
        query = query.where(sa.or_(name, Supplier.uscc.like(f"{pattern.upper()}%", escape="\\")) if code_like else name)
    if where.region.strip():
        query = query.where(Supplier.region_code.like(f"{_escaped(where.region.strip())}%", escape="\\"))
    if where.size_class:
        query = query.where(Supplier.size_class == where.size_class)
    if where.industry:
        query = query.where(Supplier.industry == where.industry)
    return await _page(session, query, Supplier, (Supplier.name, Supplier.id), offset=offset, limit=limit)


# --- one supplier -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierView:
    supplier: Supplier
    qualifications: Sequence[SupplierQualification]
    contacts: Sequence[SupplierContact]
    credit_records: Sequence[CreditRecord]
    refusal: SupplierRefusal | None
    today: date


async def supplier(session: AsyncSession, supplier_id: uuid.UUID) -> Supplier:
    found = await session.get(Supplier, supplier_id)
    if found is None:
        raise NotFound("no such supplier", field="supplier_id", rule="exists")
    return found


async def supplier_of(session: AsyncSession, organisation_id: uuid.UUID) -> Supplier | None:
    return await session.scalar(sa.select(Supplier).where(Supplier.organisation_id == organisation_id))


async def view(session: AsyncSession, found: Supplier) -> SupplierView:
    """The supplier with its qualifications, contacts and credit records (in force now, by USCC)."""
    now = await clock.now(session)
    qualifications = (
        await session.scalars(
            sa.select(SupplierQualification)
            .where(SupplierQualification.supplier_id == found.id)
            .order_by(SupplierQualification.kind, SupplierQualification.valid_from)
        )
    ).all()
    contacts = (await session.scalars(sa.select(SupplierContact).where(SupplierContact.supplier_id == found.id))).all()
    records = (
        await session.scalars(
            sa.select(CreditRecord).where(CreditRecord.uscc == found.uscc).order_by(CreditRecord.valid_from.desc())
        )
    ).all()
    refusal = await supplier_refusal(session, found.organisation_id) if found.organisation_id else None
    return SupplierView(found, qualifications, contacts, records, refusal, now.date())


# --- credit -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierRefusal:
    """Why a supplier must be refused now: the blocking credit records, each with its reason and
    period (the first is the one a short message names).
    """

    organisation_id: uuid.UUID
    records: tuple[BlockingRecord, ...]

    @property
    def reason(self) -> str:
        return self.records[0].reason

    @property
    def valid_from(self) -> datetime:
        return self.records[0].valid_from

    @property
    def valid_until(self) -> datetime | None:
        return self.records[0].valid_until

    @property
    def period(self) -> str:
        return self.records[0].period()

    def error(self, field_name: str = "supplier") -> SupplierRefused:
        """The 403 to answer with: every record's reason and period in ``records``."""
        described = "; ".join(
            f"{record.decision_no} by {record.issuing_body} ({record.period()}): {record.reason}"
            for record in self.records
        )
        return SupplierRefused(
            f"the supplier is barred from government procurement by a credit record: {described}",
            field=field_name,
            rule="credit-blacklisted",
            extra={
                "records": [
                    {
                        "id": str(record.record_id),
                        "kind": record.kind.value,
                        "reason": record.reason,
                        "valid_from": record.valid_from.isoformat(),
                        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
                        "issuing_body": record.issuing_body,
                        "decision_no": record.decision_no,
                    }
                    for record in self.records
                ]
            },
        )


async def supplier_refusal(
    session: AsyncSession, organisation_id: uuid.UUID, at: datetime | None = None
) -> SupplierRefusal | None:
    """Must the supplier ``organisation_id`` be refused in government procurement at ``at``
    (default: now)? The blocking credit records (blacklist, serious violation, a penalty barring
    procurement) in force then, with their reasons and periods; None when it may take part.
    Projects and tenders ask this at every step a supplier takes.
    """
    moment = at or await clock.now(session)
    eligibility = await may_take_part(session, organisation_id, Activity.GOVERNMENT_PROCUREMENT, moment)
    return None if eligibility.allowed else SupplierRefusal(organisation_id, eligibility.blocking)


# --- a supplier registering itself ------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    industry: str
    employees: int | None
    revenue: Decimal | None
    assets: Decimal | None
    item_codes: tuple[str, ...]
    contact_name: str
    contact_phone: str
    contact_email: str | None


async def register(session: AsyncSession, organisation_id: uuid.UUID, data: Registration, *, actor: Actor) -> Supplier:
    """Enter the organisation into the supplier library, or update its entry (size figures,
    items, contact). A supplier barred by a credit record is refused with the record's reason
    and period.
    """
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation", field="organisation_id", rule="exists")
    refusal = await supplier_refusal(session, organisation_id)
    if refusal is not None:
        raise refusal.error("organisation")
    industry = sizes.industry_of(data.industry)
    if industry is None:
        raise ValidationFailed("choose an industry of the size thresholds", field="industry", rule="industry")
    figures = {
        "employees": Decimal(data.employees) if data.employees is not None else None,
        "revenue": data.revenue,
        "assets": data.assets,
    }
    missing = sizes.missing_measures(industry, figures)
    if missing:
        raise ValidationFailed(f"{industry.name} needs {', '.join(missing)}", field=missing[0], rule="size_figures")
    edition = await catalogue.edition(session)
    unknown = set(data.item_codes) - await catalogue.known_codes(
        session, set(data.item_codes), edition_number=edition.number
    )
    if unknown:
        raise ValidationFailed(
            f"not in the catalogue: {', '.join(sorted(unknown))}", field="item_codes", rule="item_code"
        )
    now = await clock.now(session)
    found = await session.scalar(sa.select(Supplier).where(Supplier.uscc == organisation.uscc).with_for_update())
    if found is None:
        found = Supplier(id=uuid.uuid4(), uscc=organisation.uscc, source="self", registered_at=now)
        session.add(found)
    found.organisation_id = organisation.id
    found.name = organisation.name
    found.region_code = organisation.region_code
    found.industry = industry.code
    found.employees = data.employees
    found.revenue = data.revenue
    found.assets = data.assets
    found.size_class = sizes.classify(industry, figures).value
    found.item_codes = list(data.item_codes)
    found.catalogue_edition = edition.number
    await session.flush()
    await session.execute(sa.delete(SupplierContact).where(SupplierContact.supplier_id == found.id))
    session.add(
        SupplierContact(
            id=uuid.uuid4(),
            supplier_id=found.id,
            name=data.contact_name,
            phone=data.contact_phone,
            email=data.contact_email,
        )
    )
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="procurement.supplier_registered",
        subject_type="procurement.supplier",
        subject_id=str(found.id),
        summary={"uscc": found.uscc},
    )
    return found


@dataclass(frozen=True)
class QualificationData:
    kind: str
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date | None


async def add_qualification(
    session: AsyncSession, found: Supplier, data: QualificationData, *, actor: Actor
) -> SupplierQualification:
    if data.kind not in {"qualification", "certificate"}:
        raise ValidationFailed("a qualification or a certificate", field="kind", rule="kind")
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise ValidationFailed("the end is before the start", field="valid_until", rule="period")
    row = SupplierQualification(id=uuid.uuid4(), supplier_id=found.id, **data.__dict__)
    session.add(row)
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="procurement.qualification_added",
        subject_type="procurement.supplier",
        subject_id=str(found.id),
        summary={"uscc": found.uscc},
    )
    return row
