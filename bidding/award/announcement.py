"""The GP result announcement (中标/成交结果公告, 财政部令第87号 Art. 69) and when it is late.

* **Due** (`schedule`, called by `award.confirm_award`): in a government procurement award the
  purchaser (tenderee) or its agency publishes the result within ``result_announcement`` (2 working
  days) of the winner's determination: ``Award.announcement_due``. Engineering has none.
* **Published** (`publish_announcement`): the tenderee or its agency, signed with its certificate
  (a detached CAdES signature over `bidding.client.format.award_publicity_statement` of kind
  ``result``: the tender, the lot group and the SHA-256 of exactly the content the public page
  shows). The content (`announcement_content`) is made from the evaluation's published result and
  the award only: the procurement (code, title, category, purchaser, agency), the winner (name,
  USCC, price), every bid's evaluation (ranked candidates), the evaluators' names (the committee),
  the report's SHA-256 and when the winner was determined. Stored as a `Publicity` of kind
  ``result`` (its term, ``result_announcement_duration``: 1 working day, is ``closes_at``). The
  state machine journals it (``publish_announcement``: GP only, ``announcement_after_award``: once
  the winner is confirmed, at ``awarded`` or ``notices_issued``) without moving the progress state;
  the service keeps it once (``announcement_once``). The notices can require it:
  `announced(session, award_id)`.
* **质疑**: the announcement's publication opens the GP objection window (`rules.objection_deadline`:
  7 working days after its 1-working-day term); `objections.file_objection` takes it as the
  publicity it is filed against (``--stage announcement``).
* **Late**: an announcement published at or after ``announcement_due`` is marked ``late``; the
  supervisory departments are warned in their inbox once (``award.announcement_late``), also by the
  sweep (`jobs.AnnouncementDue`) when the due instant passes with none published.

Every step is an `AwardStep` and a ledger entry on the tender's chain, in the same transaction.
Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import publicity as pub
from bidding.award.errors import AwardRefused
from bidding.award.models import Award, Publicity, PublicityKind
from bidding.award.rules import PeriodKey, Sector, objection_deadline
from bidding.award.states import AwardEvent, AwardState, transition
from bidding.client import format as fmt
from bidding.evaluation.results import EvaluationResult
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import WorkingCalendar
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.types import uuid7
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry, request_checkpoint
from trading.notifications import service as notifications
from trading.parties.models import Organisation

SUBJECT: Final = "award.award"
"""The award's ledger subject (`publicity.SUBJECT`), named literally for the vocabulary scan."""
LATE_TEMPLATE: Final = "award.announcement_late"
KIND: Final = PublicityKind.RESULT
WAITING: Final = (AwardState.AWARDED, AwardState.NOTICES_ISSUED, AwardState.CONTRACT_SIGNED)
"""Where a missing announcement is still owed (an ended or voided award owes none)."""


def schedule(award: Award, calendar: WorkingCalendar, determined_at: datetime) -> None:
    """GP: the result announcement is due ``result_announcement`` after the winner's determination."""
    rules = pub.rules_of(award)
    if not rules.applies(PeriodKey.RESULT_ANNOUNCEMENT, award.sector):
        return
    award.announcement_due = rules.due(
        PeriodKey.RESULT_ANNOUNCEMENT,
        award.sector,
        determined_at,
        calendar,
    )


# --- the content and the statement ----------------------------------------------------------------


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def _name(session: AsyncSession, organisation_id: uuid.UUID | None) -> str | None:
    if organisation_id is None:
        return None
    organisation = await session.get(Organisation, organisation_id)
    return organisation.name if organisation is not None else None


async def announcement_content(
    session: AsyncSession, award: Award, tender: Tender, result: EvaluationResult
) -> dict[str, Any]:
    """What the announcement shows (module docstring), from the published result and the award."""
    if award.chosen_bid_id is None or award.awarded_at is None:
        raise AwardRefused(
            "the result is announced once the winner is confirmed", field="event", rule="announcement_after_award"
        )
    listed = result.candidates or result.recommended
    winner = next((bid for bid in listed if bid.opening_bid_id == award.chosen_bid_id), None)
    if winner is None:  # pragma: no cover - the award chooses among the result's candidates
        raise AwardRefused("the winner is not a candidate of the result", field="award", rule="not_a_candidate")
    return {
        "procurement": {
            "code": tender.project_code,
            "title": tender.title,
            "category": tender.category.value,
            "method": result.method,
            "purchaser": await _name(session, tender.tenderee_organisation_id),
            "agency": await _name(session, tender.agency_organisation_id),
        },
        "lotGroup": award.lot_group,
        "winner": {"bidder": winner.bidder_name, "uscc": winner.bidder_uscc, "price": _text(winner.price)},
        "candidates": [
            {"rank": bid.rank, "bidder": bid.bidder_name, "uscc": bid.bidder_uscc, "price": _text(bid.price)}
            for bid in listed
        ],
        "evaluators": [member.name for member in result.committee],
        "reportSha256": result.report_sha256,
        "resultsPublishedAt": result.published_at.isoformat(),
        "awardedAt": award.awarded_at.isoformat(),
    }


async def statement_for(session: AsyncSession, award: Award) -> tuple[bytes, dict[str, Any]]:
    """What the purchaser signs to publish the announcement, and the content it covers."""
    tender = await session.get_one(Tender, award.tender_id)
    content = await announcement_content(session, award, tender, await pub.result_for(session, award))
    statement = fmt.award_publicity_statement(
        tender.project_code, award.lot_group, KIND.value, pub.content_sha256(content)
    )
    return statement, content


# --- reading --------------------------------------------------------------------------------------


async def announcement_of(session: AsyncSession, award_id: uuid.UUID) -> Publicity | None:
    """The award's result announcement (not voided), if published."""
    return await session.scalar(
        sa.select(Publicity).where(
            Publicity.award_id == award_id, Publicity.kind == KIND, Publicity.voided_at.is_(None)
        )
    )


async def announced(session: AsyncSession, award_id: uuid.UUID) -> bool:
    """Whether the result is announced (what the GP notices can require)."""
    return await announcement_of(session, award_id) is not None


def objections_until(award: Award, announcement: Publicity, calendar: WorkingCalendar) -> datetime:
    """The end of the GP 质疑 window that the announcement opened."""
    return objection_deadline(
        award.sector,
        announcement.opened_at,
        calendar,
        pub.rules_of(award),
    )


# --- publishing -----------------------------------------------------------------------------------


async def publish_announcement(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, signature: str
) -> Publicity:
    """Publish the GP result announcement, signed by the purchaser or its agency (module docstring)."""
    award = await pub.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if not pub.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied(
            "only the purchaser or its agency publishes the result announcement", field="actor", rule="owner"
        )
    rules = pub.rules_of(award)
    after = transition(pub.position_of(award), AwardEvent.PUBLISH_ANNOUNCEMENT, award.sector, rules)
    if await announced(session, award.id):
        raise AwardRefused("the result is announced already", field="award", rule="announcement_once")
    now = await clock.now(session)
    statement, content = await statement_for(session, award)
    der, signer, organisation = await pub.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="announcement_signer", what="the announcement"
    )
    calendar = await load_calendar(session)
    closes_at = rules.due(PeriodKey.RESULT_ANNOUNCEMENT_DURATION, award.sector, now, calendar)
    late = award.announcement_due is not None and now >= award.announcement_due
    announcement = Publicity(
        id=uuid7(),
        award_id=award.id,
        kind=KIND,
        content=content,
        content_sha256=pub.content_sha256(content),
        signature=der,
        signer_sha256=signer,
        signer_organisation_id=organisation.id,
        opened_by=actor.user_id,
        opened_at=now,
        closes_at=closes_at,
        late=late,
    )
    session.add(announcement)
    until = objection_deadline(award.sector, now, calendar, rules)
    await pub.record_step(
        session,
        award,
        AwardEvent.PUBLISH_ANNOUNCEMENT,
        after,
        actor=actor,
        now=now,
        signer_sha256=signer,
        details={"publicity_id": str(announcement.id), "closes_at": closes_at.isoformat(), "late": late},
    )
    await append_entry(
        session,
        actor=actor,
        action="award.announcement_published",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "publicity_id": str(announcement.id),
            "content_sha256": announcement.content_sha256,
            "signer_sha256": signer,
            "closes_at": closes_at.isoformat(),
            "objections_until": until.isoformat(),
            "late": late,
        },
        data={"content": content, "signature": base64.b64encode(der).decode()},
        project_code=tender.project_code,
    )
    request_checkpoint(session, milestone="announcement", project_code=tender.project_code)
    if late:
        await _warn_late(session, award, tender, now)
    return announcement


# --- the supervisors' warning and the sweep -------------------------------------------------------


async def _warn_late(session: AsyncSession, award: Award, tender: Tender, now: datetime) -> bool:
    """Warn the supervisors, once, that the result was not announced in time."""
    if award.announcement_warned_at is not None or award.announcement_due is None:
        return False
    award.announcement_warned_at = now
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.announcement_late",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"announcement_due": award.announcement_due.isoformat(), "lot_group": award.lot_group},
        project_code=tender.project_code,
    )
    for organisation_id in await pub.supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=LATE_TEMPLATE,
            key=f"award.announcement_late:{award.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "due": award.announcement_due.isoformat(),
                "path": f"/bidding/tenders/{tender.project_code}/result",
            },
            project_code=tender.project_code,
        )
    return True


def _unannounced() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Publicity.award_id == Award.id, Publicity.kind == KIND, Publicity.voided_at.is_(None))


async def due_announcements(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    """GP awards whose announcement's due instant passed with none published and nobody warned."""
    rows = await session.scalars(
        sa.select(Award.id)
        .where(
            Award.sector == Sector.GOVERNMENT_PROCUREMENT,
            Award.state.in_(WAITING),
            Award.announcement_due.is_not(None),
            Award.announcement_due <= now,
            Award.announcement_warned_at.is_(None),
            _unannounced(),
        )
        .limit(limit)
    )
    return rows.all()


async def check_due(session: AsyncSession, award_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's look at one award (locked, re-checked): warn once when its announcement is late."""
    award = await session.scalar(sa.select(Award).where(Award.id == award_id).with_for_update())
    if (
        award is None
        or award.announcement_due is None
        or award.announcement_due > now
        or award.announcement_warned_at is not None
        or award.state not in WAITING
        or await announced(session, award.id)
    ):
        return False
    tender = await session.get_one(Tender, award.tender_id)
    return await _warn_late(session, award, tender, now)
