"""Requirement pages (采购需求).

Purchasers: ``/procurement/requirements`` (my requirements, new from a template), the templates,
the findings of every requirement, a requirement's page (obligations, findings, justifications,
reviews, downloads, submission) and one form per part (``/parts/{part}``, each package its own),
saved with HTMX: the form comes back in place with each field's errors (422, nothing written) or
saved with each finding next to its field, the clause highlighted, the basis and the suggested fix.
Reviewers: ``/procurement/requirements/reviews`` (submitted requirements and pending justifications
of their unit, never their own). The procurement office: ``/procurement/requirements/supervision``
(every justification with its decision).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.requirements import content as contents
from procurement.requirements.api import export_response
from procurement.requirements.models import Requirement, RequirementFinding
from procurement.requirements.policies import RequirementPermission
from procurement.requirements.schema import CATEGORY_NAMES, Category, FieldSpec, Kind, current_templates
from procurement.requirements.service import RequirementService, template_of
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError
from trading.kernel.web import i18n
from trading.kernel.web.forms import SEE_OTHER, FieldError, Labels, field_errors, is_client_error, read_form
from trading.kernel.web.htmx import is_htmx
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

UNPROCESSABLE = 422
BASE = "/procurement/requirements"

LABELS = Labels(
    fields={
        "title": N_("Project name"),
        "category": N_("Item category"),
        "reason": N_("Reason"),
        "note": N_("Note"),
        "state": N_("State"),
    },
    rules={
        "blocking_finding": N_(
            "A blocking finding is neither fixed nor justified with a reviewer's approval; "
            "fix the sentence or justify it."
        ),
        "four_eyes": N_("The author of a requirement cannot review it or decide its justifications."),
        "purchaser_unit": N_("Only a purchasing unit (budget unit) writes procurement requirements."),
        "scoring_line": N_("Write each scoring item as: name | points | kind | grading."),
        "blocking_only": N_("Only blocking findings need a justification."),
        "already_pending": N_("A justification of this finding is already waiting for a reviewer."),
        "max_packages": N_("A requirement has at most 20 packages."),
        "single_line": N_("Write this on one line."),
        "decided": N_("This has already been decided."),
        "requirement_state": N_("The requirement is not in a state that allows this."),
    },
)

STATE_LABELS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted for review"),
    "approved": N_("Approved"),
    "published": N_("Published"),
}
LEVEL_LABELS = {"general": N_("General review"), "focused": N_("Focused review")}
SEVERITY_LABELS = {"blocking": N_("Blocking"), "warning": N_("Warning")}
JUSTIFICATION_LABELS = {"pending": N_("Waiting for a reviewer"), "approved": N_("Approved"), "rejected": N_("Rejected")}


@dataclass(frozen=True, slots=True)
class ShownFinding:
    row: RequirementFinding
    before: str  # the clause up to the hit
    hit: str
    after: str
    justification: Any


@dataclass(frozen=True, slots=True)
class ShownField:
    spec: FieldSpec
    path: str
    value: str
    label: str
    findings: list[ShownFinding]
    errors: list[FieldError]

    @property
    def dom_id(self) -> str:
        return "field-" + self.path.replace("[", "-").replace("]", "").replace(".", "-")


def _shown(finding: RequirementFinding, justification: Any) -> ShownFinding:
    text = finding.excerpt
    start = max(0, finding.start - finding.clause_start)
    end = max(start, finding.end - finding.clause_start)
    return ShownFinding(finding, text[:start], text[start:end], text[end:], justification)


def _label(spec: FieldSpec) -> str:
    return spec.label if i18n.get_locale() != "en" else spec.label_en


async def _findings_by_path(service: RequirementService, row: Requirement) -> dict[str, list[ShownFinding]]:
    justifications: dict[str, Any] = {}
    for j in await service.repo.justifications(row.id):  # newest first
        justifications.setdefault(j.fingerprint, j)
    grouped: dict[str, list[ShownFinding]] = defaultdict(list)
    for finding in await service.repo.findings(row.id):
        grouped[finding.field_path].append(_shown(finding, justifications.get(finding.fingerprint)))
    return grouped


def _fields(
    row: Requirement,
    *,
    part_key: str,
    index: int | None,
    values: dict[str, str],
    findings: dict[str, list[ShownFinding]],
    errors: list[FieldError],
) -> list[ShownField]:
    part = template_of(row).part(part_key)
    assert part is not None  # noqa: S101 - checked by the caller
    shown = []
    for spec in part.fields:
        path = contents.path_of(part, spec.key, index)
        shown.append(
            ShownField(
                spec,
                path,
                values.get(spec.key, ""),
                _label(spec),
                findings.get(path, []),
                [e for e in errors if e.field == path],
            )
        )
    return shown


def _common(**extra: Any) -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "level_labels": LEVEL_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "justification_labels": JUSTIFICATION_LABELS,
        "category_names": CATEGORY_NAMES,
        "base": BASE,
        **extra,
    }


class RequirementPages(Controller):
    path = BASE
    include_in_schema = False

    # --- lists ---------------------------------------------------------------------------------

    @get("/", name="procurement.requirements", opt=requires(RequirementPermission.WRITE))
    async def mine(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """My requirements, and a new one from a template."""
        return await self._mine(request, RequirementService(db_session), actor)

    async def _mine(
        self,
        request: Request[Any, Any, Any],
        service: RequirementService,
        actor: Actor,
        *,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        rows = await service.mine(actor)
        organisation = await service.repo.organisation(actor.organisation_id) if actor.organisation_id else None
        context = _common(
            rows=rows,
            errors=errors or [],
            form=form or {},
            categories=list(Category),
            purchaser=organisation is not None and organisation.kind.value == "purchaser_unit",
        )
        return await page(
            request, "procurement/requirements/list.html", context, status_code=UNPROCESSABLE if errors else 200
        )

    @post("/", name="procurement.requirement_create", opt=requires(RequirementPermission.WRITE))
    async def create(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        form = await read_form(request)
        fields = {k: str(form.get(k) or "") for k in ("category", "title")}
        service = RequirementService(db_session)
        try:
            async with db_session.begin_nested():
                row = await service.create(actor, fields["category"], fields["title"])
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._mine(request, service, actor, errors=field_errors(exc, LABELS), form=fields)
        return Redirect(f"{BASE}/{row.id}", status_code=SEE_OTHER)

    @get("/templates", name="procurement.requirement_templates", opt=requires(RequirementPermission.WRITE))
    async def templates(self, request: Request[Any, Any, Any]) -> Template:
        """The templates: Parts 1–5 per item category, with each field's type, required flag and help."""
        return await page(request, "procurement/requirements/templates.html", _common(templates=current_templates()))

    @get("/findings", name="procurement.requirement_findings", opt=requires(RequirementPermission.WRITE))
    async def findings(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """Every finding of every requirement of my unit."""
        service = RequirementService(db_session)
        listed = []
        for row in await service.mine(actor):
            template = template_of(row)
            listed += [
                (row, contents.label_of(template, f.field_path), _shown(f, None))
                for f in await service.repo.findings(row.id)
            ]
        return await page(request, "procurement/requirements/findings.html", _common(listed=listed))

    @get("/reviews", name="procurement.requirement_reviews", opt=requires(RequirementPermission.REVIEW))
    async def reviews(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Template:
        """The review queue: my unit's submitted requirements and pending justifications, not my own."""
        service = RequirementService(db_session)
        return await page(
            request,
            "procurement/requirements/reviews.html",
            _common(queue=await service.review_queue(actor), pending=await service.pending_justifications(actor)),
        )

    @get("/supervision", name="procurement.requirement_supervision", opt=requires(RequirementPermission.SUPERVISE))
    async def supervision(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
        """For the procurement office: every justification, who filed and who decided it."""
        service = RequirementService(db_session)
        rows = await service.repo.all_justifications()
        names = await service.repo.user_names(
            {j.author_user_id for j, _ in rows} | {j.reviewer_user_id for j, _ in rows if j.reviewer_user_id}
        )
        return await page(request, "procurement/requirements/supervision.html", _common(rows=rows, names=names))

    # --- one requirement -------------------------------------------------------------------------

    @get("/{requirement_id:uuid}", name="procurement.requirement", opt=requires(RequirementPermission.READ))
    async def detail(
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._detail(request, RequirementService(db_session), actor, requirement_id)

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        service: RequirementService,
        actor: Actor,
        requirement_id: uuid.UUID,
        *,
        errors: list[FieldError] | None = None,
        blocked: list[dict[str, Any]] | None = None,
        status: int = 200,
    ) -> Template:
        row = await service.get_for(actor, requirement_id)
        template = template_of(row)
        grouped = await _findings_by_path(service, row)
        gate = await service.gate(row)
        reviews = await service.repo.reviews(row.id)
        justifications = await service.repo.justifications(row.id)
        names = await service.repo.user_names(
            {r.reviewer_user_id for r in reviews}
            | {j.author_user_id for j in justifications}
            | {j.reviewer_user_id for j in justifications if j.reviewer_user_id}
            | {row.author_user_id}
        )
        packages = row.content.get("packages") or []
        member = row.organisation_id == actor.organisation_id
        context = _common(
            row=row,
            template=template,
            duties=contents.obligations(row.category, row.content),
            grouped=[(contents.label_of(template, path), items) for path, items in grouped.items()],
            blocking_ids={f.id for f in gate.blocking},
            packages=packages,
            reviews=reviews,
            justifications=justifications,
            names=names,
            errors=errors or [],
            blocked=blocked or [],
            can_edit=member and actor.has(RequirementPermission.WRITE) and row.state == "draft",
            can_review=member and actor.has(RequirementPermission.REVIEW) and actor.user_id != row.author_user_id,
        )
        return await page(request, "procurement/requirements/detail.html", context, status_code=status)

    @get(
        "/{requirement_id:uuid}/parts/{part:str}",
        name="procurement.requirement_part",
        opt=requires(RequirementPermission.WRITE),
    )
    async def part_form(  # noqa: PLR0917 - the handler's injected parameters
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        part: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        package: FromQuery[int | None] = None,
    ) -> Template:
        service = RequirementService(db_session)
        row = await service.get_for(actor, requirement_id)
        index = self._index(row, part, package)
        spec = template_of(row).part(part)
        values = contents.part_values(row.content, spec, index)  # type: ignore[arg-type]  # _index checked it
        return await self._part(request, service, row, part, index=index, values=values, errors=[])

    @post(
        "/{requirement_id:uuid}/parts/{part:str}",
        name="procurement.requirement_save",
        opt=requires(RequirementPermission.WRITE),
    )
    async def save_part(  # noqa: PLR0917 - the handler's injected parameters
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        part: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        package: FromQuery[int | None] = None,
    ) -> Response[Any]:
        """Save the part; HTMX gets the form back in place (saved, or 422 with each field's error)."""
        service = RequirementService(db_session)
        row = await service.get_for(actor, requirement_id)
        index = self._index(row, part, package)
        form = await read_form(request)
        raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        try:
            async with db_session.begin_nested():
                await service.save_part(actor, requirement_id, part, raw, index)
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            await db_session.refresh(row)
            return await self._part(
                request,
                service,
                row,
                part,
                index=index,
                values=raw,
                errors=field_errors(exc, LABELS),
                status=UNPROCESSABLE,
            )
        if not is_htmx(request):
            query = f"?package={index}&saved=1" if index is not None else "?saved=1"
            return Redirect(f"{BASE}/{requirement_id}/parts/{part}{query}", status_code=SEE_OTHER)
        row = await service.get_for(actor, requirement_id)
        spec = template_of(row).part(part)
        values = contents.part_values(row.content, spec, index)  # type: ignore[arg-type]
        return await self._part(request, service, row, part, index=index, values=values, errors=[], saved=True)

    def _index(self, row: Requirement, part: str, package: int | None) -> int | None:
        spec = template_of(row).part(part)
        if spec is None:
            from procurement.requirements.errors import RequirementNotFound  # noqa: PLC0415

            msg = "no such part"
            raise RequirementNotFound(msg, field="part", rule="known")
        if not spec.repeated:
            return None
        if package is None or not 0 <= package < len(row.content.get("packages") or []):
            from procurement.requirements.errors import RequirementNotFound  # noqa: PLC0415

            msg = "no such package"
            raise RequirementNotFound(msg, field="package", rule="known")
        return package

    async def _part(
        self,
        request: Request[Any, Any, Any],
        service: RequirementService,
        row: Requirement,
        part: str,
        *,
        index: int | None,
        values: dict[str, str],
        errors: list[FieldError],
        saved: bool = False,
        status: int = 200,
    ) -> Template:
        template = template_of(row)
        spec = template.part(part)
        assert spec is not None  # noqa: S101 - _index checked it
        duties = contents.obligations(row.category, row.content)
        context = _common(
            row=row,
            part=spec,
            part_title=spec.title if i18n.get_locale() != "en" else spec.title_en,
            index=index,
            fields=_fields(
                row,
                part_key=part,
                index=index,
                values=values,
                findings=await _findings_by_path(service, row),
                errors=errors,
            ),
            errors=errors,
            saved=saved or request.query_params.get("saved") == "1",
            duties=duties,
            editable=row.state == "draft",
            action=f"{BASE}/{row.id}/parts/{part}" + (f"?package={index}" if index is not None else ""),
            kinds=Kind,
        )
        name = "procurement/requirements/_part_form.html" if is_htmx(request) else "procurement/requirements/part.html"
        return await page(request, name, context, status_code=status)

    @post(
        "/{requirement_id:uuid}/packages",
        name="procurement.requirement_add_package",
        opt=requires(RequirementPermission.WRITE),
    )
    async def add_package(
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        service = RequirementService(db_session)
        try:
            async with db_session.begin_nested():
                index = await service.add_package(actor, requirement_id)
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._detail(
                request, service, actor, requirement_id, errors=field_errors(exc, LABELS), status=UNPROCESSABLE
            )
        return Redirect(f"{BASE}/{requirement_id}/parts/package?package={index}", status_code=SEE_OTHER)

    @post(
        "/{requirement_id:uuid}/submission",
        name="procurement.requirement_submit",
        opt=requires(RequirementPermission.WRITE),
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Submit for review; refused (422/409, nothing changed) naming each missing field or blocking finding."""
        service = RequirementService(db_session)
        return await self._act(
            request, service, actor, requirement_id, work=lambda: service.submit(actor, requirement_id)
        )

    @post(
        "/{requirement_id:uuid}/review",
        name="procurement.requirement_review",
        opt=requires(RequirementPermission.REVIEW),
    )
    async def review(
        self,
        request: Request[Any, Any, Any],
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        form = await read_form(request)
        approve, note = form.get("decision") == "approve", str(form.get("note") or "")
        service = RequirementService(db_session)
        return await self._act(
            request,
            service,
            actor,
            requirement_id,
            lambda: service.review(actor, requirement_id, approve=approve, note=note),
        )

    @post(
        "/findings/{finding_id:uuid}/justification",
        name="procurement.requirement_justify",
        opt=requires(RequirementPermission.WRITE),
    )
    async def justify(
        self,
        request: Request[Any, Any, Any],
        finding_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        form = await read_form(request)
        service = RequirementService(db_session)
        finding = await service.repo.finding(finding_id)
        if finding is None:
            from procurement.requirements.errors import RequirementNotFound  # noqa: PLC0415

            msg = "no such finding"
            raise RequirementNotFound(msg, field="finding_id", rule="exists")
        reason = str(form.get("reason") or "")
        return await self._act(
            request, service, actor, finding.requirement_id, work=lambda: service.justify(actor, finding_id, reason)
        )

    @post(
        "/justifications/{justification_id:uuid}/decision",
        name="procurement.requirement_decide",
        opt=requires(RequirementPermission.REVIEW),
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        justification_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        form = await read_form(request)
        approve, note = form.get("decision") == "approve", str(form.get("note") or "")
        service = RequirementService(db_session)
        justification = await service.repo.justification(justification_id)
        if justification is None:
            from procurement.requirements.errors import RequirementNotFound  # noqa: PLC0415

            msg = "no such justification"
            raise RequirementNotFound(msg, field="justification_id", rule="exists")
        return await self._act(
            request,
            service,
            actor,
            justification.requirement_id,
            work=lambda: service.decide_justification(actor, justification_id, approve=approve, note=note),
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        service: RequirementService,
        actor: Actor,
        requirement_id: uuid.UUID,
        work: Any,
    ) -> Response[Any]:
        try:
            async with service.session.begin_nested():
                await work()
        except DomainError as exc:
            if exc.status_code >= 500 or exc.status_code == 404:  # noqa: PLR2004
                raise
            blocked = exc.extra.get("findings") if isinstance(exc.extra.get("findings"), list) else []
            return await self._detail(
                request,
                service,
                actor,
                requirement_id,
                errors=field_errors(exc, LABELS),
                blocked=blocked,
                status=exc.status_code,
            )
        return Redirect(f"{BASE}/{requirement_id}", status_code=SEE_OTHER)

    @get(
        "/{requirement_id:uuid}/export/{fmt:str}",
        name="procurement.requirement_export",
        opt=requires(RequirementPermission.READ),
    )
    async def export(
        self,
        requirement_id: FromPath[uuid.UUID],
        fmt: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        return await export_response(RequirementService(db_session), actor, requirement_id, fmt)


CONTROLLERS = (RequirementPages,)
