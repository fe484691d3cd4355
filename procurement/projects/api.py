"""JSON API of intentions and projects: ``/api/v1/procurement/intentions`` (public search; a
purchaser publishes) and ``/api/v1/procurement/projects`` (a purchaser's projects, the method's
conditions, the tender on the bidding engine). Refusals are problem+json naming every field and rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import provide_tenders
from bidding.models import MONEY_INTEGER_DIGITS, Tender
from bidding.tenders.service import TenderService
from procurement.projects.models import (
    ItemCategory,
    ProcurementIntention,
    ProcurementMethod,
    ProcurementProject,
)
from procurement.projects.policies import ProjectPermission
from procurement.projects.service import (
    IntentionInput,
    IntentionService,
    ProjectInput,
    ProjectService,
    purchaser,
)
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.bounds import Digits, Input, MaxLength, ShortText

Money = Annotated[Decimal, Digits(MONEY_INTEGER_DIGITS)]
Name = Annotated[ShortText, MaxLength(300)]
Code = Annotated[ShortText, MaxLength(64)]
Short = Annotated[ShortText, MaxLength(200)]
LongText = Annotated[str, MaxLength(4000)]
PUBLIC_PATHS = frozenset({"/api/v1/procurement/intentions"})


class IntentionCreate(Input, rename="camel"):
    """An intention (采购意向). Less than 30 days before the expected month starts: only with an
    ``exemption`` (``small-scattered``, ``emergency``, ``secret``, ``disaster``, ``other``) and its
    ``exemptionText`` (else 422 ``expectedMonth``/``intention_30_days``).
    """

    project_name: Name
    budget: Money
    item_code: Annotated[ShortText, MaxLength(32)]
    category: ItemCategory
    summary: LongText
    expected_month: Annotated[ShortText, MaxLength(7)]
    plan_id: uuid.UUID | None = None
    exemption: Annotated[ShortText, MaxLength(32)] | None = None
    exemption_text: Annotated[str, MaxLength(2000)] | None = None


class IntentionRead(msgspec.Struct, rename="camel"):
    id: uuid.UUID
    purchaser: str
    project_name: str
    budget: Decimal
    item_code: str
    category: str
    summary: str
    expected_month: str
    published_at: datetime
    exemption: str | None
    exemption_text: str | None

    @classmethod
    def of(cls, intention: ProcurementIntention, purchaser_name: str) -> IntentionRead:
        return cls(
            id=intention.id,
            purchaser=purchaser_name,
            project_name=intention.project_name,
            budget=intention.budget,
            item_code=intention.item_code,
            category=intention.category.value,
            summary=intention.summary,
            expected_month=intention.expected_month,
            published_at=intention.published_at,
            exemption=intention.exemption,
            exemption_text=intention.exemption_text,
        )


class CriterionIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: Annotated[ShortText, MaxLength(100)]
    weight: int


class ProjectCreate(Input, rename="camel"):
    """A project with its method (``public-tender``, ``invitation``, ``competitive-negotiation``,
    ``competitive-consultation``, ``inquiry``, ``single-source``) and the method's conditions.
    """

    code: Code
    name: Name
    category: ItemCategory
    item_code: Annotated[ShortText, MaxLength(32)]
    budget: Money
    method: ProcurementMethod
    notice_at: datetime
    evaluation_method: Annotated[ShortText, MaxLength(32)]
    criteria: list[CriterionIn] = msgspec.field(default_factory=list)
    price_weight: int | None = None
    sme_deduction_percent: int = 0
    bid_security_amount: Money = Decimal(0)
    method_reason: Annotated[ShortText, MaxLength(64)] | None = None
    justification: LongText | None = None
    approval_ref: Short | None = None
    supplier_name: Short | None = None
    intention_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    requirement_id: uuid.UUID | None = None
    exemption: Annotated[ShortText, MaxLength(32)] | None = None
    exemption_text: Annotated[str, MaxLength(2000)] | None = None


class TenderRequest(Input, rename="camel"):
    deadline: datetime | None = None
    """The bid deadline; default: 21 days after the notice (or now)."""


class IntentionLink(Input, rename="camel"):
    intention_id: uuid.UUID


class ProjectRead(msgspec.Struct, rename="camel"):
    id: uuid.UUID
    code: str
    name: str
    category: str
    item_code: str
    budget: Decimal
    method: str
    method_reason: str | None
    status: str
    notice_at: datetime
    publicity_until: datetime | None
    evaluation_method: str
    sme_deduction_percent: int
    intention_id: uuid.UUID | None
    requirement_id: uuid.UUID | None
    warned_at: datetime | None
    tender_code: str | None
    tender_url: str | None

    @classmethod
    def of(cls, project: ProcurementProject, tender: Tender | None) -> ProjectRead:
        return cls(
            id=project.id,
            code=project.code,
            name=project.name,
            category=project.category.value,
            item_code=project.item_code,
            budget=project.budget,
            method=project.method.value,
            method_reason=project.method_reason,
            status=project.status.value,
            notice_at=project.notice_at,
            publicity_until=project.publicity_until,
            evaluation_method=project.evaluation_method,
            sme_deduction_percent=project.sme_deduction_percent,
            intention_id=project.intention_id,
            requirement_id=project.requirement_id,
            warned_at=project.warned_at,
            tender_code=None if tender is None else tender.project_code,
            tender_url=None if tender is None else f"/bidding/tenders/{tender.project_code}",
        )


def project_input(data: ProjectCreate) -> ProjectInput:
    return ProjectInput(
        code=data.code,
        name=data.name,
        category=data.category,
        item_code=data.item_code,
        budget=data.budget,
        method=data.method,
        notice_at=data.notice_at,
        evaluation_method=data.evaluation_method,
        criteria=[{"name": c.name, "weight": c.weight} for c in data.criteria],
        price_weight=data.price_weight,
        sme_deduction_percent=data.sme_deduction_percent,
        bid_security_amount=data.bid_security_amount,
        method_reason=data.method_reason,
        justification=data.justification,
        approval_ref=data.approval_ref,
        supplier_name=data.supplier_name,
        intention_id=data.intention_id,
        plan_id=data.plan_id,
        requirement_id=data.requirement_id,
        exemption=data.exemption,
        exemption_text=data.exemption_text,
    )


async def project_read(session: AsyncSession, project: ProcurementProject) -> ProjectRead:
    tender = None if project.tender_id is None else await session.get(Tender, project.tender_id)
    return ProjectRead.of(project, tender)


async def provide_projects(db_session: NamedDependency[AsyncSession]) -> ProjectService:
    return ProjectService(db_session)


class IntentionsApi(Controller):
    path = "/procurement/intentions"
    tags = ["procurement"]

    @get("/", operation_id="procurement_list_intentions")
    async def list_intentions(
        self,
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[Annotated[str, MaxLength(100)]] = "",
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> list[IntentionRead]:
        """Published intentions (public), newest first; ``q`` searches name, summary, item code, purchaser."""
        rows = await IntentionService(db_session).search(q, limit=max(1, min(limit, 100)), offset=max(0, offset))
        return [IntentionRead.of(intention, name) for intention, name in rows]

    @post(
        "/",
        operation_id="procurement_publish_intention",
        status_code=HTTP_201_CREATED,
        opt=requires(ProjectPermission.MANAGE),
    )
    async def publish(
        self, data: JSONBody[IntentionCreate], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> IntentionRead:
        async with db_session.begin_nested():
            intention = await IntentionService(db_session).publish(actor, intention_input(data))
        return IntentionRead.of(intention, actor.organisation_name or "")


def intention_input(data: IntentionCreate) -> IntentionInput:
    return IntentionInput(
        project_name=data.project_name,
        budget=data.budget,
        item_code=data.item_code,
        category=data.category,
        summary=data.summary,
        expected_month=data.expected_month,
        plan_id=data.plan_id,
        exemption=data.exemption,
        exemption_text=data.exemption_text,
    )


class ProjectsApi(Controller):
    path = "/procurement/projects"
    tags = ["procurement"]
    opt = requires(ProjectPermission.MANAGE)

    dependencies = {"projects": Provide(provide_projects), "tenders": Provide(provide_tenders)}

    @get("/", operation_id="procurement_list_projects")
    async def list_projects(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> list[ProjectRead]:
        """The purchaser's projects, newest first."""
        return [await project_read(db_session, p) for p in await projects.projects(purchaser(actor))]

    @post("/", operation_id="procurement_create_project", status_code=HTTP_201_CREATED)
    async def create(
        self,
        data: JSONBody[ProjectCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> ProjectRead:
        async with db_session.begin_nested():
            project = await projects.create(actor, project_input(data))
        return await project_read(db_session, project)

    @get("/{project_id:uuid}", operation_id="procurement_get_project")
    async def detail(
        self,
        project_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> ProjectRead:
        return await project_read(db_session, await projects.own(actor, project_id))

    @post("/{project_id:uuid}/tender", operation_id="procurement_project_to_tender", status_code=HTTP_201_CREATED)
    async def to_tender(  # noqa: PLR0917 - Litestar injects each by name
        self,
        project_id: FromPath[uuid.UUID],
        data: JSONBody[TenderRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
        tenders: NamedDependency[TenderService],
    ) -> ProjectRead:
        """The project as a tender draft on the bidding engine (GP rule set); add its signed tender
        document and publish it with bidding's API (``/api/v1/bidding/tenders/{code}``).
        """
        async with db_session.begin_nested():
            await projects.to_tender(actor, project_id, tenders, deadline=data.deadline)
        return await project_read(db_session, await projects.own(actor, project_id))

    @post("/{project_id:uuid}/proceed", operation_id="procurement_project_proceed", status_code=HTTP_201_CREATED)
    async def proceed(
        self,
        project_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> ProjectRead:
        """单一来源 after its publicity of 5 working days."""
        async with db_session.begin_nested():
            project = await projects.proceed(actor, project_id)
        return await project_read(db_session, project)

    @post(
        "/{project_id:uuid}/intention", operation_id="procurement_project_link_intention", status_code=HTTP_201_CREATED
    )
    async def link(
        self,
        project_id: FromPath[uuid.UUID],
        data: JSONBody[IntentionLink],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> ProjectRead:
        async with db_session.begin_nested():
            project = await projects.link_intention(actor, project_id, data.intention_id)
        return await project_read(db_session, project)


CONTROLLERS: list[Any] = [IntentionsApi, ProjectsApi]
