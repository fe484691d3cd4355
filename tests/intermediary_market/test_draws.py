"""Issue 21 items 12–17: draws nobody can predict or time, and the marketplace rules the audit found
unchecked. One regression test per rule, named after it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import selection
from intermediary_market.blacklist import BlacklistService
from intermediary_market.credit import UNRATED
from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import DeliveryService
from intermediary_market.draw import REVEAL_WINDOW
from intermediary_market.errors import RatingRefused, RegistrationRefused
from intermediary_market.jobs import SelectionClock
from intermediary_market.models import AnnouncementStatus, QualificationStatus, Registration
from intermediary_market.schemas import BlacklistDecision, BlacklistNotice, RatingCreate, ServiceItemCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    ITEM,
    actor_in_new_organisation,
    announcement_form,
    complete_service,
    publish_item,
    qualified_intermediary,
    selected_announcement,
)
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.errors import Conflict, ValidationFailed
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry

WINDOW = timedelta(days=5)


async def _market(session: AsyncSession, settings: Settings, count: int) -> tuple[MarketService, Actor, list[Actor]]:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    return MarketService(session), owner, [await qualified_intermediary(session, settings) for _ in range(count)]


# --- the pure mechanics (trading.kernel.draws) ------------------------------------------------------


def test_closed_list_digest_is_independent_of_registration_order_and_binds_the_commitments() -> None:
    commitments = {"b": draws.commitment("x"), "a": None, "c": draws.commitment("y")}
    digest = draws.closed_list_digest(commitments)
    assert digest == draws.closed_list_digest(dict(reversed(commitments.items())))
    assert digest != draws.closed_list_digest({**commitments, "a": draws.commitment("z")})
    assert digest != draws.closed_list_digest({"b": commitments["b"], "c": commitments["c"]})
    with pytest.raises(ValueError, match="distinct"):
        draws.canonical(["a", "a"])


def test_draw_seed_changes_with_any_revealed_contribution() -> None:
    seeds = {draws.draw_seed("s", "d", {"a": secret, "b": None}) for secret in ("1", "2", None)}
    assert len(seeds) == 3
    assert draws.reveal_matches("secret", draws.commitment("secret"))
    assert not draws.reveal_matches("other", draws.commitment("secret"))


# --- item 12: the platform cannot predict the draw ---------------------------------------------


async def test_winner_cannot_be_computed_before_the_close_with_the_stored_seed_known(
    session: AsyncSession, settings: Settings
) -> None:
    """The platform's stored seed and everything it holds before the close (and until the reveal)
    leave the winner open: it depends on the registrants' secrets, which the platform never saw.
    """
    service, owner, intermediaries = await _market(session, settings, 4)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    secrets = {str(i.organisation_id): draws.new_secret() for i in intermediaries}
    for intermediary in intermediaries:
        key = str(intermediary.organisation_id)
        await service.register(
            announcement.id, price=None, actor=intermediary, contribution_sha256=draws.commitment(secrets[key])
        )
    stored_seed = announcement.seed  # what an insider reads from the database
    stored = (await session.scalars(select(Registration).where(Registration.announcement_id == announcement.id))).all()
    assert all(row.contribution is None for row in stored)  # only commitments are held before the reveal
    held = {str(row.organisation_id): row.contribution_sha256 for row in stored}
    digest = draws.closed_list_digest(held)
    # Every guess of the unknown secrets gives some winner; different guesses give different ones.
    guesses = {
        selection.lottery(
            draws.draw_seed(stored_seed, digest, {key: f"guess-{n}-{key}" for key in held}),
            list(held),
            FundingType.STATE,
        ).winner
        for n in range(40)
    }
    assert len(guesses) > 1
    with pytest.raises(Conflict) as early:  # nor may anyone draw before the close
        await service.draw(announcement.id, actor=owner)
    assert early.value.rule == "registration_still_open"

    with use_clock(ShiftedClock(WINDOW + timedelta(hours=1))):
        with pytest.raises(Conflict) as revealing:
            await service.draw(announcement.id, actor=owner)
        assert revealing.value.rule == "reveal_window_open"
        assert announcement.closed_list is not None
        assert announcement.closed_list["closed_list_sha256"] == digest
        for intermediary in intermediaries:
            await service.reveal(announcement.id, secrets[str(intermediary.organisation_id)], actor=intermediary)
        result = await service.draw(announcement.id, actor=owner)
    expected = selection.lottery(draws.draw_seed(stored_seed, digest, secrets), list(secrets), FundingType.STATE)
    assert str(result.winner_organisation_id) == expected.winner
    assert result.computation is not None
    assert result.computation["contributions"] == dict(sorted(secrets.items()))


async def test_a_contribution_is_revealed_only_if_it_matches_and_non_revealers_stay_in_the_draw(
    session: AsyncSession, settings: Settings
) -> None:
    service, owner, intermediaries = await _market(session, settings, 3)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    withholder = intermediaries[0]
    await service.register(
        announcement.id, price=None, actor=withholder, contribution_sha256=draws.commitment("kept back")
    )
    for intermediary in intermediaries[1:]:
        await service.register(announcement.id, price=None, actor=intermediary)
    with pytest.raises(RegistrationRefused) as malformed:
        await service.register(announcement.id, price=None, actor=owner, contribution_sha256="not-hex")
    assert (malformed.value.field, malformed.value.rule) == ("contribution_sha256", "contribution_commitment")
    with use_clock(ShiftedClock(WINDOW + timedelta(hours=1))):
        with pytest.raises(ValidationFailed) as wrong:
            await service.reveal(announcement.id, "something else", actor=withholder)
        assert (wrong.value.field, wrong.value.rule) == ("contribution", "contribution_mismatch")
        with pytest.raises(ValidationFailed) as none:
            await service.reveal(announcement.id, "x", actor=intermediaries[1])
        assert none.value.rule == "no_contribution"
    with use_clock(ShiftedClock(WINDOW + REVEAL_WINDOW + timedelta(hours=2))):
        with pytest.raises(Conflict) as late:
            await service.reveal(announcement.id, "kept back", actor=withholder)
        assert late.value.rule == "reveal_window"
        result = await service.draw(announcement.id, actor=owner)
    assert result.status is AnnouncementStatus.SELECTED
    assert result.computation is not None
    assert result.computation["unrevealed"] == [str(withholder.organisation_id)]
    assert str(withholder.organisation_id) in result.computation["registrants"]  # withholding removes nobody


# --- item 13: the owner cannot time the draw -----------------------------------------------------


async def test_eligibility_is_frozen_at_the_close(session: AsyncSession, settings: Settings) -> None:
    """A registrant whose qualification lapses after the close stays in the draw, however late the
    owner asks for it; one that had lapsed by the close is excluded.
    """
    service, owner, intermediaries = await _market(session, settings, 3)
    lapsing = await qualified_intermediary(session, settings, valid_for=WINDOW + timedelta(days=1))
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    for intermediary in [*intermediaries, lapsing]:
        await service.register(announcement.id, price=None, actor=intermediary)
    with use_clock(ShiftedClock(WINDOW + timedelta(days=30))):  # the owner waits until it lapsed
        result = await service.draw(announcement.id, actor=owner)
    assert result.computation is not None
    assert str(lapsing.organisation_id) in result.computation["registrants"]
    assert "excluded" not in result.computation


async def test_the_sweep_draws_at_the_announced_time(session: AsyncSession, settings: Settings) -> None:
    service, owner, intermediaries = await _market(session, settings, 3)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    for intermediary in intermediaries:
        await service.register(announcement.id, price=None, actor=intermediary)
    handler = SelectionClock()
    assert announcement.id not in await handler.due(session, await clock.now(session), 100)
    with use_clock(ShiftedClock(WINDOW + timedelta(seconds=1))):
        now = await clock.now(session)
        assert announcement.id in await handler.due(session, now, 100)
        assert await handler.run(session, announcement.id, now)
        assert not await handler.run(session, announcement.id, now)  # idempotent
    assert announcement.status is AnnouncementStatus.SELECTED
    assert announcement.winner_organisation_id in {i.organisation_id for i in intermediaries}
    closed = await session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.action == "intermediary_market.registration_closed",
            LedgerEntry.subject_id == str(announcement.id),
        )
    )
    assert closed is not None
    assert closed.summary["closed_list_sha256"] == announcement.computation["closed_list_sha256"]  # type: ignore[index]


# --- item 14: time limits within the item's standard ---------------------------------------------


@pytest.mark.parametrize(
    ("days", "rule"),
    [
        (0, "time_limit_positive"),
        (-3, "time_limit_positive"),
        (31, "time_limit_within_standard"),
        (365, "time_limit_within_standard"),
    ],
)
async def test_time_limit_is_bounded_by_the_items_standard(
    session: AsyncSession, settings: Settings, days: int, rule: str
) -> None:
    service, owner, _ = await _market(session, settings, 0)
    form = await announcement_form(session, SelectionMethod.RANDOM)
    form.time_limit_days = days
    with pytest.raises(ValidationFailed) as caught:
        await service.announce(form, actor=owner)
    assert (caught.value.field, caught.value.rule) == ("time_limit_days", rule)
    form.time_limit_days = 30  # the item's standard itself is accepted
    assert (await service.announce(form, actor=owner)).time_limit_days == 30


# --- item 15: ties at the extremes are drawn -----------------------------------------------------


def test_reference_price_ties_at_the_extremes_are_broken_by_the_draw() -> None:
    bids = {"a": Decimal(90), "b": Decimal(90), "c": Decimal(95), "d": Decimal(200)}
    winners = Counter(selection.reference_price(f"seed-{n}", bids, FundingType.STATE).winner for n in range(400))
    assert set(winners) == {"a", "b"}  # whichever 90 is kept wins; before, b won every time
    assert min(winners.values()) > 120
    outcome = selection.reference_price("seed-0", bids, FundingType.STATE)
    assert outcome.computation["dropped"]["highest"] == "d"
    assert outcome.computation["dropped"]["lowest"] in {"a", "b"} - {outcome.winner}


# --- item 16: ratings after the filings, filings within the window -------------------------------


async def test_rating_needs_the_filed_contract_the_results_and_the_completion(
    session: AsyncSession, settings: Settings
) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    winner = await qualified_intermediary(session, settings)
    announcement = await selected_announcement(session, owner, winner)
    service, deliveries = MarketService(session), DeliveryService(session)
    rating = RatingCreate(quality=0, timeliness=0, attitude=0, fees=0)
    with use_clock(ShiftedClock(timedelta(days=6, minutes=1))):
        with pytest.raises(RatingRefused) as nothing_filed:
            await service.rate(announcement.id, rating, actor=owner)
        assert (nothing_filed.value.field, nothing_filed.value.rule) == ("announcement_id", "rating_needs_completion")
        await deliveries.file_contract(announcement.id, "HT-7", actor=owner)
        with pytest.raises(RatingRefused) as no_results:
            await service.rate(announcement.id, rating, actor=owner)
        assert no_results.value.rule == "rating_needs_completion"
        await complete_service(session, announcement, owner)
        assert (await service.rate(announcement.id, rating, actor=owner)).quality == 0


async def test_contract_filing_is_refused_after_the_window(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    winner = await qualified_intermediary(session, settings)
    announcement = await selected_announcement(session, owner, winner)  # decided at +6 days
    with use_clock(ShiftedClock(timedelta(days=6 + 394))), pytest.raises(Conflict) as late:
        await DeliveryService(session).file_contract(announcement.id, "HT-8", actor=owner)
    assert (late.value.field, late.value.rule) == ("announcement_id", "filing_window")
    with use_clock(ShiftedClock(timedelta(days=6 + 179))):
        assert (await DeliveryService(session).file_contract(announcement.id, "HT-8", actor=owner)).contract_no


# --- item 17: the smaller gaps ---------------------------------------------------------------------


async def test_service_item_needs_its_legal_basis(session: AsyncSession) -> None:
    form = ServiceItemCreate(
        code="NO-BASIS",
        name="某评估",
        legal_basis="  ",
        approval="某审批",
        required_qualification="无",
        fee_basis="市场调节价",
        standard_days=10,
    )
    with pytest.raises(ValidationFailed) as caught:
        await MarketService(session).publish_item(form, actor=Actor.system())
    assert (caught.value.field, caught.value.rule) == ("legal_basis", "legal_basis_required")


async def test_revoked_qualification_bars_registration_from_the_revocation_on(
    session: AsyncSession, settings: Settings
) -> None:
    service, owner, intermediaries = await _market(session, settings, 3)
    revoked = intermediaries[0]
    assert revoked.organisation_id is not None
    early = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    for intermediary in intermediaries:
        await service.register(early.id, price=None, actor=intermediary)
    with pytest.raises(ValidationFailed) as no_reason:
        await service.revoke_qualification(revoked.organisation_id, ITEM, " ", actor=Actor.system())
    assert (no_reason.value.field, no_reason.value.rule) == ("reason", "required")
    with use_clock(ShiftedClock(WINDOW + timedelta(days=1))):  # after the first announcement's close
        row = await service.revoke_qualification(revoked.organisation_id, ITEM, "提供虚假材料", actor=Actor.system())
        assert row.status is QualificationStatus.REVOKED
        with pytest.raises(Conflict) as twice:
            await service.revoke_qualification(revoked.organisation_id, ITEM, "再次", actor=Actor.system())
        assert twice.value.rule == "already_revoked"
        later = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
        with pytest.raises(RegistrationRefused) as refused:
            await service.register(later.id, price=None, actor=revoked)
        assert refused.value.rule == "no_qualification"
        first = await service.draw(early.id, actor=owner)  # revoked after that close: still in
    assert first.computation is not None
    assert str(revoked.organisation_id) in first.computation["registrants"]
    entry = await session.scalar(
        select(LedgerEntry).where(LedgerEntry.action == "intermediary_market.qualification_revoked")
    )
    assert entry is not None
    assert "reason" not in entry.summary  # the reason is digested, not shown in the summary


async def test_a_blacklisted_intermediary_holds_the_blacklisted_grade_while_listed(
    session: AsyncSession, settings: Settings
) -> None:
    await publish_item(session)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    listed = await qualified_intermediary(session, settings)
    assert listed.organisation_id is not None
    credit_service = CreditService(session)
    before = await credit_service.record(listed.organisation_id)
    assert before is not None
    assert (before.score, before.grade) == (Decimal(96), UNRATED)
    blacklist = BlacklistService(session)
    notice = await blacklist.notice_blacklisting(
        BlacklistNotice(organisation_id=listed.organisation_id, reason="超期服务"), actor=regulator
    )
    await blacklist.respond_blacklisting(notice.id, "无异议", actor=listed)
    await blacklist.decide_blacklisting(notice.id, BlacklistDecision(uphold=True, months=6), actor=regulator)
    during = await credit_service.record(listed.organisation_id)
    assert during is not None
    assert (during.grade, during.components["blacklisted"]) == ("D", True)
    await blacklist.appeal_blacklisting(notice.id, "材料有误", actor=listed)
    await blacklist.decide_appeal(notice.id, overturn=True, actor=regulator)
    after = await credit_service.record(listed.organisation_id)
    assert after is not None
    assert (after.score, after.grade) == (Decimal(96), UNRATED)  # the overturned listing no longer counts
