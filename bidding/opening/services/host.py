"""The host's actions in the hall: move to the next stage, pause and resume, record a platform-side
incident for a bidder. The host is the tender's agency, else the tenderee, holding
`bidding:opening:host`; routes let every opening reader through and the check is here, so that
another account's attempt is refused *and recorded* (`audited`). Pause keeps the stage and carries
the remaining time over to the resume.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.models import Tender
from bidding.opening import coefficients, repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import FINAL_OUTCOMES, CoefficientDraw, OpeningBid, OpeningSession, Outcome, Stage
from bidding.opening.readings import decryption_progress
from bidding.opening.services.base import MAX_CAUSE, HallPart, audited
from bidding.opening.stages import (
    WINDOW_STAGES,
    add_timeline_event,
    decide_bid,
    earliest_close,
    enter_stage,
    next_stage,
    price_settled,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.ledger.service import append_entry


class HostActions(HallPart):
    """Stage transitions, pause and resume, incidents: the host's, checked and audited here."""

    @audited("host")
    async def advance(self, actor: Actor, code: str, to: Stage) -> OpeningSession:
        """The host moves the opening to the next stage (``to`` must be the next one)."""
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            self.check_not_paused(opening)
            now = await clock.now(session)
            if next_stage(tender, opening.stage) is not to:
                raise OpeningStateConflict(
                    f"the opening is at {opening.stage.value}; it cannot move to {to.value}",
                    field="stage",
                    rule="next-stage",
                )
            if opening.stage in WINDOW_STAGES:
                # Leaving 解密 needs every price summary settled; leaving 唱标, every bid decided;
                # either way the window may have ended instead. What the escrow has not opened by
                # then (and holds up the stage) is withdrawn.
                if opening.decryption_closed_at is None:
                    progress = await decryption_progress(session, opening)
                    waiting = progress["pricesPending" if opening.stage is Stage.DECRYPTION else "undecided"]
                    if waiting:
                        raise OpeningStateConflict(
                            "the decryption window runs until its end or until every bid is decrypted",
                            field="stage",
                            rule="decryption-window-running",
                        )
                    if progress["undecided"] == 0:
                        opening.decryption_closed_at = now
                for row in await repository.bid_rows(session, opening, lock=True):
                    holds_up = opening.stage is Stage.PRICE_READING or not price_settled(row)
                    if row.outcome is Outcome.ESCROW_PENDING and holds_up:
                        cause = (
                            "not decrypted for a platform-side cause (撤回): "
                            f"{row.incident['cause'] if row.incident else ''};"
                            " the escrow remedy was not completed (fewer than k shares)"
                        )
                        await decide_bid(session, row, Outcome.WITHDRAWN, cause, now=now, actor=actor, code=code)
            if opening.stage is Stage.COEFFICIENT_DRAW:
                await self.check_coefficients_drawn(session, opening)
            if to is Stage.CLOSED:
                await self.check_may_close(session, tender, opening, now)
            await enter_stage(session, opening, tender, to, now=now, actor=actor)
            return opening

    @audited("host")
    async def draw_coefficients(self, actor: Actor, code: str) -> list[CoefficientDraw]:
        """抽取系数: the host reveals each committed seed and the value it draws (`opening.coefficients`)."""
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            self.check_not_paused(opening)
            if opening.stage is not Stage.COEFFICIENT_DRAW:
                raise OpeningStateConflict(
                    "coefficients are drawn in the coefficient-draw stage, after the price reading",
                    field="stage",
                    rule="coefficient-stage",
                )
            rows = await repository.coefficient_draws(session, opening.id, lock=True)
            if all(row.drawn_at is not None for row in rows):
                raise OpeningStateConflict(
                    "every coefficient is already drawn", field="coefficients", rule="drawn-once"
                )
            now = await clock.now(session)
            drawn = await coefficients.draw_all(session, opening, tender, now=now, actor=actor)
            add_timeline_event(opening, "coefficients-drawn", now, actor, values={r.name: r.value for r in drawn})
            opening.updated_at = now
            await session.flush()
            return drawn

    @staticmethod
    async def check_coefficients_drawn(session: AsyncSession, opening: OpeningSession) -> None:
        """抽取系数 ends only once every committed coefficient is drawn."""
        pending = [r.name for r in await repository.coefficient_draws(session, opening.id) if r.drawn_at is None]
        if pending:
            raise OpeningStateConflict(
                f"draw the coefficients first: {', '.join(pending)}", field="stage", rule="coefficients-drawn"
            )

    @staticmethod
    async def check_may_close(session: AsyncSession, tender: Tender, opening: OpeningSession, now: datetime) -> None:
        """The host closes only once the minimum objection and confirmation windows have run
        (`stages.earliest_close`, or the stage's own end when a pause moved it) and every
        objection is answered.
        """
        earliest = max(
            (t for t in (earliest_close(tender, opening), opening.stage_ends_at) if t is not None), default=None
        )
        if earliest is not None and now < earliest:
            raise OpeningStateConflict(
                "bidders object and confirm for at least the tender's minimum windows"
                f" (objections from 唱标, confirmation); the opening closes from {earliest.isoformat()}",
                field="stage",
                rule="minimum-windows",
            )
        unanswered = await repository.unanswered_objections(session, opening.id)
        if unanswered:
            raise OpeningStateConflict(
                f"{unanswered} objection(s) are not answered yet", field="objections", rule="objections-unanswered"
            )

    @audited("host")
    async def pause(self, actor: Actor, code: str, reason: str) -> OpeningSession:
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            if opening.paused_at is not None or opening.stage is Stage.CLOSED:
                raise OpeningStateConflict("the opening is closed or already paused", field="stage", rule="pausable")
            now = await clock.now(session)
            remaining = (
                max(0, int((opening.stage_ends_at - now).total_seconds()))
                if opening.stage_ends_at is not None
                else None
            )
            opening.paused_at = now
            opening.remaining_seconds = remaining
            opening.stage_ends_at = None
            opening.next_check = None
            opening.updated_at = now
            add_timeline_event(opening, "paused", now, actor, reason=reason[:500], remainingSeconds=remaining)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_paused",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"stage": opening.stage.value, "remainingSeconds": remaining},
                data={"reason": reason},
                project_code=tender.project_code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "paused", "state": opening.stage.value, "at": now, "remainingSeconds": remaining},
            )
            return opening

    @audited("host")
    async def resume(self, actor: Actor, code: str) -> OpeningSession:
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            if opening.paused_at is None:
                raise OpeningStateConflict("the opening is not paused", field="stage", rule="paused")
            now = await clock.now(session)
            paused_for = int((now - opening.paused_at).total_seconds())
            if opening.remaining_seconds is not None:
                opening.stage_ends_at = now + timedelta(seconds=opening.remaining_seconds)
                opening.next_check = opening.stage_ends_at
            opening.paused_at = None
            opening.remaining_seconds = None
            opening.updated_at = now
            add_timeline_event(opening, "resumed", now, actor, pausedSeconds=paused_for)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_resumed",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"stage": opening.stage.value, "pausedSeconds": paused_for},
                data={"endsAt": opening.stage_ends_at},
                project_code=tender.project_code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "resumed", "state": opening.stage.value, "at": now, "endsAt": opening.stage_ends_at},
            )
            return opening

    @audited("host")
    async def record_incident(self, actor: Actor, code: str, *, lot: str, bidder: str, cause: str) -> OpeningBid:
        """The host records a platform-side cause for a bidder's failure to decrypt, during the window."""
        cause = cause.strip()
        if not cause or len(cause) > MAX_CAUSE:
            raise OpeningRefused("the cause is 1–1000 characters", field="cause", rule="length")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            if opening.stage not in WINDOW_STAGES or opening.decryption_closed_at is not None:
                raise OpeningRefused(
                    "incidents are recorded during the decryption window", field="stage", rule="decryption-window"
                )
            row = await self.row_of(session, opening, lot, bidder, lock=True)
            if row.outcome in FINAL_OUTCOMES:
                raise OpeningStateConflict(
                    f"the bid is already {row.outcome.value}", field="bidder", rule="outcome-final"
                )
            now = await clock.now(session)
            row.incident = {"cause": cause, "by": actor.label, "at": now.isoformat()}
            row.updated_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_incident_recorded",
                subject_type="bidding.opening_bid",
                subject_id=str(row.id),
                summary={"bidder": row.bidder_uscc, "lot": lot},
                data={"cause": cause},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "incident", "state": opening.stage.value, "at": now})
            return row

    @staticmethod
    def check_not_paused(opening: OpeningSession) -> None:
        if opening.paused_at is not None:
            raise OpeningStateConflict("the opening is paused", field="stage", rule="paused")
