"""All SQL of the session part and the venue catalogue: evaluations, members, seats, venues, votes,
the session journal. Services ask by what they read; nothing here decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    ChairVote,
    CommitteeDraw,
    Evaluation,
    EvaluationVenue,
    EventKind,
    Member,
    MemberStatus,
    ReportSignature,
    Seat,
    SessionEvent,
    SessionState,
    Venue,
)
from bidding.evaluation.pool.models import Attendance, Expert
from bidding.models import Tender
from trading.parties.models import Person, User

CURRENT_STATUSES = (MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    # --- evaluations ---------------------------------------------------------------------------

    async def evaluation(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> Evaluation | None:
        return await self.session.get(Evaluation, evaluation_id, with_for_update=lock, populate_existing=lock)

    async def due_time_limits(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Evaluations whose ``next_check`` (the current state's end) is at or before ``now``."""
        query = (
            sa.select(Evaluation.id)
            .where(Evaluation.next_check.is_not(None), Evaluation.next_check <= now)
            .order_by(Evaluation.next_check)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def tender(self, tender_id: uuid.UUID) -> Tender | None:
        return await self.session.get(Tender, tender_id)

    async def evaluations_for(
        self, *, user_id: uuid.UUID | None, organisation_id: uuid.UUID | None, everything: bool, limit: int = 200
    ) -> list[tuple[Evaluation, Tender]]:
        """The evaluations one sits on (a current membership), hosts, or — supervisors — all, newest first."""
        query = sa.select(Evaluation, Tender).join(Tender, Tender.id == Evaluation.tender_id)
        if not everything:
            mine = sa.select(Member.evaluation_id).where(
                Member.user_id == user_id, Member.voided_at.is_(None), Member.status.in_(CURRENT_STATUSES)
            )
            query = query.where(sa.or_(Evaluation.id.in_(mine), Evaluation.host_organisation_id == organisation_id))
        rows = await self.session.execute(query.order_by(Evaluation.created_at.desc()).limit(limit))
        return [(evaluation, tender) for evaluation, tender in rows.all()]

    # --- members -------------------------------------------------------------------------------

    async def members(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> list[Member]:
        query = (
            sa.select(Member)
            .where(Member.evaluation_id == evaluation_id)
            .order_by(Member.draw_position.asc().nulls_last(), Member.created_at, Member.id)
        )
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return list(await self.session.scalars(query))

    async def member(self, member_id: uuid.UUID, *, lock: bool = False) -> Member | None:
        return await self.session.get(Member, member_id, with_for_update=lock, populate_existing=lock)

    async def member_of_user(self, evaluation_id: uuid.UUID, user_id: uuid.UUID) -> Member | None:
        """The user's current membership in the evaluation (a replaced one does not count)."""
        return await self.session.scalar(
            sa.select(Member).where(
                Member.evaluation_id == evaluation_id,
                Member.user_id == user_id,
                Member.voided_at.is_(None),
                Member.status.in_(CURRENT_STATUSES),
            )
        )

    async def person(self, person_id: uuid.UUID) -> Person | None:
        return await self.session.get(Person, person_id)

    async def expert(self, expert_id: uuid.UUID) -> Expert | None:
        return await self.session.get(Expert, expert_id)

    async def user_of_person(self, person_id: uuid.UUID) -> User | None:
        return await self.session.scalar(
            sa.select(User).where(User.person_id == person_id).order_by(User.created_at).limit(1)
        )

    async def attendances(self, evaluation_id: uuid.UUID) -> list[Attendance]:
        """The pool's attendance rows this session wrote (``session_id`` is the evaluation's id)."""
        return list(await self.session.scalars(sa.select(Attendance).where(Attendance.session_id == evaluation_id)))

    async def draw(self, draw_id: uuid.UUID, *, lock: bool = False) -> CommitteeDraw | None:
        return await self.session.get(CommitteeDraw, draw_id, with_for_update=lock, populate_existing=lock)

    async def signatures(self, evaluation_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            sa.select(ReportSignature.member_id).where(ReportSignature.evaluation_id == evaluation_id)
        )
        return set(rows)

    # --- venues and seats ----------------------------------------------------------------------

    async def venues(self, *, active_only: bool = False) -> list[Venue]:
        query = sa.select(Venue).order_by(Venue.owner, Venue.code)
        if active_only:
            query = query.where(Venue.active.is_(True))
        return list(await self.session.scalars(query))

    async def venue(self, venue_id: uuid.UUID, *, lock: bool = False) -> Venue | None:
        return await self.session.get(Venue, venue_id, with_for_update=lock, populate_existing=lock)

    async def venue_by_code(self, code: str) -> Venue | None:
        return await self.session.scalar(sa.select(Venue).where(Venue.code == code))

    async def seats(self, venue_ids: Sequence[uuid.UUID]) -> list[Seat]:
        if not venue_ids:
            return []
        return list(
            await self.session.scalars(sa.select(Seat).where(Seat.venue_id.in_(venue_ids)).order_by(Seat.label))
        )

    async def seat(self, seat_id: uuid.UUID) -> Seat | None:
        return await self.session.get(Seat, seat_id)

    async def seat_by_label(self, venue_id: uuid.UUID, label: str) -> Seat | None:
        return await self.session.scalar(sa.select(Seat).where(Seat.venue_id == venue_id, Seat.label == label))

    async def seat_counts(self) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(
            sa.select(Seat.venue_id, sa.func.count()).where(Seat.active.is_(True)).group_by(Seat.venue_id)
        )
        return {row[0]: row[1] for row in rows}

    async def evaluation_venues(self, evaluation_id: uuid.UUID) -> list[tuple[EvaluationVenue, Venue]]:
        rows = await self.session.execute(
            sa.select(EvaluationVenue, Venue)
            .join(Venue, Venue.id == EvaluationVenue.venue_id)
            .where(EvaluationVenue.evaluation_id == evaluation_id)
            .order_by(EvaluationVenue.role, Venue.code)
        )
        return [(link, venue) for link, venue in rows.all()]

    # --- chair votes ---------------------------------------------------------------------------

    async def votes(self, evaluation_id: uuid.UUID) -> list[ChairVote]:
        return list(await self.session.scalars(sa.select(ChairVote).where(ChairVote.evaluation_id == evaluation_id)))

    async def vote_of(self, evaluation_id: uuid.UUID, voter_id: uuid.UUID) -> ChairVote | None:
        return await self.session.get(ChairVote, (evaluation_id, voter_id))

    # --- the journal ---------------------------------------------------------------------------

    async def events(self, evaluation_id: uuid.UUID, *, kinds: Sequence[EventKind] = ()) -> list[SessionEvent]:
        query = sa.select(SessionEvent).where(SessionEvent.evaluation_id == evaluation_id)
        if kinds:
            query = query.where(SessionEvent.kind.in_(kinds))
        return list(await self.session.scalars(query.order_by(SessionEvent.at, SessionEvent.id)))

    async def state_events(
        self, evaluation_id: uuid.UUID, state: SessionState, kinds: Sequence[EventKind]
    ) -> list[SessionEvent]:
        """The events of ``kinds`` recorded while the evaluation was in ``state`` (``details.state``)."""
        rows = await self.events(evaluation_id, kinds=kinds)
        return [row for row in rows if row.details.get("state") == state.value]
