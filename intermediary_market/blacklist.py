"""The blacklist (失信中介服务机构名单) with due process: notice, a response period, the decision,
an appeal within ``APPEAL_WINDOW``, and expiry by the sweep. While a listing is effective the
intermediary cannot register for announcements (``MarketService.eligibility_refusal``).

The listing is published into ``trading.credit`` (``publish_listing``) when it becomes effective and
updated there when it is withdrawn or expires: registration eligibility, bid intake and every other
domain read that one record, so the market and the platform cannot disagree about who is listed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.credit_records import CreditService
from intermediary_market.models import Blacklisting, BlacklistStatus
from intermediary_market.policies import assert_own_organisation
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import BlacklistDecision, BlacklistNotice
from intermediary_market.service import record
from trading.credit.models import Activity, CreditKind, CreditStatus
from trading.credit.service import CreditService as SharedCredit
from trading.credit.service import Publication
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, ValidationFailed

APPEAL_WINDOW = timedelta(days=15)
"""An intermediary may appeal a blacklisting decision within this period."""
CREDIT_SOURCE = "intermediary_market"
LIST_NAME = "失信中介服务机构名单"


BLACKLISTING_PREFIX = f"{CREDIT_SOURCE}:blacklisting:"


def credit_ref(blacklisting_id: uuid.UUID) -> str:
    """The listing's unique reference in ``trading.credit`` (re-publishing updates that record)."""
    return f"{BLACKLISTING_PREFIX}{blacklisting_id}"


async def publish_listing(session: AsyncSession, row: Blacklisting, *, actor: Actor) -> None:
    """The effective listing as a shared credit record: it bars intermediary services for its term."""
    assert row.decided_at is not None  # noqa: S101 - only decided listings are published
    shared = SharedCredit(session)
    issuer = await shared.organisation_name(actor.organisation_id) if actor.organisation_id else None
    await shared.publish(
        Publication(
            source=CREDIT_SOURCE,
            source_ref=credit_ref(row.id),
            organisation_id=row.organisation_id,
            kind=CreditKind.BLACKLIST,
            category=LIST_NAME,
            scope=(Activity.INTERMEDIARY_SERVICES,),
            valid_from=row.decided_at,
            valid_until=row.effective_until,
            issuing_body=issuer or "中介服务超市监管部门",
            decision_no=f"IM-BL-{row.id}",
            reason=row.reason,
        ),
        actor=actor,
    )


class BlacklistService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MarketRepository(session)

    async def notice_blacklisting(self, data: BlacklistNotice, *, actor: Actor) -> Blacklisting:
        if data.response_days < 1:
            raise ValidationFailed("the response period is at least one day", field="response_days", rule="min")
        if not data.reason.strip():
            raise ValidationFailed("the notice states its reason", field="reason", rule="required")
        if not await self.repo.organisation_exists(data.organisation_id):
            # Checked, not left to the foreign key: that would be a 500, not a refusal naming the field.
            raise NotFound("no such organisation", field="organisation_id", rule="exists")
        now = await clock.now(self.session)
        row = Blacklisting(
            organisation_id=data.organisation_id,
            reason=data.reason,
            status=BlacklistStatus.NOTICED,
            noticed_at=now,
            response_due=now + timedelta(days=data.response_days),
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "blacklist_noticed",
            "blacklisting",
            row.id,
            {"organisation_id": str(row.organisation_id), "reason": row.reason},
        )
        return row

    async def _blacklisting(self, blacklisting_id: uuid.UUID) -> Blacklisting:
        row = await self.repo.blacklisting(blacklisting_id, lock=True)
        if row is None:
            raise NotFound("no such blacklisting", field="blacklisting_id", rule="exists")
        return row

    async def respond_blacklisting(self, blacklisting_id: uuid.UUID, response: str, *, actor: Actor) -> Blacklisting:
        row = await self._blacklisting(blacklisting_id)
        assert_own_organisation(actor, row.organisation_id, "respond to this notice")
        now = await clock.now(self.session)
        if row.status is not BlacklistStatus.NOTICED or now >= row.response_due:
            raise Conflict("the response period is over", field="response", rule="response_period_over")
        row.response = response
        await self.session.flush()
        await record(self.session, actor, "blacklist_responded", "blacklisting", row.id, {"response": response})
        return row

    async def decide_blacklisting(
        self, blacklisting_id: uuid.UUID, data: BlacklistDecision, *, actor: Actor
    ) -> Blacklisting:
        """Decide after the response period (or once the intermediary has responded)."""
        row = await self._blacklisting(blacklisting_id)
        if row.status is not BlacklistStatus.NOTICED:
            raise Conflict("this blacklisting has been decided", field="status", rule="already_decided")
        now = await clock.now(self.session)
        if row.response is None and now < row.response_due:
            raise Conflict("the response period is still running", field="response_due", rule="response_period_running")
        if data.months < 1:
            raise ValidationFailed("a listing lasts at least one month", field="months", rule="min")
        row.decided_at = now
        if data.uphold:
            row.status = BlacklistStatus.EFFECTIVE
            row.effective_until = now + timedelta(days=30 * data.months)
            row.next_check = row.effective_until
        else:
            row.status = BlacklistStatus.WITHDRAWN
        await self.session.flush()
        if row.status is BlacklistStatus.EFFECTIVE:
            await publish_listing(self.session, row, actor=actor)
        await record(
            self.session,
            actor,
            "blacklist_decided",
            "blacklisting",
            row.id,
            {"status": row.status.value, "months": data.months},
        )
        await CreditService(self.session).recompute_one(row.organisation_id, now)  # the grade while listed
        return row

    async def appeal_blacklisting(self, blacklisting_id: uuid.UUID, appeal: str, *, actor: Actor) -> Blacklisting:
        """The intermediary appeals an effective listing within ``APPEAL_WINDOW`` of the decision."""
        row = await self._blacklisting(blacklisting_id)
        assert_own_organisation(actor, row.organisation_id, "appeal this decision")
        now = await clock.now(self.session)
        if row.status is not BlacklistStatus.EFFECTIVE or row.decided_at is None:
            raise Conflict("only an effective listing can be appealed", field="status", rule="appeal_effective_only")
        if row.appealed_at is not None:
            raise Conflict("this decision has already been appealed", field="appeal", rule="duplicate_appeal")
        if now > row.decided_at + APPEAL_WINDOW:
            raise Conflict(
                f"appeals are accepted within {APPEAL_WINDOW.days} days of the decision",
                field="appeal",
                rule="appeal_window",
            )
        if not appeal.strip():
            raise ValidationFailed("the appeal states its grounds", field="appeal", rule="required")
        row.appeal = appeal
        row.appealed_at = now
        await self.session.flush()
        await record(self.session, actor, "blacklist_appealed", "blacklisting", row.id, {"appeal": appeal})
        return row

    async def decide_appeal(self, blacklisting_id: uuid.UUID, *, overturn: bool, actor: Actor) -> Blacklisting:
        """Decide an appeal: overturning withdraws the listing at once; otherwise it runs its course."""
        row = await self._blacklisting(blacklisting_id)
        if row.appealed_at is None or row.appeal_decided_at is not None:
            raise Conflict("there is no pending appeal", field="appeal", rule="appeal_pending")
        row.appeal_decided_at = await clock.now(self.session)
        if overturn and row.status is BlacklistStatus.EFFECTIVE:
            row.status = BlacklistStatus.WITHDRAWN
            row.next_check = None
            await SharedCredit(self.session).set_status(credit_ref(row.id), CreditStatus.WITHDRAWN, actor=actor)
        await self.session.flush()
        await record(
            self.session,
            actor,
            "blacklist_appeal_decided",
            "blacklisting",
            row.id,
            {"status": row.status.value, "rule": "overturned" if overturn else "upheld"},
        )
        await CreditService(self.session).recompute_one(row.organisation_id, row.appeal_decided_at)
        return row


async def backfill_listing_if_unpublished(session: AsyncSession, blacklisting_id: uuid.UUID) -> bool:
    """Publish a listing decided before ``trading.credit`` existed (or whose publication was lost)
    under its usual ``credit_ref``, so registration, which reads only the shared records, bars it.
    Idempotent: a listing already published is left alone; a later re-publish updates this record.
    """
    row = await MarketRepository(session).blacklisting(blacklisting_id, lock=True)
    if row is None or row.decided_at is None or row.status not in {BlacklistStatus.EFFECTIVE, BlacklistStatus.EXPIRED}:
        return False
    shared = SharedCredit(session)
    if await shared.repo.by_ref(credit_ref(row.id)) is not None:
        return False
    await publish_listing(session, row, actor=Actor.system())
    if row.status is BlacklistStatus.EXPIRED:  # its period still judges registrations made within it
        await shared.set_status(credit_ref(row.id), CreditStatus.EXPIRED, actor=Actor.system())
    return True


async def expire_blacklisting_if_due(session: AsyncSession, blacklisting_id: uuid.UUID, now: datetime) -> bool:
    repo = MarketRepository(session)
    row = await repo.blacklisting(blacklisting_id, lock=True)
    if row is None or row.next_check is None or row.next_check > now:
        return False
    row.next_check = None
    if row.status is not BlacklistStatus.EFFECTIVE or row.effective_until is None or row.effective_until > now:
        await session.flush()
        return False
    row.status = BlacklistStatus.EXPIRED
    await session.flush()
    await SharedCredit(session).set_status(credit_ref(row.id), CreditStatus.EXPIRED, actor=Actor.system())
    await record(
        session,
        Actor.system(),
        "blacklist_expired",
        "blacklisting",
        row.id,
        {"organisation_id": str(row.organisation_id)},
    )
    await CreditService(session).recompute_one(row.organisation_id, now)
    return True
