"""The centre's guarantor administration (``/admin/guarantors``): onboard a bank, insurer or
guarantee company with its issuing certificate (and API certificate), add its products, suspend or
reinstate it. Forms go the kernel's way (typed body, ``FieldParser``, ``submit``: 303 or 422
naming the field and rule); the functions are ``trading.guarantees.service``'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import service
from trading.guarantees.models import GuaranteeKind, Guarantor, GuarantorStatus
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.public import KIND_LABELS
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Labels, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

ADMIN = "guarantees.admin"
CERT_MAX = 20_000

LABELS = Labels(
    fields={
        "organisation": N_("Credit code of the organisation"),
        "organisation_id": N_("Organisation"),
        "issuing_certificate": N_("Issuing certificate (PEM)"),
        "api_certificate": N_("API client certificate (PEM, if different)"),
        "display_name": N_("Name shown to bidders"),
        "branch": N_("Branch"),
        "callback_url": N_("Callback URL"),
        "kind": N_("Kind"),
        "name": N_("Product name"),
        "fee_rate_percent": N_("Fee rate (percent)"),
        "minimum_fee": N_("Minimum fee (yuan)"),
    },
    rules={"organisation.exists": N_("No organisation on the platform has this credit code.")},
)
STATUS_LABELS = {GuarantorStatus.ACTIVE: N_("Active"), GuarantorStatus.SUSPENDED: N_("Suspended")}


@dataclass
class GuarantorForm:
    organisation: str = ""
    issuing_certificate: str = ""
    api_certificate: str = ""
    display_name: str = ""
    branch: str = ""
    callback_url: str = ""


@dataclass
class StatusForm:
    status: str = ""


@dataclass
class ProductForm:
    kind: str = ""
    name: str = ""
    fee_rate_percent: str = ""
    minimum_fee: str = ""


class GuarantorAdminPages(Controller):
    path = "/admin/guarantors"
    include_in_schema = False

    @get("/", name=ADMIN, opt=requires(GuaranteesPermission.GUARANTOR_MANAGE))
    async def overview(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """Every guarantor (suspended ones too) with its products, and the onboarding form."""
        return await self._page(request, db_session, [])

    @post("/", name="guarantees.onboard", opt=requires(GuaranteesPermission.GUARANTOR_MANAGE))
    async def onboard(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[GuarantorForm],
    ) -> Response[Any]:
        async def work() -> Guarantor:
            parser = FieldParser()
            uscc = parser.required("organisation", data.organisation, max_length=18)
            issuing = parser.required(
                "issuing_certificate", data.issuing_certificate, max_length=CERT_MAX, single_line=False
            )
            api = parser.text("api_certificate", data.api_certificate, max_length=CERT_MAX)
            name = parser.text("display_name", data.display_name, max_length=200, single_line=True)
            branch = parser.text("branch", data.branch, max_length=200, single_line=True)
            callback = parser.text("callback_url", data.callback_url, max_length=1000, single_line=True)
            parser.done()
            organisation_id = await service.organisation_id_by_uscc(db_session, uscc)
            return await service.onboard_guarantor(
                db_session,
                actor,
                organisation_id=organisation_id,
                issuing_certificate=issuing.encode(),
                api_certificate=api.encode() or None,
                display_name=name or None,
                branch=branch or None,
                callback_url=callback or None,
            )

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, errors, form=vars(data))

        return await submit(
            db_session, work, labels=LABELS, redirect=request.app.route_reverse(ADMIN) + "#guarantors", refusal=refused
        )

    @post(
        "/{guarantor_id:uuid}/products",
        name="guarantees.add_product",
        opt=requires(GuaranteesPermission.GUARANTOR_MANAGE),
    )
    async def add_product(
        self,
        request: Request[Any, Any, Any],
        guarantor_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[ProductForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            kind = parser.choice("kind", data.kind, GuaranteeKind)
            name = parser.required("name", data.name, max_length=200)
            rate = parser.decimal("fee_rate_percent", data.fee_rate_percent, digits=3)
            minimum = parser.decimal("minimum_fee", data.minimum_fee, digits=16, default=Decimal("0.00"))
            parser.done()
            assert kind is not None  # noqa: S101 - done() raised otherwise
            assert rate is not None  # noqa: S101
            return await service.add_product(
                db_session,
                actor,
                guarantor_id,
                kind=kind,
                name=name,
                fee_rate_percent=rate,
                minimum_fee=minimum or Decimal("0.00"),
            )

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, errors, product_form=vars(data), failed=str(guarantor_id))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(ADMIN) + f"#g-{guarantor_id}",
            refusal=refused,
        )

    @post(
        "/{guarantor_id:uuid}/status",
        name="guarantees.guarantor_status",
        opt=requires(GuaranteesPermission.GUARANTOR_MANAGE),
    )
    async def set_status(
        self,
        request: Request[Any, Any, Any],
        guarantor_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[StatusForm],
    ) -> Response[Any]:
        """Suspend or reinstate (``status`` = ``suspended`` | ``active``)."""

        async def work() -> Guarantor:
            parser = FieldParser()
            status = parser.choice("status", data.status, GuarantorStatus)
            parser.done()
            assert status is not None  # noqa: S101 - done() raised otherwise
            return await service.set_guarantor_status(db_session, actor, guarantor_id, status)

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, errors)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(ADMIN) + f"#g-{guarantor_id}",
            refusal=refused,
        )

    @staticmethod
    async def _page(
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        errors: list[FieldError],
        *,
        form: dict[str, str] | None = None,
        product_form: dict[str, str] | None = None,
        failed: str = "",
    ) -> Response[Any]:
        guarantors = await service.all_guarantors(db_session)
        products = {g.id: await service.products_of(db_session, g.id, active_only=False) for g in guarantors}
        context = {
            "guarantors": guarantors,
            "products": products,
            "errors": errors,
            "form": form or {},
            "product_form": product_form or {},
            "failed": failed,
            "labels": LABELS.fields,
            "kinds": KIND_LABELS,
            "statuses": STATUS_LABELS,
        }
        return await page(request, "guarantees/admin.html", context)


CONTROLLERS = (GuarantorAdminPages,)
