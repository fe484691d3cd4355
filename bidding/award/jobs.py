"""The award stage's time-driven work (`trading.kernel.sweep`).

Each handler locks its row, re-checks it is still due and acts, so a repeated or concurrent sweep
changes nothing extra:

* ``Award.next_check``: the publicity's due instant (counted daily while its year's calendar is not
  loaded), then its end (`publicity.check_due`);
* ``AwardObjection.next_check``: an objection's answer due (`objections.check_answer_due`);
* the award of a signed contract with nothing pending, due by its state alone: closed into the
  tender's archive (`closing.close_award`);
* ``Award.announcement_due``: GP, the result announcement missing (`announcement.check_due`);
* ``Contract.next_check``: the signing reminders and the deadline (`contract.check_contract_due`);
* ``Complaint.next_check``: the supervisor's acceptance and decision due
  (`complaints.check_complaint_due`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, closing, complaints, contract, objections, publicity
from trading.kernel.settings import Settings, get_settings
from trading.kernel.storage import open_store


class AwardDue:
    """An award whose ``next_check`` came: the publicity late (warn once) or at its end (close it)."""

    name = "award.award_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await publicity.due_awards(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        award_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await publicity.check_due(session, award_id, now)  # on the years loaded by now


class ObjectionAnswerDue:
    """An objection to the result still unanswered at its due instant: late, the supervisors warned once."""

    name = "award.objection_answer_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await objections.due_objections(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        objection_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await objections.check_answer_due(session, objection_id, now)


class AwardCloseDue:
    """An award whose contract both parties signed, with nothing pending: closed, its tender archived."""

    name = "award.close_due"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings  # None: the process's settings (the worker's), read when it runs

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        del now  # due by its state: signed, nothing pending
        return await closing.closable_awards(session, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        award_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        settings = self.settings or get_settings()
        return await closing.close_award(session, settings, open_store(settings), award_id, now) is not None


class AnnouncementDue:
    """GP: a result announcement still unpublished at its due instant: the supervisors warned once."""

    name = "award.announcement_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await announcement.due_announcements(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        return await announcement.check_due(session, key if isinstance(key, uuid.UUID) else uuid.UUID(str(key)), now)


class ContractDue:
    """A contract whose ``next_check`` came: a signing reminder to both parties, or the supervisors
    warned once the deadline passed unsigned (`contract.check_contract_due`).
    """

    name = "award.contract_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await contract.due_contracts(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        contract_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await contract.check_contract_due(session, contract_id, now)


class ComplaintDue:
    """A complaint not accepted, or not decided, by its due instant: marked overdue, the supervisors reminded once."""

    name = "award.complaint_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await complaints.due_complaints(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        complaint_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await complaints.check_complaint_due(session, complaint_id, now)


SWEEP_HANDLERS = (AwardDue(), ObjectionAnswerDue(), AwardCloseDue(), AnnouncementDue(), ContractDue(), ComplaintDue())
