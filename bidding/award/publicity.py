"""The award's start and the candidates' publicity (中标候选人公示, 实施条例 Art. 54).

* **Start** (`start_award`): when an evaluation's results are published (the report part calls
  `bidding.evaluation.results.results_published`; `trading.server.wiring` registers this stage's
  hook, the evaluation may not import it), the award row is created in the same transaction: the
  sector from the tender's category, the shipped rules' version and snapshot, the position
  ``report_signed``, and for engineering the instant the publicity is due (``publicity_publish``,
  3 days) as ``next_check``. Idempotent: one award per evaluation. When that instant falls in a
  year whose working-day calendar is not loaded yet (results published in late December), the award
  starts all the same with the instant unknown; the sweep counts it once the year is loaded.
* **Opening** (`open_publicity`): the tenderee or its agency publishes the publicity, signed with
  its certificate: a detached CAdES signature over `bidding.client.format.award_publicity_statement`
  (the tender, the lot group and the SHA-256 of exactly the content the public page shows, made
  from the evaluation's published result only: `publicity_content`). The state machine decides
  (``publicity_after_report``: once, after the report; ``award_sector``: GP has no candidates'
  publicity, its result announcement goes out with the notices). The publicity lasts at least
  ``publicity_duration`` (3 days, on the working-day calendar's counting); its end is ``next_check``.
* **Late**: a publicity opened at or after its due instant is marked ``late``; the supervisory
  departments are warned in their inbox, once (also by the sweep when the due instant passes with
  no publicity: `check_due`).
* **Closing** (`check_due`, the sweep's `jobs.AwardDue`): at the publicity's end the award moves to
  ``publicity_closed`` (the sweep's own transition, no party's act); a second sweep finds nothing due.

Every step is an `AwardStep` (the journal `states.replay` re-checks) and a ledger entry on the
tender's chain in the same transaction. Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.errors import AwardRefused
from bidding.award.models import Award, AwardStep, Publicity, PublicityKind
from bidding.award.rules import AwardRules, PeriodKey, Sector, parse_rules, shipped_rules
from bidding.award.states import AwardEvent, AwardState, Position, Step, replay, transition
from bidding.client import format as fmt
from bidding.evaluation.models import Evaluation
from bidding.evaluation.results import EvaluationResult, result_of
from bidding.models import Tender
from bidding.signers import verified
from certs.errors import Refused
from certs.trustlist.model import Usage, fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import CalendarYearMissing, WorkingCalendar
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry, request_checkpoint
from trading.notifications import service as notifications
from trading.parties.certificates.trust import signer_party
from trading.parties.models import Organisation, OrganisationKind, OrganisationStatus

SUBJECT: Final = "award.award"
LATE_TEMPLATE: Final = "award.publicity_late"
CALENDAR_RETRY: Final = timedelta(days=1)
"""How often the sweep tries again to count a due instant whose year's calendar is not loaded."""


def rules_of(award: Award) -> AwardRules:
    """The rules the award runs under (its stored snapshot, never today's defaults)."""
    return parse_rules(award.rules)


def position_of(award: Award) -> Position:
    return Position(
        state=award.state,
        objections=award.objections_pending,
        complaints=award.complaints_pending,
        suspended=award.suspended,
    )


async def steps_of(session: AsyncSession, award_id: uuid.UUID) -> Sequence[AwardStep]:
    rows = await session.scalars(sa.select(AwardStep).where(AwardStep.award_id == award_id).order_by(AwardStep.seq))
    return rows.all()


async def record_step(
    session: AsyncSession,
    award: Award,
    event: AwardEvent,
    after: Position,
    *,
    actor: Actor,
    now: datetime,
    signer_sha256: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AwardStep:
    """Store ``after`` on the award and journal the step; the journal must still replay to it."""
    history = await steps_of(session, award.id)
    step = AwardStep(
        id=uuid7(),
        award_id=award.id,
        seq=len(history) + 1,
        event=event,
        from_state=award.state,
        to_state=after.state,
        actor_user_id=actor.user_id,
        organisation_id=actor.organisation_id,
        signer_sha256=signer_sha256,
        details=dict(details or {}),
        at=now,
    )
    replayed = replay([*(Step(s.event) for s in history), Step(event)], award.sector, rules_of(award))
    if replayed != after:  # pragma: no cover - the journal and the row disagree: a programming error
        msg = f"award {award.id}: the journal replays to {replayed}, not {after}"
        raise RuntimeError(msg)
    award.state = after.state
    award.objections_pending = after.objections
    award.complaints_pending = after.complaints
    award.suspended = after.suspended
    award.updated_at = now
    session.add(step)
    await session.flush()
    return step


# --- the start ------------------------------------------------------------------------------------


async def award_for_evaluation(session: AsyncSession, evaluation_id: uuid.UUID) -> Award | None:
    return await session.scalar(sa.select(Award).where(Award.evaluation_id == evaluation_id))


async def start_award(
    session: AsyncSession, evaluation: Evaluation, *, calendar: WorkingCalendar, rules: AwardRules | None = None
) -> Award | None:
    """The award of a published evaluation (module docstring); the existing one when started already."""
    if evaluation.results_published_at is None:
        return None
    existing = await award_for_evaluation(session, evaluation.id)
    if existing is not None:
        return existing
    tender = await session.get_one(Tender, evaluation.tender_id)
    sector = Sector.of_category(tender.category.value)
    rules = rules or shipped_rules()
    published_at = evaluation.results_published_at
    now = await clock.now(session)
    # The experts' last signature publishes the results: the award starts even when the due
    # instant falls in a year whose calendar is not loaded yet (December). It stays unknown, and the
    # sweep counts it daily until the administrator loads the year (`check_due`).
    due, missing_year = _publicity_due(rules, sector, published_at, calendar)
    award = Award(
        id=uuid7(),
        tender_id=tender.id,
        evaluation_id=evaluation.id,
        lot_group=evaluation.lot_group,
        sector=sector,
        rules_version=rules.version,
        rules=rules.to_dict(),
        state=AwardState.REPORT_SIGNED,
        objections_pending=0,
        complaints_pending=0,
        suspended=False,
        report_sha256=evaluation.report_sha256 or "",
        report_published_at=published_at,
        publicity_due=due,
        passed_over={"dropped": []},
        next_check=now + CALENDAR_RETRY if missing_year else due,
        created_at=now,
        updated_at=now,
    )
    session.add(award)
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.started",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "evaluation_id": str(evaluation.id),
            "lot_group": award.lot_group,
            "sector": sector.value,
            "rules_version": rules.version,
            "publicity_due": due.isoformat() if due else None,
            **({"calendar_year_missing": missing_year} if missing_year else {}),
        },
        project_code=tender.project_code,
    )
    return award


def _publicity_due(
    rules: AwardRules, sector: Sector, published_at: datetime, calendar: WorkingCalendar
) -> tuple[datetime | None, int | None]:
    """The instant the publicity is due (``None`` where the sector has none), or the calendar year
    it needs and lacks.
    """
    if not rules.applies(PeriodKey.PUBLICITY_PUBLISH, sector):
        return None, None
    try:
        return rules.due(PeriodKey.PUBLICITY_PUBLISH, sector, published_at, calendar), None
    except CalendarYearMissing as missing:
        return None, missing.year


# --- the content and the statement ----------------------------------------------------------------


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def publicity_content(result: EvaluationResult) -> dict[str, Any]:
    """What the publicity shows, from the published result only: the candidates in rank order with
    their prices and scores, the committee's names, the report's SHA-256.
    """
    return {
        "method": result.method,
        "lotGroup": result.lot_group,
        "candidates": [
            {
                "rank": bid.rank,
                "bidder": bid.bidder_name,
                "uscc": bid.bidder_uscc,
                "price": _text(bid.price),
                "score": _text(bid.total),
            }
            for bid in (result.candidates or result.recommended)
        ],
        "recommendedUnranked": not result.candidates and bool(result.recommended),
        "committee": [member.name for member in result.committee],
        "reportSha256": result.report_sha256,
        "resultsPublishedAt": result.published_at.isoformat(),
    }


def content_sha256(content: Mapping[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()


async def result_for(session: AsyncSession, award: Award) -> EvaluationResult:
    evaluation = await session.get_one(Evaluation, award.evaluation_id)
    result = await result_of(session, evaluation)
    if result is None:  # pragma: no cover - an award starts only from a published result
        raise AwardRefused("the evaluation's result is not published", field="award", rule="award_state")
    return result


async def statement_for(session: AsyncSession, award: Award) -> tuple[bytes, dict[str, Any]]:
    """The statement the tenderee signs to open the publicity, and the content it covers."""
    tender = await session.get_one(Tender, award.tender_id)
    content = publicity_content(await result_for(session, award))
    statement = fmt.award_publicity_statement(
        tender.project_code, award.lot_group, PublicityKind.CANDIDATES.value, content_sha256(content)
    )
    return statement, content


# --- reading --------------------------------------------------------------------------------------


async def awards_of_tender(session: AsyncSession, tender_id: uuid.UUID) -> Sequence[Award]:
    rows = await session.scalars(sa.select(Award).where(Award.tender_id == tender_id).order_by(Award.created_at))
    return rows.all()


async def current_publicity(session: AsyncSession, award_id: uuid.UUID) -> Publicity | None:
    return await session.scalar(
        sa.select(Publicity).where(Publicity.award_id == award_id, Publicity.voided_at.is_(None))
    )


async def locked(session: AsyncSession, award_id: uuid.UUID) -> Award:
    award = await session.scalar(sa.select(Award).where(Award.id == award_id).with_for_update())
    if award is None:
        raise NotFound("no such award", field="award", rule="exists")
    return award


def is_tenderee(actor: Actor, tender: Tender) -> bool:
    """The tenderee or the agency that runs the tender for it."""
    return actor.organisation_id is not None and actor.organisation_id in {
        tender.tenderee_organisation_id,
        tender.agency_organisation_id,
    }


# --- opening --------------------------------------------------------------------------------------


def _decode(signature: str) -> bytes:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AwardRefused("the signature is base64 (DER)", field="signature", rule="base64") from None


async def open_publicity(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, signature: str
) -> Publicity:
    """Publish the candidates' publicity, signed by the tenderee or its agency (module docstring)."""
    award = await locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if not is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied(
            "only the tenderee or its agency publishes the candidates' publicity", field="actor", rule="owner"
        )
    rules = rules_of(award)
    after = transition(position_of(award), AwardEvent.OPEN_PUBLICITY, award.sector, rules)
    now = await clock.now(session)
    statement, content = await statement_for(session, award)
    der, signer, organisation = await verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="publicity_signer", what="the publicity"
    )
    closes_at = rules.due(PeriodKey.PUBLICITY_DURATION, award.sector, now, await load_calendar(session))
    late = award.publicity_due is not None and now >= award.publicity_due
    publicity = Publicity(
        id=uuid7(),
        award_id=award.id,
        kind=PublicityKind.CANDIDATES,
        content=content,
        content_sha256=content_sha256(content),
        signature=der,
        signer_sha256=signer,
        signer_organisation_id=organisation.id,
        opened_by=actor.user_id,
        opened_at=now,
        closes_at=closes_at,
        late=late,
    )
    session.add(publicity)
    await record_step(
        session,
        award,
        AwardEvent.OPEN_PUBLICITY,
        after,
        actor=actor,
        now=now,
        signer_sha256=signer,
        details={"publicity_id": str(publicity.id), "closes_at": closes_at.isoformat(), "late": late},
    )
    award.next_check = closes_at
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.publicity_opened",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "publicity_id": str(publicity.id),
            "content_sha256": publicity.content_sha256,
            "signer_sha256": signer,
            "closes_at": closes_at.isoformat(),
            "late": late,
        },
        data={"content": content, "signature": base64.b64encode(der).decode()},
        project_code=tender.project_code,
    )
    request_checkpoint(session, milestone="publicity", project_code=tender.project_code)
    if late:
        await _warn_late(session, award, tender, now)
    return publicity


async def verify_owner_signature(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    statement: bytes,
    signature: str,
    *,
    now: datetime,
    rule: str,
    what: str,
) -> tuple[bytes, str, Organisation]:
    """The tenderee's (or agency's) detached CAdES signature over ``statement``: it verifies, its
    certificate is accepted for seals at ``now`` and names the actor's organisation (else ``rule``).
    Returns the DER, the certificate's SHA-256 and the organisation.
    """
    der = _decode(signature)
    signed = verified(statement, der, refusal=AwardRefused)
    organisation = await session.get_one(Organisation, actor.organisation_id)
    try:
        party = await signer_party(session, settings, signed, usage=Usage.SEAL, at=now)
    except Refused as exc:
        raise AwardRefused(
            f"the signing certificate is not accepted: {exc.text}", field="signature", rule=exc.reason.value
        ) from None
    if party.identifier != organisation.uscc:
        raise AwardRefused(
            f"{what} is signed by {party.name} ({party.identifier}), not by {organisation.name}",
            field="signature",
            rule=rule,
        )
    return der, fingerprint(signed.signer_certificate), organisation


# --- the supervisor's warning and the sweep -------------------------------------------------------


async def supervisors(session: AsyncSession) -> Sequence[uuid.UUID]:
    """The supervisory departments (行政监督部门) active on the platform: whom a late act warns."""
    rows = await session.scalars(
        sa.select(Organisation.id).where(
            Organisation.kind == OrganisationKind.SUPERVISORY_DEPARTMENT,
            Organisation.status == OrganisationStatus.ACTIVE,
        )
    )
    return rows.all()


async def _warn_late(session: AsyncSession, award: Award, tender: Tender, now: datetime) -> bool:
    """Warn the supervisors, once, that the publicity was not opened in time."""
    if award.late_warned_at is not None or award.publicity_due is None:
        return False
    award.late_warned_at = now
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.publicity_late",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"publicity_due": award.publicity_due.isoformat(), "lot_group": award.lot_group},
        project_code=tender.project_code,
    )
    for organisation_id in await supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=LATE_TEMPLATE,
            key=f"award.publicity_late:{award.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "due": award.publicity_due.isoformat(),
                "path": f"/bidding/tenders/{tender.project_code}/publicity",
            },
            project_code=tender.project_code,
        )
    return True


async def check_due(
    session: AsyncSession, award_id: uuid.UUID, now: datetime, calendar: WorkingCalendar | None = None
) -> bool:
    """The sweep's look at one award (locked, re-checked): close an open publicity at its end; warn
    once when the publicity's due instant passed with none opened; count a due instant left unknown
    at the start (its year's calendar was not loaded) once the year is. True when something changed.
    """
    award = await session.scalar(sa.select(Award).where(Award.id == award_id).with_for_update())
    if award is None or award.next_check is None or award.next_check > now:
        return False
    tender = await session.get_one(Tender, award.tender_id)
    if award.state is AwardState.REPORT_SIGNED and award.publicity_due is None:
        return await _count_unknown_due(session, award, tender, now, calendar or await load_calendar(session))
    if award.state is AwardState.REPORT_SIGNED and award.publicity_due is not None:
        award.next_check = None
        if now < award.publicity_due:  # pragma: no cover - next_check is the due instant
            award.next_check = award.publicity_due
            return False
        return await _warn_late(session, award, tender, now)
    if award.state is AwardState.PUBLICITY_OPEN:
        return await _close_if_over(session, award, tender, now)
    award.next_check = None
    return False


async def _count_unknown_due(
    session: AsyncSession, award: Award, tender: Tender, now: datetime, calendar: WorkingCalendar
) -> bool:
    due, missing_year = _publicity_due(rules_of(award), award.sector, award.report_published_at, calendar)
    if missing_year is not None:
        award.next_check = now + CALENDAR_RETRY
        return False
    award.publicity_due = due
    award.next_check = due if due is not None and now < due else None
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.publicity_due_counted",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"publicity_due": due.isoformat() if due else None, "lot_group": award.lot_group},
        project_code=tender.project_code,
    )
    if due is not None and now >= due:
        await _warn_late(session, award, tender, now)
    return True


async def _close_if_over(session: AsyncSession, award: Award, tender: Tender, now: datetime) -> bool:
    publicity = await current_publicity(session, award.id)
    if publicity is None or publicity.closed_at is not None:  # pragma: no cover - opened with one
        award.next_check = None
        return False
    if now < publicity.closes_at:
        award.next_check = publicity.closes_at
        return False
    after = transition(position_of(award), AwardEvent.CLOSE_PUBLICITY, award.sector, rules_of(award))
    publicity.closed_at = now
    await record_step(
        session,
        award,
        AwardEvent.CLOSE_PUBLICITY,
        after,
        actor=Actor.system(),
        now=now,
        details={"publicity_id": str(publicity.id), "closes_at": publicity.closes_at.isoformat()},
    )
    award.next_check = None
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.publicity_closed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"publicity_id": str(publicity.id), "closes_at": publicity.closes_at.isoformat()},
        project_code=tender.project_code,
    )
    return True


async def due_awards(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    rows = await session.scalars(
        sa.select(Award.id).where(Award.next_check.is_not(None), Award.next_check <= now).limit(limit)
    )
    return rows.all()
