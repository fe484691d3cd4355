"""All SQL of the committee part. Flushes, never commits (the boundary owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    CommitteeDraw,
    Evaluation,
    EvaluationVenue,
    Member,
    MemberKind,
    MemberStatus,
    SessionState,
    Venue,
)
from bidding.evaluation.pool.models import DrawOutcome, DrawRecord, Expert
from bidding.models import Bid, Tender
from trading.parties.models import Membership, MembershipStatus, Organisation, User


class CommitteeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # --- tenders and parties --------------------------------------------------------------------

    async def tender(self, tender_id: uuid.UUID, *, lock: bool = False) -> Tender | None:
        query = select(Tender).where(Tender.id == tender_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def tender_by_code(self, code: str) -> Tender | None:
        return await self.session.scalar(select(Tender).where(Tender.project_code == code))

    async def uscc(self, organisation_id: uuid.UUID | None) -> str | None:
        if organisation_id is None:
            return None
        return await self.session.scalar(select(Organisation.uscc).where(Organisation.id == organisation_id))

    async def bidder_usccs(self, tender_id: uuid.UUID) -> frozenset[str]:
        """Every organisation that bid on the tender (withdrawn bids too: avoidance is cautious)."""
        rows = await self.session.scalars(
            select(Organisation.uscc)
            .join(Bid, Bid.organisation_id == Organisation.id)
            .where(Bid.tender_id == tender_id)
        )
        return frozenset(rows.all())

    async def user_in_organisation(self, username: str, organisation_id: uuid.UUID) -> User | None:
        """An active user holding an active role in the organisation."""
        return await self.session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.username == username,
                User.active,
                Membership.organisation_id == organisation_id,
                Membership.status == MembershipStatus.ACTIVE,
            )
            .limit(1)
        )

    async def user_of_person(self, person_id: uuid.UUID) -> User | None:
        return await self.session.scalar(
            select(User).where(User.person_id == person_id, User.active).order_by(User.created_at).limit(1)
        )

    # --- evaluations ----------------------------------------------------------------------------

    async def evaluation(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> Evaluation | None:
        query = select(Evaluation).where(Evaluation.id == evaluation_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def evaluation_of_tender(self, tender_id: uuid.UUID, lot_group: str = "all") -> Evaluation | None:
        return await self.session.scalar(
            select(Evaluation).where(Evaluation.tender_id == tender_id, Evaluation.lot_group == lot_group)
        )

    async def venues(self, evaluation_id: uuid.UUID) -> Sequence[tuple[EvaluationVenue, Venue]]:
        rows = await self.session.execute(
            select(EvaluationVenue, Venue)
            .join(Venue, Venue.id == EvaluationVenue.venue_id)
            .where(EvaluationVenue.evaluation_id == evaluation_id)
            .order_by(EvaluationVenue.role, Venue.code)
        )
        return [(link, venue) for link, venue in rows.all()]

    async def set_venues(self, evaluation_id: uuid.UUID, links: Sequence[EvaluationVenue]) -> None:
        for link, _ in await self.venues(evaluation_id):
            await self.session.delete(link)
        await self.session.flush()
        self.session.add_all(links)
        await self.session.flush()

    async def active_venues(self) -> Sequence[Venue]:
        rows = await self.session.scalars(select(Venue).where(Venue.active).order_by(Venue.owner, Venue.code))
        return rows.all()

    async def venues_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Venue]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Venue).where(Venue.id.in_(set(ids))))
        return {venue.id: venue for venue in rows.all()}

    # --- draws ----------------------------------------------------------------------------------

    async def draw(self, draw_id: uuid.UUID, *, lock: bool = False) -> CommitteeDraw | None:
        query = select(CommitteeDraw).where(CommitteeDraw.id == draw_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def latest_draw(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> CommitteeDraw | None:
        """The evaluation's committee draw (its first; supplementary draws are `supplements`)."""
        query = (
            select(CommitteeDraw)
            .where(CommitteeDraw.evaluation_id == evaluation_id, CommitteeDraw.supplements_draw_id.is_(None))
            .order_by(CommitteeDraw.committed_at.desc(), CommitteeDraw.id.desc())
            .limit(1)
        )
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def supplements(self, draw_id: uuid.UUID, *, lock: bool = False) -> Sequence[CommitteeDraw]:
        """The supplementary draws (补抽) of a first draw, oldest first."""
        query = (
            select(CommitteeDraw)
            .where(CommitteeDraw.supplements_draw_id == draw_id)
            .order_by(CommitteeDraw.committed_at, CommitteeDraw.id)
        )
        return (await self.session.scalars(query.with_for_update() if lock else query)).all()

    async def drawn_first_draws(self, limit: int = 200) -> Sequence[tuple[CommitteeDraw, Evaluation, Tender]]:
        """First draws that ran, of evaluations not completed: where open places may be."""
        rows = await self.session.execute(
            select(CommitteeDraw, Evaluation, Tender)
            .join(Evaluation, Evaluation.id == CommitteeDraw.evaluation_id)
            .join(Tender, Tender.id == Evaluation.tender_id)
            .where(
                CommitteeDraw.supplements_draw_id.is_(None),
                CommitteeDraw.drawn_at.is_not(None),
                Evaluation.state != SessionState.COMPLETED,
            )
            .order_by(Evaluation.scheduled_at)
            .limit(limit)
        )
        return [(draw, evaluation, tender) for draw, evaluation, tender in rows.all()]

    async def all_draws(self, limit: int = 200) -> Sequence[tuple[CommitteeDraw, Evaluation, Tender]]:
        rows = await self.session.execute(
            select(CommitteeDraw, Evaluation, Tender)
            .join(Evaluation, Evaluation.id == CommitteeDraw.evaluation_id)
            .join(Tender, Tender.id == Evaluation.tender_id)
            .order_by(CommitteeDraw.committed_at.desc())
            .limit(limit)
        )
        return [(draw, evaluation, tender) for draw, evaluation, tender in rows.all()]

    async def awaiting_draw(self, limit: int = 200) -> Sequence[tuple[Evaluation, Tender]]:
        """Evaluations still preparing without any committee draw, soonest start first."""
        drawn = select(CommitteeDraw.evaluation_id)
        rows = await self.session.execute(
            select(Evaluation, Tender)
            .join(Tender, Tender.id == Evaluation.tender_id)
            .where(Evaluation.id.not_in(drawn), Evaluation.state == SessionState.PREPARING)
            .order_by(Evaluation.scheduled_at)
            .limit(limit)
        )
        return [(evaluation, tender) for evaluation, tender in rows.all()]

    async def experts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Expert]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Expert).where(Expert.id.in_(set(ids))))
        return {expert.id: expert for expert in rows.all()}

    async def draw_record(self, draw_id: uuid.UUID, expert_id: uuid.UUID) -> DrawRecord | None:
        return await self.session.scalar(
            select(DrawRecord).where(DrawRecord.draw_id == draw_id, DrawRecord.expert_id == expert_id)
        )

    async def set_draw_outcome(
        self, draw_id: uuid.UUID, expert_id: uuid.UUID, outcome: DrawOutcome, at: datetime
    ) -> None:
        record = await self.draw_record(draw_id, expert_id)
        if record is not None:
            record.outcome = outcome
            record.answered_at = at
            await self.session.flush()

    # --- members --------------------------------------------------------------------------------

    async def member(self, member_id: uuid.UUID, *, lock: bool = False) -> Member | None:
        query = select(Member).where(Member.id == member_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def members(self, evaluation_id: uuid.UUID) -> Sequence[Member]:
        rows = await self.session.scalars(
            select(Member)
            .where(Member.evaluation_id == evaluation_id)
            .order_by(Member.kind, Member.group_code, Member.draw_position, Member.created_at)
        )
        return rows.all()

    async def representatives(self, evaluation_id: uuid.UUID) -> Sequence[Member]:
        rows = await self.session.scalars(
            select(Member).where(
                Member.evaluation_id == evaluation_id,
                Member.kind == MemberKind.REPRESENTATIVE,
                Member.voided_at.is_(None),
            )
        )
        return rows.all()

    async def memberships_of_user(self, user_id: uuid.UUID) -> Sequence[tuple[Member, Evaluation, Tender]]:
        rows = await self.session.execute(
            select(Member, Evaluation, Tender)
            .join(Evaluation, Evaluation.id == Member.evaluation_id)
            .join(Tender, Tender.id == Evaluation.tender_id)
            .where(Member.user_id == user_id)
            .order_by(Evaluation.scheduled_at.desc(), Member.created_at.desc())
            .limit(200)
        )
        return [(member, evaluation, tender) for member, evaluation, tender in rows.all()]

    async def due_answers(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        rows = await self.session.scalars(
            select(Member.id)
            .where(Member.next_check.is_not(None), Member.next_check <= now, Member.status == MemberStatus.NOTIFIED)
            .order_by(Member.next_check)
            .limit(limit)
        )
        return rows.all()
