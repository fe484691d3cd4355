"""The tender's machine-readable requirement set (``ggzy-requirements/1``): uploaded by the host
before publication, validated (every refusal names the JSON path and the rule), stored in
`RequirementSetRecord` with its SHA-256, published with the tender.

Rules: ``tender_draft`` (only a draft's set may be uploaded or replaced), the format's own rules
(`bidding.evaluation.response.reading.FormatError`: ``required``, ``unknown-field``, ``range``, ...,
field = the JSON path), ``tender_match`` (``$.tender`` is this tender's code), ``lot_exists``
(``$.lot`` is one of its lots), ``deadline_match`` (``$.deadline`` is the tender's deadline, when
set). A bill of quantities imported from Excel (`response.bill_import`) replaces ``$.bill``.

`criteria_violations(settings, requirements)` says where an evaluation's method settings disagree
with the published criteria: ``criterion_published`` (a published criterion is evaluated under the
same code), ``criterion_kind`` (objective ↔ ``objective`` or ``price``, subjective ↔ ``subjective``),
``criterion_range`` (the same range, or the published points as the weight on the 0-100 scale),
``criterion_unpublished`` (every evaluated criterion but the price is published).
`require_consistent` refuses with them; the committee's setup calls it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.methods.common import Criterion, CriterionKind, Violation
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import RequirementSetRecord
from bidding.evaluation.response.bill_import import import_bill
from bidding.evaluation.response.reading import FormatError
from bidding.evaluation.response.requirements import RequirementSet, read_requirements
from bidding.models import Lot, Tender, TenderStatus
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import ValidationFailed
from trading.ledger.service import append_entry

UPLOADED = "evaluation.requirements_uploaded"
MEDIA_TYPE = "application/json"


class RequirementSetRefused(ValidationFailed):
    """A requirement set that breaks a rule (422; nothing stored)."""

    code = "requirement_set_refused"
    title = "Requirement set refused"


@dataclass(frozen=True, slots=True)
class Published:
    """A stored requirement set: its bytes, digest and the decoded document."""

    record: RequirementSetRecord
    requirements: RequirementSet

    @property
    def sha256(self) -> str:
        return self.record.sha256


def _refuse(field: str, rule: str, message: str, errors: list[dict[str, str]] | None = None) -> RequirementSetRefused:
    items = errors or [{"field": field, "rule": rule, "message": message}]
    return RequirementSetRefused(message, field=field, rule=rule, extra={"errors": items})


def parse(content: bytes) -> RequirementSet:
    """The document, or `RequirementSetRefused` listing every format problem (path and rule)."""
    try:
        return read_requirements(content)
    except FormatError as error:
        problems = [{"field": p.path, "rule": p.rule, "message": p.message} for p in error.problems]
        raise _refuse(error.path, error.rule, str(error), problems) from error


async def _check_against(session: AsyncSession, tender: Tender, doc: RequirementSet) -> None:
    if tender.status is not TenderStatus.DRAFT:
        raise _refuse("tender", "tender_draft", "the requirement set is fixed once the tender is published")
    if doc.tender != tender.project_code:
        raise _refuse("$.tender", "tender_match", f"the set names tender {doc.tender}, not {tender.project_code}")
    lots = set((await session.scalars(sa.select(Lot.code).where(Lot.tender_id == tender.id))).all())
    if doc.lot not in lots:
        raise _refuse("$.lot", "lot_exists", f"the tender has no lot {doc.lot}")
    if tender.deadline is not None and doc.deadline != tender.deadline:
        raise _refuse("$.deadline", "deadline_match", "the set's deadline is not the tender's deadline")


async def upload(session: AsyncSession, tender: Tender, content: bytes, *, actor: Actor) -> RequirementSetRecord:
    """Validate and store (or replace, while a draft) ``tender``'s requirement set; ledger entry."""
    if tender.status is not TenderStatus.DRAFT:
        raise _refuse("tender", "tender_draft", "the requirement set is fixed once the tender is published")
    doc = parse(content)
    await _check_against(session, tender, doc)
    now = await clock.now(session)
    digest = hashlib.sha256(content).hexdigest()
    record = await session.get(RequirementSetRecord, tender.id)
    if record is None:
        record = RequirementSetRecord(tender_id=tender.id)
        session.add(record)
    record.format = doc.format
    record.document = content
    record.sha256 = digest
    record.uploaded_by = actor.user_id  # type: ignore[assignment]
    record.uploaded_at = now
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action=UPLOADED,
        subject_type="bidding.tender",
        subject_id=str(tender.id),
        summary={"format": doc.format, "sha256": digest, "bill_lines": len(doc.bill)},
        project_code=tender.project_code,
    )
    return record


async def import_bill_into(
    session: AsyncSession, tender: Tender, data: bytes, *, filename: str, actor: Actor
) -> RequirementSetRecord:
    """Replace the stored set's ``bill`` with the 工程量清单 imported from ``data`` (.xlsx/.csv)."""
    current = await stored(session, tender.id)
    if current is None:
        raise _refuse("requirements", "requirements_first", "upload the requirement set before its bill")
    bill = import_bill(data, filename=filename)
    doc = msgspec.structs.replace(current.requirements, bill=bill)
    return await upload(session, tender, msgspec.json.encode(doc), actor=actor)


async def stored(session: AsyncSession, tender_id: Any) -> Published | None:
    """The tender's stored set (whatever its status), decoded."""
    record = await session.get(RequirementSetRecord, tender_id)
    if record is None:
        return None
    return Published(record, read_requirements(record.document))


async def published(session: AsyncSession, tender: Tender) -> Published | None:
    """The set as the public sees it: only once the tender is published (never a draft's)."""
    if tender.status is TenderStatus.DRAFT or tender.published_at is None:
        return None
    return await stored(session, tender.id)


def _same_range(criterion: Criterion, minimum: Decimal, maximum: Decimal) -> bool:
    """The published range in points, either as the evaluation's own range, or as its weight on
    the 0-100 scale (published 0-30 points = weight 0.30 over [0, 100]).
    """
    if (criterion.low, criterion.high) == (minimum, maximum):
        return True
    full_scale = (criterion.low, criterion.high) == (Decimal(0), Decimal(100))
    return full_scale and minimum == 0 and criterion.weight * 100 == maximum


def criteria_violations(settings: MethodSettings, requirements: RequirementSet) -> list[Violation]:
    """Where the evaluation's criteria disagree with the published ones (module docstring)."""
    own = {c.code: c for c in settings.criteria}
    published = {c.code for c in requirements.criteria}
    out: list[Violation] = []
    for i, item in enumerate(requirements.criteria):
        at = f"criteria[{i}]"
        criterion = own.get(item.code)
        if criterion is None:
            out.append(Violation(at, "criterion_published", f"the published criterion {item.code} is not evaluated"))
            continue
        allowed = {CriterionKind.OBJECTIVE, CriterionKind.PRICE} if item.objective else {CriterionKind.SUBJECTIVE}
        if criterion.kind not in allowed:
            kind = "objective" if item.objective else "subjective"
            out.append(Violation(at, "criterion_kind", f"{item.code} is {criterion.kind.value}, published {kind}"))
        if not _same_range(criterion, item.minimum, item.maximum):
            message = f"{item.code}: [{criterion.low}, {criterion.high}] published [{item.minimum}, {item.maximum}]"
            out.append(Violation(at, "criterion_range", message))
    for code, criterion in own.items():
        if code not in published and criterion.kind is not CriterionKind.PRICE:
            out.append(Violation("criteria", "criterion_unpublished", f"{code} is not in the published criteria"))
    return out


async def require_consistent(session: AsyncSession, tender_id: Any, settings: MethodSettings) -> None:
    """Refuse (first rule named, all in ``errors``) an evaluation whose criteria disagree with the
    tender's stored requirement set; nothing to check when the tender has none.
    """
    current = await stored(session, tender_id)
    if current is None or not current.requirements.criteria:
        return
    violations = criteria_violations(settings, current.requirements)
    if violations:
        first = violations[0]
        raise _refuse(first.field, first.rule, first.message, [v.as_dict() for v in violations])
