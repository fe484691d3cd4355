"""Complaints to the supervisory department (投诉, 实施条例 Art. 60/61; 政府采购法 Art. 55-57) and
their handling.

* **Filed** (`file_complaint`) by a bidder of the tender that objected to the result (its own
  `AwardObjection`: ``complaint_after_objection``) and is unsatisfied with the answer, or got none
  in time (before the answer or its due instant: ``complaint_after_answer``), within
  `rules.complaint_deadline` (``complaint_period``), signed with its certificate: a detached CAdES
  signature over `bidding.client.format.award_complaint_statement` (the tender, the lot group, the
  bidder's USCC, the objection and the text; ``complaint_signer``). One open complaint per
  objection (``complaint_once``). The supervisory departments are told in their inbox; acceptance is
  due within ``complaint_acceptance``. Filing moves nothing in the award's machine (an accepted
  complaint does).
* **Accepted or rejected** (`accept_complaint`, `reject_complaint`) by a supervisory department
  (``supervisor``), signed (CAdES over `format.award_complaint_act_statement`,
  ``complaint_act_signer``); the step is marked late when `AwardRules.is_late` says so. Accepting is
  the machine's ``accept_complaint`` (counted, shown as ``complaint_accepted``); the decision is then
  due within ``complaint_decision``. The complainant is told in its inbox at each step.
* **Suspended and resumed** (`suspend_award`, `resume_award`): the supervisor's order (责令暂停)
  over a complaint's award, signed, the machine's ``suspend``/``resume``.
* **Decided** (`decide_complaint`), signed: ``dismiss`` → ``decide_complaint_continue`` (the award
  goes on); ``uphold_reevaluate`` → ``uphold_complaint_reevaluate`` (the award becomes ``voided``:
  back to evaluation) or ``uphold_re_tender`` → ``uphold_complaint_re_tender``; both make every
  earlier award act void (`states.void_acts`: their `AwardStep.voided_at`, and the publicity,
  notices and contract rows' ``voided_at``). The evaluation package offers no public way to reopen
  an evaluation: the award records itself voided and the tender waits for a new evaluation result
  (which starts a new award).

Every step is a ledger entry (``award.complaint_*``, ``award.suspended``, ``award.resumed``) on the
tender's chain, and every machine move an `AwardStep` (`publicity.record_step`, the journal
`states.replay` re-checks). Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import objections
from bidding.award import publicity as pub
from bidding.award.errors import AwardRefused
from bidding.award.models import Award, AwardNotice, AwardObjection, AwardStep, Complaint, Contract, Publicity
from bidding.award.rules import PeriodKey, Sector, complaint_deadline
from bidding.award.states import (
    TERMINAL,
    AwardEvent,
    AwardState,
    ComplaintState,
    Position,
    Step,
    complaint_transition,
    transition,
    void_acts,
)
from bidding.client import format as fmt
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import CalendarYearMissing, WorkingCalendar
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry, request_checkpoint
from trading.notifications import service as notifications
from trading.parties.models import Organisation

TEXT_MAX: Final = 8000
FILED_TEMPLATE: Final = "award.complaint_filed"
PROGRESS_TEMPLATE: Final = "award.complaint_progress"
OVERDUE_TEMPLATE: Final = "award.complaint_overdue"
SUBJECT: Final = "award.award"
"""The award's ledger subject (`publicity.SUBJECT`), named literally for the vocabulary scan."""
OPEN_STATES: Final = frozenset({ComplaintState.FILED, ComplaintState.ACCEPTED})


class Outcome(StrEnum):
    """The supervisor's decision on an accepted complaint and the award event it causes."""

    DISMISS = "dismiss"
    UPHOLD_REEVALUATE = "uphold_reevaluate"
    UPHOLD_RE_TENDER = "uphold_re_tender"

    @property
    def event(self) -> AwardEvent:
        return {
            Outcome.DISMISS: AwardEvent.DECIDE_COMPLAINT_CONTINUE,
            Outcome.UPHOLD_REEVALUATE: AwardEvent.UPHOLD_COMPLAINT_REEVALUATE,
            Outcome.UPHOLD_RE_TENDER: AwardEvent.UPHOLD_COMPLAINT_RE_TENDER,
        }[self]

    @property
    def state(self) -> ComplaintState:
        return ComplaintState.DISMISSED if self is Outcome.DISMISS else ComplaintState.UPHELD


class Act(StrEnum):
    """What the supervisor signs (`format.award_complaint_act_statement`'s ``act``)."""

    ACCEPT = "accept"
    REJECT = "reject"
    SUSPEND = "suspend"
    RESUME = "resume"
    DISMISS = "dismiss"
    UPHOLD_REEVALUATE = "uphold_reevaluate"
    UPHOLD_RE_TENDER = "uphold_re_tender"


def _text(text: str, *, field: str) -> str:
    text = text.strip()
    if not text or len(text) > TEXT_MAX:
        raise AwardRefused(f"the {field} has 1–{TEXT_MAX} characters", field=field, rule=f"{field}_length")
    return text


# --- filing ---------------------------------------------------------------------------------------


async def _own_objection(
    session: AsyncSession, award: Award, organisation_id: uuid.UUID, value: uuid.UUID | str
) -> AwardObjection:
    try:
        objection_id = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip())
    except ValueError:
        objection_id = None
    objection = await session.get(AwardObjection, objection_id) if objection_id is not None else None
    if objection is None or objection.award_id != award.id or objection.organisation_id != organisation_id:
        raise AwardRefused(
            "a complaint follows the complainant's own objection to this result",
            field="objection",
            rule="complaint_after_objection",
        )
    return objection


async def complaint_statement(
    session: AsyncSession, award: Award, organisation: Organisation, objection_id: uuid.UUID | str, text: str
) -> bytes:
    """What the bidder signs to complain with ``text`` after its objection ``objection_id``."""
    tender = await session.get_one(Tender, award.tender_id)
    objection = await _own_objection(session, award, organisation.id, objection_id)
    return fmt.award_complaint_statement(
        tender.project_code, award.lot_group, organisation.uscc, str(objection.id), text.strip()
    )


def _calendar_refusal(exc: CalendarYearMissing) -> AwardRefused:
    return AwardRefused(str(exc), field="at", rule="calendar_year_loaded")


def deadline_of(award: Award, objection: AwardObjection, calendar: WorkingCalendar) -> datetime:
    """Until when a complaint may follow ``objection`` (`rules.complaint_deadline`); refused
    (``calendar_year_loaded``) when the working-day calendar lacks a year it needs, never guessed.
    """
    try:
        return complaint_deadline(
            award.sector,
            objection.filed_at,
            objection.answered_at,
            calendar,
            pub.rules_of(award),
        )
    except CalendarYearMissing as exc:
        raise _calendar_refusal(exc) from None


async def file_complaint(  # noqa: PLR0917 - the act, what it follows and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    award_id: uuid.UUID,
    objection_id: uuid.UUID | str,
    text: str,
    signature: str,
) -> Complaint:
    """A bidder's signed complaint after its objection (module docstring)."""
    award = await pub.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if actor.user_id is None or not await objections.is_bidder(session, tender.id, actor.organisation_id):
        raise PermissionDenied(
            "only a bidder of this tender complains about its result", field="actor", rule="complaint_by_bidder"
        )
    assert actor.organisation_id is not None  # is_bidder  # noqa: S101
    if award.state in TERMINAL:
        raise AwardRefused(f"the award has ended ({award.state.value})", field="award", rule="award_finished")
    objection = await _own_objection(session, award, actor.organisation_id, objection_id)
    grounds = _text(text, field="complaint")
    now = await clock.now(session)
    if objection.answered_at is None and now < objection.answer_due:
        raise AwardRefused(
            f"a complaint follows the answer, or its due instant {objection.answer_due.isoformat()}",
            field="objection",
            rule="complaint_after_answer",
        )
    deadline = deadline_of(award, objection, await load_calendar(session))
    if now >= deadline:
        raise AwardRefused(
            f"a complaint after this objection is filed before {deadline.isoformat()}",
            field="at",
            rule="complaint_period",
        )
    existing = await session.scalar(
        sa.select(Complaint.id).where(Complaint.objection_id == objection.id, Complaint.state.in_(OPEN_STATES))
    )
    if existing is not None:
        raise AwardRefused("this objection already has an open complaint", field="objection", rule="complaint_once")
    organisation = await session.get_one(Organisation, actor.organisation_id)
    statement = await complaint_statement(session, award, organisation, objection.id, grounds)
    der, signer = await objections._signed_by(  # noqa: SLF001 - the award's one bidder-signature check
        session, settings, statement, signature, organisation, now=now, rule="complaint_signer"
    )
    rules = pub.rules_of(award)
    try:
        acceptance_due = rules.due(PeriodKey.COMPLAINT_ACCEPTANCE, award.sector, now, await load_calendar(session))
    except CalendarYearMissing as exc:
        raise _calendar_refusal(exc) from None
    complaint = Complaint(
        id=uuid7(),
        award_id=award.id,
        objection_id=objection.id,
        organisation_id=organisation.id,
        filed_by=actor.user_id,
        text=grounds,
        signature=der,
        signer_sha256=signer,
        filed_at=now,
        state=ComplaintState.FILED,
        acceptance_due=acceptance_due,
        next_check=acceptance_due,
    )
    session.add(complaint)
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.complaint_filed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "complaint_id": str(complaint.id),
            "objection_id": str(objection.id),
            "statement_sha256": hashlib.sha256(statement).hexdigest(),
            "signer_sha256": signer,
            "deadline": deadline.isoformat(),
            "acceptance_due": acceptance_due.isoformat(),
        },
        data={"text": grounds, "bidder": organisation.uscc, "signature": base64.b64encode(der).decode()},
        project_code=tender.project_code,
    )
    for department in await pub.supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(department),
            template=FILED_TEMPLATE,
            key=f"award.complaint_filed:{complaint.id}:{department}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "bidder": organisation.name,
                "acceptance_due": acceptance_due.isoformat(),
                "path": f"/bidding/supervision/tenders/{tender.project_code}/complaints",
            },
            legal=True,
            project_code=tender.project_code,
            actor=actor,
        )
    return complaint


# --- the supervisor's acts ------------------------------------------------------------------------


async def is_supervisor(session: AsyncSession, actor: Actor) -> bool:
    """A user of an active supervisory department (行政监督部门) with the supervisor's role."""
    return (
        actor.user_id is not None
        and Role.SUPERVISOR in actor.roles
        and actor.organisation_id is not None
        and actor.organisation_id in set(await pub.supervisors(session))
    )


async def require_supervisor(session: AsyncSession, actor: Actor) -> None:
    if not await is_supervisor(session, actor):
        raise PermissionDenied(
            "only the supervisory department handles complaints", field="actor", rule="complaint_supervisor"
        )


async def _locked_complaint(session: AsyncSession, complaint_id: uuid.UUID) -> tuple[Complaint, Award, Tender]:
    found = await session.get(Complaint, complaint_id)
    if found is None:
        raise NotFound("no such complaint", field="complaint", rule="exists")
    award = await pub.locked(session, found.award_id)  # the award first, as every award step locks it
    complaint = await session.scalar(sa.select(Complaint).where(Complaint.id == complaint_id).with_for_update())
    assert complaint is not None  # noqa: S101 - complaints are never deleted
    await session.refresh(complaint)
    tender = await session.get_one(Tender, award.tender_id)
    return complaint, award, tender


async def act_statement(session: AsyncSession, complaint: Complaint, act: Act | str, text: str) -> bytes:
    """What the supervisor signs for ``act`` on ``complaint`` with the reasons ``text``."""
    try:
        chosen = Act(act)
    except ValueError:
        raise AwardRefused(f"{act!r} is not an act on a complaint", field="act", rule="choice") from None
    award = await session.get_one(Award, complaint.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    organisation = await session.get_one(Organisation, complaint.organisation_id)
    filed = fmt.award_complaint_statement(
        tender.project_code, award.lot_group, organisation.uscc, str(complaint.objection_id), complaint.text
    )
    return fmt.award_complaint_act_statement(
        tender.project_code, str(complaint.id), hashlib.sha256(filed).hexdigest(), chosen.value, text.strip()
    )


@dataclass(frozen=True)
class _Signed:
    der: bytes
    signer: str
    now: datetime


async def _supervisor_signed(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint: Complaint,
    act: Act,
    text: str,
    signature: str,
) -> _Signed:
    now = await clock.now(session)
    statement = await act_statement(session, complaint, act, text)
    der, signer, _ = await pub.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="complaint_act_signer", what="the act"
    )
    return _Signed(der, signer, now)


async def _ledger(  # noqa: PLR0917 - one entry of a complaint's step
    session: AsyncSession,
    actor: Actor,
    action: str,
    complaint: Complaint,
    tender: Tender,
    signed: _Signed,
    text: str,
    **summary: object,
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=str(complaint.award_id),
        summary={"complaint_id": str(complaint.id), "signer_sha256": signed.signer, **summary},
        data={"text": text, "signature": base64.b64encode(signed.der).decode()},
        project_code=tender.project_code,
    )


async def _tell(session: AsyncSession, actor: Actor, complaint: Complaint, tender: Tender, act: Act) -> None:
    await notifications.publish(
        session,
        recipient=notifications.Recipient.organisation(complaint.organisation_id),
        template=PROGRESS_TEMPLATE,
        key=f"award.complaint_progress:{complaint.id}:{act.value}",
        params={
            "project_code": tender.project_code,
            "title": tender.title,
            "act": act.value,
            "path": f"/bidding/tenders/{tender.project_code}/publicity/complaints",
        },
        legal=True,
        project_code=tender.project_code,
        actor=actor,
    )


async def _record(  # noqa: PLR0917 - the move and who signed it
    session: AsyncSession,
    award: Award,
    event: AwardEvent,
    after: Position,
    actor: Actor,
    signed: _Signed,
    complaint: Complaint,
    **details: object,
) -> None:
    await pub.record_step(
        session,
        award,
        event,
        after,
        actor=actor,
        now=signed.now,
        signer_sha256=signed.signer,
        details={"complaint_id": str(complaint.id), **details},
    )


async def accept_complaint(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    note: str,
    signature: str,
) -> Complaint:
    """The supervisor accepts (受理) a filed complaint, signed (module docstring)."""
    await require_supervisor(session, actor)
    complaint, award, tender = await _locked_complaint(session, complaint_id)
    complaint_transition(complaint.state, ComplaintState.ACCEPTED)
    reasons = _text(note, field="note")
    rules = pub.rules_of(award)
    after = transition(pub.position_of(award), AwardEvent.ACCEPT_COMPLAINT, award.sector, rules)
    signed = await _supervisor_signed(session, settings, actor, complaint, Act.ACCEPT, reasons, signature)
    calendar = await load_calendar(session)
    late = rules.is_late(
        PeriodKey.COMPLAINT_ACCEPTANCE, award.sector, complaint.filed_at, calendar, done_at=signed.now, now=signed.now
    )
    # Engineering: decided within 30 working days of accepting; GP: of receiving the complaint.
    # A year the calendar lacks leaves it unknown (shown so), never guessed; accepting goes on.
    anchor = signed.now if award.sector is Sector.ENGINEERING else complaint.filed_at
    try:
        decision_due: datetime | None = rules.due(PeriodKey.COMPLAINT_DECISION, award.sector, anchor, calendar)
    except CalendarYearMissing:
        decision_due = None
    complaint.state = ComplaintState.ACCEPTED
    complaint.accepted_at = signed.now
    complaint.acceptance_note = reasons
    complaint.acceptance_signature = signed.der
    complaint.decision_due = decision_due
    complaint.next_check = decision_due
    await _record(session, award, AwardEvent.ACCEPT_COMPLAINT, after, actor, signed, complaint, late=late)
    await _ledger(
        session, actor, "award.complaint_accepted", complaint, tender, signed, reasons,
        late=late, decision_due=decision_due.isoformat() if decision_due else None,
    )  # fmt: skip
    await _tell(session, actor, complaint, tender, Act.ACCEPT)
    return complaint


async def reject_complaint(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    note: str,
    signature: str,
) -> Complaint:
    """The supervisor does not accept (不予受理) a filed complaint, signed; the award is not touched."""
    await require_supervisor(session, actor)
    complaint, award, tender = await _locked_complaint(session, complaint_id)
    complaint_transition(complaint.state, ComplaintState.REJECTED)
    reasons = _text(note, field="note")
    signed = await _supervisor_signed(session, settings, actor, complaint, Act.REJECT, reasons, signature)
    late = pub.rules_of(award).is_late(
        PeriodKey.COMPLAINT_ACCEPTANCE,
        award.sector,
        complaint.filed_at,
        await load_calendar(session),
        done_at=signed.now,
        now=signed.now,
    )
    complaint.state = ComplaintState.REJECTED
    complaint.accepted_at = signed.now
    complaint.acceptance_note = reasons
    complaint.acceptance_signature = signed.der
    complaint.decided_by = actor.user_id
    complaint.next_check = None
    await session.flush()
    await _ledger(session, actor, "award.complaint_rejected", complaint, tender, signed, reasons, late=late)
    await _tell(session, actor, complaint, tender, Act.REJECT)
    return complaint


async def suspend_award(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    reason: str,
    signature: str,
) -> Award:
    """The supervisor's order to suspend the tender (责令暂停) over a complaint, signed."""
    await require_supervisor(session, actor)
    complaint, award, tender = await _locked_complaint(session, complaint_id)
    if complaint.state not in OPEN_STATES:
        raise AwardRefused("the complaint is closed", field="complaint", rule="complaint_state")
    reasons = _text(reason, field="note")
    after = transition(pub.position_of(award), AwardEvent.SUSPEND, award.sector, pub.rules_of(award))
    signed = await _supervisor_signed(session, settings, actor, complaint, Act.SUSPEND, reasons, signature)
    await _record(session, award, AwardEvent.SUSPEND, after, actor, signed, complaint)
    award.suspended_at = signed.now
    await session.flush()
    await _ledger(session, actor, "award.suspended", complaint, tender, signed, reasons)
    await _tell(session, actor, complaint, tender, Act.SUSPEND)
    return award


async def resume_award(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    reason: str,
    signature: str,
) -> Award:
    """The supervisor lifts its suspension, signed: the award returns where it was."""
    await require_supervisor(session, actor)
    complaint, award, tender = await _locked_complaint(session, complaint_id)
    reasons = _text(reason, field="note")
    after = transition(pub.position_of(award), AwardEvent.RESUME, award.sector, pub.rules_of(award))
    signed = await _supervisor_signed(session, settings, actor, complaint, Act.RESUME, reasons, signature)
    suspended_at = award.suspended_at
    await _record(session, award, AwardEvent.RESUME, after, actor, signed, complaint)
    award.suspended_at = None
    await session.flush()
    await _ledger(
        session, actor, "award.resumed", complaint, tender, signed, reasons,
        suspended_at=suspended_at.isoformat() if suspended_at else None,
    )  # fmt: skip
    await _tell(session, actor, complaint, tender, Act.RESUME)
    return award


async def decide_complaint(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    outcome: Outcome | str,
    text: str,
    signature: str,
) -> Complaint:
    """The supervisor's written decision on an accepted complaint, signed (module docstring)."""
    await require_supervisor(session, actor)
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise AwardRefused(f"{outcome!r} is not a decision on a complaint", field="outcome", rule="choice") from None
    complaint, award, tender = await _locked_complaint(session, complaint_id)
    complaint_transition(complaint.state, chosen.state)
    reasons = _text(text, field="decision")
    rules = pub.rules_of(award)
    after = transition(pub.position_of(award), chosen.event, award.sector, rules)
    signed = await _supervisor_signed(session, settings, actor, complaint, Act(chosen.value), reasons, signature)
    late = complaint.decision_due is not None and signed.now >= complaint.decision_due
    complaint.state = chosen.state
    complaint.decision = chosen.event
    complaint.decision_text = reasons
    complaint.decision_signature = signed.der
    complaint.decided_by = actor.user_id
    complaint.decided_at = signed.now
    complaint.next_check = None
    await _record(session, award, chosen.event, after, actor, signed, complaint, outcome=chosen.value, late=late)
    voided = await _void(session, award, signed.now)
    await _ledger(
        session, actor, "award.complaint_decided", complaint, tender, signed, reasons,
        outcome=chosen.value, event=chosen.event.value, state=after.state.value, late=late, voided=voided,
    )  # fmt: skip
    if voided:
        request_checkpoint(session, milestone="award_voided", project_code=tender.project_code)
    await _tell(session, actor, complaint, tender, Act(chosen.value))
    return complaint


async def _void(session: AsyncSession, award: Award, now: datetime) -> list[str]:
    """Mark the acts a voiding decision (the journal's last step) made void: the steps, and the
    publicity, notices and contract they made. Returns the voided events, in order.
    """
    rows = list(await pub.steps_of(session, award.id))
    by_id = {str(row.id): row for row in rows}
    voided = void_acts([Step(row.event, at=str(row.id)) for row in rows])
    if not voided:
        return []
    for step in voided:
        by_id[step.at].voided_at = now
    for model in (Publicity, AwardNotice, Contract):
        await session.execute(
            sa.update(model)
            .where(model.award_id == award.id, model.voided_at.is_(None))
            .values(voided_at=now)
            .execution_options(synchronize_session="fetch")
        )
    award.next_check = None
    award.closed_at = now
    await session.flush()
    return [step.event.value for step in voided]


# --- reading --------------------------------------------------------------------------------------


# --- the supervisor's own deadlines (the sweep) ----------------------------------------------------


async def due_complaints(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    """Complaints whose acceptance or decision was due at ``now`` (``next_check``)."""
    rows = await session.scalars(
        sa.select(Complaint.id).where(Complaint.next_check.is_not(None), Complaint.next_check <= now).limit(limit)
    )
    return rows.all()


async def check_complaint_due(session: AsyncSession, complaint_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's look at one complaint (locked, re-checked): still not accepted at its acceptance's
    due instant, or not decided at its decision's, it is marked overdue in the ledger and the
    supervisory departments are reminded, once per deadline (accepting later moves ``next_check``
    to the decision's due instant, so that deadline is watched in turn). True when it warned.
    """
    complaint = await session.scalar(sa.select(Complaint).where(Complaint.id == complaint_id).with_for_update())
    if complaint is None or complaint.next_check is None or complaint.next_check > now:
        return False
    complaint.next_check = None
    if complaint.state is ComplaintState.FILED:
        which, due = "acceptance", complaint.acceptance_due
    elif complaint.state is ComplaintState.ACCEPTED and complaint.decision_due is not None:
        which, due = "decision", complaint.decision_due
    else:  # decided, rejected or withdrawn meanwhile
        await session.flush()
        return False
    await session.flush()
    award = await session.get_one(Award, complaint.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.complaint_overdue",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"complaint_id": str(complaint.id), "overdue": which, "due": due.isoformat()},
        project_code=tender.project_code,
    )
    for organisation_id in await pub.supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=OVERDUE_TEMPLATE,
            key=f"award.complaint_overdue:{complaint.id}:{which}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "which": which,
                "due": due.isoformat(),
                "path": "/bidding/supervision/complaints",
            },
            project_code=tender.project_code,
        )
    return True


async def complaints_of(session: AsyncSession, award_id: uuid.UUID) -> Sequence[Complaint]:
    rows = await session.scalars(
        sa.select(Complaint).where(Complaint.award_id == award_id).order_by(Complaint.filed_at)
    )
    return rows.all()


async def mine(session: AsyncSession, actor: Actor, award_id: uuid.UUID) -> Sequence[Complaint]:
    """The actor's organisation's complaints about the award (the bidder's page)."""
    if actor.organisation_id is None:
        return []
    rows = await session.scalars(
        sa.select(Complaint)
        .where(Complaint.award_id == award_id, Complaint.organisation_id == actor.organisation_id)
        .order_by(Complaint.filed_at)
    )
    return rows.all()


@dataclass(frozen=True)
class Queued:
    """One complaint in the supervisor's queue, with its tender and award."""

    complaint: Complaint
    award: Award
    tender: Tender
    complainant: str


async def queue(session: AsyncSession) -> list[Queued]:
    """Every complaint on the platform, newest first (the supervisor's queue groups them)."""
    rows = await session.execute(
        sa.select(Complaint, Award, Tender, Organisation.name)
        .join(Award, Award.id == Complaint.award_id)
        .join(Tender, Tender.id == Award.tender_id)
        .join(Organisation, Organisation.id == Complaint.organisation_id)
        .order_by(Complaint.filed_at.desc())
    )
    return [Queued(c, a, t, name) for c, a, t, name in rows.all()]


async def shown_publicity(session: AsyncSession, award_id: uuid.UUID) -> Publicity | None:
    """The publicity the pages show: the current one, else the latest an upheld complaint voided
    (shown marked void, never hidden).
    """
    current = await pub.current_publicity(session, award_id)
    if current is not None:
        return current
    return await session.scalar(
        sa.select(Publicity).where(Publicity.award_id == award_id).order_by(Publicity.opened_at.desc()).limit(1)
    )


async def voided_journal(session: AsyncSession, award: Award) -> tuple[AwardStep, ...]:
    """The award's journal when an upheld complaint ended it (its void acts marked), else nothing."""
    if award.state not in {AwardState.VOIDED, AwardState.RE_TENDER}:
        return ()
    steps = tuple(await pub.steps_of(session, award.id))
    return steps if any(step.voided_at is not None for step in steps) else ()


async def suspended_awards(session: AsyncSession) -> list[tuple[Award, Tender]]:
    rows = await session.execute(
        sa.select(Award, Tender).join(Tender, Tender.id == Award.tender_id).where(Award.suspended.is_(True))
    )
    return [(a, t) for a, t in rows.all()]
