"""The requirements' JSON API under ``/api/v1/procurement/requirements``: create from a template,
save a part, read findings and obligations, justify, submit, review, decide justifications,
export. Errors are problem+json naming the field and the rule; a blocked step (409) lists the
blocking findings in ``findings`` (rule, rule version, field, clause).
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.requirements import content as contents
from procurement.requirements import documents
from procurement.requirements.models import Requirement, RequirementFinding, RequirementJustification
from procurement.requirements.policies import RequirementPermission
from procurement.requirements.schema import TemplateSpec, current_templates
from procurement.requirements.service import RequirementService, template_of
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.bounds import Input, ShortText, Text

BASE = "/procurement/requirements"


class FieldRead(msgspec.Struct):
    key: str
    label: str
    kind: str
    required: bool
    help: str
    choices: list[str]
    requiredWhenSurvey: bool  # noqa: N815 - the API's camelCase


class PartRead(msgspec.Struct):
    key: str
    number: int
    title: str
    repeated: bool
    fields: list[FieldRead]


class TemplateRead(msgspec.Struct):
    category: str
    version: str
    title: str
    parts: list[PartRead]

    @classmethod
    def of(cls, template: TemplateSpec) -> TemplateRead:
        return cls(
            category=template.category.value,
            version=template.version,
            title=template.title,
            parts=[
                PartRead(
                    part.key,
                    part.number,
                    part.title,
                    part.repeated,
                    [
                        FieldRead(
                            f.key,
                            f.label,
                            f.kind.value,
                            f.required,
                            f.help,
                            [c for c, _ in f.choices],
                            f.required_when_survey,
                        )
                        for f in part.fields
                    ],
                )
                for part in template.parts
            ],
        )


class FindingRead(msgspec.Struct):
    id: uuid.UUID
    field: str
    start: int
    end: int
    excerpt: str
    rule: str
    ruleVersion: int  # noqa: N815
    severity: str
    basis: str
    suggestion: str

    @classmethod
    def of(cls, row: RequirementFinding) -> FindingRead:
        return cls(
            row.id,
            row.field_path,
            row.start,
            row.end,
            row.excerpt,
            row.rule_id,
            row.rule_version,
            row.severity,
            row.basis,
            row.suggestion,
        )


class JustificationRead(msgspec.Struct):
    id: uuid.UUID
    field: str
    rule: str
    ruleVersion: int  # noqa: N815
    excerpt: str
    reason: str
    status: str
    note: str | None

    @classmethod
    def of(cls, row: RequirementJustification) -> JustificationRead:
        return cls(row.id, row.field_path, row.rule_id, row.rule_version, row.excerpt, row.reason, row.status, row.note)


class ObligationsRead(msgspec.Struct):
    surveyRequired: bool  # noqa: N815
    focusedReview: bool  # noqa: N815
    reasons: list[str]
    exempt: bool


class RequirementRead(msgspec.Struct):
    id: uuid.UUID
    title: str
    category: str
    templateVersion: str  # noqa: N815
    state: str
    revision: int
    budget: Decimal | None
    reviewLevel: str  # noqa: N815
    obligations: ObligationsRead
    content: dict[str, object]
    findings: list[FindingRead]
    justifications: list[JustificationRead]
    blocking: list[uuid.UUID]  # findings that stop submission now


class RequirementSummary(msgspec.Struct):
    id: uuid.UUID
    title: str
    category: str
    state: str
    templateVersion: str  # noqa: N815

    @classmethod
    def of(cls, row: Requirement) -> RequirementSummary:
        return cls(row.id, row.title, row.category, row.state, row.template_version)


class RequirementCreate(Input):
    category: ShortText
    title: ShortText


class PartWrite(Input):
    fields: dict[str, Text]
    package: int | None = None


class JustificationCreate(Input):
    findingId: uuid.UUID  # noqa: N815
    reason: Text


class Decision(Input):
    approve: bool
    note: Text = ""


async def read_model(service: RequirementService, row: Requirement) -> RequirementRead:
    duties = contents.obligations(row.category, row.content)
    findings = await service.repo.findings(row.id)
    gate = await service.gate(row)
    return RequirementRead(
        id=row.id,
        title=row.title,
        category=row.category,
        templateVersion=row.template_version,
        state=row.state,
        revision=row.revision,
        budget=row.budget,
        reviewLevel=row.review_level,
        obligations=ObligationsRead(duties.survey_required, duties.focused_review, list(duties.reasons), duties.exempt),
        content=dict(row.content),
        findings=[FindingRead.of(f) for f in findings],
        justifications=[JustificationRead.of(j) for j in await service.repo.justifications(row.id)],
        blocking=[f.id for f in gate.blocking],
    )


_CONFLICT = documents_problems(HTTP_409_CONFLICT, HTTP_404_NOT_FOUND)


class RequirementApi(Controller):
    path = BASE
    tags = ["procurement"]

    @get("/templates", operation_id="procurement_requirement_templates", opt=requires(RequirementPermission.WRITE))
    async def templates(self) -> list[TemplateRead]:
        """The current template of every item category (goods, works, services), Parts 1–5."""
        return [TemplateRead.of(t) for t in current_templates()]

    @get("/", operation_id="procurement_requirements_mine", opt=requires(RequirementPermission.WRITE))
    async def mine(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[RequirementSummary]:
        """The requirements of the caller's purchasing unit."""
        return [RequirementSummary.of(r) for r in await RequirementService(db_session).mine(actor)]

    @post(
        "/",
        operation_id="procurement_requirement_create",
        status_code=HTTP_201_CREATED,
        opt=requires(RequirementPermission.WRITE),
    )
    async def create(
        self,
        data: JSONBody[RequirementCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """A draft on the current template of the category, owned by the caller's purchasing unit."""
        service = RequirementService(db_session)
        row = await service.create(actor, data.category, data.title)
        return await read_model(service, row)

    @get(
        "/{requirement_id:uuid}", operation_id="procurement_requirement_read", opt=requires(RequirementPermission.WRITE)
    )
    async def read(
        self,
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """The requirement with its obligations, findings (rule and version) and justifications."""
        service = RequirementService(db_session)
        return await read_model(service, await service.get_for(actor, requirement_id))

    @put(
        "/{requirement_id:uuid}/parts/{part:str}",
        operation_id="procurement_requirement_save_part",
        opt={**requires(RequirementPermission.WRITE), **_CONFLICT},
    )
    async def save_part(
        self,
        requirement_id: FromPath[uuid.UUID],
        part: FromPath[str],
        data: JSONBody[PartWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """Save one part (``overview``, ``survey``, ``plan``, ``package`` with ``package`` index, ``risk``);
        the checker runs again over the whole requirement. A bad field refuses the whole part (422).
        """
        service = RequirementService(db_session)
        await service.save_part(actor, requirement_id, part, data.fields, data.package)
        return await read_model(service, await service.get_for(actor, requirement_id))

    @post(
        "/{requirement_id:uuid}/packages",
        operation_id="procurement_requirement_add_package",
        status_code=HTTP_201_CREATED,
        opt={**requires(RequirementPermission.WRITE), **_CONFLICT},
    )
    async def add_package(
        self,
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """Add an empty package (Part 4)."""
        service = RequirementService(db_session)
        await service.add_package(actor, requirement_id)
        return await read_model(service, await service.get_for(actor, requirement_id))

    @post(
        "/{requirement_id:uuid}/submission",
        operation_id="procurement_requirement_submit",
        status_code=HTTP_200_OK,
        opt={**requires(RequirementPermission.WRITE), **_CONFLICT},
    )
    async def submit(
        self,
        requirement_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """Submit for the internal review. 422 naming every missing field; 409 ``requirement_blocked``
        naming every blocking finding without an approved justification.
        """
        service = RequirementService(db_session)
        row = await service.submit(actor, requirement_id)
        return await read_model(service, row)

    @post(
        "/{requirement_id:uuid}/justifications",
        operation_id="procurement_requirement_justify",
        status_code=HTTP_201_CREATED,
        opt={**requires(RequirementPermission.WRITE), **_CONFLICT},
    )
    async def justify(
        self,
        requirement_id: FromPath[uuid.UUID],
        data: JSONBody[JustificationCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> JustificationRead:
        """Justify a blocking finding; it unblocks only once another member approves it."""
        service = RequirementService(db_session)
        finding = await service.repo.finding(data.findingId)
        if finding is None or finding.requirement_id != requirement_id:
            await service.get_for(actor, requirement_id)
        return JustificationRead.of(await service.justify(actor, data.findingId, data.reason))

    @post(
        "/justifications/{justification_id:uuid}/decision",
        operation_id="procurement_requirement_justification_decide",
        status_code=HTTP_200_OK,
        opt={**requires(RequirementPermission.REVIEW), **_CONFLICT},
    )
    async def decide(
        self,
        justification_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> JustificationRead:
        """A reviewer (not the author) approves or rejects a justification; a rejection needs a note."""
        row = await RequirementService(db_session).decide_justification(
            actor, justification_id, approve=data.approve, note=data.note
        )
        return JustificationRead.of(row)

    @post(
        "/{requirement_id:uuid}/reviews",
        operation_id="procurement_requirement_review",
        status_code=HTTP_200_OK,
        opt={**requires(RequirementPermission.REVIEW), **_CONFLICT},
    )
    async def review(
        self,
        requirement_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> RequirementRead:
        """The internal review's decision (approve, or return with a note), recorded with its level."""
        service = RequirementService(db_session)
        row = await service.review(actor, requirement_id, approve=data.approve, note=data.note)
        return await read_model(service, row)

    @get(
        "/{requirement_id:uuid}/export/{fmt:str}",
        operation_id="procurement_requirement_export",
        opt=requires(RequirementPermission.WRITE),
        media_type="application/octet-stream",
    )
    async def export(
        self,
        requirement_id: FromPath[uuid.UUID],
        fmt: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The requirement as PDF (``export/pdf``) or DOCX (``export/docx``)."""
        return await export_response(RequirementService(db_session), actor, requirement_id, fmt)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def export_response(
    service: RequirementService, actor: Actor, requirement_id: uuid.UUID, fmt: str
) -> Response[bytes]:
    row = await service.get_for(actor, requirement_id)
    if fmt not in {"pdf", "docx"}:
        from procurement.requirements.errors import RequirementNotFound  # noqa: PLC0415

        msg = "export as pdf or docx"
        raise RequirementNotFound(msg, field="fmt", rule="known")
    template = template_of(row)
    findings = await service.repo.findings(row.id)
    render = documents.render_pdf if fmt == "pdf" else documents.render_docx
    body = await asyncio.to_thread(render, row, template, findings)
    name = f"requirement-{row.id}.{fmt}"
    return Response(
        body,
        media_type="application/pdf" if fmt == "pdf" else DOCX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


CONTROLLERS = (RequirementApi,)
