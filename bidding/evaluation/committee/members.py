"""The drawn experts' answers: confirm, decline with a reason, or let the time run out; a decline
or a time-out seats the group's next reserve at once (`draw.committee.next_reserve`), notified like
the first.

The order of declines is part of the published draw (``result["declined"]``): `seat` replays it, so
the seated committee is a function of the draw and that list. The draw row is locked while a
decline is applied, so two declines never read the same list. The sweep (`jobs.AnswerDue`) locks
the member, re-checks it is still notified and past due, and acts once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.drawing import CommitteeDraws, declined_of, drawn_of
from bidding.evaluation.committee.errors import DrawStateConflict, NotAMember, SetupRefused
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.rules import CommitteeRules
from bidding.evaluation.committee.supplement import notice_open
from bidding.evaluation.draw.committee import DrawRefused, next_reserve, seat
from bidding.evaluation.models import CommitteeDraw, Evaluation, Member, MemberKind, MemberStatus
from bidding.evaluation.pool.models import DrawOutcome
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

MAX_REASON: Final = 500


@dataclass(frozen=True, slots=True)
class MyMembership:
    member: Member
    evaluation: Evaluation
    tender: Tender

    @property
    def to_answer(self) -> bool:
        return self.member.status is MemberStatus.NOTIFIED


class Memberships:
    def __init__(self, session: AsyncSession, rules: CommitteeRules | None = None) -> None:
        self.session = session
        self.repo = CommitteeRepository(session)
        self.draws = CommitteeDraws(session, rules)

    async def mine(self, actor: Actor) -> list[MyMembership]:
        if actor.user_id is None:
            return []
        return [MyMembership(*row) for row in await self.repo.memberships_of_user(actor.user_id)]

    async def _own(self, actor: Actor, member_id: uuid.UUID) -> Member:
        member = await self.repo.member(member_id, lock=True)
        if member is None or actor.user_id is None or member.user_id != actor.user_id:
            raise NotAMember("this is not your membership", field="member", rule="own_membership")
        if member.status is not MemberStatus.NOTIFIED or member.voided_at is not None:
            raise DrawStateConflict("this draw has been answered already", field="member", rule="answered_once")
        return member

    async def _context(self, member: Member) -> tuple[Evaluation, Tender]:
        evaluation = await self.repo.evaluation(member.evaluation_id)
        assert evaluation is not None  # noqa: S101 - a foreign key
        tender = await self.repo.tender(evaluation.tender_id)
        assert tender is not None  # noqa: S101 - a foreign key
        return evaluation, tender

    async def confirm(self, actor: Actor, member_id: uuid.UUID) -> Member:
        member = await self._own(actor, member_id)
        now = await clock.now(self.session)
        if member.answer_due_at is not None and now > member.answer_due_at:
            raise DrawStateConflict("the time to answer has run out", field="member", rule="answer_in_time")
        evaluation, tender = await self._context(member)
        member.status = MemberStatus.CONFIRMED
        member.answered_at = now
        member.next_check = None
        await self.session.flush()
        if member.draw_id is not None and member.expert_id is not None:
            await self.repo.set_draw_outcome(member.draw_id, member.expert_id, DrawOutcome.CONFIRMED, now)
        await self._record(actor, "evaluation.member_confirmed", member, evaluation, tender)
        return member

    async def decline(self, actor: Actor, member_id: uuid.UUID, reason: str) -> Member:
        """Decline with a reason; the group's next reserve is seated and notified."""
        text = reason.strip()
        if not text:
            raise SetupRefused("say why you decline", field="reason", rule="required")
        if len(text) > MAX_REASON:
            raise SetupRefused(f"at most {MAX_REASON} characters", field="reason", rule="max_length")
        member = await self._own(actor, member_id)
        now = await clock.now(self.session)
        evaluation, tender = await self._context(member)
        await self._leave(actor, member, evaluation, tender, MemberStatus.DECLINED, now, text)
        return member

    async def time_out_if_due(self, member_id: uuid.UUID, now: datetime) -> bool:
        """The sweep's step: a notified member past the answer time is timed out and replaced."""
        member = await self.repo.member(member_id, lock=True)
        if (
            member is None
            or member.status is not MemberStatus.NOTIFIED
            or member.next_check is None
            or member.next_check > now
        ):
            return False
        evaluation, tender = await self._context(member)
        await self._leave(Actor.system(), member, evaluation, tender, MemberStatus.TIMED_OUT, now, "")
        return True

    async def _leave(  # noqa: PLR0917 - the member leaving and why
        self,
        actor: Actor,
        member: Member,
        evaluation: Evaluation,
        tender: Tender,
        status: MemberStatus,
        now: datetime,
        reason: str,
    ) -> Member | None:
        member.status = status
        member.answered_at = now
        member.decline_reason = reason
        member.next_check = None
        await self.session.flush()
        outcome = DrawOutcome.DECLINED if status is MemberStatus.DECLINED else DrawOutcome.TIMED_OUT
        action = "evaluation.member_declined" if status is MemberStatus.DECLINED else "evaluation.member_timed_out"
        if member.draw_id is not None and member.expert_id is not None:
            await self.repo.set_draw_outcome(member.draw_id, member.expert_id, outcome, now)
        await self._record(actor, action, member, evaluation, tender, data={"reason": reason})
        if member.kind is not MemberKind.EXPERT or member.draw_id is None or member.expert_id is None:
            return None
        return await self._seat_reserve(actor, member, evaluation, tender, now)

    async def _seat_reserve(
        self, actor: Actor, member: Member, evaluation: Evaluation, tender: Tender, now: datetime
    ) -> Member | None:
        assert member.draw_id is not None  # noqa: S101 - checked by the caller
        assert member.expert_id is not None  # noqa: S101 - checked by the caller
        row = await self.repo.draw(member.draw_id, lock=True)
        assert row is not None  # noqa: S101 - a foreign key
        drawn = drawn_of(row)
        before = declined_of(row)
        expert_key = str(member.expert_id)
        try:
            replacement = next_reserve(drawn, before, expert_key)
        except DrawRefused as refused:
            await vacate(self.session, actor, row, member, evaluation, tender, refused.rule or "reserves_exhausted")
            return None
        declined = [*before, expert_key]
        row.result = {**(row.result or {}), "declined": declined, "committee": seat(drawn, declined).committee()}
        await self.session.flush()
        group = drawn.group(member.group_code)
        position = len(group.members) + group.reserves.index(replacement)
        experts = await self.repo.experts([uuid.UUID(replacement)])
        seated = await self.draws.seat_expert(
            evaluation, tender, row, experts[uuid.UUID(replacement)], member.group_code, position, now, replaces=member
        )
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.reserve_seated",
            subject_type="evaluation.member",
            subject_id=str(seated.id),
            summary={"evaluation": str(evaluation.id), "replaces": str(member.id), "group": member.group_code},
            data={"expert_id": replacement, "declined": declined},
            project_code=tender.project_code,
        )
        return seated

    async def _record(  # noqa: PLR0917 - one member's entry
        self,
        actor: Actor,
        action: str,
        member: Member,
        evaluation: Evaluation,
        tender: Tender,
        data: dict[str, str] | None = None,
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type="evaluation.member",
            subject_id=str(member.id),
            summary={"evaluation": str(evaluation.id), "status": member.status.value},
            data=data or {},
            project_code=tender.project_code,
        )


async def vacate(  # noqa: PLR0917 - the seat left open and why
    session: AsyncSession,
    actor: Actor,
    row: CommitteeDraw,
    member: Member,
    evaluation: Evaluation,
    tender: Tender,
    rule: str,
) -> None:
    """No reserve is left for ``member``'s seat: the seat is open (``result["vacated"]``, not
    ``declined``, so the published declines still replay), recorded, and the draw operator told
    (`supplement.notice_open`); a supplementary draw fills it.
    """
    expert = str(member.expert_id)
    vacated = [*(row.result or {}).get("vacated", []), {"expert": expert, "group": member.group_code}]
    seated = [e for e in (row.result or {}).get("committee", []) if e != expert]
    row.result = {**(row.result or {}), "vacated": vacated, "committee": seated}
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="evaluation.reserves_exhausted",
        subject_type="evaluation.member",
        subject_id=str(member.id),
        summary={"evaluation": str(evaluation.id), "group": member.group_code, "rule": rule},
        project_code=tender.project_code,
    )
    await notice_open(session, tender, row)


def current(members: Sequence[Member]) -> list[Member]:
    """The members that count now: not voided, confirmed or signed in."""
    return [m for m in members if m.voided_at is None and m.status in {MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN}]
