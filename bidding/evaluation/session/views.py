"""What the session's pages and the live stream read: one evaluation's progress (no names, no
scores: the live stream sends it to every watcher), the member's page, the host's and the
supervisor's views. Each view checks the reader's relation to the evaluation first.

Confidentiality (CONTRACTS15): the host (agency or tenderee) sees the committee as numbered
members, never names; supervisors and centre admins see names; members see their committee.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    SESSION_ORDER,
    Evaluation,
    EventKind,
    Member,
    Seat,
    SessionEvent,
    SessionState,
    Venue,
    VenueRole,
)
from bidding.evaluation.session.errors import NotSessionParty
from bidding.evaluation.session.journal import current, load, overrun_seconds, remaining_seconds
from bidding.evaluation.session.machine import next_state
from bidding.evaluation.session.repository import SessionRepository
from bidding.evaluation.session.rules import SessionRules, shipped_rules
from bidding.evaluation.session.seating import host_only
from bidding.evaluation.session.timelimit import exceeded
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role


@dataclass(frozen=True, slots=True)
class SeatPlace:
    seat: Seat
    venue: Venue
    role: VenueRole


@dataclass
class SessionView:
    evaluation: Evaluation
    tender: Tender
    now: datetime
    members: list[Member]
    """Every member row (current, replaced, declined …) in drawn order."""
    places: dict[uuid.UUID, SeatPlace]
    events: list[SessionEvent]
    rules: SessionRules
    me: Member | None = None
    my_vote: uuid.UUID | None = None
    asked: bool = False
    asking: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> list[Member]:
        return current(self.members)

    @property
    def progress(self) -> dict[str, Any]:
        return progress(self.evaluation, self.members, self.now)

    @property
    def next_state(self) -> SessionState | None:
        return next_state(self.evaluation.state)

    @property
    def is_chair(self) -> bool:
        return self.me is not None and self.me.id == self.evaluation.chair_member_id

    @property
    def incidents(self) -> list[SessionEvent]:
        """Incidents noted by the host or the chair, and the overruns the platform recorded."""
        return [e for e in self.events if e.kind in {EventKind.INCIDENT, EventKind.TIME_EXCEEDED}]

    @property
    def time_exceeded(self) -> SessionEvent | None:
        """The recorded overrun of the current state's time (none since its last extension)."""
        return exceeded(self.events, self.evaluation.state)

    @property
    def exceeded_end(self) -> datetime | None:
        """The end the recorded overrun ran past (the journal keeps it as ISO text)."""
        event = self.time_exceeded
        raw = event.details.get("ends_at") if event is not None else None
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None

    def number(self, member: Member) -> int:
        """A member's number on the host's view (drawn order, 1-based): no names there."""
        return self.members.index(member) + 1

    def place(self, member: Member) -> SeatPlace | None:
        return self.places.get(member.seat_id) if member.seat_id is not None else None

    def free_places(self) -> list[SeatPlace]:
        taken = {m.seat_id for m in self.current}
        return [p for p in self.places.values() if p.seat.active and p.seat.id not in taken]


def progress(evaluation: Evaluation, members: list[Member], now: datetime) -> dict[str, Any]:
    """The session's progress as JSON (the live stream's payload): no names, no scores."""
    now_current = current(members)
    return {
        "evaluation": str(evaluation.id),
        "state": evaluation.state.value,
        "step": SESSION_ORDER.index(evaluation.state) + 1,
        "steps": len(SESSION_ORDER),
        "stateEnteredAt": evaluation.state_entered_at.isoformat(),
        "stateEndsAt": evaluation.state_ends_at.isoformat() if evaluation.state_ends_at else None,
        "remainingSeconds": remaining_seconds(evaluation, now),
        "paused": evaluation.paused_at is not None,
        "overrunSeconds": overrun_seconds(evaluation, now),
        "members": len(now_current),
        "signedIn": sum(1 for m in now_current if m.signed_in_at is not None),
        "chairElected": evaluation.chair_member_id in {m.id for m in now_current},
        "serverTime": now.isoformat(),
    }


def may_watch(actor: Actor) -> bool:
    return actor.kind is ActorKind.SYSTEM or bool(actor.roles & {Role.SUPERVISOR, Role.ADMIN})


class SessionViews:
    def __init__(self, session: AsyncSession, rules: SessionRules | None = None) -> None:
        self.session = session
        self.repo = SessionRepository(session)
        self.rules = rules or shipped_rules()

    async def _read(self, evaluation_id: uuid.UUID) -> SessionView:
        evaluation, tender = await load(self.repo, evaluation_id, lock=False)
        members = await self.repo.members(evaluation.id)
        links = await self.repo.evaluation_venues(evaluation.id)
        venues = {venue.id: (venue, link.role) for link, venue in links}
        places = {seat.id: SeatPlace(seat, *venues[seat.venue_id]) for seat in await self.repo.seats(list(venues))}
        events = await self.repo.events(evaluation.id)
        now = await clock.now(self.session)
        return SessionView(evaluation, tender, now, members, places, events, self.rules)

    async def member_view(self, actor: Actor, evaluation_id: uuid.UUID) -> SessionView:
        view = await self._read(evaluation_id)
        me = next((m for m in view.current if actor.user_id is not None and m.user_id == actor.user_id), None)
        if me is None:
            raise NotSessionParty("you are not a member of this committee", field="actor", rule="committee_member")
        view.me = me
        vote = await self.repo.vote_of(view.evaluation.id, me.id)
        view.my_vote = vote.candidate_member_id if vote is not None else None
        round_events = [
            e
            for e in view.events
            if e.kind in {EventKind.EXTENSION_REQUEST, EventKind.EXTENSION}
            and e.details.get("state") == view.evaluation.state.value
        ]
        round_number = 1 + sum(1 for e in round_events if e.kind is EventKind.EXTENSION)
        askers = {
            e.member_id
            for e in round_events
            if e.kind is EventKind.EXTENSION_REQUEST and e.details.get("round") == round_number
        }
        view.asked = me.id in askers
        view.asking = len(askers & {m.id for m in view.current})
        return view

    async def host_view(self, actor: Actor, evaluation_id: uuid.UUID) -> SessionView:
        view = await self._read(evaluation_id)
        host_only(actor, view.evaluation)
        return view

    async def live_view(self, actor: Actor, evaluation_id: uuid.UUID) -> SessionView:
        if not may_watch(actor):
            raise NotSessionParty("only supervisors watch the session live", field="actor", rule="supervisor_only")
        return await self._read(evaluation_id)

    async def progress_for(self, actor: Actor, evaluation_id: uuid.UUID) -> dict[str, Any]:
        """The progress, for whoever may see any view of this evaluation (the live stream)."""
        view = await self._read(evaluation_id)
        is_member = any(actor.user_id is not None and m.user_id == actor.user_id for m in view.current)
        is_host = actor.organisation_id is not None and actor.organisation_id == view.evaluation.host_organisation_id
        if not (is_member or is_host or may_watch(actor)):
            raise NotSessionParty("this session is not yours to follow", field="actor", rule="session_party")
        return view.progress
