"""The trading centre's marketplace administration (``/market/centre``, Role.ADMIN): the service-item
list (事项清单: publish an item, edit it by publishing a new version of its code) and the reviewed
qualifications of intermediaries (record or renew one, revoke one with a reason).

The same services as the API (``ItemService.publish_item``, ``record_qualification``,
``revoke_qualification``) under the same permissions, so a page and an API call cannot differ.
Both lists are also imported from CSV files (`intermediary_market.importing`: a file with any bad
row is refused whole, its rows, fields and rules listed in a table), with a template to download.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.deps import DEPENDENCIES
from intermediary_market.errors import MarketImportRefused
from intermediary_market.importing import (
    ITEM_EXAMPLE,
    ITEMS,
    MAX_ROWS,
    QUALIFICATION_EXAMPLE,
    QUALIFICATIONS,
    ImportResult,
    import_items,
    import_qualifications,
)
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import QualificationRecord, ServiceItemCreate
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS, LABELS, import_problem
from intermediary_market.web.parsing import MarketFields, known, path
from intermediary_market.web.paths import CENTRE
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.web.forms import FieldError, FormBody, read_form, submit
from trading.kernel.web.i18n import N_, gettext
from trading.kernel.web.pages import page

OVERVIEW = "intermediary_market.centre"
IMPORT_MAX_BYTES = 4 * 1024 * 1024
CHOOSE_CSV = N_("Choose a CSV file to import.")
IMPORT_REFUSED = N_("The file was refused and nothing was imported. Correct every row listed and upload it again.")
TEMPLATES = {
    "items": ("service-items-template.csv", ITEMS, ITEM_EXAMPLE),
    "qualifications": ("qualifications-template.csv", QUALIFICATIONS, QUALIFICATION_EXAMPLE),
}
ITEM_FIELDS = ("code", "name", "legal_basis", "approval", "required_qualification", "fee_basis", "standard_days")


@dataclass
class ItemForm:
    code: str = ""
    name: str = ""
    legal_basis: str = ""
    approval: str = ""
    required_qualification: str = ""
    fee_basis: str = ""
    standard_days: str = ""


@dataclass
class QualificationForm:
    organisation_id: str = ""
    item_code: str = ""
    level: str = ""
    certificate_no: str = ""
    valid_until: str = ""


@dataclass
class RevocationForm:
    organisation_id: str = ""
    item_code: str = ""
    reason: str = ""


def _count(value: str) -> bool:
    """A count of rows as the redirect after an import writes it."""
    return value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ROWS))


def item_from(form: ItemForm) -> ServiceItemCreate:
    fields = MarketFields()
    code = fields.required("code", form.code, max_length=40)
    name = fields.required("name", form.name, max_length=200)
    legal_basis = fields.text("legal_basis", form.legal_basis, max_length=500)
    approval = fields.text("approval", form.approval, max_length=200)
    required_qualification = fields.text("required_qualification", form.required_qualification, max_length=200)
    fee_basis = fields.text("fee_basis", form.fee_basis, max_length=500)
    standard_days = fields.whole("standard_days", form.standard_days)
    fields.done()
    return ServiceItemCreate(
        code=code,
        name=name,
        legal_basis=legal_basis,
        approval=approval,
        required_qualification=required_qualification,
        fee_basis=fee_basis,
        standard_days=known(standard_days),
    )


def qualification_from(form: QualificationForm) -> QualificationRecord:
    fields = MarketFields()
    organisation_id = fields.uuid("organisation_id", form.organisation_id)
    item_code = fields.required("item_code", form.item_code, max_length=40)
    level = fields.whole("level", form.level)
    certificate_no = fields.required("certificate_no", form.certificate_no, max_length=100)
    valid_until = fields.time("valid_until", form.valid_until, required=True)
    fields.done()
    return QualificationRecord(
        organisation_id=known(organisation_id),
        item_code=item_code,
        level=known(level),
        certificate_no=certificate_no,
        valid_until=known(valid_until),
    )


class CentrePages(Controller):
    """The centre's administration of the marketplace."""

    path = CENTRE
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name=OVERVIEW, opt=requires(MarketPermission.ITEM_MANAGE))
    async def overview(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        code: FromQuery[str] = "",
        imported: FromQuery[str] = "",
        created: FromQuery[str] = "",
        updated: FromQuery[str] = "",
        unchanged: FromQuery[str] = "",
    ) -> Response[Any]:
        """The item list and the qualifications; ``?code=`` fills the item form with that item's
        current version, to edit it (publishing it makes the next version); ``?imported=`` says
        what the last import did.
        """
        form: dict[str, str] = {}
        item = await market.repo.current_item(code) if code else None
        if item is not None:
            form = {name: str(getattr(item, name)) for name in ITEM_FIELDS}
        counts = {"created": created, "updated": updated, "unchanged": unchanged}
        numbers = all(_count(value) for value in counts.values())
        done = (
            {"kind": imported, **{k: int(v) for k, v in counts.items()}} if imported in TEMPLATES and numbers else None
        )
        return await self._page(request, market, [], failed="item" if form else "", form=form, imported=done)

    @get(
        "/imports/{kind:str}/template.csv",
        name="intermediary_market.centre_import_template",
        opt=requires(MarketPermission.ITEM_MANAGE),
    )
    async def import_template(self, kind: FromPath[str]) -> Response[bytes]:
        """The CSV to fill in (UTF-8 with BOM, the Chinese headers, one example row)."""
        if kind not in TEMPLATES:
            raise NotFound("no such import", field="kind", rule="exists")
        filename, table, example = TEMPLATES[kind]
        return Response(
            table.template([example]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @post(
        "/imports/items",
        name="intermediary_market.centre_import_items",
        request_max_body_size=IMPORT_MAX_BYTES,
        opt=requires(MarketPermission.ITEM_MANAGE),
    )
    async def import_items(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Import a service-item CSV: new codes, and new versions of changed items; refused whole."""
        return await self._import(request, db_session, market, "items", lambda d: import_items(market, d, actor=actor))

    @post(
        "/imports/qualifications",
        name="intermediary_market.centre_import_qualifications",
        request_max_body_size=IMPORT_MAX_BYTES,
        opt=requires(MarketPermission.QUALIFICATION_MANAGE),
    )
    async def import_qualifications(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Import a qualification CSV: recorded, renewed or left as they are; refused whole."""
        return await self._import(
            request, db_session, market, "qualifications", lambda d: import_qualifications(market, d, actor=actor)
        )

    @post("/items", name="intermediary_market.centre_item", opt=requires(MarketPermission.ITEM_MANAGE))
    async def publish_item(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[ItemForm],
    ) -> Response[Any]:
        """A new item, or the next version of an existing code (the current one is superseded)."""

        async def work() -> object:
            return await market.publish_item(item_from(data), actor=actor)

        return await self._submit(request, db_session, market, work, "item", vars(data), "#items")

    @post(
        "/qualifications",
        name="intermediary_market.centre_qualification",
        opt=requires(MarketPermission.QUALIFICATION_MANAGE),
    )
    async def record_qualification(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[QualificationForm],
    ) -> Response[Any]:
        """Record a reviewed qualification, or renew one (a renewal reinstates a suspended one)."""

        async def work() -> object:
            return await market.record_qualification(qualification_from(data), actor=actor)

        return await self._submit(request, db_session, market, work, "qualification", vars(data), "#qualifications")

    @post(
        "/qualifications/revocations",
        name="intermediary_market.centre_revocation",
        opt=requires(MarketPermission.QUALIFICATION_MANAGE),
    )
    async def revoke_qualification(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[RevocationForm],
    ) -> Response[Any]:
        """Revoke a qualification with its reason (no registration for the item from now on)."""

        async def work() -> object:
            fields = MarketFields()
            organisation_id = fields.uuid("organisation_id", data.organisation_id)
            fields.done()
            return await market.revoke_qualification(known(organisation_id), data.item_code, data.reason, actor=actor)

        failed = f"revoke-{data.organisation_id}-{data.item_code}"
        return await self._submit(request, db_session, market, work, failed, vars(data), "#qualifications")

    # --- submitting and rendering ----------------------------------------------------------------

    async def _import(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        market: MarketService,
        kind: str,
        run: Callable[[bytes], Awaitable[ImportResult]],
    ) -> Response[Any]:
        """The upload through the kernel's `submit` (savepoint, 303 or 422); a refused file is shown
        as a table of its rows, fields and rules.
        """
        refused: list[dict[str, Any]] = []

        async def work() -> ImportResult:
            form = await read_form(request)
            upload = form.get("file")
            data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
            if not data:
                raise ValidationFailed(CHOOSE_CSV, field="file", rule="required")
            try:
                return await run(data)
            except MarketImportRefused as exc:
                listed = exc.extra.get("errors") or [
                    {"row": None, "field": exc.field, "rule": exc.rule, "message": exc.message}
                ]
                refused.extend(
                    {**item, "problem": import_problem(item.get("field"), item.get("rule"), item.get("message"))}
                    for item in listed
                )
                raise

        def done(result: ImportResult) -> str:
            counts = f"created={result.created}&updated={result.updated}&unchanged={result.unchanged}"
            return f"{path(request, OVERVIEW)}?imported={kind}&{counts}#import-{kind}"

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._page(
                request,
                market,
                errors if not refused else [],
                failed=f"import-{kind}",
                import_errors=refused,
                import_message=gettext(IMPORT_REFUSED) if refused else "",
            )

        return await submit(db_session, work, labels=LABELS, redirect=done, refusal=refusal)

    async def _submit(  # noqa: PLR0917 - the view's one form path
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        market: MarketService,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, str],
        then: str,
    ) -> Response[Any]:
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=path(request, OVERVIEW) + then,
            refusal=lambda errors: self._page(request, market, errors, failed=failed, form=form),
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        errors: list[FieldError],
        *,
        failed: str = "",
        form: dict[str, str] | None = None,
        imported: dict[str, Any] | None = None,
        import_errors: list[dict[str, Any]] | None = None,
        import_message: str = "",
    ) -> Response[Any]:
        now = await clock.now(market.session)
        return await page(
            request,
            "intermediary_market/centre.html",
            {
                "items": await market.items(),
                "directory": await market.directory(limit=500),
                "organisations": await market.repo.intermediary_organisations(),
                "default_valid_until": now + timedelta(days=365),
                "errors": errors,
                "failed": failed,
                "form": form or {},
                "imported": imported,
                "import_errors": import_errors or [],
                "import_message": import_message,
                "import_columns": {"items": ITEMS.columns, "qualifications": QUALIFICATIONS.columns},
                **CONTEXT_LABELS,
            },
        )
