"""The requirement's life: create from a template, save part by part (each save re-runs the
checker), justify blocking findings, submit, review (一般性审查 / 重点审查) and the publication gate.

Rules that hold everywhere:

* Only members of the purchasing unit that owns a requirement see it (others: 404).
* A blocking finding stops submission, approval and publication until its clause is fixed, or
  justified by the purchaser and the justification approved by a reviewer (`RequirementBlocked`).
* A reviewer is another ``tenderee`` of the same organisation, never the requirement's author
  (`FourEyes`).
* Every step appends a ledger entry in the caller's transaction; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from procurement.libraries import catalogue
from procurement.negative_list.model import Severity
from procurement.requirements import content as contents
from procurement.requirements.checking import Located, rules_for_check, run_checks
from procurement.requirements.errors import (
    FourEyes,
    RequirementBlocked,
    RequirementNotFound,
    RequirementRefused,
    RequirementState,
)
from procurement.requirements.models import (
    JustificationStatus,
    Requirement,
    RequirementFinding,
    RequirementJustification,
    RequirementReview,
)
from procurement.requirements.models import RequirementState as State
from procurement.requirements.repository import RequirementRepository
from procurement.requirements.schema import CATEGORY_NAMES, CURRENT_VERSION, Category, TemplateSpec, template_for
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.ledger.service import append_entry
from trading.parties.models import OrganisationKind

SUBJECT = "procurement.requirement"
MAX_REASON = 4000
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Gate:
    """What stands between a requirement and its next step."""

    blocking: list[RequirementFinding] = field(default_factory=list)  # unfixed, not justified+approved
    pending: list[RequirementFinding] = field(default_factory=list)  # justified, approval pending

    @property
    def open(self) -> bool:
        return not self.blocking


_CATEGORY_LETTER = {Category.GOODS.value: "A", Category.WORKS.value: "B", Category.SERVICES.value: "C"}
"""The catalogue's top level: 货物 A, 工程 B, 服务 C."""


def _refuse(field_name: str, rule: str, message: str) -> RequirementRefused:
    return RequirementRefused(message, field=field_name, rule=rule)


def template_of(requirement: Requirement) -> TemplateSpec:
    template = template_for(requirement.category, requirement.template_version)
    if template is None:  # a shipped edition is never removed
        msg = f"template {requirement.category}@{requirement.template_version} is not shipped"
        raise RuntimeError(msg)
    return template


class RequirementService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = RequirementRepository(session)

    # --- reading -------------------------------------------------------------------------------

    async def get_for(self, actor: Actor, requirement_id: uuid.UUID, *, lock: bool = False) -> Requirement:
        """The requirement if the actor's organisation owns it, else 404 (supervisors read every one)."""
        row = await self.repo.get(requirement_id, lock=lock)
        if row is None or not (row.organisation_id == actor.organisation_id or Role.SUPERVISOR in actor.roles):
            msg = "no such requirement"
            raise RequirementNotFound(msg, field="requirement_id", rule="exists")
        return row

    async def mine(self, actor: Actor) -> list[Requirement]:
        if actor.organisation_id is None:
            return []
        return await self.repo.of_organisation(actor.organisation_id)

    async def review_queue(self, actor: Actor) -> list[Requirement]:
        if actor.organisation_id is None:
            return []
        rows = await self.repo.of_organisation(actor.organisation_id, states=(State.SUBMITTED.value,))
        return [row for row in rows if row.author_user_id != actor.user_id]

    async def pending_justifications(self, actor: Actor) -> list[tuple[RequirementJustification, Requirement]]:
        """Justifications waiting for a decision in the actor's organisation, not on their own requirements."""
        rows = []
        for requirement in await self.mine(actor):
            if requirement.author_user_id == actor.user_id:
                continue
            rows += [
                (j, requirement)
                for j in await self.repo.justifications(requirement.id)
                if j.status == JustificationStatus.PENDING.value
            ]
        return rows

    async def gate(self, requirement: Requirement) -> Gate:
        """The blocking findings of the last check that no approved justification covers."""
        justified = {j.fingerprint: j.status for j in await self.repo.justifications(requirement.id)}
        blocking, pending = [], []
        for finding in await self.repo.findings(requirement.id):
            if finding.severity != Severity.BLOCKING.value:
                continue
            status = justified.get(finding.fingerprint)
            if status == JustificationStatus.APPROVED.value:
                continue
            blocking.append(finding)
            if status == JustificationStatus.PENDING.value:
                pending.append(finding)
        return Gate(blocking, pending)

    # --- writing -------------------------------------------------------------------------------

    async def create(self, actor: Actor, category: str, title: str) -> Requirement:
        """A draft on the current template of ``category``, owned by the actor's purchasing unit."""
        problems = []
        title = title.strip()
        if not title:
            problems.append({"field": "title", "rule": "required", "message": "项目名称：必填"})
        elif len(title) > 200:  # noqa: PLR2004 - the column
            problems.append({"field": "title", "rule": "max_length", "message": "项目名称：不得超过 200 个字符"})
        if category not in {c.value for c in Category}:
            problems.append({"field": "category", "rule": "known", "message": "品目类别：请从列表中选择"})
        if problems:
            raise RequirementRefused(
                problems[0]["message"], field=problems[0]["field"], rule=problems[0]["rule"], extra={"errors": problems}
            )
        await self._purchaser(actor)
        template = template_for(category, CURRENT_VERSION)
        assert template is not None  # noqa: S101 - every category has a current template
        now = await clock.now(self.session)
        body = contents.empty_content()
        body["overview"] = {"project_name": title}
        row = Requirement(
            organisation_id=actor.organisation_id,
            author_user_id=actor.user_id,
            title=title,
            category=category,
            template_version=template.version,
            state=State.DRAFT.value,
            content=body,
            created_at=now,
            updated_at=now,
        )
        await self.repo.add(row)
        await self._ledger(actor, "procurement.requirement_created", row, {"template": template.key})
        return row

    async def save_part(
        self, actor: Actor, requirement_id: uuid.UUID, part_key: str, raw: Mapping[str, Any], index: int | None = None
    ) -> list[Located]:
        """Save one part (or package) after checking every field; then re-run the checker over the
        whole requirement. Refused whole (nothing written) naming every bad field.
        """
        row = await self._editable(actor, requirement_id)
        template = template_of(row)
        part = template.part(part_key)
        if part is None:
            raise _refuse("part", "known", f"模板没有这一部分：{part_key}")
        if part.repeated and (index is None or not 0 <= index < len(row.content.get("packages") or [])):
            raise _refuse("package", "known", "没有这个采购包")
        try:
            values = contents.clean_part(part, raw, index)
        except contents.PartRefused as exc:
            first = exc.problems[0]
            raise RequirementRefused(
                first["message"], field=first["field"], rule=first["rule"], extra={"errors": exc.problems}
            ) from exc
        if part.key == "overview" and values.get("item_code"):
            await self._check_item_code(row, values["item_code"])
        row.content = contents.with_part(row.content, part, values, index)
        if part.key == "overview" and values.get("project_name"):
            row.title = values["project_name"]
        located = await self._recheck(row)
        await self._ledger(
            actor,
            "procurement.requirement_saved",
            row,
            {"part": part.key if index is None else f"{part.key}[{index}]", "findings": len(located)},
        )
        return located

    async def _check_item_code(self, row: Requirement, code: str) -> None:
        """The item (品目) must be in the newest edition of the commodity library, in the
        requirement's category: goods are A…, works B…, services C… (the catalogue's top level).
        """
        item = await catalogue.lookup(self.session, code)
        if item is None:
            raise _refuse("item_code", "catalogue", f"采购品目：{code} 不在《政府采购品目分类目录》中")
        if item.code[:1] != _CATEGORY_LETTER[row.category]:
            raise _refuse(
                "item_code",
                "category",
                f"采购品目：{item.code}（{item.name}）不属于{CATEGORY_NAMES[Category(row.category)]}类",
            )

    async def add_package(self, actor: Actor, requirement_id: uuid.UUID) -> int:
        row = await self._editable(actor, requirement_id)
        packages = list(row.content.get("packages") or [])
        if len(packages) >= contents.MAX_PACKAGES:
            raise _refuse("packages", "max_packages", f"采购包不得超过 {contents.MAX_PACKAGES} 个")
        packages.append({})
        row.content = {**row.content, "packages": packages}
        row.revision += 1
        row.updated_at = await clock.now(self.session)
        await self._ledger(actor, "procurement.requirement_saved", row, {"part": f"package[{len(packages) - 1}]"})
        return len(packages) - 1

    async def submit(self, actor: Actor, requirement_id: uuid.UUID) -> Requirement:
        """Draft → submitted: every required field filled (the survey's too when obligatory), and
        no blocking finding left (re-checked now, with the rules in force).
        """
        row = await self._editable(actor, requirement_id)
        await self._recheck(row)
        duties = contents.obligations(row.category, row.content)
        missing = contents.missing_fields(template_of(row), row.content, duties)
        if missing:
            first = missing[0]
            raise RequirementRefused(first["message"], field=first["field"], rule="required", extra={"errors": missing})
        await self._ensure_gate(row)
        row.state = State.SUBMITTED.value
        row.review_level = duties.review_level
        row.submitted_at = row.updated_at = await clock.now(self.session)
        await self._ledger(actor, "procurement.requirement_submitted", row, {"level": row.review_level})
        return row

    async def justify(self, actor: Actor, finding_id: uuid.UUID, reason: str) -> RequirementJustification:
        """The purchaser's reason to keep a blocking finding's clause; waits for a reviewer."""
        finding = await self.repo.finding(finding_id)
        if finding is None:
            msg = "no such finding"
            raise RequirementNotFound(msg, field="finding_id", rule="exists")
        row = await self._editable(actor, finding.requirement_id, states=(State.DRAFT, State.SUBMITTED))
        if finding.severity != Severity.BLOCKING.value:
            raise _refuse("finding_id", "blocking_only", "只有阻断性问题需要说明理由")
        reason = reason.strip()
        if not reason:
            raise _refuse("reason", "required", "理由：必填")
        if len(reason) > MAX_REASON:
            raise _refuse("reason", "max_length", f"理由：不得超过 {MAX_REASON} 个字符")
        now = await clock.now(self.session)
        for earlier in await self.repo.justifications(row.id):
            if earlier.fingerprint == finding.fingerprint and earlier.status == JustificationStatus.PENDING.value:
                raise _refuse("finding_id", "already_pending", "该问题的理由说明正在等待审核")
        justification = RequirementJustification(
            requirement_id=row.id,
            fingerprint=finding.fingerprint,
            field_path=finding.field_path,
            rule_id=finding.rule_id,
            rule_version=finding.rule_version,
            excerpt=finding.excerpt,
            reason=reason,
            author_user_id=actor.user_id,
            filed_at=now,
            status=JustificationStatus.PENDING.value,
        )
        await self.repo.add(justification)
        await self._ledger(
            actor,
            "procurement.justification_filed",
            row,
            {"rule": finding.rule_id, "version": finding.rule_version, "field": finding.field_path},
            data={"justification": str(justification.id), "reason": reason},
        )
        return justification

    async def decide_justification(
        self, actor: Actor, justification_id: uuid.UUID, *, approve: bool, note: str
    ) -> RequirementJustification:
        """A reviewer approves or rejects a justification; the author never decides their own."""
        justification = await self.repo.justification(justification_id, lock=True)
        if justification is None:
            msg = "no such justification"
            raise RequirementNotFound(msg, field="justification_id", rule="exists")
        row = await self._reviewable(actor, justification.requirement_id, states=(State.DRAFT, State.SUBMITTED))
        if actor.user_id == justification.author_user_id:
            msg = "the justification's author cannot decide it"
            raise FourEyes(msg, field="justification_id", rule="four_eyes")
        if justification.status != JustificationStatus.PENDING.value:
            raise RequirementState("已审核", field="justification_id", rule="decided")
        note = note.strip()
        if not approve and not note:
            raise _refuse("note", "required", "驳回时须说明理由")
        if len(note) > MAX_NOTE:
            raise _refuse("note", "max_length", f"审核意见：不得超过 {MAX_NOTE} 个字符")
        justification.status = (JustificationStatus.APPROVED if approve else JustificationStatus.REJECTED).value
        justification.reviewer_user_id = actor.user_id
        justification.decided_at = await clock.now(self.session)
        justification.note = note or None
        action = "procurement.justification_approved" if approve else "procurement.justification_rejected"
        await self._ledger(
            actor,
            action,
            row,
            {"rule": justification.rule_id, "version": justification.rule_version, "field": justification.field_path},
            data={"justification": str(justification.id), "note": note},
        )
        return justification

    async def review(self, actor: Actor, requirement_id: uuid.UUID, *, approve: bool, note: str) -> Requirement:
        """The internal review's decision: approve (submitted → approved; the gate re-checked now)
        or return to the purchaser (→ draft). Recorded with the review level.
        """
        row = await self._reviewable(actor, requirement_id, states=(State.SUBMITTED,))
        note = note.strip()
        if not approve and not note:
            raise _refuse("note", "required", "退回时须说明理由")
        if len(note) > MAX_NOTE:
            raise _refuse("note", "max_length", f"审查意见：不得超过 {MAX_NOTE} 个字符")
        now = await clock.now(self.session)
        if approve:
            await self._recheck(row)
            await self._ensure_gate(row)
        await self.repo.add(
            RequirementReview(
                requirement_id=row.id,
                level=row.review_level,
                reviewer_user_id=actor.user_id,
                decision="approve" if approve else "return",
                note=note,
                revision=row.revision,
                decided_at=now,
            )
        )
        row.state = (State.APPROVED if approve else State.DRAFT).value
        row.updated_at = now
        action = "procurement.requirement_approved" if approve else "procurement.requirement_returned"
        await self._ledger(actor, action, row, {"level": row.review_level}, data={"note": note})
        return row

    # --- internals -----------------------------------------------------------------------------

    async def _purchaser(self, actor: Actor) -> None:
        if Role.TENDEREE not in actor.roles or actor.organisation_id is None:
            msg = "only a purchaser writes requirements"
            raise FourEyes(msg, field="organisation", rule="purchaser_unit")
        organisation = await self.repo.organisation(actor.organisation_id)
        if organisation is None or organisation.kind is not OrganisationKind.PURCHASER_UNIT:
            raise _refuse("organisation", "purchaser_unit", "只有采购单位（预算单位）可以编制采购需求")

    async def _editable(
        self, actor: Actor, requirement_id: uuid.UUID, *, states: tuple[State, ...] = (State.DRAFT,)
    ) -> Requirement:
        row = await self.get_for(actor, requirement_id, lock=True)
        if Role.TENDEREE not in actor.roles or row.organisation_id != actor.organisation_id:
            msg = "only the purchasing unit edits its requirement"
            raise RequirementNotFound(msg, field="requirement_id", rule="exists")
        if row.state not in {s.value for s in states}:
            raise RequirementState(f"requirement is {row.state}", field="state", rule="requirement_state")
        return row

    async def _reviewable(self, actor: Actor, requirement_id: uuid.UUID, *, states: tuple[State, ...]) -> Requirement:
        row = await self._editable(actor, requirement_id, states=states)
        if actor.user_id == row.author_user_id:
            msg = "the requirement's author cannot review it"
            raise FourEyes(msg, field="reviewer", rule="four_eyes")
        return row

    async def _recheck(self, row: Requirement) -> list[Located]:
        """Replace the stored findings with a check of the current content and rules."""
        template = template_of(row)
        located = run_checks(template, row.content, await rules_for_check(self.session))
        texts = dict(contents.text_fields(template, row.content))
        now = await clock.now(self.session)
        await self.repo.clear_findings(row.id)
        for item in located:
            text = texts.get(item.path, "")
            finding = item.finding
            self.session.add(
                RequirementFinding(
                    requirement_id=row.id,
                    field_path=item.path,
                    start=finding.start,
                    end=finding.end,
                    clause_start=item.clause_start,
                    clause_end=item.clause_end,
                    excerpt=text[item.clause_start : item.clause_end][:2000],
                    fingerprint=item.fingerprint(text)[:2200],
                    rule_id=finding.rule,
                    rule_version=finding.rule_version,
                    severity=finding.severity.value,
                    basis=finding.basis[:1000],
                    suggestion=finding.suggestion[:2000],
                    found_at=now,
                )
            )
        duties = contents.obligations(row.category, row.content)
        row.budget = contents.money((row.content.get("overview") or {}).get("budget"))
        row.survey_required = duties.survey_required
        row.review_level = duties.review_level
        row.revision += 1
        row.checked_at = row.updated_at = now
        await self.session.flush()
        return located

    async def _ensure_gate(self, row: Requirement) -> None:
        gate = await self.gate(row)
        if gate.open:
            return
        findings = [
            {
                "findingId": str(f.id),
                "rule": f.rule_id,
                "ruleVersion": f.rule_version,
                "field": f.field_path,
                "excerpt": f.excerpt,
                "justificationPending": f in gate.pending,
            }
            for f in gate.blocking
        ]
        first = gate.blocking[0]
        message = (
            f"阻断性问题未解决：{first.rule_id}（第 {first.rule_version} 版）位于 {first.field_path}：{first.excerpt}"
        )
        raise RequirementBlocked(message, field=first.field_path, rule="blocking_finding", extra={"findings": findings})

    async def _ledger(
        self,
        actor: Actor,
        action: str,
        row: Requirement,
        summary: dict[str, Any],
        *,
        data: dict[str, Any] | None = None,
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type=SUBJECT,
            subject_id=str(row.id),
            data={"revision": row.revision, "state": row.state, "content": row.content, **(data or {})},
            summary={"title": row.title, "state": row.state, **summary},
        )


async def approval_refusal(session: AsyncSession, requirement_id: uuid.UUID, organisation_id: uuid.UUID) -> str | None:
    """Why requirement ``requirement_id`` of ``organisation_id`` may not become a tender, or None:
    it must be the unit's own, approved in the internal review, and — re-checked now with the rules
    in force — carry no blocking finding without an approved justification.
    """
    row = await session.get(Requirement, requirement_id, with_for_update=True)
    if row is None or row.organisation_id != organisation_id:
        return "no such requirement of your unit"
    if row.state != State.APPROVED.value:
        return f"the requirement is {row.state}, not approved in the internal review"
    service = RequirementService(session)
    await service._recheck(row)  # noqa: SLF001 - the same module's gate
    gate = await service.gate(row)
    if not gate.open:
        return f"{len(gate.blocking)} blocking finding(s) without an approved justification"
    return None


async def ensure_publishable(session: AsyncSession, actor: Actor, requirement_id: uuid.UUID) -> Requirement:
    """For the project part (issue 18 point 5): the requirement is approved and, re-checked now
    with the rules in force, has no blocking finding without an approved justification. Raises
    `RequirementState` (rule `requirement_state`) or `RequirementBlocked` (409, naming each finding).
    """
    service = RequirementService(session)
    row = await service.get_for(actor, requirement_id, lock=True)
    if row.state != State.APPROVED.value:
        raise RequirementState(f"requirement is {row.state}", field="state", rule="requirement_state")
    await service._recheck(row)  # noqa: SLF001 - the same module's gate
    await service._ensure_gate(row)  # noqa: SLF001
    return row
