"""Intentions, plans and projects, and a project becoming a tender on the bidding engine.

`IntentionService.publish` refuses an intention published less than 30 days before the procurement
starts unless an exemption is chosen and explained; `ProjectService.create` checks the method's
conditions and the intention rule for the planned notice; `ProjectService.to_tender` creates the
tender draft through bidding's public service (`bidding.tenders.service.TenderService`) with the
government-procurement rule set of the category. Every refusal is one 422 naming each field and rule;
every change is in the ledger.

**The requirement gate (先体检、再发布).** A project names the requirement (采购需求,
`procurement.requirements`) it implements; a named requirement must be the unit's own and approved
when the project is created, and no project becomes a tender without one that is approved and,
re-checked then with the rules in force, has no blocking finding left unjustified
(`procurement.requirements.service.approval_refusal`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import EvaluationMethod, Tender, TenderCategory
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders.base import PROJECT_CODE, PROJECT_CODE_MAX
from bidding.tenders.service import TenderService
from procurement.projects import rules
from procurement.projects.models import (
    ItemCategory,
    ProcurementIntention,
    ProcurementMethod,
    ProcurementPlan,
    ProcurementProject,
    ProjectStatus,
)
from procurement.requirements.service import approval_refusal
from trading.kernel import calendar as working_calendar
from trading.kernel import calendar_versions, clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from trading.ledger.service import append_entry
from trading.notifications import service as notifications
from trading.parties.models import Organisation, OrganisationKind, OrganisationStatus

CHINA = working_calendar.CHINA
NAME_MAX = 300
SUMMARY_MAX = 4000
TEXT_MAX = 2000
TENDER_TYPE = {ItemCategory.GOODS: "goods", ItemCategory.SERVICES: "services", ItemCategory.WORKS: "engineering"}
"""The bidding rule set a project's tender runs under: the GP rule sets for goods and services
(87号令 periods, 2 % security with non-cash forms, 综合评分法/最低评标价法); works by 招标投标法."""
TENDER_CATEGORY = {
    ItemCategory.GOODS: TenderCategory.GOODS,
    ItemCategory.SERVICES: TenderCategory.SERVICES,
    ItemCategory.WORKS: TenderCategory.ENGINEERING,
}
DEFAULT_DEADLINE_DAYS = 21


class ProjectRefused(ValidationFailed):
    """One or more rules of an intention or project are broken (422, every field and rule in ``errors``)."""


def _raise(problems: rules.Problems) -> None:
    if not problems.items:
        return
    first = problems.items[0]
    message = first["message"] if len(problems.items) == 1 else f"{len(problems.items)} procurement rules are broken"
    raise ProjectRefused(message, field=first["field"], rule=first["rule"], extra={"errors": problems.items})


def purchaser(actor: Actor) -> uuid.UUID:
    """The purchaser's organisation: a `tenderee` acting for its own budget unit."""
    if Role.TENDEREE not in actor.roles or actor.organisation_id is None or actor.user_id is None:
        raise PermissionDenied("only a purchaser (tenderee) manages procurement", field="role", rule="tenderee")
    return actor.organisation_id


async def _record(
    session: AsyncSession, actor: Actor, action: str, subject_type: str, subject_id: uuid.UUID, **summary: Any
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        summary=summary,
        data=summary,
    )


# --- intentions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentionInput:
    project_name: str
    budget: Decimal
    item_code: str
    category: ItemCategory
    summary: str
    expected_month: str
    plan_id: uuid.UUID | None = None
    exemption: str | None = None
    exemption_text: str | None = None


class IntentionService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def publish(self, actor: Actor, data: IntentionInput) -> ProcurementIntention:
        """Publish an intention; less than 30 days before the expected month starts only with an
        exemption reason (choice and explanation).
        """
        organisation_id = purchaser(actor)
        assert actor.user_id is not None  # noqa: S101 - purchaser() checked it
        problems = rules.Problems()
        name = data.project_name.strip()
        if not name or len(name) > NAME_MAX:
            problems.add("projectName", "required", f"a project name of 1–{NAME_MAX} characters")
        if data.budget <= 0:
            problems.add("budget", "positive", "the budget is positive")
        rules.check_item(data.category, data.item_code, problems)
        summary = data.summary.strip()
        if not summary or len(summary) > SUMMARY_MAX:
            problems.add("summary", "required", f"a requirement summary of 1–{SUMMARY_MAX} characters")
        now = await clock.now(self.session)
        starts = rules.month_start(data.expected_month.strip(), CHINA)
        if starts is None:
            problems.add("expectedMonth", "month", "the expected month as YYYY-MM")
        elif starts < now.astimezone(CHINA).replace(day=1, hour=0, minute=0, second=0, microsecond=0):
            problems.add("expectedMonth", "not_past", "the expected month is not in the past")
        else:
            rules.check_exemption(
                data.exemption, data.exemption_text, problems, needed=not rules.intention_early_enough(now, starts)
            )
        if data.plan_id is not None:
            plan = await self.session.get(ProcurementPlan, data.plan_id)
            if plan is None or plan.organisation_id != organisation_id:
                problems.add("planId", "own_plan", "a plan of your organisation")
            elif starts is not None and plan.budget_year != starts.year:
                problems.add("planId", "plan_year", "the plan's budget year is the year of the expected month")
        _raise(problems)
        assert starts is not None  # noqa: S101 - refused otherwise
        intention = ProcurementIntention(
            organisation_id=organisation_id,
            plan_id=data.plan_id,
            project_name=name,
            budget=data.budget,
            item_code=data.item_code.strip(),
            category=data.category,
            summary=summary,
            expected_month=data.expected_month.strip(),
            expected_start=starts,
            exemption=data.exemption or None,
            exemption_text=(data.exemption_text or "").strip() or None,
            published_at=now,
            created_by=actor.user_id,
        )
        self.session.add(intention)
        await self.session.flush()
        await _record(
            self.session,
            actor,
            "procurement.intention_published",
            "procurement.intention",
            intention.id,
            name=name,
            expected_month=intention.expected_month,
            exemption=intention.exemption,
        )
        return intention

    async def search(
        self, query: str = "", *, organisation_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
    ) -> Sequence[tuple[ProcurementIntention, str]]:
        """Published intentions with their purchaser's name, newest first; ``query`` matches the
        project name, the summary, the item code or the purchaser.
        """
        statement = (
            sa.select(ProcurementIntention, Organisation.name)
            .join(Organisation, Organisation.id == ProcurementIntention.organisation_id)
            .order_by(ProcurementIntention.published_at.desc(), ProcurementIntention.id)
            .limit(limit)
            .offset(offset)
        )
        if organisation_id is not None:
            statement = statement.where(ProcurementIntention.organisation_id == organisation_id)
        wanted = query.strip()
        if wanted:
            escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            statement = statement.where(
                sa.or_(
                    ProcurementIntention.project_name.ilike(pattern, escape="\\"),
                    ProcurementIntention.summary.ilike(pattern, escape="\\"),
                    ProcurementIntention.item_code.ilike(pattern, escape="\\"),
                    Organisation.name.ilike(pattern, escape="\\"),
                )
            )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def calendar(self, year: int) -> dict[str, list[tuple[ProcurementIntention, str]]]:
        """The intentions expected in ``year``, by month (``YYYY-MM``): the office's calendar."""
        rows = (
            await self.session.execute(
                sa.select(ProcurementIntention, Organisation.name)
                .join(Organisation, Organisation.id == ProcurementIntention.organisation_id)
                .where(ProcurementIntention.expected_month.like(f"{year:04d}-%"))
                .order_by(ProcurementIntention.expected_month, ProcurementIntention.published_at)
            )
        ).all()
        months: dict[str, list[tuple[ProcurementIntention, str]]] = {f"{year:04d}-{m:02d}": [] for m in range(1, 13)}
        for intention, name in rows:
            months.setdefault(intention.expected_month, []).append((intention, name))
        return months


# --- plans -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanTotals:
    plan: ProcurementPlan
    intentions: int
    intentions_budget: Decimal
    projects: int
    projects_budget: Decimal


class PlanService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, actor: Actor, budget_year: int, title: str) -> ProcurementPlan:
        organisation_id = purchaser(actor)
        assert actor.user_id is not None  # noqa: S101
        problems = rules.Problems()
        if not 2000 <= budget_year <= 2100:  # noqa: PLR2004
            problems.add("budgetYear", "year", "a budget year between 2000 and 2100")
        title = title.strip()
        if not title or len(title) > 200:  # noqa: PLR2004
            problems.add("title", "required", "a title of 1–200 characters")
        exists = await self.session.scalar(
            sa.select(ProcurementPlan.id).where(
                ProcurementPlan.organisation_id == organisation_id, ProcurementPlan.budget_year == budget_year
            )
        )
        if exists is not None:
            problems.add("budgetYear", "unique", "your organisation already has a plan for this budget year")
        _raise(problems)
        plan = ProcurementPlan(
            organisation_id=organisation_id,
            budget_year=budget_year,
            title=title,
            created_by=actor.user_id,
            created_at=await clock.now(self.session),
        )
        self.session.add(plan)
        await self.session.flush()
        await _record(
            self.session, actor, "procurement.plan_created", "procurement.plan", plan.id, budget_year=budget_year
        )
        return plan

    async def plans(self, organisation_id: uuid.UUID) -> list[PlanTotals]:
        """The organisation's plans, newest year first, with the budget totals of what they group."""
        plans = (
            await self.session.scalars(
                sa.select(ProcurementPlan)
                .where(ProcurementPlan.organisation_id == organisation_id)
                .order_by(ProcurementPlan.budget_year.desc())
            )
        ).all()
        totals = []
        for plan in plans:
            intentions = (
                await self.session.execute(
                    sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ProcurementIntention.budget), 0)).where(
                        ProcurementIntention.plan_id == plan.id
                    )
                )
            ).one()
            projects = (
                await self.session.execute(
                    sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ProcurementProject.budget), 0)).where(
                        ProcurementProject.plan_id == plan.id
                    )
                )
            ).one()
            totals.append(
                PlanTotals(plan, int(intentions[0]), Decimal(intentions[1]), int(projects[0]), Decimal(projects[1]))
            )
        return totals


# --- projects ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectInput:
    code: str
    name: str
    category: ItemCategory
    item_code: str
    budget: Decimal
    method: ProcurementMethod
    notice_at: datetime
    evaluation_method: str
    criteria: list[dict[str, Any]]
    price_weight: int | None = None
    sme_deduction_percent: int = 0
    bid_security_amount: Decimal = Decimal(0)
    method_reason: str | None = None
    justification: str | None = None
    approval_ref: str | None = None
    supplier_name: str | None = None
    intention_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    requirement_id: uuid.UUID | None = None
    exemption: str | None = None
    exemption_text: str | None = None


def intention_ok(intention: ProcurementIntention | None, starts_at: datetime) -> bool:
    """A project starting at ``starts_at`` has an intention published 30 days before (or the intention
    itself was published under an exemption).
    """
    if intention is None:
        return False
    return intention.exemption is not None or rules.intention_early_enough(intention.published_at, starts_at)


class ProjectService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _intention(
        self, organisation_id: uuid.UUID, intention_id: uuid.UUID | None, problems: rules.Problems
    ) -> ProcurementIntention | None:
        if intention_id is None:
            return None
        intention = await self.session.get(ProcurementIntention, intention_id)
        if intention is None or intention.organisation_id != organisation_id:
            problems.add("intentionId", "own_intention", "an intention your organisation published")
            return None
        return intention

    async def _requirement(
        self, organisation_id: uuid.UUID, requirement_id: uuid.UUID | None, problems: rules.Problems, *, required: bool
    ) -> None:
        if requirement_id is None:
            if required:
                problems.add("requirementId", "requirement_required", "a project implements an approved requirement")
            return
        refusal = await approval_refusal(self.session, requirement_id, organisation_id)
        if refusal is not None:
            problems.add("requirementId", "requirement_approved", refusal)

    async def create(self, actor: Actor, data: ProjectInput) -> ProcurementProject:  # noqa: C901, PLR0912
        """A project with its method; refused (every field and rule) when a condition is not met."""
        organisation_id = purchaser(actor)
        assert actor.user_id is not None  # noqa: S101
        problems = rules.Problems()
        code = data.code.strip()
        if not PROJECT_CODE.fullmatch(code) or len(code) > PROJECT_CODE_MAX:
            problems.add("code", "project_code", "1–64 letters, digits, '.', '_' or '-', starting alphanumeric")
        elif await self.session.scalar(sa.select(ProcurementProject.id).where(ProcurementProject.code == code)):
            problems.add("code", "unique", "another project has this code")
        elif await self.session.scalar(sa.select(Tender.id).where(Tender.project_code == code)):
            problems.add("code", "unique", "a tender has this project code")
        name = data.name.strip()
        if not name or len(name) > NAME_MAX:
            problems.add("name", "required", f"a project name of 1–{NAME_MAX} characters")
        if data.budget <= 0:
            problems.add("budget", "positive", "the budget is positive")
        rules.check_item(data.category, data.item_code, problems)
        now = await clock.now(self.session)
        if data.notice_at <= now:
            problems.add("noticeAt", "future", "the planned notice is in the future")
        rules.check_method(
            rules.MethodFacts(
                method=data.method,
                category=data.category,
                budget=data.budget,
                reason=data.method_reason or None,
                justification=data.justification,
                approval_ref=data.approval_ref,
                supplier_name=data.supplier_name,
                evaluation_method=data.evaluation_method,
                criteria=data.criteria,
                price_weight=data.price_weight,
                sme_deduction_percent=data.sme_deduction_percent,
                bid_security_amount=data.bid_security_amount,
            ),
            problems,
        )
        intention = await self._intention(organisation_id, data.intention_id, problems)
        if data.plan_id is not None:
            plan = await self.session.get(ProcurementPlan, data.plan_id)
            if plan is None or plan.organisation_id != organisation_id:
                problems.add("planId", "own_plan", "a plan of your organisation")
        # The intention rule for the planned notice: an intention published 30 days before it, or one
        # still possible (the notice 30 days away), or an exemption.
        if not intention_ok(intention, data.notice_at):
            still_possible = intention is None and rules.intention_early_enough(now, data.notice_at)
            if data.exemption or not still_possible:
                _exemption_for_project(data.exemption, data.exemption_text, problems)
        await self._requirement(organisation_id, data.requirement_id, problems, required=False)
        publicity_from = publicity_until = None
        if data.method is ProcurementMethod.SINGLE_SOURCE and not problems.items:
            calendar = await calendar_versions.load_calendar(self.session)
            try:
                publicity_until = calendar.end_of_working_days(now, rules.SINGLE_SOURCE_PUBLICITY_WORKING_DAYS)
                publicity_from = now
            except working_calendar.CalendarYearMissing as exc:
                problems.add("noticeAt", "calendar_year_loaded", str(exc))
            if publicity_until is not None and data.notice_at < publicity_until:
                problems.add(
                    "noticeAt",
                    "single_source_publicity",
                    "单一来源 proceeds only after its publicity of 5 working days (政府采购法实施条例 Art. 38)",
                )
        _raise(problems)
        status = ProjectStatus.PUBLICITY if data.method is ProcurementMethod.SINGLE_SOURCE else ProjectStatus.READY
        project = ProcurementProject(
            organisation_id=organisation_id,
            plan_id=data.plan_id,
            intention_id=data.intention_id,
            requirement_id=data.requirement_id,
            code=code,
            name=name,
            category=data.category,
            item_code=data.item_code.strip(),
            budget=data.budget,
            method=data.method,
            method_reason=data.method_reason or None,
            justification=(data.justification or "").strip() or None,
            approval_ref=(data.approval_ref or "").strip() or None,
            supplier_name=(data.supplier_name or "").strip() or None,
            publicity_from=publicity_from,
            publicity_until=publicity_until,
            notice_at=data.notice_at,
            exemption=data.exemption or None,
            exemption_text=(data.exemption_text or "").strip() or None,
            evaluation_method=data.evaluation_method,
            criteria={"criteria": data.criteria, "priceWeight": data.price_weight},
            sme_deduction_percent=data.sme_deduction_percent,
            bid_security_amount=data.bid_security_amount,
            status=status,
            tender_id=None,
            warned_at=None,
            next_check=None,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        project.next_check = _warning_check(project, intention)
        self.session.add(project)
        await self.session.flush()
        await _record(
            self.session,
            actor,
            "procurement.project_created",
            "procurement.project",
            project.id,
            code=code,
            method=data.method.value,
            budget=str(data.budget),
        )
        return project

    async def project(self, project_id: uuid.UUID, *, lock: bool = False) -> ProcurementProject:
        statement = sa.select(ProcurementProject).where(ProcurementProject.id == project_id)
        if lock:
            statement = statement.with_for_update()
        project = await self.session.scalar(statement)
        if project is None:
            raise NotFound("no such project", field="project_id", rule="exists")
        return project

    async def own(self, actor: Actor, project_id: uuid.UUID, *, lock: bool = False) -> ProcurementProject:
        organisation_id = purchaser(actor)
        project = await self.project(project_id, lock=lock)
        if project.organisation_id != organisation_id:
            raise NotFound("no such project", field="project_id", rule="exists")
        return project

    async def projects(self, organisation_id: uuid.UUID) -> Sequence[ProcurementProject]:
        return (
            await self.session.scalars(
                sa.select(ProcurementProject)
                .where(ProcurementProject.organisation_id == organisation_id)
                .order_by(ProcurementProject.created_at.desc())
            )
        ).all()

    async def link_intention(self, actor: Actor, project_id: uuid.UUID, intention_id: uuid.UUID) -> ProcurementProject:
        """Name the intention a project implements (the sweep then no longer warns, if it is 30 days old)."""
        project = await self.own(actor, project_id, lock=True)
        problems = rules.Problems()
        if project.status is ProjectStatus.TENDERED:
            problems.add("intentionId", "not_tendered", "the project is already a tender")
        intention = await self._intention(project.organisation_id, intention_id, problems)
        _raise(problems)
        project.intention_id = intention_id
        project.next_check = _warning_check(project, intention)
        project.updated_at = await clock.now(self.session)
        await self.session.flush()
        await _record(
            self.session,
            actor,
            "procurement.project_intention_linked",
            "procurement.project",
            project.id,
            code=project.code,
        )
        return project

    async def proceed(self, actor: Actor, project_id: uuid.UUID) -> ProcurementProject:
        """单一来源 after its publicity of 5 working days: negotiation with the named supplier."""
        project = await self.own(actor, project_id, lock=True)
        problems = rules.Problems()
        now = await clock.now(self.session)
        if project.method is not ProcurementMethod.SINGLE_SOURCE or project.status is not ProjectStatus.PUBLICITY:
            problems.add("status", "publicity_only", "only a single-source project in publicity proceeds so")
        elif project.publicity_until is None or now < project.publicity_until:
            problems.add(
                "publicityUntil",
                "single_source_publicity",
                "单一来源 proceeds only after its publicity of 5 working days (政府采购法实施条例 Art. 38)",
            )
        _raise(problems)
        project.status = ProjectStatus.PROCEEDING
        project.updated_at = now
        await self.session.flush()
        await _record(
            self.session, actor, "procurement.project_proceeding", "procurement.project", project.id, code=project.code
        )
        return project

    async def to_tender(
        self,
        actor: Actor,
        project_id: uuid.UUID,
        tenders: TenderService,
        *,
        deadline: datetime | None = None,
    ) -> Tender:
        """The project as a tender draft on the bidding engine (one lot, the project's budget,
        evaluation and bid security, non-cash security accepted, SME deduction in the criteria).
        The purchaser then adds the signed tender document and publishes it on bidding's pages.
        """
        project = await self.own(actor, project_id, lock=True)
        problems = rules.Problems()
        now = await clock.now(self.session)
        if project.method not in rules.TENDERED_METHODS:
            problems.add(
                "method", "single_source_not_tendered", "单一来源 has no competition: it does not become a tender"
            )
        elif project.status is not ProjectStatus.READY:
            problems.add("status", "ready_only", "only a ready project becomes a tender")
        intention = (
            None if project.intention_id is None else await self.session.get(ProcurementIntention, project.intention_id)
        )
        if project.exemption is None and not intention_ok(intention, now):
            problems.add(
                "intentionId",
                "intention_30_days",
                f"the procurement starts only {rules.INTENTION_DAYS} days after its intention was published",
            )
        await self._requirement(project.organisation_id, project.requirement_id, problems, required=True)
        _raise(problems)
        start = max(now, project.notice_at) if project.notice_at > now else now
        due = deadline or start + timedelta(days=DEFAULT_DEADLINE_DAYS)
        criteria = [Criterion(str(item["name"]), int(item["weight"])) for item in project.criteria.get("criteria", [])]
        data = TenderCreate(
            project_code=project.code,
            title=project.name,
            category=TENDER_CATEGORY[project.category],
            tender_type=TENDER_TYPE[project.category],
            estimate=project.budget,
            evaluation_method=EvaluationMethod(project.evaluation_method),
            lots=[LotCreate("L1", project.name[:300], project.budget)],
            bid_security_amount=project.bid_security_amount,
            bid_security_forms=["cash", "guarantee"],
            evaluation_criteria=criteria if project.evaluation_method == EvaluationMethod.COMPREHENSIVE.value else [],
            documents_from=start,
            documents_until=due,
            deadline=due,
        )
        tender = await tenders.create_draft(actor, data)
        # Bidding has no field for the GP policy terms: they ride in the criteria's own key.
        tender.evaluation_criteria = {
            **tender.evaluation_criteria,
            "procurement": {
                "projectId": str(project.id),
                "method": project.method.value,
                "smePriceDeduction": project.sme_deduction_percent,
                "priceWeight": project.criteria.get("priceWeight"),
            },
        }
        project.tender_id = tender.id
        project.status = ProjectStatus.TENDERED
        project.next_check = None
        project.updated_at = now
        await self.session.flush()
        await _record(
            self.session, actor, "procurement.project_tendered", "procurement.project", project.id, code=project.code
        )
        return tender

    async def notices(self, *, limit: int = 100) -> Sequence[tuple[ProcurementProject, Tender, str]]:
        """Published procurement tenders (公告) with the purchaser's name, newest first."""
        rows = (
            await self.session.execute(
                sa.select(ProcurementProject, Tender, Organisation.name)
                .join(Tender, Tender.id == ProcurementProject.tender_id)
                .join(Organisation, Organisation.id == ProcurementProject.organisation_id)
                .where(Tender.published_at.is_not(None))
                .order_by(Tender.published_at.desc())
                .limit(limit)
            )
        ).all()
        return [(row[0], row[1], row[2]) for row in rows]

    # --- the sweep ------------------------------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        return (
            await self.session.scalars(
                sa.select(ProcurementProject.id)
                .where(ProcurementProject.next_check <= now)
                .order_by(ProcurementProject.next_check)
                .limit(limit)
            )
        ).all()

    async def warn_if_due(self, project_id: uuid.UUID, now: datetime) -> bool:
        """A project about to start (its notice within `rules.WARN_DAYS_BEFORE` days) without an
        intention published 30 days before it and without exemption: the purchaser and the
        supervisory departments are told, once, and it is in the ledger.
        """
        project = await self.project(project_id, lock=True)
        if project.next_check is None or project.next_check > now:
            return False
        project.next_check = None
        intention = (
            None if project.intention_id is None else await self.session.get(ProcurementIntention, project.intention_id)
        )
        if (
            project.status is ProjectStatus.TENDERED
            or project.exemption is not None
            or intention_ok(intention, project.notice_at)
        ):
            await self.session.flush()
            return False
        project.warned_at = now
        await self.session.flush()
        await _record(
            self.session,
            Actor.system(),
            "procurement.intention_missing",
            "procurement.project",
            project.id,
            code=project.code,
            notice_at=project.notice_at.isoformat(),
        )
        params = {
            "code": project.code,
            "name": project.name,
            "notice_at": project.notice_at.isoformat(),
            "path": f"/procurement/projects/{project.id}",
        }
        recipients = [project.organisation_id, *await supervisors(self.session)]
        for organisation_id in recipients:
            await notifications.publish(
                self.session,
                recipient=notifications.Recipient.organisation(organisation_id),
                template="procurement.intention_missing",
                key=f"procurement.intention_missing:{project.id}",
                params=params,
            )
        return True


def _exemption_for_project(exemption: str | None, text: str | None, problems: rules.Problems) -> None:
    if not exemption:
        problems.add(
            "intentionId",
            "intention_30_days",
            f"no intention published {rules.INTENTION_DAYS} days before the planned notice: "
            "link one, move the notice, or choose an exemption reason",
        )
        return
    rules.check_exemption(exemption, text, problems, needed=True)


def _warning_check(project: ProcurementProject, intention: ProcurementIntention | None) -> datetime | None:
    """When the sweep looks at the project: `rules.WARN_DAYS_BEFORE` days before its notice, unless
    it is exempt or its intention is already 30 days old by then.
    """
    if project.exemption is not None or intention_ok(intention, project.notice_at):
        return None
    return project.notice_at - timedelta(days=rules.WARN_DAYS_BEFORE)


async def supervisors(session: AsyncSession) -> Sequence[uuid.UUID]:
    """The supervisory departments (财政部门政府采购监管) active on the platform."""
    rows = await session.scalars(
        sa.select(Organisation.id).where(
            Organisation.kind == OrganisationKind.SUPERVISORY_DEPARTMENT,
            Organisation.status == OrganisationStatus.ACTIVE,
        )
    )
    return rows.all()
