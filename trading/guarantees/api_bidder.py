"""The bidder's JSON API for guarantees under ``/api/v1/guarantees`` (bearer token, ``guarantees:guarantee:apply``).

* ``GET /guarantors``: every active guarantor with its active products and fee rates, in the neutral
  order of `service.guarantors_for` (random per viewer and day, never ranked: 27号);
* ``POST /applications``: apply to a product's guarantor (`service.apply`): 201 with the application;
  a refused one is a 422 naming every field and rule;
* ``GET /applications``: the caller's organisation's applications, newest first;
* ``GET /applications/{application_no}``, ``POST /applications/{application_no}/withdraw``;
* ``GET /{guarantee_no}``: the organisation's guarantee (status, verification code, the bid it is
  attached to) and ``/{guarantee_no}/guarantee.json`` / ``guarantee.p7s`` (CAdES) / ``guarantee.pdf``.

Only the applicant organisation sees its applications and guarantees: anyone else gets the same 404
as for a number that does not exist, so numbers cannot be probed. Guarantee numbers containing ``/``
(allowed by the document's format) cannot be addressed here: the path parameter is one segment.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import service
from trading.guarantees.models import (
    ApplicationStatus,
    Guarantee,
    GuaranteeApplication,
    GuaranteeKind,
    GuaranteeProduct,
    GuaranteeStatus,
    Guarantor,
)
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.rules import CURRENCY
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.bounds import Digits, Input, MaxLength, ShortText
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store

APPLY: Final = requires(GuaranteesPermission.APPLY)
UUID_EXAMPLE: Final = "0b6f3c1e-6d1a-4c55-9a57-2f4f0d1c9e21"

# --- schemas -------------------------------------------------------------------------------------------


class ProductRead(msgspec.Struct):
    id: uuid.UUID
    kind: GuaranteeKind
    name: Annotated[str, msgspec.Meta(examples=["投标保函"])]
    fee_rate_percent: Annotated[Decimal, msgspec.Meta(examples=["0.5000"])]
    """The fee is max(amount × rate %, minimum fee), to the cent."""
    minimum_fee: Annotated[Decimal, msgspec.Meta(examples=["200.00"])]

    @classmethod
    def of(cls, row: GuaranteeProduct) -> ProductRead:
        return cls(row.id, row.kind, row.name, row.fee_rate_percent, row.minimum_fee)


class GuarantorRead(msgspec.Struct):
    id: uuid.UUID
    name: Annotated[str, msgspec.Meta(examples=["江苏银行股份有限公司"])]
    kind: Annotated[str, msgspec.Meta(examples=["bank"])]
    branch: Annotated[str | None, msgspec.Meta(examples=["南京分行"])]
    products: list[ProductRead]


class ApplicationCreate(Input, kw_only=True):
    """What a bidder asks a guarantor for: the product, the beneficiary (the tenderee), the tender's
    project and lot, the amount and the validity (first and last day, both inclusive).
    """

    product_id: Annotated[uuid.UUID, msgspec.Meta(examples=[UUID_EXAMPLE])]
    beneficiary_name: Annotated[ShortText, MaxLength(200), msgspec.Meta(examples=["南京市示例中学"])]
    beneficiary_uscc: Annotated[ShortText, MaxLength(18), msgspec.Meta(examples=["12320100466000000X"])]
    project_code: Annotated[ShortText, MaxLength(64), msgspec.Meta(examples=["3201002026120001"])]
    lot_code: Annotated[ShortText, MaxLength(64), msgspec.Meta(examples=["3201002026120001001"])]
    lot_name: Annotated[ShortText, MaxLength(300), msgspec.Meta(examples=["教学楼改造工程施工"])]
    amount: Annotated[Decimal, Digits(16), msgspec.Meta(examples=["80000.00"])]
    valid_from: Annotated[date, msgspec.Meta(examples=["2026-12-10"])]
    valid_until: Annotated[date, msgspec.Meta(examples=["2027-04-30"])]
    currency: Annotated[ShortText, MaxLength(3), msgspec.Meta(examples=["CNY"])] = CURRENCY


class ApplicationRead(msgspec.Struct):
    application_no: Annotated[str, msgspec.Meta(examples=["GA20261206A1B2C3D4E5"])]
    status: ApplicationStatus
    kind: GuaranteeKind
    guarantor_id: uuid.UUID
    product_id: uuid.UUID
    applicant_name: str
    beneficiary_name: str
    beneficiary_uscc: str
    project_code: str
    lot_code: str
    lot_name: str
    amount: Annotated[Decimal, msgspec.Meta(examples=["80000.00"])]
    currency: str
    valid_from: date
    valid_until: date
    fee: Annotated[Decimal, msgspec.Meta(examples=["400.00"])]
    applied_at: datetime
    paid_at: datetime | None
    decided_at: datetime | None
    refusal_reason: str | None
    guarantee_no: str | None
    """Set once the guarantor has issued the guarantee."""

    @classmethod
    def of(cls, row: GuaranteeApplication, guarantee: Guarantee | None = None) -> ApplicationRead:
        return cls(
            application_no=row.application_no,
            status=row.status,
            kind=row.kind,
            guarantor_id=row.guarantor_id,
            product_id=row.product_id,
            applicant_name=row.applicant_name,
            beneficiary_name=row.beneficiary_name,
            beneficiary_uscc=row.beneficiary_uscc,
            project_code=row.project_code,
            lot_code=row.lot_code,
            lot_name=row.lot_name,
            amount=row.amount,
            currency=row.currency,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            fee=row.fee,
            applied_at=row.applied_at,
            paid_at=row.paid_at,
            decided_at=row.decided_at,
            refusal_reason=row.refusal_reason,
            guarantee_no=guarantee.guarantee_no if guarantee is not None else None,
        )


class GuaranteeRead(msgspec.Struct):
    guarantee_no: Annotated[str, msgspec.Meta(examples=["JSBK-2026-000123"])]
    application_no: str
    kind: GuaranteeKind
    status: GuaranteeStatus
    verification_code: Annotated[str, msgspec.Meta(examples=["K7Q2-9XPM-4D3R-8WZT"])]
    """Give it to whoever should check the guarantee on the public verification page."""
    beneficiary_name: str
    project_code: str
    lot_code: str
    amount: Annotated[Decimal, msgspec.Meta(examples=["80000.00"])]
    currency: str
    valid_from: date
    valid_until: date
    issued_at: datetime
    verified_at: datetime | None
    bid_id: uuid.UUID | None
    """The bid it secures, once attached (one bid per guarantee)."""
    json_sha256: str
    pdf_sha256: str


# --- lookups: the caller's own, or 404 -------------------------------------------------------------


def _organisation(actor: Actor) -> uuid.UUID:
    if actor.organisation_id is None:  # a token always carries its membership's organisation
        raise NotFound("no such application", field="organisation", rule="exists")
    return actor.organisation_id


async def _my_application(session: AsyncSession, actor: Actor, application_no: str) -> GuaranteeApplication:
    query = select(GuaranteeApplication).where(GuaranteeApplication.application_no == application_no)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None or row.applicant_organisation_id != _organisation(actor):
        raise NotFound("no such application", field="application_no", rule="exists")
    return row


async def _my_guarantee(session: AsyncSession, actor: Actor, guarantee_no: str) -> tuple[Guarantee, str]:
    query = (
        select(Guarantee, GuaranteeApplication.application_no)
        .join(GuaranteeApplication, GuaranteeApplication.id == Guarantee.application_id)
        .where(Guarantee.guarantee_no == guarantee_no)
    )
    found = (await session.execute(query)).one_or_none()
    if found is None or found[0].applicant_organisation_id != _organisation(actor):
        raise NotFound("no such guarantee", field="guarantee_no", rule="exists")
    return found[0], found[1]


async def _file(request: Request[Any, Any, Any], key: str, media_type: str, filename: str) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    data = await open_store(settings).read_bytes(key)
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- the API ---------------------------------------------------------------------------------------


class BidderGuaranteesApi(Controller):
    path = "/guarantees"
    tags = ["guarantees"]

    @get("/guarantors", operation_id="guarantees_guarantors", opt=APPLY)
    async def guarantors(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[GuarantorRead]:
        """Every onboarded, active guarantor with its products and fee rates, in a neutral order:
        random per viewer and day, stable within the day. The platform never ranks or designates
        issuers; the bidder chooses freely.
        """
        answer = []
        for guarantor in await service.guarantors_for(db_session, actor):
            products = await service.products_of(db_session, guarantor.id)
            answer.append(_guarantor_read(guarantor, products))
        return answer

    @post("/applications", operation_id="guarantees_apply", status_code=HTTP_201_CREATED, opt=APPLY)
    async def apply(
        self,
        data: JSONBody[ApplicationCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ApplicationRead:
        """Apply for a guarantee for the caller's organisation; the fee follows from the product.

        Refused (422) naming every broken rule: ``amount``/``amount_positive``, ``valid_until``/
        ``validity_order``, ``product_id``/``exists``, ``product_kind``, ``product_active``,
        ``guarantor_active``, ``beneficiary_uscc``/``uscc_length``, ``currency``/``guarantee_currency``.
        """
        application = await service.apply(
            db_session,
            actor,
            service.ApplicationRequest(
                product_id=data.product_id,
                applicant_organisation_id=_organisation(actor),
                beneficiary_name=data.beneficiary_name,
                beneficiary_uscc=data.beneficiary_uscc,
                project_code=data.project_code,
                lot_code=data.lot_code,
                lot_name=data.lot_name,
                amount=data.amount,
                valid_from=data.valid_from,
                valid_until=data.valid_until,
                currency=data.currency,
            ),
        )
        return ApplicationRead.of(application)

    @get("/applications", operation_id="guarantees_my_applications", opt=APPLY)
    async def mine(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[ApplicationRead]:
        """The caller's organisation's applications, newest first, with the guarantee number once issued."""
        rows = await service.applications_of(db_session, _organisation(actor))
        query = select(Guarantee).where(Guarantee.application_id.in_([row.id for row in rows]))
        issued = {g.application_id: g for g in (await db_session.execute(query)).scalars()} if rows else {}
        return [ApplicationRead.of(row, issued.get(row.id)) for row in rows]

    @get("/applications/{application_no:str}", operation_id="guarantees_application", opt=APPLY)
    async def application(
        self, application_no: FromPath[str], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> ApplicationRead:
        """One of the caller's organisation's applications (another's is a 404)."""
        row = await _my_application(db_session, actor, application_no)
        return ApplicationRead.of(row, await service.guarantee_of_application(db_session, row.id))

    @post(
        "/applications/{application_no:str}/withdraw",
        operation_id="guarantees_withdraw",
        status_code=HTTP_200_OK,
        opt=APPLY,
    )
    async def withdraw(
        self, application_no: FromPath[str], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> ApplicationRead:
        """Give up an application before it is issued (applied or paid → withdrawn); 409
        ``application_status`` once issued, refused or withdrawn.
        """
        row = await _my_application(db_session, actor, application_no)
        return ApplicationRead.of(await service.withdraw(db_session, actor, row.id))

    @get("/{guarantee_no:str}", operation_id="guarantees_my_guarantee", opt=APPLY)
    async def guarantee(
        self, guarantee_no: FromPath[str], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> GuaranteeRead:
        """One of the caller's organisation's guarantees: status, verification code, the bid it secures."""
        row, application_no = await _my_guarantee(db_session, actor, guarantee_no)
        return GuaranteeRead(
            guarantee_no=row.guarantee_no,
            application_no=application_no,
            kind=row.kind,
            status=row.status,
            verification_code=row.verification_code,
            beneficiary_name=row.beneficiary_name,
            project_code=row.project_code,
            lot_code=row.lot_code,
            amount=row.amount,
            currency=row.currency,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            issued_at=row.issued_at,
            verified_at=row.verified_at,
            bid_id=row.bid_id,
            json_sha256=row.json_sha256,
            pdf_sha256=row.pdf_sha256,
        )

    @get("/{guarantee_no:str}/guarantee.json", operation_id="guarantees_my_guarantee_json", opt=APPLY)
    async def guarantee_json(
        self,
        request: Request[Any, Any, Any],
        guarantee_no: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The guarantee's canonical JSON, exactly the bytes the guarantor signed."""
        row, _ = await _my_guarantee(db_session, actor, guarantee_no)
        return await _file(request, row.json_key, "application/json", f"{guarantee_no}.json")

    @get("/{guarantee_no:str}/guarantee.p7s", operation_id="guarantees_my_guarantee_cades", opt=APPLY)
    async def guarantee_cades(
        self,
        request: Request[Any, Any, Any],
        guarantee_no: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The guarantor's detached CAdES signature over the JSON (``openssl cms -verify -binary``)."""
        row, _ = await _my_guarantee(db_session, actor, guarantee_no)
        return await _file(request, row.cades_key, "application/pkcs7-signature", f"{guarantee_no}.p7s")

    @get("/{guarantee_no:str}/guarantee.pdf", operation_id="guarantees_my_guarantee_pdf", opt=APPLY)
    async def guarantee_pdf(
        self,
        request: Request[Any, Any, Any],
        guarantee_no: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The guarantee as the guarantor's signed Chinese PDF (PAdES, with its seal)."""
        row, _ = await _my_guarantee(db_session, actor, guarantee_no)
        return await _file(request, row.pdf_key, "application/pdf", f"{guarantee_no}.pdf")


def _guarantor_read(guarantor: Guarantor, products: Any) -> GuarantorRead:
    return GuarantorRead(
        id=guarantor.id,
        name=guarantor.display_name,
        kind=guarantor.kind,
        branch=guarantor.branch,
        products=[ProductRead.of(product) for product in products],
    )


CONTROLLERS = (BidderGuaranteesApi,)
