"""The report's life: rendered, signed by every current member in turn, refusals with or without
dissent, then completion and the published result.

* **Rendering** (`publish_report`, the job behind task `RENDER_TASK`): when the evaluation is in
  ``report-signing`` and has no current revision, the job reads `report_data`, renders the Chinese
  PDF with no transaction open, then stores it (namespace ``evaluation-reports``) and sets
  ``report_storage_key`` / ``report_sha256`` under the evaluation row's lock; idempotent. The session
  part calls `schedule_render` in the transaction that enters ``report-signing``.
* **Signing** (`sign_report`): a current member downloads the current revision, appends one
  incremental PAdES signature with the certificate bound to their account (``ggzy bid
  sign-report``) and uploads it. Accepted only when the current revision is a byte prefix of the
  upload, it carries exactly one signature more than the revision, the new one covers the whole
  file, every signature verifies under the trust list (with its timestamp), and the new signer's
  certificate is bound (live `CertificateBinding`) to a current member — the uploader. The upload
  becomes the current revision; a `ReportSignature` row and ``evaluation.report_signed`` record it.
* **Refusing** (`refuse_report`): a member may refuse with written dissent (条例 Art. 53). A refusal
  without reasons counts as agreement (recorded as such). A refusal *with* dissent changes what the
  report says: the report is rendered again with the dissent printed, and the signatures on the
  previous revision are void (their members sign the new revision; ``evaluation.report_signatures_voided``).
* **Completion** (`_complete_if_answered`): once every current member has signed or refused and the
  report is rendered, the evaluation enters ``completed`` (the session part's
  `bidding.evaluation.session.machine.enter`, with the answering member as the actor),
  ``results_published_at`` and the draws' ``published_at`` are set: names and the result are public.

The functions take the caller's session and only flush (the request or job owns the transaction);
refusals raise `ReportRefused` (422) or `Conflict` / `PermissionDenied` / `NotFound`, naming field and
rule, before anything is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation import results
from bidding.evaluation.models import (
    Evaluation,
    Member,
    ReportSignature,
    SessionState,
)
from bidding.evaluation.report import repository
from bidding.evaluation.report.data import report_data
from bidding.evaluation.report.render import render_report
from bidding.evaluation.session.machine import enter as enter_state
from bidding.signed_revisions import check_signed_revision
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry

log = structlog.get_logger(__name__)

REPORTS_NAMESPACE: Final = "evaluation-reports"
RENDER_TASK: Final = "bidding.evaluation.render_report"
MAX_REPORT_BYTES: Final = 64 * 1024 * 1024
MAX_DISSENT_CHARS: Final = 8000
SUBJECT: Final = "evaluation.evaluation"
OVERSEERS: Final = frozenset({Role.ADMIN, Role.SUPERVISOR})
"""See who answered the report before the results (identities, not scores: the PDF stays members' only)."""


class ReportRefused(ValidationFailed):
    """A signature or refusal of the evaluation report is refused; nothing is stored (422)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One current member's answer to the report (``state``: pending, signed, dissent, agreed)."""

    member_id: uuid.UUID
    name: str
    state: str
    at: datetime | None
    dissent: str


@dataclass(frozen=True, slots=True)
class ReportStatus:
    evaluation_id: uuid.UUID
    tender_code: str
    state: SessionState
    report_sha256: str | None
    signatures: int
    answers: tuple[Answer, ...]
    me: uuid.UUID | None
    """The actor's member id (None: not a current member)."""
    published_at: datetime | None


# --- rendering ---------------------------------------------------------------------------------------


def schedule_render(session: AsyncSession, evaluation: Evaluation) -> None:
    """Render the report after this transaction commits (call it when entering ``report-signing``)."""
    tasks.enqueue(session, RENDER_TASK, evaluation_id=str(evaluation.id))


async def publish_report(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store, evaluation_id: uuid.UUID
) -> str | None:
    """Render and store the current revision of an evaluation's report; idempotent.

    Returns the stored PDF's SHA-256, or None when there is nothing to render (no such evaluation,
    or not in ``report-signing``).
    """
    del settings
    async with session_maker() as session:
        evaluation = await repository.evaluation(session, evaluation_id)
        if evaluation is None or evaluation.state is not SessionState.REPORT_SIGNING:
            return None
        if evaluation.report_storage_key is not None:
            return evaluation.report_sha256
        data = await report_data(session, evaluation)
        generated_at = await clock.now(session)
    # Rendering takes 0.1–3 s: no transaction is open while it runs.
    pdf = await asyncio.to_thread(render_report, data, generated_at=generated_at)
    digest = hashlib.sha256(pdf).hexdigest()
    async with transaction(session_maker, lock=True) as session:
        evaluation = await repository.evaluation(session, evaluation_id, lock=True)
        if evaluation is None or evaluation.state is not SessionState.REPORT_SIGNING:
            return None
        if evaluation.report_storage_key is not None:  # another worker finished first
            return evaluation.report_sha256
        tender = await repository.tender(session, evaluation.tender_id)
        now = await clock.now(session)
        key = await asyncio.to_thread(store.put, REPORTS_NAMESPACE, digest, pdf)
        evaluation.report_storage_key = key
        evaluation.report_sha256 = digest
        evaluation.updated_at = now
        await session.flush()
        await append_entry(
            session,
            actor=Actor.system(),
            action="evaluation.report_rendered",
            subject_type=SUBJECT,
            subject_id=str(evaluation.id),
            summary={"pdfSha256": digest, "reportDataSha256": data["dataSha256"]},
            data={"dissents": len(data["dissents"])},
            project_code=tender.project_code,
        )
        await _complete_if_answered(session, evaluation, Actor.system(), now)
    log.info("evaluation.report_rendered", evaluation=str(evaluation_id), sha256=digest)
    return digest


# --- reading ---------------------------------------------------------------------------------------


async def report_status(
    session: AsyncSession, actor: Actor, evaluation_id: uuid.UUID, *, overseers: bool = True
) -> ReportStatus:
    """Who answered how: for the committee's members, the centre's admins and supervisors (the
    progress, not the report: ``overseers``), and (once published) for everyone.
    """
    evaluation = await _evaluation(session, evaluation_id)
    current = await repository.current_members(session, evaluation.id)
    mine = _member_of(current, actor)
    overseer = overseers and bool(actor.roles & OVERSEERS)
    if mine is None and evaluation.results_published_at is None and not overseer:
        raise PermissionDenied(
            "only the committee's members see the report before the results",
            field="evaluation",
            rule="committee-member",
        )
    rows = {row.member_id: row for row in await repository.signatures(session, evaluation.id)}
    answers = []
    for member in current:
        row = rows.get(member.id)
        state = "pending" if row is None else "signed" if row.signed else "dissent" if row.dissent.strip() else "agreed"
        answers.append(
            Answer(
                member.id, member.name, state, row.at if row else None, row.dissent if row and not row.signed else ""
            )
        )
    tender = await repository.tender(session, evaluation.tender_id)
    return ReportStatus(
        evaluation_id=evaluation.id,
        tender_code=tender.project_code,
        state=evaluation.state,
        report_sha256=evaluation.report_sha256,
        signatures=sum(1 for row in rows.values() if row.signed),
        answers=tuple(answers),
        me=mine.id if mine else None,
        published_at=evaluation.results_published_at,
    )


async def report_pdf(session: AsyncSession, store: Store, actor: Actor, evaluation_id: uuid.UUID) -> bytes:
    """The current revision: for the committee's members, and for everyone once published."""
    await report_status(session, actor, evaluation_id, overseers=False)  # the scores: members only until published
    evaluation = await _evaluation(session, evaluation_id)
    if evaluation.report_storage_key is None:
        raise NotFound("the report is being rendered; try again shortly", field="report", rule="report-ready")
    return await store.read_bytes(evaluation.report_storage_key)


# --- signing and refusing -----------------------------------------------------------------------------


async def sign_report(
    session: AsyncSession,
    settings: Settings,
    *,
    store: Store,
    actor: Actor,
    evaluation_id: uuid.UUID,
    pdf: bytes,
) -> dict[str, Any]:
    """Store a member's signed revision (see the module docstring for the checks)."""
    if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_REPORT_BYTES:
        raise ReportRefused(
            f"send the signed report as a PDF of at most {MAX_REPORT_BYTES} bytes", field="pdf", rule="pdf"
        )
    evaluation, member, current_members = await _answering_member(session, actor, evaluation_id)
    if evaluation.report_storage_key is None or evaluation.report_sha256 is None:
        raise Conflict("the report is being rendered; sign it once it is ready", field="report", rule="report-ready")
    current = await store.read_bytes(evaluation.report_storage_key)
    signed_rows = [row for row in await repository.signatures(session, evaluation.id) if row.signed]
    now = await clock.now(session)
    signer_sha256 = await _check_signed_revision(
        session, settings, current=current, uploaded=pdf, signed=len(signed_rows), now=now
    )
    bound_user = await repository.live_binding_user(session, signer_sha256)
    signer = next((m for m in current_members if bound_user is not None and m.user_id == bound_user), None)
    if signer is None:
        raise ReportRefused(
            "the new signature's certificate is not bound to a member of this evaluation committee",
            field=f"signatures[{len(signed_rows)}]",
            rule="signer-not-member",
        )
    if signer.id != member.id:
        raise ReportRefused(
            "the new signature is another member's; each member uploads their own signature",
            field=f"signatures[{len(signed_rows)}]",
            rule="signer-is-uploader",
        )
    digest = hashlib.sha256(pdf).hexdigest()
    key = await asyncio.to_thread(store.put, REPORTS_NAMESPACE, digest, pdf)
    previous = evaluation.report_sha256
    evaluation.report_storage_key = key
    evaluation.report_sha256 = digest
    evaluation.updated_at = now
    session.add(
        ReportSignature(
            id=uuid7(),
            evaluation_id=evaluation.id,
            member_id=member.id,
            signed=True,
            dissent="",
            revision_storage_key=key,
            revision_sha256=digest,
            signer_sha256=signer_sha256,
            at=now,
        )
    )
    await session.flush()
    tender = await repository.tender(session, evaluation.tender_id)
    await append_entry(
        session,
        actor=actor,
        action="evaluation.report_signed",
        subject_type=SUBJECT,
        subject_id=str(evaluation.id),
        summary={"pdfSha256": digest, "previousSha256": previous, "signatures": len(signed_rows) + 1},
        data={"member": str(member.id), "signerSha256": signer_sha256},
        project_code=tender.project_code,
    )
    completed = await _complete_if_answered(session, evaluation, actor, now)
    return {
        "sha256": digest,
        "previousSha256": previous,
        "signerSha256": signer_sha256,
        "signatures": len(signed_rows) + 1,
        "completed": completed,
        "at": now.isoformat(),
    }


async def refuse_report(session: AsyncSession, actor: Actor, evaluation_id: uuid.UUID, dissent: str) -> dict[str, Any]:
    """Record a member's refusal to sign, with written dissent (printed: the report is rendered again)
    or without reasons (counted as agreement).
    """
    dissent = dissent.strip()
    if len(dissent) > MAX_DISSENT_CHARS:
        raise ReportRefused(
            f"the dissent is at most {MAX_DISSENT_CHARS} characters", field="dissent", rule="dissent-length"
        )
    evaluation, member, _ = await _answering_member(session, actor, evaluation_id)
    now = await clock.now(session)
    session.add(
        ReportSignature(
            id=uuid7(), evaluation_id=evaluation.id, member_id=member.id, signed=False, dissent=dissent, at=now
        )
    )
    await session.flush()
    tender = await repository.tender(session, evaluation.tender_id)
    await append_entry(
        session,
        actor=actor,
        action="evaluation.report_refused",
        subject_type=SUBJECT,
        subject_id=str(evaluation.id),
        summary={"withDissent": bool(dissent), "countedAsAgreement": not dissent},
        data={"member": str(member.id), "dissent": dissent},
        project_code=tender.project_code,
    )
    voided: list[uuid.UUID] = []
    if dissent:
        voided = await repository.void_signed(session, evaluation.id)
        previous = evaluation.report_sha256
        evaluation.report_storage_key = None
        evaluation.report_sha256 = None
        evaluation.updated_at = now
        await session.flush()
        await append_entry(
            session,
            actor=actor,
            action="evaluation.report_signatures_voided",
            subject_type=SUBJECT,
            subject_id=str(evaluation.id),
            summary={"previousSha256": previous, "voided": len(voided)},
            data={"members": [str(m) for m in voided]},
            project_code=tender.project_code,
        )
        schedule_render(session, evaluation)
    completed = await _complete_if_answered(session, evaluation, actor, now)
    return {"dissent": bool(dissent), "voided": [str(m) for m in voided], "completed": completed, "at": now.isoformat()}


# --- helpers ---------------------------------------------------------------------------------------


async def _evaluation(session: AsyncSession, evaluation_id: uuid.UUID, *, lock: bool = False) -> Evaluation:
    evaluation = await repository.evaluation(session, evaluation_id, lock=lock)
    if evaluation is None:
        raise NotFound("no such evaluation", field="evaluation", rule="exists")
    return evaluation


def _member_of(members: Sequence[Member], actor: Actor) -> Member | None:
    if actor.user_id is None:
        return None
    return next((m for m in members if m.user_id == actor.user_id), None)


async def _answering_member(
    session: AsyncSession, actor: Actor, evaluation_id: uuid.UUID
) -> tuple[Evaluation, Member, Sequence[Member]]:
    """The evaluation (locked), the actor's current member, all current members; refused unless the
    actor is a current member who has not answered yet, in ``report-signing``.
    """
    evaluation = await _evaluation(session, evaluation_id, lock=True)
    current = await repository.current_members(session, evaluation.id)
    member = _member_of(current, actor)
    if member is None:
        raise PermissionDenied(
            "only a current member of the evaluation committee signs its report",
            field="evaluation",
            rule="committee-member",
        )
    if evaluation.state is not SessionState.REPORT_SIGNING:
        raise Conflict(
            f"the report is signed in the report-signing state, not in {evaluation.state.value}",
            field="state",
            rule="report-signing",
        )
    if any(row.member_id == member.id for row in await repository.signatures(session, evaluation.id)):
        raise Conflict("you have already answered the report", field="report", rule="answers-once")
    return evaluation, member, current


async def _check_signed_revision(
    session: AsyncSession, settings: Settings, *, current: bytes, uploaded: bytes, signed: int, now: datetime
) -> str:
    """The upload is the current revision plus exactly one valid signature; the new signer's SHA-256."""
    revision = await check_signed_revision(
        session,
        settings,
        current=current,
        uploaded=uploaded,
        signed=signed,
        now=now,
        refusal=ReportRefused,
        what="the report",
    )
    return revision.signer_sha256


async def _complete_if_answered(session: AsyncSession, evaluation: Evaluation, actor: Actor, now: datetime) -> bool:
    """Complete the evaluation once every current member answered a rendered report."""
    if evaluation.state is not SessionState.REPORT_SIGNING or evaluation.report_storage_key is None:
        return False
    current = await repository.current_members(session, evaluation.id)
    answered = {row.member_id for row in await repository.signatures(session, evaluation.id)}
    if not current or any(member.id not in answered for member in current):
        return False
    await _enter(session, evaluation, actor)
    evaluation.results_published_at = now
    evaluation.completed_at = evaluation.completed_at or now
    evaluation.updated_at = now
    draws = await repository.publish_draws(session, evaluation.id, now)
    await session.flush()
    tender = await repository.tender(session, evaluation.tender_id)
    result = evaluation.result or {}
    await append_entry(
        session,
        actor=actor,
        action="evaluation.results_published",
        subject_type=SUBJECT,
        subject_id=str(evaluation.id),
        summary={
            "reportSha256": evaluation.report_sha256,
            "candidates": list(result.get("candidates") or []),
            "draws": draws,
        },
        data={"committee": [m.name for m in current]},
        project_code=tender.project_code,
    )
    await results.results_published(session, evaluation)  # the award stage starts (wired by the server)
    return True


async def _enter(session: AsyncSession, evaluation: Evaluation, actor: Actor) -> None:
    """Move to ``completed`` through the session part's state machine (its checks, journal, ledger)."""
    await enter_state(session, evaluation, SessionState.COMPLETED, actor=actor)
