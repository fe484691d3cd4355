"""The trading centre's marketplace administration (``/market/centre``, Role.ADMIN): the service-item
list (事项清单: publish an item, edit it by publishing a new version of its code) and the reviewed
qualifications of intermediaries (record or renew one, revoke one with a reason).

The same services as the API (``ItemService.publish_item``, ``record_qualification``,
``revoke_qualification``) under the same permissions, so a page and an API call cannot differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.deps import DEPENDENCIES
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import QualificationRecord, ServiceItemCreate
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS, LABELS
from intermediary_market.web.parsing import MarketFields, known, path
from intermediary_market.web.paths import CENTRE
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page

OVERVIEW = "intermediary_market.centre"
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
        self, *, request: Request[Any, Any, Any], market: NamedDependency[MarketService], code: FromQuery[str] = ""
    ) -> Response[Any]:
        """The item list and the qualifications; ``?code=`` fills the item form with that item's
        current version, to edit it (publishing it makes the next version).
        """
        form: dict[str, str] = {}
        item = await market.repo.current_item(code) if code else None
        if item is not None:
            form = {name: str(getattr(item, name)) for name in ITEM_FIELDS}
        return await self._page(request, market, [], failed="item" if form else "", form=form)

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
                **CONTEXT_LABELS,
            },
        )
