"""Releasing bid securities when the tender's outcome is settled (issue 17 point 5).

The award stage enqueues ``guarantees.release_bid_securities`` after the contract is signed
(`bidding.award.contract`, after commit) with the tender's code, the winner's organisation, when the
award notices were issued and each bid's security as its signed manifest names it. This job:

* **guarantees**: the winner's is released with reason ``contract_signed``, every other bidder's with
  ``not_awarded`` (`lifecycle.request_release`; the worker pushes each release to the guarantor);
  a guarantee already claimed, paid out, expired or released is left as it is;
* **cash bonds**: a refund record (`lifecycle.record_cash_bond_refund`) whose cause date is the
  contract's signing for the winner and the award notice's issue for the others, so the 5-working-day
  limit of 87号令 Art. 38 and the late interest count from the day the law counts them.

Two events carry it: the award notices' issue (`bidding.award.notices`: every bidder but the winner,
87号令 Art. 38 — the losers are released once told) and the contract's signing (everyone; the losers
again, which changes nothing). A cash refund's due date counts from the notice for the losers, from
the contract for the winner, whichever event records it first.

Idempotent: a repeated or concurrent run changes nothing extra (releases and refunds return the first
record). The rows are locked by the lifecycle functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.guarantees import lifecycle
from trading.guarantees.models import Guarantee, GuaranteeStatus, ReleaseReason
from trading.guarantees.notices import notify_guarantee
from trading.guarantees.repository import LIVE, GuaranteesRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import CHINA, CalendarYearMissing
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.uow import transaction

log = structlog.get_logger(__name__)

RELEASE_TASK = "guarantees.release_bid_securities"


@dataclass(frozen=True)
class ReleaseOutcome:
    released: int
    refunds: int
    skipped: int


def _beijing_date(value: str | None, fallback: date) -> date:
    if not value:
        return fallback
    return datetime.fromisoformat(value).astimezone(CHINA).date()


async def release_bid_securities(
    session_maker: async_sessionmaker[AsyncSession],
    *,
    tender: str,
    signed_at: str | None = None,
    winner_organisation_id: str | None = None,
    notice_issued_at: str | None = None,
    securities: Sequence[Mapping[str, str]] = (),
    **_event: Any,
) -> ReleaseOutcome:
    """Release the tender's bid guarantees and record its cash refunds (module docstring)."""
    # Two events: the award notices (losers only, no contract yet) and the contract's signing (all).
    first = signed_at or notice_issued_at
    if first is None:
        msg = "the release event names the notice or the contract's signing"
        raise ValueError(msg)
    contract_day = _beijing_date(signed_at, _beijing_date(first, date.min))
    notice_day = _beijing_date(notice_issued_at, contract_day)
    async with transaction(session_maker) as session:
        calendar = await load_calendar(session)  # the years loaded by now, one reading for every security
    actor = Actor.system()
    released = refunds = skipped = 0
    for security in securities:
        won = winner_organisation_id is not None and security.get("organisation_id") == winner_organisation_id
        async with transaction(session_maker, lock=True) as session:
            if security.get("form") == "guarantee":
                if await _release_guarantee(session, actor, uuid.UUID(security["bid_id"]), won=won):
                    released += 1
                else:
                    skipped += 1
            elif security.get("form") == "cash":
                try:
                    await lifecycle.record_cash_bond_refund(
                        session,
                        actor,
                        project_code=tender,
                        lot_code=security["lot"],
                        bidder_organisation_id=uuid.UUID(security["organisation_id"]),
                        amount=Decimal(security["amount"]),
                        cause_date=contract_day if won else notice_day,
                        calendar=calendar,
                    )
                    refunds += 1
                except CalendarYearMissing as missing:
                    # Without the year's working days there is no due date to state; the supervisor
                    # loads the calendar and the event is sent again. Never a wrong due date.
                    log.warning("guarantees.refund_calendar_missing", tender=tender, year=missing.year)
                    skipped += 1
    log.info("guarantees.bid_securities_released", tender=tender, released=released, refunds=refunds)
    return ReleaseOutcome(released, refunds, skipped)


async def _release_guarantee(session: AsyncSession, actor: Actor, bid_id: uuid.UUID, *, won: bool) -> bool:
    guarantee = await GuaranteesRepository(session).guarantee_of_bid(bid_id)
    if guarantee is None or guarantee.status not in LIVE:
        return guarantee is not None and guarantee.status == GuaranteeStatus.RELEASED
    reason = ReleaseReason.CONTRACT_SIGNED if won else ReleaseReason.NOT_AWARDED
    await lifecycle.request_release(session, actor, guarantee.id, reason)
    await notify_guarantee(session, guarantee, "guarantees.release_requested", reason=reason.value)
    return True


class GuaranteeExpiryNotified(lifecycle.GuaranteeExpiry):
    """The sweep's expiry (`lifecycle.GuaranteeExpiry`: a live guarantee past its last day, not
    claimed, expires) with the notices to every side. Registered in `trading.server.wiring`.
    """

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not await super().run(session, key, now):
            return False
        guarantee = await GuaranteesRepository(session).get(Guarantee, key) if isinstance(key, uuid.UUID) else None
        if guarantee is not None:
            await notify_guarantee(session, guarantee, "guarantees.expired")
        return True


SWEEP_HANDLERS = (GuaranteeExpiryNotified(),)
