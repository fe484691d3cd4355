"""Running the session: pause and resume (the remaining time is kept), incidents, requests for more
time, and replacing a member mid-way (issue 15 item 3).

- **Pause / resume / incidents**: the host or the chair (``host_or_chair``). A pause stores what is
  left of the state's limit (``remaining_seconds``) and clears ``state_ends_at``; resuming sets it
  again from the database clock. The machine refuses to move while paused. ``next_check`` follows
  ``state_ends_at`` (cleared on pause, restored on resume and extension) for `timelimit`'s sweep.
- **More time**: each signed-in current member asks once per round (``asked_once``); when more than
  the rules' share (1/3) of the current members have asked in the round, the state's limit grows by
  the rules' extension and a new round begins. Exactly the share does not extend.
- **Replacement** (engineering rule: the replacement redoes the replaced member's work): the host
  names the member and the reason; the member becomes ``replaced`` with ``voided_at`` — from then
  on their review decisions, scores and votes do not count (the scoring part reads ``voided_at``);
  the next reserve of the member's group (`draw.committee.next_reserve` over the draw's published
  result, the replacement appended to its ``declined`` order so the seating replays) becomes a
  confirmed member in the same seat, who must sign in before the session moves on. A replaced chair
  leaves the chair empty: the committee elects again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.members import vacate
from bidding.evaluation.draw.committee import CommitteeDraw as DrawnCommittee
from bidding.evaluation.draw.committee import DrawRefused, GroupDraw, next_reserve, seat
from bidding.evaluation.models import (
    Evaluation,
    EventKind,
    Member,
    MemberKind,
    MemberStatus,
    SessionEvent,
    SessionState,
)
from bidding.evaluation.pool.models import AttendanceOutcome
from bidding.evaluation.session.errors import NotSessionParty, SessionRefused, SessionStateConflict
from bidding.evaluation.session.journal import current, journal, ledger, load, remaining_seconds
from bidding.evaluation.session.repository import SessionRepository
from bidding.evaluation.session.rules import SessionRules, shipped_rules
from bidding.evaluation.session.seating import host_only, not_completed
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind

MID_SESSION = frozenset(
    {
        SessionState.SIGNED_IN,
        SessionState.QUALIFICATION,
        SessionState.DETAILED,
        SessionState.SCORING,
        SessionState.REPORT_SIGNING,
    }
)


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise SessionRefused(f"{field} is required", field=field, rule="required")
    if len(text) > limit:
        raise SessionRefused(f"at most {limit} characters", field=field, rule="max_length")
    return text


class Conduct:
    def __init__(self, session: AsyncSession, rules: SessionRules | None = None) -> None:
        self.session = session
        self.rules = rules or shipped_rules()
        self.repo = SessionRepository(session)

    async def _host_or_chair(self, actor: Actor, evaluation: Evaluation) -> None:
        if actor.kind is ActorKind.SYSTEM or (
            actor.organisation_id is not None and actor.organisation_id == evaluation.host_organisation_id
        ):
            return
        chair = await self.repo.member(evaluation.chair_member_id) if evaluation.chair_member_id else None
        if (
            chair is not None
            and chair.voided_at is None
            and actor.user_id is not None
            and chair.user_id == actor.user_id
        ):
            return
        raise NotSessionParty("only the host or the chair does this", field="actor", rule="host_or_chair")

    # --- pause, resume, incidents ------------------------------------------------------------------

    async def pause(self, actor: Actor, evaluation_id: uuid.UUID, note: str = "") -> SessionEvent:
        evaluation, tender = await load(self.repo, evaluation_id)
        await self._host_or_chair(actor, evaluation)
        if evaluation.state in {SessionState.PREPARING, SessionState.COMPLETED}:
            raise SessionStateConflict("the session is not running", field="state", rule="session_running")
        if evaluation.paused_at is not None:
            raise SessionStateConflict("the session is paused already", field="state", rule="not_paused")
        now = await clock.now(self.session)
        evaluation.remaining_seconds = remaining_seconds(evaluation, now)
        evaluation.state_ends_at = None
        evaluation.next_check = None  # a paused session's time does not run out
        evaluation.paused_at = now
        evaluation.updated_at = now
        await self.session.flush()
        text = note.strip()[: self.rules.max_note]
        event = await journal(
            self.session,
            evaluation,
            EventKind.PAUSE,
            actor=actor,
            now=now,
            note=text,
            details={"remaining_seconds": evaluation.remaining_seconds},
        )
        await ledger(
            self.session,
            actor,
            "evaluation.session_paused",
            evaluation,
            tender,
            summary={"remaining_seconds": evaluation.remaining_seconds},
            data={"note": text},
        )
        return event

    async def resume(self, actor: Actor, evaluation_id: uuid.UUID) -> SessionEvent:
        evaluation, tender = await load(self.repo, evaluation_id)
        await self._host_or_chair(actor, evaluation)
        if evaluation.paused_at is None:
            raise SessionStateConflict("the session is not paused", field="state", rule="paused")
        now = await clock.now(self.session)
        left = evaluation.remaining_seconds
        paused_for = int((now - evaluation.paused_at).total_seconds())
        evaluation.state_ends_at = now + timedelta(seconds=left) if left is not None else None
        evaluation.next_check = evaluation.state_ends_at
        evaluation.paused_at = None
        evaluation.remaining_seconds = None
        evaluation.updated_at = now
        await self.session.flush()
        event = await journal(
            self.session,
            evaluation,
            EventKind.RESUME,
            actor=actor,
            now=now,
            details={"remaining_seconds": left, "paused_seconds": paused_for},
        )
        await ledger(
            self.session,
            actor,
            "evaluation.session_resumed",
            evaluation,
            tender,
            summary={"remaining_seconds": left, "paused_seconds": paused_for},
        )
        return event

    async def incident(self, actor: Actor, evaluation_id: uuid.UUID, note: str) -> SessionEvent:
        evaluation, tender = await load(self.repo, evaluation_id)
        await self._host_or_chair(actor, evaluation)
        text = _text(note, "note", self.rules.max_note)
        now = await clock.now(self.session)
        event = await journal(self.session, evaluation, EventKind.INCIDENT, actor=actor, now=now, note=text)
        await ledger(self.session, actor, "evaluation.incident_recorded", evaluation, tender, data={"note": text})
        return event

    # --- more time ------------------------------------------------------------------------------

    async def ask_for_time(self, actor: Actor, evaluation_id: uuid.UUID) -> bool:
        """A member asks for more time; True when this request extended the state's limit."""
        evaluation, tender = await load(self.repo, evaluation_id)
        not_completed(evaluation)
        members = current(await self.repo.members(evaluation.id))
        member = next((m for m in members if actor.user_id is not None and m.user_id == actor.user_id), None)
        if member is None:
            raise NotSessionParty("you are not a member of this committee", field="actor", rule="committee_member")
        if member.signed_in_at is None:
            raise SessionRefused("sign in at your seat first", field="member", rule="signed_in_first")
        if evaluation.state_ends_at is None and evaluation.remaining_seconds is None:
            raise SessionStateConflict("this state has no time limit", field="state", rule="time_limited")
        state_events = await self.repo.state_events(
            evaluation.id, evaluation.state, (EventKind.EXTENSION_REQUEST, EventKind.EXTENSION)
        )
        round_number = 1 + sum(1 for e in state_events if e.kind is EventKind.EXTENSION)
        asked = {
            e.member_id
            for e in state_events
            if e.kind is EventKind.EXTENSION_REQUEST and e.details.get("round") == round_number
        }
        if member.id in asked:
            raise SessionRefused("you have asked in this round already", field="member", rule="asked_once")
        now = await clock.now(self.session)
        await journal(
            self.session,
            evaluation,
            EventKind.EXTENSION_REQUEST,
            actor=actor,
            now=now,
            member=member,
            details={"round": round_number},
        )
        asked.add(member.id)
        counted = len(asked & {m.id for m in members})
        await ledger(
            self.session,
            actor,
            "evaluation.extension_requested",
            evaluation,
            tender,
            summary={"round": round_number, "asking": counted, "members": len(members)},
        )
        if not self.rules.extends(counted, len(members)):
            return False
        await self._extend(evaluation, tender, now, round_number, counted, len(members))
        return True

    async def _extend(  # noqa: PLR0917 - the extension's facts
        self,
        evaluation: Evaluation,
        tender: Tender,
        now: datetime,
        round_number: int,
        asking: int,
        members: int,
    ) -> None:
        """The rule, not a person, extends: the journal and the ledger name the platform."""
        seconds = int(self.rules.extension.total_seconds())
        if evaluation.paused_at is not None and evaluation.remaining_seconds is not None:
            evaluation.remaining_seconds += seconds
        elif evaluation.state_ends_at is not None:
            evaluation.state_ends_at = max(evaluation.state_ends_at, now) + self.rules.extension
            evaluation.next_check = evaluation.state_ends_at  # a new end: it may be exceeded again
        evaluation.updated_at = now
        await self.session.flush()
        await journal(
            self.session,
            evaluation,
            EventKind.EXTENSION,
            actor=Actor.system(),
            now=now,
            details={"round": round_number, "asking": asking, "members": members, "seconds": seconds},
        )
        await ledger(
            self.session,
            Actor.system(),
            "evaluation.time_extended",
            evaluation,
            tender,
            summary={"round": round_number, "asking": asking, "members": members, "seconds": seconds},
        )

    # --- replacement ----------------------------------------------------------------------------

    async def replace(self, actor: Actor, evaluation_id: uuid.UUID, member_id: uuid.UUID, reason: str) -> Member | None:
        """Replace a member mid-session by the next reserve of their group; returns the new member.

        The reserve joins like anyone drawn (`CommitteeDraws.seat_expert`): notified in their inbox,
        asked to confirm within the answer time (the sweep times them out and calls the next), and
        current only once confirmed. With no reserve left the member is voided all the same and the
        seat is open (`members.vacate`): a supplementary draw fills it; None is returned.
        """
        evaluation, tender = await load(self.repo, evaluation_id)
        host_only(actor, evaluation)
        if evaluation.state not in MID_SESSION:
            raise SessionStateConflict("members are replaced during the session", field="state", rule="mid_session")
        text = _text(reason, "reason", self.rules.max_reason)
        members = await self.repo.members(evaluation.id, lock=True)
        member = next((m for m in current(members) if m.id == member_id), None)
        if member is None:
            raise SessionRefused("not a current member of this committee", field="member", rule="current_member")
        if member.kind is not MemberKind.EXPERT or member.draw_id is None or member.expert_id is None:
            raise SessionRefused("only a drawn expert is replaced by a reserve", field="member", rule="drawn_expert")
        row = await self.repo.draw(member.draw_id, lock=True)
        if row is None or row.result is None or row.candidate_list_sha256 is None:
            raise SessionRefused("the draw has no published result", field="member", rule="draw_result")
        drawn = _drawn(row.seed_commitment, row.candidate_list_sha256, row.result)
        declined = [str(e) for e in row.result.get("declined", [])]
        reserve: str | None
        try:
            reserve = next_reserve(drawn, declined, str(member.expert_id))
        except DrawRefused as refused:
            if refused.rule != "reserves_exhausted":
                raise SessionRefused(str(refused), field="member", rule=refused.rule or "draw_result") from None
            reserve = None
        expert = await self.repo.expert(uuid.UUID(reserve)) if reserve is not None else None
        if reserve is not None and expert is None:
            raise SessionRefused("the reserve is not in the pool", field="member", rule="reserve_in_pool")
        now = await clock.now(self.session)
        await self._void(evaluation, member, now)
        joined: Member | None = None
        replaced = [*row.result.get("replaced_mid_session", []), str(member.expert_id)]
        if reserve is None or expert is None:
            row.result = {**row.result, "replaced_mid_session": replaced}
            await self.session.flush()
            await vacate(self.session, actor, row, member, evaluation, tender, "reserves_exhausted")
        else:
            after = [*declined, str(member.expert_id)]
            row.result = {
                **row.result,
                "declined": after,
                "committee": seat(drawn, after).committee(),
                "replaced_mid_session": replaced,
            }
            await self.session.flush()
            group = drawn.group(member.group_code)
            joined = await CommitteeDraws(self.session).seat_expert(
                evaluation,
                tender,
                row,
                expert,
                member.group_code,
                len(group.members) + group.reserves.index(reserve),
                now,
                replaces=member,
            )
            joined.seat_id = member.seat_id
            await self.session.flush()
        await journal(
            self.session,
            evaluation,
            EventKind.REPLACEMENT,
            actor=actor,
            now=now,
            note=text,
            member=member,
            details={"joined": str(joined.id) if joined is not None else ""},
        )
        await ledger(
            self.session,
            actor,
            "evaluation.member_replaced",
            evaluation,
            tender,
            summary={"member": str(member.id), "joined": str(joined.id) if joined is not None else ""},
            data={"reason": text, "expert_id": str(member.expert_id), "reserve": reserve or ""},
        )
        return joined

    async def _void(self, evaluation: Evaluation, member: Member, now: datetime) -> None:
        """The member is out: replaced, voided (their conclusions stop counting), their attendance
        ended as replaced, and the chair emptied if they held it.
        """
        member.status = MemberStatus.REPLACED
        member.voided_at = now
        member.next_check = None
        for attendance in await self.repo.attendances(evaluation.id):
            if attendance.expert_id == member.expert_id and attendance.finished_at is None:
                attendance.outcome = AttendanceOutcome.REPLACED
                attendance.finished_at = now
        if evaluation.chair_member_id == member.id:
            evaluation.chair_member_id = None
        evaluation.updated_at = now


def _drawn(seed_commitment: str, candidate_list_sha256: str, result: dict[str, object]) -> DrawnCommittee:
    """The pure draw as the committee part stored it (`draw.committee.published_result`)."""
    groups_raw = result.get("groups")
    if not isinstance(groups_raw, list):
        raise SessionRefused("the draw has no published groups", field="member", rule="draw_result")
    groups = tuple(
        GroupDraw(str(g["key"]), tuple(g["members"]), tuple(g["reserves"]), int(g["eligible"])) for g in groups_raw
    )
    return DrawnCommittee(seed_commitment, candidate_list_sha256, str(result.get("draw_seed", "")), groups)
