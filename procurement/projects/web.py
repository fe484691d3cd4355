"""Pages of intentions, plans and projects under ``/procurement`` (Chinese, English switch), on the
kernel's form path: typed form bodies, `submit()` in a savepoint, 422 with every field's error.

Public: the intentions (search) and the procurement notices (links to the tenders' public pages).
Purchasers (``procurement:project:manage``): publish an intention, plans with budget totals, projects
with their method, the tender on the bidding engine. The procurement office
(``procurement:project:oversee``): the intentions calendar.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import provide_tenders
from bidding.models import Tender
from bidding.tenders.service import TenderService
from procurement.projects import rules
from procurement.projects.api import provide_projects
from procurement.projects.models import ItemCategory, ProcurementMethod, ProcurementProject
from procurement.projects.policies import ProjectPermission
from procurement.projects.service import (
    IntentionInput,
    IntentionService,
    PlanService,
    ProjectInput,
    ProjectService,
    purchaser,
)
from procurement.requirements.service import RequirementService
from procurement.requirements.web import STATE_LABELS as REQUIREMENT_STATES
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.calendar import CHINA
from trading.kernel.web.forms import FieldParser, FormBody, Labels, lines, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

PUBLIC_PATHS = frozenset({"/procurement/intentions", "/procurement/notices"})

CATEGORY_LABELS = {
    ItemCategory.GOODS.value: N_("Goods"),
    ItemCategory.WORKS.value: N_("Works"),
    ItemCategory.SERVICES.value: N_("Services"),
}
METHOD_LABELS = {
    ProcurementMethod.PUBLIC_TENDER.value: N_("Public tender"),
    ProcurementMethod.INVITATION.value: N_("Invitation tender"),
    ProcurementMethod.NEGOTIATION.value: N_("Competitive negotiation"),
    ProcurementMethod.CONSULTATION.value: N_("Competitive consultation"),
    ProcurementMethod.INQUIRY.value: N_("Request for quotations"),
    ProcurementMethod.SINGLE_SOURCE.value: N_("Single source"),
}
STATUS_LABELS = {
    "draft": N_("Draft"),
    "publicity": N_("Single-source publicity"),
    "ready": N_("Ready to start"),
    "tendered": N_("Tender created"),
    "proceeding": N_("Proceeding with the single source"),
}
EVALUATION_LABELS = {
    "comprehensive": N_("Comprehensive scoring method"),
    "lowest-evaluated-price": N_("Lowest evaluated price method"),
}

LABELS = Labels(
    fields={
        "projectName": N_("Project name"),
        "name": N_("Project name"),
        "code": N_("Project code"),
        "budget": N_("Budget (yuan)"),
        "itemCode": N_("Item category code"),
        "category": N_("Category"),
        "summary": N_("Requirement summary"),
        "expectedMonth": N_("Expected month"),
        "exemption": N_("Exemption reason"),
        "exemptionText": N_("Exemption explanation"),
        "planId": N_("Procurement plan"),
        "budgetYear": N_("Budget year"),
        "title": N_("Title"),
        "method": N_("Procurement method"),
        "methodReason": N_("Statutory ground"),
        "justification": N_("Justification"),
        "approvalRef": N_("Approval reference"),
        "supplierName": N_("Proposed supplier"),
        "noticeAt": N_("Planned notice"),
        "evaluationMethod": N_("Evaluation method"),
        "criteria": N_("Scoring factors"),
        "smeDeductionPercent": N_("SME price deduction (percent)"),
        "bidSecurityAmount": N_("Bid security (yuan)"),
        "intentionId": N_("Procurement intention"),
        "requirementId": N_("Requirement"),
        "publicityUntil": N_("Publicity ends"),
        "status": N_("Status"),
        "deadline": N_("Bid deadline"),
    },
    rules={
        "intention_30_days": N_(
            "Procurement intentions are published at least 30 days before the procurement starts; "
            "otherwise choose an exemption reason and explain it."
        ),
        "exemption_explained": N_("Explain why the exemption applies."),
        "exemption_known": N_("Choose one of the listed exemption reasons."),
        "item_code": N_(
            "Enter a code of the government procurement catalogue matching the category (A goods, B works, C services)."
        ),
        "month": N_("Enter the month as YYYY-MM."),
        "not_past": N_("The expected month is not in the past."),
        "own_plan": N_("Choose a plan of your organisation."),
        "plan_year": N_("The plan's budget year is the year of the expected month."),
        "own_intention": N_("Choose an intention your organisation published."),
        "method_reason_required": N_("This method needs its statutory ground."),
        "method_reason_known": N_("This ground does not apply to the chosen method."),
        "justification_required": N_("This method needs a written justification."),
        "above_threshold_needs_approval": N_(
            "At or above the public-tender threshold another method needs the finance department's approval."
        ),
        "inquiry_goods_only": N_("Requests for quotations apply to goods only."),
        "single_source_supplier": N_("Name the proposed single-source supplier."),
        "method_fixed": N_("This procurement method fixes the evaluation method."),
        "price_weight_min": N_("The price weighs at least 30 per cent for goods and 10 per cent for services."),
        "weights_sum_100": N_("Scoring factors need weights summing to 100."),
        "sme_deduction_range": N_("The SME price deduction is 10 to 20 per cent, or 0."),
        "security_amount_over_cap": N_("Bid security is at most 2 per cent of the budget."),
        "single_source_publicity": N_(
            "A single-source procurement proceeds only after its publicity of 5 working days."
        ),
        "single_source_not_tendered": N_("A single-source procurement does not become a tender."),
        "ready_only": N_("Only a ready project becomes a tender."),
        "publicity_only": N_("Only a single-source project in publicity proceeds so."),
        "requirement_required": N_("A project implements an approved requirement."),
        "requirement_approved": N_("The requirement is not approved."),
        "future": N_("The planned notice is in the future."),
        "project_code": N_("Letters, digits, '.', '_' or '-', starting with a letter or digit."),
        "not_tendered": N_("The project is already a tender."),
    },
)

_LABELS: dict[str, Any] = {
    "category_labels": CATEGORY_LABELS,
    "method_labels": METHOD_LABELS,
    "status_labels": STATUS_LABELS,
    "evaluation_labels": EVALUATION_LABELS,
    "exemptions": rules.EXEMPTIONS,
    "reasons": {method.value: grounds for method, grounds in rules.REASONS.items()},
}


@dataclass
class IntentionForm:
    projectName: str = ""  # noqa: N815 - form field names are the API's
    budget: str = ""
    itemCode: str = ""  # noqa: N815
    category: str = "goods"
    summary: str = ""
    expectedMonth: str = ""  # noqa: N815
    planId: str = ""  # noqa: N815
    exemption: str = ""
    exemptionText: str = ""  # noqa: N815


@dataclass
class PlanForm:
    budgetYear: str = ""  # noqa: N815
    title: str = ""


@dataclass
class ProjectForm:
    code: str = ""
    name: str = ""
    category: str = "goods"
    itemCode: str = ""  # noqa: N815
    budget: str = ""
    method: str = "public-tender"
    noticeAt: str = ""  # noqa: N815
    evaluationMethod: str = "comprehensive"  # noqa: N815
    criteria: str = ""
    priceWeight: str = ""  # noqa: N815
    smeDeductionPercent: str = "10"  # noqa: N815
    bidSecurityAmount: str = "0"  # noqa: N815
    methodReason: str = ""  # noqa: N815
    justification: str = ""
    approvalRef: str = ""  # noqa: N815
    supplierName: str = ""  # noqa: N815
    intentionId: str = ""  # noqa: N815
    planId: str = ""  # noqa: N815
    requirementId: str = ""  # noqa: N815
    exemption: str = ""
    exemptionText: str = ""  # noqa: N815


@dataclass
class TenderForm:
    deadline: str = ""


@dataclass
class LinkForm:
    intentionId: str = ""  # noqa: N815


def _intention(form: IntentionForm) -> IntentionInput:
    parser = FieldParser()
    budget = parser.decimal("budget", form.budget, required=True)
    category = parser.choice("category", form.category, ItemCategory)
    plan = parser.uuid("planId", form.planId, required=False)
    parser.done()
    return IntentionInput(
        project_name=form.projectName,
        budget=budget or Decimal(0),
        item_code=form.itemCode,
        category=category or ItemCategory.GOODS,
        summary=form.summary,
        expected_month=form.expectedMonth,
        plan_id=plan,
        exemption=form.exemption or None,
        exemption_text=form.exemptionText or None,
    )


def _criteria(text: str) -> list[dict[str, Any]]:
    found = []
    for cells in lines(text):
        weight = cells[1] if len(cells) > 1 else ""
        found.append({"name": cells[0], "weight": int(weight) if weight.isdigit() else 0})
    return found


def _project(form: ProjectForm) -> ProjectInput:
    parser = FieldParser()
    budget = parser.decimal("budget", form.budget, required=True)
    security = parser.decimal("bidSecurityAmount", form.bidSecurityAmount or "0")
    category = parser.choice("category", form.category, ItemCategory)
    method = parser.choice("method", form.method, ProcurementMethod)
    notice = parser.time("noticeAt", form.noticeAt, required=True)
    price_weight = parser.integer("priceWeight", form.priceWeight) if form.priceWeight.strip() else None
    sme = parser.integer("smeDeductionPercent", form.smeDeductionPercent or "0")
    requirement = parser.uuid("requirementId", form.requirementId, required=False)
    intention = parser.uuid("intentionId", form.intentionId, required=False)
    plan = parser.uuid("planId", form.planId, required=False)
    parser.done()
    assert notice is not None  # noqa: S101 - required
    return ProjectInput(
        code=form.code,
        name=form.name,
        category=category or ItemCategory.GOODS,
        item_code=form.itemCode,
        budget=budget or Decimal(0),
        method=method or ProcurementMethod.PUBLIC_TENDER,
        notice_at=notice,
        evaluation_method=form.evaluationMethod,
        criteria=_criteria(form.criteria),
        price_weight=price_weight,
        sme_deduction_percent=sme or 0,
        bid_security_amount=security or Decimal(0),
        method_reason=form.methodReason or None,
        justification=form.justification or None,
        approval_ref=form.approvalRef or None,
        supplier_name=form.supplierName or None,
        intention_id=intention,
        plan_id=plan,
        requirement_id=requirement,
        exemption=form.exemption or None,
        exemption_text=form.exemptionText or None,
    )


class ProcurementProjectPages(Controller):
    path = "/procurement"
    include_in_schema = False
    dependencies = {"projects": Provide(provide_projects), "tenders": Provide(provide_tenders)}

    # --- public -----------------------------------------------------------------------------------

    @get("/intentions", name="procurement.intentions")
    async def intentions(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str] = "",
    ) -> Template:
        """采购意向公开: every published intention, searchable."""
        rows = await IntentionService(db_session).search(q[:100], limit=100)
        return await page(request, "procurement/projects/intentions.html", {"rows": rows, "q": q[:100], **_LABELS})

    @get("/notices", name="procurement.notices")
    async def notices(self, request: Request[Any, Any, Any], projects: NamedDependency[ProjectService]) -> Template:
        """采购公告: the procurement tenders published on the bidding engine, each linking its public page."""
        rows = await projects.notices()
        return await page(request, "procurement/projects/notices.html", {"rows": rows, **_LABELS})

    # --- the office -------------------------------------------------------------------------------

    @get("/calendar", name="procurement.calendar", opt=requires(ProjectPermission.OVERSEE))
    async def calendar(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], year: FromQuery[int] = 0
    ) -> Template:
        """采购意向日历 of the procurement office: the intentions by expected month."""
        now = await clock.now(db_session)
        wanted = year if 2000 <= year <= 2100 else now.astimezone(CHINA).year  # noqa: PLR2004
        months = await IntentionService(db_session).calendar(wanted)
        return await page(request, "procurement/projects/calendar.html", {"months": months, "year": wanted, **_LABELS})

    # --- purchasers: intentions and plans --------------------------------------------------------------

    async def _plans(self, session: AsyncSession, actor: Actor) -> list[Any]:
        return await PlanService(session).plans(purchaser(actor))

    @get("/intentions/new", name="procurement.intention_new", opt=requires(ProjectPermission.MANAGE))
    async def intention_new(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        context = {"form": IntentionForm(), "errors": [], "plans": await self._plans(db_session, actor), **_LABELS}
        return await page(request, "procurement/projects/intention_new.html", context)

    @post("/intentions/new", name="procurement.intention_publish", opt=requires(ProjectPermission.MANAGE))
    async def intention_publish(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[IntentionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        async def work() -> object:
            return await IntentionService(db_session).publish(actor, _intention(data))

        async def refusal(errors: list[Any]) -> Response[Any]:
            context = {"form": data, "errors": errors, "plans": await self._plans(db_session, actor), **_LABELS}
            return await page(request, "procurement/projects/intention_new.html", context)

        return await submit(
            db_session, work, labels=LABELS, redirect=request.url_for("procurement.intentions"), refusal=refusal
        )

    @get("/plans", name="procurement.plans", opt=requires(ProjectPermission.MANAGE))
    async def plans(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """采购计划 per budget year with the budget totals of their intentions and projects."""
        context = {"plans": await self._plans(db_session, actor), "form": PlanForm(), "errors": [], **_LABELS}
        return await page(request, "procurement/projects/plans.html", context)

    @post("/plans", name="procurement.plan_create", opt=requires(ProjectPermission.MANAGE))
    async def plan_create(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[PlanForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            year = parser.integer("budgetYear", data.budgetYear, required=True)
            parser.done()
            return await PlanService(db_session).create(actor, year or 0, data.title)

        async def refusal(errors: list[Any]) -> Response[Any]:
            context = {"plans": await self._plans(db_session, actor), "form": data, "errors": errors, **_LABELS}
            return await page(request, "procurement/projects/plans.html", context)

        return await submit(
            db_session, work, labels=LABELS, redirect=request.url_for("procurement.plans"), refusal=refusal
        )

    # --- purchasers: projects ------------------------------------------------------------------------

    @get("/projects", name="procurement.projects", opt=requires(ProjectPermission.MANAGE))
    async def projects_list(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], projects: NamedDependency[ProjectService]
    ) -> Template:
        rows = await projects.projects(purchaser(actor))
        return await page(request, "procurement/projects/projects.html", {"rows": rows, **_LABELS})

    async def _new_context(
        self, session: AsyncSession, actor: Actor, form: ProjectForm, errors: list[Any]
    ) -> dict[str, Any]:
        intentions = await IntentionService(session).search(organisation_id=purchaser(actor), limit=100)
        return {
            "form": form,
            "errors": errors,
            "intentions": intentions,
            # Approved requirements first: only those may become a tender.
            "requirements": sorted(
                await RequirementService(session).mine(actor), key=lambda row: row.state != "approved"
            ),
            "requirement_states": REQUIREMENT_STATES,
            "plans": await self._plans(session, actor),
            **_LABELS,
        }

    @get("/projects/new", name="procurement.project_new", opt=requires(ProjectPermission.MANAGE))
    async def project_new(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        form = ProjectForm(criteria="价格 | 30\n技术 | 50\n服务 | 20", priceWeight="30")
        context = await self._new_context(db_session, actor, form, [])
        return await page(request, "procurement/projects/project_new.html", context)

    @post("/projects/new", name="procurement.project_create", opt=requires(ProjectPermission.MANAGE))
    async def project_create(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[ProjectForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> Response[Any]:
        async def work() -> ProcurementProject:
            return await projects.create(actor, _project(data))

        async def refusal(errors: list[Any]) -> Response[Any]:
            context = await self._new_context(db_session, actor, data, errors)
            return await page(request, "procurement/projects/project_new.html", context)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda project: request.url_for("procurement.project", project_id=project.id),
            refusal=refusal,
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        project: ProcurementProject,
        errors: list[Any],
    ) -> Response[Any]:
        tender = None if project.tender_id is None else await session.get(Tender, project.tender_id)
        intentions = await IntentionService(session).search(organisation_id=project.organisation_id, limit=100)
        context = {"project": project, "tender": tender, "errors": errors, "intentions": intentions, **_LABELS}
        return await page(request, "procurement/projects/project.html", context)

    @get("/projects/{project_id:uuid}", name="procurement.project", opt=requires(ProjectPermission.MANAGE))
    async def project(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> Response[Any]:
        return await self._detail(request, db_session, await projects.own(actor, project_id), [])

    @post(
        "/projects/{project_id:uuid}/tender", name="procurement.project_tender", opt=requires(ProjectPermission.MANAGE)
    )
    async def project_tender(  # noqa: PLR0917 - Litestar injects each by name
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[uuid.UUID],
        data: FormBody[TenderForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
        tenders: NamedDependency[TenderService],
    ) -> Response[Any]:
        async def work() -> Tender:
            parser = FieldParser()
            deadline = parser.time("deadline", data.deadline)
            parser.done()
            return await projects.to_tender(actor, project_id, tenders, deadline=deadline)

        async def refusal(errors: list[Any]) -> Response[Any]:
            return await self._detail(request, db_session, await projects.own(actor, project_id), errors)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda tender: request.url_for("bidding.manage_tender", code=tender.project_code),
            refusal=refusal,
        )

    @post(
        "/projects/{project_id:uuid}/proceed",
        name="procurement.project_proceed",
        opt=requires(ProjectPermission.MANAGE),
    )
    async def project_proceed(
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> Response[Any]:
        async def work() -> ProcurementProject:
            return await projects.proceed(actor, project_id)

        async def refusal(errors: list[Any]) -> Response[Any]:
            return await self._detail(request, db_session, await projects.own(actor, project_id), errors)

        url = request.url_for("procurement.project", project_id=project_id)
        return await submit(db_session, work, labels=LABELS, redirect=url, refusal=refusal)

    @post(
        "/projects/{project_id:uuid}/intention", name="procurement.project_link", opt=requires(ProjectPermission.MANAGE)
    )
    async def project_link(  # noqa: PLR0917 - Litestar injects each by name
        self,
        request: Request[Any, Any, Any],
        project_id: FromPath[uuid.UUID],
        data: FormBody[LinkForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        projects: NamedDependency[ProjectService],
    ) -> Response[Any]:
        async def work() -> ProcurementProject:
            parser = FieldParser()
            intention = parser.uuid("intentionId", data.intentionId)
            parser.done()
            assert intention is not None  # noqa: S101 - required
            return await projects.link_intention(actor, project_id, intention)

        async def refusal(errors: list[Any]) -> Response[Any]:
            return await self._detail(request, db_session, await projects.own(actor, project_id), errors)

        url = request.url_for("procurement.project", project_id=project_id)
        return await submit(db_session, work, labels=LABELS, redirect=url, refusal=refusal)


CONTROLLERS = (ProcurementProjectPages,)
