"""Complaints (投诉): the owner of an announcement complains about the intermediary selected for it;
the intermediary may answer until a regulator upholds or dismisses the complaint with a reason.
Only upheld complaints count for credit; the decision recomputes the intermediary's snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.audit import record
from intermediary_market.credit_records import CreditService
from intermediary_market.errors import ComplaintRefused
from intermediary_market.models import AnnouncementStatus, Complaint, ComplaintStatus
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import ComplaintDecision
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied


class ComplaintService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MarketRepository(session)

    async def file(self, announcement_id: uuid.UUID, text: str, *, actor: Actor) -> Complaint:
        """File a complaint as the announcement's owner against its selected intermediary."""
        announcement = await self.repo.announcement(announcement_id)
        if announcement is None:
            raise NotFound("no such announcement", field="announcement_id", rule="exists")
        if actor.organisation_id is None or actor.organisation_id != announcement.owner_organisation_id:
            raise ComplaintRefused(
                "only the announcement's owner may complain about its intermediary",
                field="announcement_id",
                rule="complaint_not_owner",
            )
        if announcement.status is not AnnouncementStatus.SELECTED or announcement.winner_organisation_id is None:
            raise ComplaintRefused(
                "no intermediary has been selected for this announcement",
                field="announcement_id",
                rule="not_selected",
            )
        if not text.strip():
            raise ComplaintRefused("the complaint states what happened", field="text", rule="required")
        row = Complaint(
            announcement_id=announcement.id,
            organisation_id=announcement.winner_organisation_id,
            complainant_organisation_id=actor.organisation_id,
            text=text.strip(),
            filed_at=await clock.now(self.session),
            filed_by=actor.user_id,
            status=ComplaintStatus.FILED,
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "complaint_filed",
            "complaint",
            row.id,
            {
                "organisation_id": str(row.organisation_id),
                "announcement_id": str(row.announcement_id),
                "text": row.text,
            },
        )
        return row

    async def _complaint(self, complaint_id: uuid.UUID) -> Complaint:
        row = await self.repo.complaint(complaint_id, lock=True)
        if row is None:
            raise NotFound("no such complaint", field="complaint_id", rule="exists")
        return row

    async def respond(self, complaint_id: uuid.UUID, response: str, *, actor: Actor) -> Complaint:
        """The intermediary's answer, before the decision (a later answer replaces an earlier one)."""
        row = await self._complaint(complaint_id)
        if actor.organisation_id != row.organisation_id:
            raise PermissionDenied("only the intermediary complained about may answer")
        if row.status is not ComplaintStatus.FILED:
            raise ComplaintRefused("the complaint has been decided", field="status", rule="already_decided")
        if not response.strip():
            raise ComplaintRefused("the answer states something", field="response", rule="required")
        row.response = response.strip()
        row.responded_at = await clock.now(self.session)
        await self.session.flush()
        await record(
            self.session,
            actor,
            "complaint_answered",
            "complaint",
            row.id,
            {"organisation_id": str(row.organisation_id), "response": row.response},
        )
        return row

    async def decide(self, complaint_id: uuid.UUID, data: ComplaintDecision, *, actor: Actor) -> Complaint:
        """A regulator upholds or dismisses the complaint with a reason; the snapshot follows."""
        row = await self._complaint(complaint_id)
        if row.status is not ComplaintStatus.FILED:
            raise ComplaintRefused("the complaint has been decided", field="status", rule="already_decided")
        if not data.reason.strip():
            raise ComplaintRefused("the decision states its reason", field="reason", rule="required")
        now = await clock.now(self.session)
        row.status = ComplaintStatus.UPHELD if data.uphold else ComplaintStatus.DISMISSED
        row.reason = data.reason.strip()
        row.decided_at = now
        row.decided_by = actor.user_id
        await self.session.flush()
        await record(
            self.session,
            actor,
            "complaint_decided",
            "complaint",
            row.id,
            {"organisation_id": str(row.organisation_id), "status": row.status.value, "reason": row.reason},
        )
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def pending(self, *, limit: int = 500) -> Sequence[Complaint]:
        """Complaints awaiting a decision, oldest first."""
        return await self.repo.complaints(status=ComplaintStatus.FILED, limit=limit)
