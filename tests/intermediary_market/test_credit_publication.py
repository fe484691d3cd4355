"""The market's blacklist publishes into ``trading.credit`` (issue 13 item 4): a listing decided
here appears there, its withdrawal and expiry too, and registration reads the shared records.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import jobs
from intermediary_market.blacklist import BlacklistService, credit_ref
from intermediary_market.credit_records import CreditService, red_list_ref
from intermediary_market.errors import RegistrationRefused
from intermediary_market.models import Blacklisting
from intermediary_market.schemas import BlacklistDecision, BlacklistNotice, RatingCreate
from intermediary_market.selection import SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    announcement_form,
    complete_service,
    publish_item,
    qualified_intermediary,
    selected_announcement,
)
from tests.trading.credit.factories import record
from trading.credit.models import Activity, CreditKind, CreditStatus
from trading.credit.repository import CreditRepository
from trading.credit.service import may_take_part
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings


def _org(actor: Actor) -> uuid.UUID:
    assert actor.organisation_id is not None
    return actor.organisation_id


async def _listed(session: AsyncSession, settings: Settings, months: int = 6) -> tuple[Actor, Actor, Blacklisting]:
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    listed = await qualified_intermediary(session, settings)
    blacklist = BlacklistService(session)
    notice = await blacklist.notice_blacklisting(
        BlacklistNotice(organisation_id=_org(listed), reason="超期服务且拒不整改"), actor=regulator
    )
    await blacklist.respond_blacklisting(notice.id, "无异议", actor=listed)
    decided = await blacklist.decide_blacklisting(
        notice.id, BlacklistDecision(uphold=True, months=months), actor=regulator
    )
    return regulator, listed, decided


async def test_a_blacklisting_appears_in_credit_and_its_withdrawal_too(
    session: AsyncSession, settings: Settings
) -> None:
    await publish_item(session)
    regulator, listed, decided = await _listed(session, settings)
    repo = CreditRepository(session)
    shared = await repo.by_ref(credit_ref(decided.id))
    assert shared is not None
    assert (shared.kind, shared.status, shared.scope) == (
        CreditKind.BLACKLIST,
        CreditStatus.EFFECTIVE,
        [Activity.INTERMEDIARY_SERVICES.value],
    )
    assert (shared.organisation_id, shared.reason) == (_org(listed), "超期服务且拒不整改")
    assert (shared.valid_from, shared.valid_until) == (decided.decided_at, decided.effective_until)
    assert shared.issuing_body == regulator.organisation_name
    now = await clock.now(session)
    eligibility = await may_take_part(session, _org(listed), Activity.INTERMEDIARY_SERVICES, now)
    assert [b.record_id for b in eligibility.blocking] == [shared.id]
    assert (await may_take_part(session, _org(listed), Activity.BIDDING, now)).allowed  # out of its scope

    blacklist = BlacklistService(session)
    await blacklist.appeal_blacklisting(decided.id, "材料有误", actor=listed)
    await blacklist.decide_appeal(decided.id, overturn=True, actor=regulator)
    assert shared.status is CreditStatus.WITHDRAWN
    assert (await may_take_part(session, _org(listed), Activity.INTERMEDIARY_SERVICES, now)).allowed
    listings = [row for row in await repo.of_uscc(shared.uscc) if row.kind is CreditKind.BLACKLIST]
    assert listings == [shared]  # updated, not duplicated


async def test_the_expiry_reaches_credit_and_the_period_still_judges_the_past(
    session: AsyncSession, settings: Settings
) -> None:
    await publish_item(session)
    _, listed, decided = await _listed(session, settings, months=1)
    assert decided.decided_at is not None
    during = decided.decided_at + timedelta(days=10)
    with use_clock(ShiftedClock(timedelta(days=60))):
        assert await jobs.BlacklistExpiry().run(session, decided.id, await clock.now(session))
    shared = await CreditRepository(session).by_ref(credit_ref(decided.id))
    assert shared is not None
    assert shared.status is CreditStatus.EXPIRED
    assert not (await may_take_part(session, _org(listed), Activity.INTERMEDIARY_SERVICES, during)).allowed
    later = decided.decided_at + timedelta(days=60)
    assert (await may_take_part(session, _org(listed), Activity.INTERMEDIARY_SERVICES, later)).allowed


async def test_registration_reads_the_shared_records(session: AsyncSession, settings: Settings) -> None:
    """One source of truth: a record from another source (an import of a serious violation) bars
    registration just as the market's own listing does, under the market's rule name.
    """
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    barred = await qualified_intermediary(session, settings)
    market = MarketService(session)
    announcement = await market.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    now = await clock.now(session)
    await record(
        session, _org(barred), now - timedelta(days=1), kind=CreditKind.SERIOUS_VIOLATION, scope=(Activity.ALL,)
    )
    with pytest.raises(RegistrationRefused) as refused:
        await market.register(announcement.id, price=None, actor=barred)
    # The record's own kind names the rule (a blacklist entry keeps the market's ``blacklisted``),
    # and the message carries its reason and period.
    assert refused.value.rule == "credit-serious-violation"
    assert "提供虚假材料骗取中标" in refused.value.message
    assert "UTC+08:00" in refused.value.message
    assert refused.value.extra["records"][0]["kind"] == "serious_violation"


async def test_the_red_list_publishes_commendations_that_never_block(session: AsyncSession, settings: Settings) -> None:
    """A clean intermediary rated 100 scores 100 (A): on the red list from its rating on (not from
    its qualification: defaults alone earn no place), published as a commendation; a blacklisting
    takes it off the list, which ends the record.
    """
    await publish_item(session)
    listed = await qualified_intermediary(session, settings)
    repo = CreditRepository(session)
    assert await repo.by_ref(red_list_ref(_org(listed))) is None  # qualified, not yet rated
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    deal = await selected_announcement(session, owner, listed)
    with use_clock(ShiftedClock(timedelta(days=10))):
        await complete_service(session, deal, owner)
        await MarketService(session).rate(
            deal.id, RatingCreate(quality=100, timeliness=100, attitude=100, fees=100), actor=owner
        )
    commendation = await repo.by_ref(red_list_ref(_org(listed)))
    assert commendation is not None
    assert (commendation.kind, commendation.status, commendation.valid_until) == (
        CreditKind.COMMENDATION,
        CreditStatus.EFFECTIVE,
        None,
    )
    await CreditService(session).recompute_one(_org(listed), await clock.now(session))
    assert len(await repo.of_uscc(commendation.uscc)) == 1  # staying on the list publishes nothing new
    now = await clock.now(session)
    assert (await may_take_part(session, _org(listed), Activity.INTERMEDIARY_SERVICES, now)).allowed

    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    blacklist = BlacklistService(session)
    notice = await blacklist.notice_blacklisting(
        BlacklistNotice(organisation_id=_org(listed), reason="提供虚假材料"), actor=regulator
    )
    await blacklist.respond_blacklisting(notice.id, "无异议", actor=listed)
    await blacklist.decide_blacklisting(notice.id, BlacklistDecision(uphold=True, months=3), actor=regulator)
    assert commendation.status is CreditStatus.EXPIRED
    assert commendation.valid_until is not None
    kinds = sorted(row.kind.value for row in await repo.of_uscc(commendation.uscc))
    assert kinds == ["blacklist", "commendation"]
