"""The libraries' JSON API under ``/api/v1/procurement``: search (filters, ``offset``/``limit``),
imports (refused whole as 422 problem+json listing every bad row in ``errors``: ``row``,
``field``, ``rule``, ``message``), a supplier with its qualifications and credit (``refusal``
when barred), and the item catalogue by edition.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.libraries import catalogue, importing, service
from procurement.libraries.errors import LibraryImportRefused
from procurement.libraries.policies import LibraryPermission
from procurement.libraries.schemas import (
    CatalogueItemDetail,
    CatalogueItemRead,
    CataloguePage,
    FileFormat,
    ImportResultRead,
    LibraryImportCreate,
    PurchaserPage,
    PurchaserRead,
    SupplierDetail,
    SupplierPage,
    SupplierRead,
)
from trading.kernel.api.bounds import Offset
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Text = Annotated[str, QueryParameter(max_length=200)]


def _content(data: LibraryImportCreate) -> tuple[bytes, bool]:
    if data.format is FileFormat.XLSX:
        try:
            return base64.b64decode(data.content_base64, validate=True), True
        except (binascii.Error, ValueError):
            raise LibraryImportRefused("content_base64 is not base64", field="content_base64", rule="format") from None
    return data.content.encode(), False


class LibraryApi(Controller):
    path = "/procurement"
    tags = ["procurement"]

    @get("/purchasers", operation_id="procurement_search_purchasers", opt=requires(LibraryPermission.LIBRARY_READ))
    async def purchasers(  # noqa: PLR0917 - the search's query parameters
        self,
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[Text] = "",
        region: FromQuery[Text] = "",
        parent_code: FromQuery[Text] = "",
        offset: Offset = 0,
        limit: Limit = service.PAGE_SIZE,
    ) -> PurchaserPage:
        """Purchasers (budget units) whose name contains ``q`` or whose code or USCC starts with it,
        in the region (a code prefix) and under the department given, by code.
        """
        page = await service.search_purchasers(
            db_session, service.PurchaserFilter(q, region, parent_code), offset=offset, limit=limit
        )
        return PurchaserPage(
            [PurchaserRead.of(row) for row in page.rows], min(page.total, service.COUNT_CAP), page.capped, offset, limit
        )

    @post(
        "/purchasers/imports",
        operation_id="procurement_import_purchasers",
        status_code=HTTP_201_CREATED,
        opt=requires(LibraryPermission.LIBRARY_MANAGE),
    )
    async def import_purchasers(
        self,
        data: JSONBody[LibraryImportCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ImportResultRead:
        """Add the file's purchasers; refused whole (422) naming every bad row if any row is bad."""
        content, excel = _content(data)
        result = await importing.import_purchasers(db_session, content, excel=excel, actor=actor)
        return ImportResultRead(result.sha256, result.created)

    @get("/suppliers", operation_id="procurement_search_suppliers", opt=requires(LibraryPermission.LIBRARY_READ))
    async def suppliers(  # noqa: PLR0917 - the search's query parameters
        self,
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[Text] = "",
        region: FromQuery[Text] = "",
        size_class: FromQuery[Text] = "",
        industry: FromQuery[Text] = "",
        offset: Offset = 0,
        limit: Limit = service.PAGE_SIZE,
    ) -> SupplierPage:
        """Suppliers whose name contains ``q`` (or whose USCC starts with it), by name."""
        page = await service.search_suppliers(
            db_session, service.SupplierFilter(q, region, size_class, industry), offset=offset, limit=limit
        )
        return SupplierPage(
            [SupplierRead.of(row) for row in page.rows], min(page.total, service.COUNT_CAP), page.capped, offset, limit
        )

    @post(
        "/suppliers/imports",
        operation_id="procurement_import_suppliers",
        status_code=HTTP_201_CREATED,
        opt=requires(LibraryPermission.LIBRARY_MANAGE),
    )
    async def import_suppliers(
        self,
        data: JSONBody[LibraryImportCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ImportResultRead:
        """Add the file's suppliers; refused whole (422) naming every bad row if any row is bad."""
        content, excel = _content(data)
        result = await importing.import_suppliers(db_session, content, excel=excel, actor=actor)
        return ImportResultRead(result.sha256, result.created)

    @get(
        "/suppliers/{supplier_id:uuid}",
        operation_id="procurement_supplier",
        opt={**requires(LibraryPermission.LIBRARY_READ), **documents_problems(HTTP_404_NOT_FOUND)},
    )
    async def supplier(
        self, supplier_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]
    ) -> SupplierDetail:
        """A supplier with its qualifications and certificates, its credit records, and ``refusal``
        (the blocking record's reason and period) when it is barred from government procurement now.
        """
        found = await service.supplier(db_session, supplier_id)
        return SupplierDetail.of(await service.view(db_session, found))

    @get(
        "/catalogue/items",
        operation_id="procurement_catalogue_search",
        # An edition that does not exist is a 404.
        opt={**requires(LibraryPermission.CATALOGUE_READ), **documents_problems(HTTP_404_NOT_FOUND)},
    )
    async def catalogue_search(
        self,
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[Text] = "",
        edition: FromQuery[Annotated[int | None, QueryParameter(ge=1, le=10_000)]] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> CataloguePage:
        """Items of the edition (default: the newest) whose code starts with ``q`` or whose name contains it."""
        found = await catalogue.edition(db_session, edition)
        rows, total = await catalogue.search(db_session, q, edition_number=found.number, limit=limit, offset=offset)
        return CataloguePage(found.number, [CatalogueItemRead.of(row) for row in rows], total, offset, limit)

    @get(
        "/catalogue/items/{item_code:str}",
        operation_id="procurement_catalogue_item",
        opt={**requires(LibraryPermission.CATALOGUE_READ), **documents_problems(HTTP_404_NOT_FOUND)},
    )
    async def catalogue_item(
        self,
        item_code: FromPath[Annotated[str, QueryParameter(max_length=16)]],
        db_session: NamedDependency[AsyncSession],
        edition: FromQuery[Annotated[int | None, QueryParameter(ge=1, le=10_000)]] = None,
    ) -> CatalogueItemDetail:
        """One item of the edition (default: the newest) and the items directly under it."""
        found = await catalogue.edition(db_session, edition)
        item = await catalogue.lookup(db_session, item_code, edition_number=found.number)
        if item is None:
            raise NotFound("no such item in this edition", field="item_code", rule="exists")
        children = await catalogue.children(db_session, item.code, edition_number=found.number)
        return CatalogueItemDetail(
            found.number, CatalogueItemRead.of(item), [CatalogueItemRead.of(row) for row in children]
        )


CONTROLLERS = (LibraryApi,)
