"""Objections to the candidates' publicity (异议, 实施条例 Art. 54), GP 质疑 after the result
announcement (政府采购法 Art. 52, 94号令; `announcement`), and their answers. One machinery for
both stages (`stage_of`): what is filed against is the award's `Publicity` (candidates or result),
the window is `rules.require_objection_in_time` for the sector (engineering: during the publicity;
GP: from the announcement to 7 working days after its 1-working-day term), the answer period is
``objection_answer`` (3 days; GP 7 working days) and ``objection_suspends`` says whether it holds
the award (engineering yes; GP no by default).

* **Filed** (`file_objection`) by a bidder of this tender (an organisation with a submitted bid),
  during the publicity (`rules.require_objection_in_time`, rule ``objection_period``), signed with
  its certificate: a detached CAdES signature over `bidding.client.format.award_objection_statement`
  (the tender, the lot group, the bidder's USCC, the publicity's content SHA-256 and the text); the
  signer's USCC must be the bidder's (``objection_signer``). The state machine counts it
  (``file_objection``): while it is unanswered the award is suspended where the sector's rules say
  so (``objection_suspends``). The answer is due within ``objection_answer`` (3 days), the
  objection's ``next_check``. The tenderee is told in its inbox.
* **Answered** (`answer_objection`) by the tenderee or its agency, signed (CAdES over
  `format.award_objection_answer_statement`); an answer at or after its due instant is marked late
  and warns the supervisors (once). The bidder is told in its inbox.
* **Late** (`check_answer_due`, the sweep's `jobs.ObjectionAnswerDue`): an objection still
  unanswered at its due instant is marked late and the supervisory departments are warned in their
  inbox, once (`award.objection_late`); a second sweep finds nothing due.

Every step is an `AwardStep` (the journal `states.replay` re-checks) and a ledger entry on the
tender's chain, in the same transaction. Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import publicity as pub
from bidding.award.errors import AwardRefused
from bidding.award.models import Award, AwardObjection, Publicity
from bidding.award.rules import PeriodKey, Sector, require_objection_in_time
from bidding.award.states import AwardEvent, transition
from bidding.client import format as fmt
from bidding.models import Bid, BidStatus, Tender
from bidding.signers import verified
from certs.errors import Refused
from certs.trustlist.model import Usage, fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.notifications import service as notifications
from trading.parties.certificates.trust import signer_party
from trading.parties.models import Organisation

TEXT_MAX: Final = 4000
ANSWER_MAX: Final = 8000
FILED_TEMPLATE: Final = "award.objection_filed"
ANSWERED_TEMPLATE: Final = "award.objection_answered"
LATE_TEMPLATE: Final = "award.objection_late"
GP_TEMPLATES: Final = {
    FILED_TEMPLATE: "award.question_filed",
    ANSWERED_TEMPLATE: "award.question_answered",
    LATE_TEMPLATE: "award.question_late",
}
"""The same notices for a GP 质疑 (their words and legal bases differ)."""
SUBJECT: Final = "award.award"
"""The award's ledger subject (`publicity.SUBJECT`), named literally for the vocabulary scan."""


def _grounds(text: str, *, field: str, limit: int) -> str:
    text = text.strip()
    if not text or len(text) > limit:
        raise AwardRefused(f"the {field} has 1–{limit} characters", field=field, rule=f"{field}_length")
    return text


async def is_bidder(session: AsyncSession, tender_id: uuid.UUID, organisation_id: uuid.UUID | None) -> bool:
    """Whether the organisation has a submitted (not withdrawn) bid in the tender."""
    if organisation_id is None:
        return False
    found = await session.scalar(
        sa.select(Bid.id)
        .where(Bid.tender_id == tender_id, Bid.organisation_id == organisation_id, Bid.status == BidStatus.SUBMITTED)
        .limit(1)
    )
    return found is not None


async def _open_publicity(session: AsyncSession, award: Award) -> Publicity:
    """What an objection is filed against: the candidates' publicity (engineering) or the result
    announcement (GP, its 质疑 window; `announcement`); both are a `Publicity`, the statement the same.
    """
    publicity = await pub.current_publicity(session, award.id)
    if publicity is None:
        when = "during the publicity" if award.sector is Sector.ENGINEERING else "after the result announcement"
        raise AwardRefused(f"objections are filed {when}", field="at", rule="objection_period")
    return publicity


def template(award: Award, name: str) -> str:
    """The inbox template ``name`` for the award's sector (`GP_TEMPLATES`)."""
    return name if award.sector is Sector.ENGINEERING else GP_TEMPLATES[name]


def stage_of(award: Award) -> str:
    """The stage an objection to the award belongs to: ``publicity`` (engineering 异议) or
    ``announcement`` (GP 质疑); the public page it is filed against has that path.
    """
    return "publicity" if award.sector is Sector.ENGINEERING else "announcement"


def _public_path(award: Award, tender: Tender) -> str:
    page = "publicity" if award.sector is Sector.ENGINEERING else "result"
    return f"/bidding/tenders/{tender.project_code}/{page}"


async def objection_statement(session: AsyncSession, award: Award, organisation: Organisation, text: str) -> bytes:
    """What the bidder signs to file ``text`` against the award's publicity."""
    tender = await session.get_one(Tender, award.tender_id)
    publicity = await _open_publicity(session, award)
    return fmt.award_objection_statement(
        tender.project_code, award.lot_group, organisation.uscc, publicity.content_sha256, text.strip()
    )


async def _signed_by(
    session: AsyncSession,
    settings: Settings,
    statement: bytes,
    signature: str,
    organisation: Organisation,
    *,
    now: datetime,
    rule: str,
) -> tuple[bytes, str]:
    """A signing (non-seal) certificate of ``organisation`` signed ``statement``: the DER and its SHA-256."""
    der = pub._decode(signature)  # noqa: SLF001 - the award's one base64 rule
    signed = verified(statement, der, refusal=AwardRefused)
    try:
        party = await signer_party(session, settings, signed, usage=Usage.BID_SIGNATURE, at=now)
    except Refused as exc:
        raise AwardRefused(
            f"the signing certificate is not accepted: {exc.text}", field="signature", rule=exc.reason.value
        ) from None
    if party.identifier != organisation.uscc:
        raise AwardRefused(
            f"the objection is signed by {party.name} ({party.identifier}), not by {organisation.name}",
            field="signature",
            rule=rule,
        )
    return der, fingerprint(signed.signer_certificate)


async def file_objection(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, *, text: str, signature: str
) -> AwardObjection:
    """A bidder's signed objection during the publicity (module docstring)."""
    award = await pub.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if actor.user_id is None or not await is_bidder(session, tender.id, actor.organisation_id):
        raise PermissionDenied(
            "only a bidder of this tender objects to its result", field="actor", rule="objection_by_bidder"
        )
    grounds = _grounds(text, field="objection", limit=TEXT_MAX)
    rules = pub.rules_of(award)
    now = await clock.now(session)
    publicity = await _open_publicity(session, award)
    calendar = await load_calendar(session)
    require_objection_in_time(award.sector, publicity.opened_at, now, calendar, rules)
    after = transition(pub.position_of(award), AwardEvent.FILE_OBJECTION, award.sector, rules)
    organisation = await session.get_one(Organisation, actor.organisation_id)
    statement = await objection_statement(session, award, organisation, grounds)
    der, signer = await _signed_by(
        session, settings, statement, signature, organisation, now=now, rule="objection_signer"
    )
    answer_due = rules.due(PeriodKey.OBJECTION_ANSWER, award.sector, now, calendar)
    objection = AwardObjection(
        id=uuid7(),
        award_id=award.id,
        organisation_id=organisation.id,
        filed_by=actor.user_id,
        text=grounds,
        signature=der,
        signer_sha256=signer,
        filed_at=now,
        answer_due=answer_due,
        late=False,
        next_check=answer_due,
    )
    session.add(objection)
    await pub.record_step(
        session,
        award,
        AwardEvent.FILE_OBJECTION,
        after,
        actor=actor,
        now=now,
        signer_sha256=signer,
        details={"objection_id": str(objection.id), "answer_due": answer_due.isoformat()},
    )
    await append_entry(
        session,
        actor=actor,
        action="award.objection_filed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "objection_id": str(objection.id),
            "statement_sha256": hashlib.sha256(statement).hexdigest(),
            "signer_sha256": signer,
            "answer_due": answer_due.isoformat(),
            "suspends": bool(rules.objection_suspends[award.sector]),
        },
        data={"text": grounds, "bidder": organisation.uscc, "signature": base64.b64encode(der).decode()},
        project_code=tender.project_code,
    )
    owners = {o for o in (tender.tenderee_organisation_id, tender.agency_organisation_id) if o is not None}
    for owner in owners:
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(owner),
            template=template(award, FILED_TEMPLATE),
            key=f"award.objection_filed:{objection.id}:{owner}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "bidder": organisation.name,
                "answer_due": answer_due.isoformat(),
                "path": f"/bidding/manage/tenders/{tender.project_code}/publicity",
            },
            legal=True,
            project_code=tender.project_code,
            actor=actor,
        )
    return objection


async def _locked_objection(session: AsyncSession, award: Award, objection_id: uuid.UUID) -> AwardObjection:
    objection = await session.scalar(
        sa.select(AwardObjection)
        .where(AwardObjection.id == objection_id, AwardObjection.award_id == award.id)
        .with_for_update()
    )
    if objection is None:
        raise NotFound("no such objection", field="objection_id", rule="exists")
    return objection


async def answer_statement(session: AsyncSession, objection: AwardObjection, answer: str) -> bytes:
    """What the tenderee signs to answer ``objection`` with ``answer``."""
    award = await session.get_one(Award, objection.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    organisation = await session.get_one(Organisation, objection.organisation_id)
    publicity = await _open_publicity(session, award)
    filed = fmt.award_objection_statement(
        tender.project_code, award.lot_group, organisation.uscc, publicity.content_sha256, objection.text
    )
    return fmt.award_objection_answer_statement(
        tender.project_code, str(objection.id), hashlib.sha256(filed).hexdigest(), answer.strip()
    )


async def answer_objection(  # noqa: PLR0917 - the act and its signature
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    award_id: uuid.UUID,
    objection_id: uuid.UUID,
    answer: str,
    signature: str,
) -> AwardObjection:
    """The tenderee's (or agency's) signed answer (module docstring)."""
    award = await pub.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if not pub.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied("only the tenderee or its agency answers objections", field="actor", rule="owner")
    objection = await _locked_objection(session, award, objection_id)
    if objection.answered_at is not None:
        raise AwardRefused("the objection is answered already", field="objection_id", rule="answer_once")
    text = _grounds(answer, field="answer", limit=ANSWER_MAX)
    rules = pub.rules_of(award)
    after = transition(pub.position_of(award), AwardEvent.ANSWER_OBJECTION, award.sector, rules)
    now = await clock.now(session)
    statement = await answer_statement(session, objection, text)
    der, signer, _ = await pub.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="answer_signer", what="the answer"
    )
    late = now >= objection.answer_due
    objection.answer = text
    objection.answer_signature = der
    objection.answer_signer_sha256 = signer
    objection.answered_by = actor.user_id
    objection.answered_at = now
    objection.next_check = None
    await pub.record_step(
        session,
        award,
        AwardEvent.ANSWER_OBJECTION,
        after,
        actor=actor,
        now=now,
        signer_sha256=signer,
        details={"objection_id": str(objection.id), "late": late},
    )
    await append_entry(
        session,
        actor=actor,
        action="award.objection_answered",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "objection_id": str(objection.id),
            "signer_sha256": signer,
            "answer_due": objection.answer_due.isoformat(),
            "late": late,
        },
        data={"answer": text, "signature": base64.b64encode(der).decode()},
        project_code=tender.project_code,
    )
    await notifications.publish(
        session,
        recipient=notifications.Recipient.organisation(objection.organisation_id),
        template=template(award, ANSWERED_TEMPLATE),
        key=f"award.objection_answered:{objection.id}",
        params={
            "project_code": tender.project_code,
            "title": tender.title,
            "answer": text,
            "answered_at": now.isoformat(),
            "path": f"/bidding/tenders/{tender.project_code}/publicity/objections",
        },
        legal=True,
        project_code=tender.project_code,
        actor=actor,
    )
    if late:
        await _warn_late(session, objection, tender)
    return objection


async def _warn_late(session: AsyncSession, objection: AwardObjection, tender: Tender) -> bool:
    """Warn the supervisors, once, that the objection was not answered in time."""
    if objection.late:
        return False
    award = await session.get_one(Award, objection.award_id)
    objection.late = True
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.objection_late",
        subject_type=SUBJECT,
        subject_id=str(objection.award_id),
        summary={"objection_id": str(objection.id), "answer_due": objection.answer_due.isoformat()},
        project_code=tender.project_code,
    )
    for organisation_id in await pub.supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=template(award, LATE_TEMPLATE),
            key=f"award.objection_late:{objection.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "due": objection.answer_due.isoformat(),
                "path": _public_path(award, tender),
            },
            project_code=tender.project_code,
        )
    return True


# --- the sweep ------------------------------------------------------------------------------------


async def due_objections(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    rows = await session.scalars(
        sa.select(AwardObjection.id)
        .where(AwardObjection.next_check.is_not(None), AwardObjection.next_check <= now)
        .limit(limit)
    )
    return rows.all()


async def check_answer_due(session: AsyncSession, objection_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's look at one objection (locked, re-checked): unanswered at its due instant → late,
    the supervisors warned once. True when something changed.
    """
    objection = await session.scalar(
        sa.select(AwardObjection).where(AwardObjection.id == objection_id).with_for_update()
    )
    if objection is None or objection.next_check is None or objection.next_check > now:
        return False
    objection.next_check = None
    if objection.answered_at is not None:  # pragma: no cover - answering clears next_check
        await session.flush()
        return False
    award = await session.get_one(Award, objection.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    return await _warn_late(session, objection, tender)


# --- reading --------------------------------------------------------------------------------------


async def objections_of(session: AsyncSession, award_id: uuid.UUID) -> Sequence[AwardObjection]:
    """Every objection to the award, oldest first (the owners' page)."""
    rows = await session.scalars(
        sa.select(AwardObjection).where(AwardObjection.award_id == award_id).order_by(AwardObjection.filed_at)
    )
    return rows.all()


async def mine(session: AsyncSession, actor: Actor, award_id: uuid.UUID) -> Sequence[AwardObjection]:
    """The actor's organisation's objections to the award (the bidder's page)."""
    if actor.organisation_id is None:
        return []
    rows = await session.scalars(
        sa.select(AwardObjection)
        .where(AwardObjection.award_id == award_id, AwardObjection.organisation_id == actor.organisation_id)
        .order_by(AwardObjection.filed_at)
    )
    return rows.all()
