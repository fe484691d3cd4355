"""The award decision (定标) on PostgreSQL: refused before the publicity closed; a non-candidate or
another than the first refused with the rule and nothing stored; the first confirmed, signed; the
winner passed over with the reason recorded and the next one awarded; none left: 流标.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import publicity
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue
from bidding.award.models import Award
from bidding.award.states import AwardEvent, AwardState
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    award_hook,
    award_of,
    confirm_winner,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    open_publicity,
    pass_over,
    settings,
    signed_report,
    store,
)
from tests.bidding.factories import ledger_entries, tenderee_party
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def test_the_first_candidate_is_confirmed_passed_over_and_the_tender_fails_when_none_is_left(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    first, second, third = (str(b) for b in world.bids)

    # Before the publicity: refused by the state machine's rule.
    with pytest.raises(AwardRefused) as early:
        await confirm_winner(session_maker, settings, award, owner, first)
    assert (early.value.field, early.value.rule) == ("event", "award_after_publicity")

    opened = await open_publicity(session_maker, settings, award, owner, owner)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1

    # A non-candidate, and another than the first: refused, nothing stored.
    with pytest.raises(AwardRefused) as stranger:
        await confirm_winner(session_maker, settings, award, owner, "00000000-0000-0000-0000-000000000000")
    assert (stranger.value.field, stranger.value.rule) == ("bid", "not_a_candidate")
    with pytest.raises(AwardRefused) as skipping:
        await confirm_winner(session_maker, settings, award, owner, second)
    assert (skipping.value.field, skipping.value.rule) == ("bid", "first_remaining_candidate")
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.PUBLICITY_CLOSED
        assert row.chosen_bid_id is None
        assert row.order_record is None
        assert await ledger_entries(session, chain_for(world.project_code), "award.confirmed") == []

    confirmed = await confirm_winner(session_maker, settings, award, owner, first)
    assert confirmed.state is AwardState.AWARDED
    assert str(confirmed.chosen_bid_id) == first
    assert confirmed.order_record is not None
    assert confirmed.order_record["order"] == [first, second, third]

    # The winner gives up: the second is awarded, the reason recorded.
    reassigned = await pass_over(session_maker, settings, award, owner, "gave_up")
    assert reassigned.state is AwardState.AWARDED
    assert str(reassigned.chosen_bid_id) == second
    assert [(d["bid"], d["reason"]) for d in reassigned.passed_over["dropped"]] == [(first, "gave_up")]
    # A reason outside the law's list is refused.
    with pytest.raises(AwardRefused) as whim:
        await pass_over(session_maker, settings, award, owner, "dislike")
    assert (whim.value.field, whim.value.rule) == ("reason", "drop_reason")

    await pass_over(session_maker, settings, award, owner, "no_performance_security")
    failed = await pass_over(session_maker, settings, award, owner, "ineligible")
    assert failed.state is AwardState.FAILED
    assert failed.chosen_bid_id is None
    async with session_maker() as session:
        steps = [s.event for s in await publicity.steps_of(session, award.id)]
        assert steps == [
            AwardEvent.OPEN_PUBLICITY,
            AwardEvent.CLOSE_PUBLICITY,
            AwardEvent.CONFIRM_AWARD,
            AwardEvent.REASSIGN_AWARD,
            AwardEvent.REASSIGN_AWARD,
            AwardEvent.FAIL,
        ]
        chain = chain_for(world.project_code)
        assert len(await ledger_entries(session, chain, "award.confirmed")) == 1
        reassigned_entries = await ledger_entries(session, chain, "award.reassigned")
        assert sorted(e.summary["reason"] for e in reassigned_entries) == ["gave_up", "no_performance_security"]
        [fail] = await ledger_entries(session, chain, "award.failed")
        assert fail.summary["rule"] == "candidates_exhausted"
