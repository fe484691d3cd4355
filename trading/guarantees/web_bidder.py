"""The bidder's guarantees (我的保函, ``/guarantees/mine``): choose a guarantor and a product, apply,
follow applications and guarantees, download one's own guarantee files, withdraw an application.

Guarantors are listed by ``service.guarantors_for`` (random per viewer and day, never ranked — 27号)
and the page says so. When the tender is known (``tender_facts.security``, wired from bidding by
``trading.server``) the beneficiary, lot name, amount and validity are the tender's, whatever was
typed; otherwise they are entered by hand and ``service.apply`` validates them.
Only the applicant's organisation sees, withdraws or downloads its rows (others: 404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import service, tender_facts
from trading.guarantees.models import ApplicationStatus, Guarantee, GuaranteeApplication, GuaranteeKind
from trading.guarantees.payer import mask_account
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.public import KIND_LABELS, STATUS_LABELS
from trading.guarantees.repository import GuaranteesRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Labels, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

MINE = "guarantees.mine"
LABELS = Labels(
    fields={
        "product_id": N_("Guarantor and product"),
        "project_code": N_("Project code"),
        "lot_code": N_("Lot code"),
        "lot_name": N_("Lot name"),
        "beneficiary_name": N_("Beneficiary (tenderee)"),
        "beneficiary_uscc": N_("Beneficiary's credit code"),
        "amount": N_("Amount (yuan)"),
        "valid_from": N_("Valid from"),
        "valid_until": N_("Valid until (inclusive)"),
        "application_id": N_("Application"),
        "applicant_organisation_id": N_("Your organisation"),
    }
)
APPLICATION_STATUS_LABELS = {
    ApplicationStatus.APPLIED: N_("Applied, awaiting payment"),
    ApplicationStatus.PAID: N_("Paid, awaiting issue"),
    ApplicationStatus.ISSUED: N_("Issued"),
    ApplicationStatus.REFUSED: N_("Refused by the guarantor"),
    ApplicationStatus.WITHDRAWN: N_("Withdrawn"),
}
FILES = {
    "json": ("json_key", "application/json", "guarantee.json"),
    "cades": ("cades_key", "application/pkcs7-signature", "guarantee.json.p7s"),
    "pdf": ("pdf_key", "application/pdf", "guarantee.pdf"),
}


@dataclass
class ApplyForm:
    product_id: str = ""
    project_code: str = ""
    lot_code: str = ""
    lot_name: str = ""
    beneficiary_name: str = ""
    beneficiary_uscc: str = ""
    amount: str = ""
    valid_from: str = ""
    valid_until: str = ""


def _date(parser: FieldParser, name: str, value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        parser.add(name, "format", "a date is required, as YYYY-MM-DD")
        return None


def _own_organisation(actor: Actor) -> uuid.UUID:
    if actor.organisation_id is None:
        raise NotFound("no organisation", field="applicant_organisation_id", rule="exists")
    return actor.organisation_id


async def _request(session: AsyncSession, actor: Actor, data: ApplyForm) -> service.ApplicationRequest:
    """The application the form asks for: the tender's facts when it is known, else the typed ones."""
    parser = FieldParser()
    product_id = parser.uuid("product_id", data.product_id)
    project_code = parser.required("project_code", data.project_code, max_length=64)
    lot_code = parser.required("lot_code", data.lot_code, max_length=64)
    parser.done()
    assert product_id is not None  # noqa: S101 - done() raised otherwise
    organisation_id = _own_organisation(actor)
    facts = await tender_facts.security(session, project_code, lot_code)
    if facts is not None:
        return service.ApplicationRequest(
            product_id=product_id,
            applicant_organisation_id=organisation_id,
            beneficiary_name=facts.beneficiary_name,
            beneficiary_uscc=facts.beneficiary_uscc,
            project_code=facts.project_code,
            lot_code=facts.lot_code,
            lot_name=facts.lot_name,
            amount=facts.amount,
            valid_from=facts.valid_from,
            valid_until=facts.valid_until,
            currency=facts.currency,
        )
    lot_name = parser.required("lot_name", data.lot_name, max_length=300)
    beneficiary_name = parser.required("beneficiary_name", data.beneficiary_name, max_length=200)
    beneficiary_uscc = parser.required("beneficiary_uscc", data.beneficiary_uscc, max_length=18)
    amount = parser.decimal("amount", data.amount, digits=16)
    valid_from = _date(parser, "valid_from", data.valid_from)
    valid_until = _date(parser, "valid_until", data.valid_until)
    parser.done()
    assert amount is not None  # noqa: S101
    assert valid_from is not None  # noqa: S101
    assert valid_until is not None  # noqa: S101
    return service.ApplicationRequest(
        product_id=product_id,
        applicant_organisation_id=organisation_id,
        beneficiary_name=beneficiary_name,
        beneficiary_uscc=beneficiary_uscc.upper(),
        project_code=project_code,
        lot_code=lot_code,
        lot_name=lot_name,
        amount=amount,
        valid_from=valid_from,
        valid_until=valid_until,
    )


async def own_application(session: AsyncSession, actor: Actor, application_id: uuid.UUID) -> GuaranteeApplication:
    row = await GuaranteesRepository(session).get(GuaranteeApplication, application_id)
    if row is None or row.applicant_organisation_id != actor.organisation_id:
        raise NotFound("no such application of yours", field="application_id", rule="exists")
    return row


class BidderGuaranteePages(Controller):
    path = "/guarantees/mine"
    include_in_schema = False

    @get("/", name=MINE, opt=requires(GuaranteesPermission.APPLY))
    async def overview(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The guarantors (neutral order) and their products, the form, the applications and guarantees."""
        return await self._page(request, db_session, actor, [])

    @post("/", name="guarantees.apply", opt=requires(GuaranteesPermission.APPLY))
    async def apply(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[ApplyForm],
    ) -> Response[Any]:
        async def work() -> GuaranteeApplication:
            return await service.apply(db_session, actor, await _request(db_session, actor, data))

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, actor, errors, form=vars(data))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda row: request.app.route_reverse(MINE) + f"#a-{row.id}",
            refusal=refused,
        )

    @post("/{application_id:uuid}/withdraw", name="guarantees.withdraw", opt=requires(GuaranteesPermission.APPLY))
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        application_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        await own_application(db_session, actor, application_id)  # another's: 404, not a form error

        async def work() -> object:
            return await service.withdraw(db_session, actor, application_id)

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, actor, errors)

        return await submit(
            db_session, work, labels=LABELS, redirect=request.app.route_reverse(MINE) + "#applications", refusal=refused
        )

    @get(
        "/{application_id:uuid}/files/{part:str}",
        name="guarantees.download",
        opt=requires(GuaranteesPermission.APPLY),
    )
    async def download(
        self,
        request: Request[Any, Any, Any],
        application_id: FromPath[uuid.UUID],
        part: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The guarantee's canonical JSON, its CAdES signature (``p7s``) or its signed PDF."""
        await own_application(db_session, actor, application_id)
        guarantee = await service.guarantee_of_application(db_session, application_id)
        wanted = {"json": "json", "p7s": "cades", "pdf": "pdf"}.get(part)
        if guarantee is None or wanted is None:
            raise NotFound("no such guarantee file", field="part", rule="exists")
        key_attribute, media_type, filename = FILES[wanted]
        settings: Settings = request.app.state.settings
        data = await open_store(settings).read_bytes(getattr(guarantee, key_attribute))
        return Response(
            data,
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{guarantee.guarantee_no}-{filename}"',
                "Cache-Control": "no-store",
            },
        )

    @staticmethod
    async def _page(
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        errors: list[FieldError],
        *,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        guarantors = await service.guarantors_for(db_session, actor)
        products = {
            g.id: [p for p in await service.products_of(db_session, g.id) if p.kind is GuaranteeKind.BID]
            for g in guarantors
        }
        applications = await service.applications_of(db_session, _own_organisation(actor))
        guarantees: dict[uuid.UUID, Guarantee] = {}
        for application in applications:
            if application.status is ApplicationStatus.ISSUED:
                found = await service.guarantee_of_application(db_session, application.id)
                if found is not None:
                    guarantees[application.id] = found
        context = {
            "guarantors": guarantors,
            "products": products,
            "applications": applications,
            "masked_accounts": {a.id: mask_account(a.payer_account_no) for a in applications},
            "guarantees": guarantees,
            "errors": errors,
            "form": form or {},
            "labels": LABELS.fields,
            "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS,
            "application_status_labels": APPLICATION_STATUS_LABELS,
            "withdrawable": (ApplicationStatus.APPLIED, ApplicationStatus.PAID),
        }
        return await page(request, "guarantees/mine.html", context)


CONTROLLERS = (BidderGuaranteePages,)
