"""The libraries' pages: search with filters and pages, CSV/Excel import and export (a refused
file lists every bad row, nothing imported), a supplier's page with its credit records, the item
catalogue (browse, search, load a newer edition), and a supplier's own registration and
qualifications (我的资质).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.libraries import catalogue, importing, service, sizes
from procurement.libraries.errors import LibraryImportRefused
from procurement.libraries.policies import LibraryPermission
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, PermissionDenied, ValidationFailed
from trading.kernel.web import refusals
from trading.kernel.web.forms import FieldParser, FormBody, Labels, read_form, submit
from trading.kernel.web.i18n import N_, gettext
from trading.kernel.web.pages import page

UNPROCESSABLE: Final = 422
MAX_OFFSET: Final = 1_000_000
FILE_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMPORT_REFUSED = N_("The file was refused and nothing was imported. Correct every row listed and upload it again.")
CHOOSE_FILE = N_("Choose a CSV or Excel file to import.")
UNKNOWN_FORMAT = N_("The file's name ends in .csv or .xlsx.")
TITLE_REQUIRED = N_("Name the edition (e.g. the notice that published it).")
NOT_AN_ORGANISATION = N_("Sign in as a member of your organisation to register it.")

SIZE_LABELS: Final = {
    sizes.SizeClass.LARGE.value: N_("Large enterprise"),
    sizes.SizeClass.MEDIUM.value: N_("Medium enterprise"),
    sizes.SizeClass.SMALL.value: N_("Small enterprise"),
    sizes.SizeClass.MICRO.value: N_("Micro enterprise"),
}
KIND_LABELS: Final = {"qualification": N_("Qualification"), "certificate": N_("Certificate")}

LABELS = Labels(
    fields={
        "industry": N_("Industry"),
        "employees": N_("Employees"),
        "revenue": N_("Operating revenue (10,000 yuan)"),
        "assets": N_("Total assets (10,000 yuan)"),
        "item_codes": N_("Items supplied"),
        "contact_name": N_("Contact person"),
        "contact_phone": N_("Contact phone"),
        "contact_email": N_("Contact e-mail"),
        "kind": N_("Kind"),
        "name": N_("Name"),
        "number": N_("Certificate number"),
        "issuer": N_("Issued by"),
        "valid_from": N_("Valid from"),
        "valid_until": N_("Valid until"),
    },
    rules={
        "industry": N_("Choose an industry of the size thresholds."),
        "size_figures": N_("This industry's size thresholds need this figure."),
        "item_code": N_("The item code is not in the catalogue."),
        "period": N_("The end is before the start."),
    },
)


def _int(raw: str | None, default: int = 0) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return min(max(value, 0), MAX_OFFSET)


def _query(request: Request[Any, Any, Any], *names: str) -> dict[str, str]:
    return {name: str(request.query_params.get(name) or "").strip()[:200] for name in names}


async def _upload(request: Request[Any, Any, Any]) -> tuple[bytes, bool, dict[str, str]]:
    form = await read_form(request)
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
    if not data or not isinstance(upload, UploadFile):
        raise ValidationFailed(CHOOSE_FILE, field="file", rule="required")
    suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
    if suffix not in FILE_TYPES:
        raise ValidationFailed(UNKNOWN_FORMAT, field="file", rule="format")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return data, suffix == "xlsx", fields


def _refusal_context(exc: DomainError) -> dict[str, Any]:
    if exc.status_code >= 500 or exc.status_code in {403, 404}:  # noqa: PLR2004
        raise exc
    listed = exc.extra.get("errors") if isinstance(exc, LibraryImportRefused) else None
    rows = [
        {**row, "message": refusals.explain(str(row.get("message", "")), row.get("rule"), row.get("field"))}
        for row in (listed or [{"row": None, "field": exc.field, "rule": exc.rule, "message": exc.message}])
    ]
    message = gettext(IMPORT_REFUSED) if listed else refusals.explain(exc.message, exc.rule, exc.field, exc.code)
    return {"refused": True, "row_errors": rows, "message": message}


def _download(content: bytes, fmt: str, name: str) -> Response[bytes]:
    return Response(
        content, media_type=FILE_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )


class LibraryPages(Controller):
    path = "/procurement"
    include_in_schema = False

    @get("/libraries", name="procurement.libraries", opt=requires(LibraryPermission.LIBRARY_READ))
    async def libraries(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
        """The three libraries, with the catalogue editions loaded."""
        editions = await catalogue.editions(db_session)
        return await page(request, "procurement/libraries.html", {"editions": editions})

    # --- purchasers ---------------------------------------------------------------------------------

    async def _purchasers(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> dict[str, Any]:
        filters = _query(request, "q", "region", "parent_code")
        offset = _int(request.query_params.get("offset"))
        result = await service.search_purchasers(
            db_session, service.PurchaserFilter(filters["q"], filters["region"], filters["parent_code"]), offset=offset
        )
        blank = {"refused": False, "row_errors": [], "message": "", "imported": None}
        return {"filters": filters, "result": result, "columns": importing.PURCHASER_COLUMNS, **blank, **extra}

    @get("/purchasers", name="procurement.purchasers", opt=requires(LibraryPermission.LIBRARY_READ))
    async def purchasers(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
        return await page(request, "procurement/purchasers.html", await self._purchasers(request, db_session))

    @post("/purchasers/imports", name="procurement.purchasers_import", opt=requires(LibraryPermission.LIBRARY_MANAGE))
    async def import_purchasers(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """Import purchasers; a refusal lists every bad row and writes nothing."""
        try:
            data, excel, _ = await _upload(request)
            async with db_session.begin_nested():
                result = await importing.import_purchasers(db_session, data, excel=excel, actor=actor)
        except DomainError as exc:
            context = await self._purchasers(request, db_session, **_refusal_context(exc))
            return await page(request, "procurement/purchasers.html", context, status_code=UNPROCESSABLE)
        context = await self._purchasers(request, db_session, imported=result)
        return await page(request, "procurement/purchasers.html", context)

    @get("/purchasers/export", name="procurement.purchasers_export", opt=requires(LibraryPermission.LIBRARY_READ))
    async def export_purchasers(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The purchasers matching the filters (up to 10,000), under the import's headers."""
        filters = _query(request, "q", "region", "parent_code", "format")
        fmt = filters["format"] if filters["format"] in FILE_TYPES else "csv"
        result = await service.search_purchasers(
            db_session,
            service.PurchaserFilter(filters["q"], filters["region"], filters["parent_code"]),
            limit=importing.MAX_EXPORT,
        )
        cells = [importing.purchaser_cells(row) for row in result.rows]
        return _download(importing.export(importing.PURCHASER_COLUMNS, cells, excel=fmt == "xlsx"), fmt, "purchasers")

    # --- suppliers ----------------------------------------------------------------------------------

    async def _suppliers(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> dict[str, Any]:
        filters = _query(request, "q", "region", "size_class", "industry")
        offset = _int(request.query_params.get("offset"))
        where = service.SupplierFilter(filters["q"], filters["region"], filters["size_class"], filters["industry"])
        result = await service.search_suppliers(db_session, where, offset=offset)
        blank = {"refused": False, "row_errors": [], "message": "", "imported": None}
        return {
            "filters": filters,
            "result": result,
            "columns": importing.SUPPLIER_COLUMNS,
            "industries": sizes.industries(),
            "size_labels": SIZE_LABELS,
            **blank,
            **extra,
        }

    @get("/suppliers", name="procurement.suppliers", opt=requires(LibraryPermission.LIBRARY_READ))
    async def suppliers(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
        return await page(request, "procurement/suppliers.html", await self._suppliers(request, db_session))

    @post("/suppliers/imports", name="procurement.suppliers_import", opt=requires(LibraryPermission.LIBRARY_MANAGE))
    async def import_suppliers(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """Import suppliers; a refusal lists every bad row and writes nothing."""
        try:
            data, excel, _ = await _upload(request)
            async with db_session.begin_nested():
                result = await importing.import_suppliers(db_session, data, excel=excel, actor=actor)
        except DomainError as exc:
            context = await self._suppliers(request, db_session, **_refusal_context(exc))
            return await page(request, "procurement/suppliers.html", context, status_code=UNPROCESSABLE)
        context = await self._suppliers(request, db_session, imported=result)
        return await page(request, "procurement/suppliers.html", context)

    @get("/suppliers/export", name="procurement.suppliers_export", opt=requires(LibraryPermission.LIBRARY_READ))
    async def export_suppliers(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The suppliers matching the filters (up to 10,000), under the import's headers."""
        filters = _query(request, "q", "region", "size_class", "industry", "format")
        fmt = filters["format"] if filters["format"] in FILE_TYPES else "csv"
        where = service.SupplierFilter(filters["q"], filters["region"], filters["size_class"], filters["industry"])
        result = await service.search_suppliers(db_session, where, limit=importing.MAX_EXPORT)
        cells = [importing.supplier_cells(row) for row in result.rows]
        return _download(importing.export(importing.SUPPLIER_COLUMNS, cells, excel=fmt == "xlsx"), fmt, "suppliers")

    @get("/suppliers/{supplier_id:uuid}", name="procurement.supplier", opt=requires(LibraryPermission.LIBRARY_READ))
    async def supplier(
        self,
        request: Request[Any, Any, Any],
        supplier_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """A supplier: size class, items, qualifications, contacts, credit records, and the refusal
        (reason and period) when a record bars it from government procurement now.
        """
        view = await service.view(db_session, await service.supplier(db_session, supplier_id))
        return await page(request, "procurement/supplier.html", self._supplier_context(view))

    @staticmethod
    def _supplier_context(view: service.SupplierView | None, **extra: Any) -> dict[str, Any]:
        return {
            "view": view,
            "size_labels": SIZE_LABELS,
            "kind_labels": KIND_LABELS,
            "industries": sizes.industries(),
            **extra,
        }

    # --- the catalogue ------------------------------------------------------------------------------

    async def _catalogue(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> dict[str, Any]:
        filters = _query(request, "q", "code", "edition")
        number = _int(filters["edition"]) or None
        edition = await catalogue.edition(db_session, number)
        item = (
            await catalogue.lookup(db_session, filters["code"], edition_number=edition.number)
            if filters["code"]
            else None
        )
        children = await catalogue.children(db_session, item.code if item else None, edition_number=edition.number)
        found, total = (
            await catalogue.search(
                db_session, filters["q"], edition_number=edition.number, offset=_int(request.query_params.get("offset"))
            )
            if filters["q"]
            else ([], 0)
        )
        blank = {"refused": False, "row_errors": [], "message": "", "loaded": None, "imported": None}
        return {
            "filters": filters,
            "edition": edition,
            "editions": await catalogue.editions(db_session),
            "item": item,
            "children": children,
            "found": found,
            "total": total,
            **blank,
            **extra,
        }

    @get("/catalogue", name="procurement.catalogue", opt=requires(LibraryPermission.CATALOGUE_READ))
    async def catalogue_page(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        """Browse an edition by level (A goods, B works, C services) or search it."""
        return await page(request, "procurement/catalogue.html", await self._catalogue(request, db_session))

    @post("/catalogue/editions", name="procurement.catalogue_load", opt=requires(LibraryPermission.LIBRARY_MANAGE))
    async def load_edition(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """Load a file as the catalogue's next edition; what used an older edition keeps it."""
        try:
            data, excel, fields = await _upload(request)
            title = fields.get("title", "").strip()[:200]
            if not title:
                raise ValidationFailed(TITLE_REQUIRED, field="title", rule="required")
            async with db_session.begin_nested():
                loaded = await catalogue.load_edition(db_session, data, title=title, actor=actor, excel=excel)
        except DomainError as exc:
            context = await self._catalogue(request, db_session, **_refusal_context(exc))
            return await page(request, "procurement/catalogue.html", context, status_code=UNPROCESSABLE)
        context = await self._catalogue(request, db_session, loaded=loaded)
        return await page(request, "procurement/catalogue.html", context)

    # --- a supplier's own entry ---------------------------------------------------------------------

    async def _mine(self, db_session: AsyncSession, actor: Actor, **extra: Any) -> dict[str, Any]:
        if actor.organisation_id is None:
            raise PermissionDenied(NOT_AN_ORGANISATION, field="organisation", rule="member")
        own = await service.supplier_of(db_session, actor.organisation_id)
        view = await service.view(db_session, own) if own else None
        refusal = await service.supplier_refusal(db_session, actor.organisation_id)
        blank: dict[str, Any] = {"form": None, "errors": [], "qualification_form": None, "qualification_errors": []}
        return self._supplier_context(view, refusal=refusal, **{**blank, **extra})

    @get("/supplier", name="procurement.my_supplier", opt=requires(LibraryPermission.SUPPLIER_REGISTER))
    async def my_supplier(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """Register the organisation into the supplier library, and its qualifications (我的资质)."""
        return await page(request, "procurement/my_supplier.html", await self._mine(db_session, actor))

    @post("/supplier", name="procurement.my_supplier_register", opt=requires(LibraryPermission.SUPPLIER_REGISTER))
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[RegistrationForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        async def work() -> object:
            if actor.organisation_id is None:
                raise PermissionDenied(NOT_AN_ORGANISATION, field="organisation", rule="member")
            return await service.register(db_session, actor.organisation_id, data.parsed(), actor=actor)

        async def refused(errors: list[Any]) -> Response[Any]:
            return await page(
                request, "procurement/my_supplier.html", await self._mine(db_session, actor, form=data, errors=errors)
            )

        return await submit(
            db_session, work, labels=LABELS, redirect=request.url_for("procurement.my_supplier"), refusal=refused
        )

    @post(
        "/supplier/qualifications",
        name="procurement.my_qualification_add",
        opt=requires(LibraryPermission.SUPPLIER_REGISTER),
    )
    async def add_qualification(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[QualificationForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        async def work() -> object:
            own = await service.supplier_of(db_session, actor.organisation_id) if actor.organisation_id else None
            if own is None:
                raise ValidationFailed("register the organisation first", field="organisation", rule="registered")
            return await service.add_qualification(db_session, own, data.parsed(), actor=actor)

        async def refused(errors: list[Any]) -> Response[Any]:
            context = await self._mine(db_session, actor, qualification_form=data, qualification_errors=errors)
            return await page(request, "procurement/my_supplier.html", context)

        return await submit(
            db_session, work, labels=LABELS, redirect=request.url_for("procurement.my_supplier"), refusal=refused
        )


@dataclass
class RegistrationForm:
    industry: str = ""
    employees: str = ""
    revenue: str = ""
    assets: str = ""
    item_codes: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""

    def parsed(self) -> service.Registration:
        parser = FieldParser()
        industry = parser.required("industry", self.industry, max_length=40)
        employees = parser.integer("employees", self.employees, low=0)
        revenue = parser.decimal("revenue", self.revenue, digits=14, required=False)
        assets = parser.decimal("assets", self.assets, digits=14, required=False)
        items = parser.text("item_codes", self.item_codes, max_length=1000, single_line=True)
        name = parser.required("contact_name", self.contact_name, max_length=100)
        phone = parser.required("contact_phone", self.contact_phone, max_length=40)
        email = parser.text("contact_email", self.contact_email, max_length=200, single_line=True)
        parser.done()
        codes = tuple(dict.fromkeys(code.upper() for code in importing.split_codes(items)))
        return service.Registration(industry, employees, revenue, assets, codes, name, phone, email or None)


@dataclass
class QualificationForm:
    kind: str = "qualification"
    name: str = ""
    number: str = ""
    issuer: str = ""
    valid_from: str = ""
    valid_until: str = ""

    def parsed(self) -> service.QualificationData:
        parser = FieldParser()
        kind = parser.required("kind", self.kind, max_length=16)
        name = parser.required("name", self.name, max_length=200)
        number = parser.required("number", self.number, max_length=100)
        issuer = parser.required("issuer", self.issuer, max_length=200)
        start = _date(parser, "valid_from", self.valid_from, required=True)
        end = _date(parser, "valid_until", self.valid_until, required=False)
        parser.done()
        assert start is not None  # noqa: S101 - done() raised otherwise
        return service.QualificationData(kind, name, number, issuer, start, end)


def _date(parser: FieldParser, name: str, value: str, *, required: bool) -> date | None:
    raw = value.strip()
    if not raw:
        if required:
            parser.add(name, "required", "This field is required.")
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        parser.add(name, "format", "Enter a date.")
        return None
    if not 1949 <= day.year <= 2100:  # noqa: PLR2004
        parser.add(name, "format", "Enter a date.")
        return None
    return day


CONTROLLERS = (LibraryPages,)
