"""Credit snapshots: the bulk recomputation equals the per-organisation one, a worked example,
stored inputs and their defaults, and the red list.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market import jobs
from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit import UNRATED
from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import DeliveryService
from intermediary_market.errors import CreditInputRefused
from intermediary_market.jobs import DeliveryClock
from intermediary_market.models import Announcement
from intermediary_market.schemas import (
    BlacklistDecision,
    BlacklistNotice,
    ComplaintDecision,
    CreditInputRecord,
    RatingCreate,
)
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    complete_service,
    publish_item,
    qualified_intermediary,
    selected_announcement,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings

ALL_DEFAULTS = ["regulator", "public_credit", "social"]
NAMES = ("clean", "weak", "complained", "late", "listed")


def _org(actor: Actor) -> uuid.UUID:
    assert actor.organisation_id is not None
    return actor.organisation_id


def _rating(value: int) -> RatingCreate:
    return RatingCreate(quality=value, timeliness=value, attitude=value, fees=value)


async def _uphold(session: AsyncSession, announcement: Announcement, owner: Actor, regulator: Actor) -> None:
    complaints = ComplaintService(session)
    complaint = await complaints.file(announcement.id, "服务质量问题", actor=owner)
    await complaints.decide(complaint.id, ComplaintDecision(uphold=True, reason="属实"), actor=regulator)


async def _overdue(session: AsyncSession, announcement: Announcement, owner: Actor) -> None:
    """File the contract at +7 days and let the 30-day limit run out (+38 days)."""
    with use_clock(ShiftedClock(timedelta(days=7))) as shifted:
        delivery = await DeliveryService(session).file_contract(announcement.id, "HT-1", actor=owner)
        shifted.advance(timedelta(days=31))
        await DeliveryClock().run(session, delivery.id, await clock.now(session))
        assert delivery.overdue


async def _input(session: AsyncSession, organisation_id: uuid.UUID, regulator: Actor, **scores: Decimal) -> None:
    year = (await clock.now(session)).year
    sources = {f"{name.removesuffix('_score')}_source": "市住建局年度考评" for name in scores}
    await CreditService(session).record_input(
        CreditInputRecord(organisation_id=organisation_id, year=year, **scores, **sources), actor=regulator
    )


async def test_worked_example(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    market = MarketService(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    winner = await qualified_intermediary(session, settings)
    assert winner.organisation_id is not None
    first = await selected_announcement(session, owner, winner)
    second = await selected_announcement(session, owner, winner)
    await _overdue(session, first, owner)
    with use_clock(ShiftedClock(timedelta(days=40))):
        await complete_service(session, first, owner)
        await complete_service(session, second, owner)
        await market.rate(first.id, RatingCreate(quality=90, timeliness=80, attitude=100, fees=90), actor=owner)
        await market.rate(second.id, RatingCreate(quality=70, timeliness=60, attitude=80, fees=70), actor=owner)
    await _uphold(session, second, owner, regulator)
    await _input(
        session, winner.organisation_id, regulator, regulator_score=Decimal(63), public_credit_score=Decimal(9)
    )
    # Ratings: means 90 and 70 → 80 % of the social 20 = 16; one upheld complaint −2 → 14.
    # Stored inputs: regulator 63, public credit 9. One overdue delivery −5.
    # 63 + 9 + 14 − 5 = 81 → B (A ≥ 90 > B ≥ 80).
    snapshot = await CreditService(session).record(winner.organisation_id)
    assert snapshot is not None
    assert (snapshot.score, snapshot.grade) == (Decimal("81.00"), "B")
    parts = snapshot.components
    assert (parts["regulator"], parts["public_credit"], parts["social"]) == ("63.00", "9.00", "14.00")
    assert (parts["complaint_deduction"], parts["overdue_deduction"]) == ("2.00", "5.00")
    assert (parts["ratings"], parts["upheld_complaints"], parts["overdue_deliveries"]) == (2, 1, 1)
    assert parts["rating_means"] == {"quality": "80.00", "timeliness": "70.00", "attitude": "90.00", "fees": "80.00"}
    assert parts["defaults"] == []
    live = await market.credit_of(winner.organisation_id)
    assert (live.total, live.grade) == (snapshot.score, snapshot.grade)


async def test_defaults_are_shown_and_inputs_are_checked(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    fresh = await qualified_intermediary(session, settings)
    assert fresh.organisation_id is not None
    credit_service = CreditService(session)
    snapshot = await credit_service.record(fresh.organisation_id)  # created when qualified
    assert snapshot is not None
    # No input, no rating: 70 + 10 (full marks by default) + 20 × 80 % = 96, but defaults alone
    # earn no grade (暂无评级) and no red-list place.
    assert (snapshot.score, snapshot.grade, snapshot.components["defaults"]) == (Decimal(96), UNRATED, ALL_DEFAULTS)
    assert fresh.organisation_id not in {line.organisation_id for line in await credit_service.red_list()}
    assert snapshot.components["input_year"] is None

    await _input(session, fresh.organisation_id, regulator, public_credit_score=Decimal(6))
    snapshot = await credit_service.record(fresh.organisation_id)
    assert snapshot is not None
    assert snapshot.components["defaults"] == ["regulator", "social"]
    assert snapshot.components["input_year"] == (await clock.now(session)).year
    assert snapshot.score == Decimal(92)  # 70 + 6 + 16

    year = (await clock.now(session)).year
    bad = {
        "regulator_score": {"regulator_score": Decimal("70.01"), "regulator_source": "x"},
        "public_credit_score": {"public_credit_score": Decimal(-1), "public_credit_source": "x"},
    }
    for field, scores in bad.items():
        with pytest.raises(CreditInputRefused) as caught:
            await credit_service.record_input(
                CreditInputRecord(organisation_id=fresh.organisation_id, year=year, **scores),  # type: ignore[arg-type]
                actor=regulator,
            )
        assert (caught.value.field, caught.value.rule) == (field, "score_range")
    refusals = {
        ("regulator_source", "required"): CreditInputRecord(fresh.organisation_id, year, regulator_score=Decimal(1)),
        ("regulator_score", "required"): CreditInputRecord(fresh.organisation_id, year),
        ("year", "year_range"): CreditInputRecord(
            fresh.organisation_id, year + 1, regulator_score=Decimal(1), regulator_source="x"
        ),
        ("organisation_id", "intermediary_exists"): CreditInputRecord(
            regulator.organisation_id or uuid.uuid4(), year, regulator_score=Decimal(1), regulator_source="x"
        ),
    }
    for (field, rule), record in refusals.items():
        with pytest.raises(CreditInputRefused) as caught:
            await credit_service.record_input(record, actor=regulator)
        assert (caught.value.field, caught.value.rule) == (field, rule)


async def test_bulk_recompute_equals_one_by_one(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    market = MarketService(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    people = [await qualified_intermediary(session, settings) for _ in range(6)]
    ids = [p.organisation_id for p in people if p.organisation_id is not None]
    # 0: nothing on record. 1: two ratings and a stored regulator score. 2: an upheld and a
    # dismissed complaint. 3: an overdue delivery and ratings of 100. 4: a full input for last year
    # replaced by this year's. 5: three ratings, both inputs, an upheld complaint.
    deals = {i: [await selected_announcement(session, owner, people[i]) for _ in range(3)] for i in (1, 2, 3, 5)}
    with use_clock(ShiftedClock(timedelta(days=10))):
        for i, values in ((1, (55, 99)), (3, (100,)), (5, (73, 88, 61))):
            for deal, value in zip(deals[i], values, strict=False):
                await complete_service(session, deal, owner)
                await market.rate(deal.id, _rating(value), actor=owner)
    await _input(session, ids[1], regulator, regulator_score=Decimal("58.5"))
    await _uphold(session, deals[2][0], owner, regulator)
    complaint = await ComplaintService(session).file(deals[2][1].id, "态度差", actor=owner)
    await ComplaintService(session).decide(
        complaint.id, ComplaintDecision(uphold=False, reason="不属实"), actor=regulator
    )
    await _overdue(session, deals[3][1], owner)
    year = (await clock.now(session)).year
    for y, score in ((year - 1, Decimal(40)), (year, Decimal(66))):
        await CreditService(session).record_input(
            CreditInputRecord(
                ids[4],
                y,
                regulator_score=score,
                regulator_source="考评",
                public_credit_score=Decimal(8),
                public_credit_source="信用中国",
            ),
            actor=regulator,
        )
    await _input(session, ids[5], regulator, regulator_score=Decimal(69), public_credit_score=Decimal("9.5"))
    await _uphold(session, deals[5][2], owner, regulator)

    credit_service = CreditService(session)
    one_by_one = {}
    for organisation_id in ids:
        row = await credit_service.recompute_one(organisation_id, await clock.now(session))
        assert row is not None
        one_by_one[organisation_id] = (row.score, row.grade, dict(row.components))
    assert await credit_service.recompute_all(await clock.now(session)) >= len(ids)
    for organisation_id in ids:
        row = await credit_service.record(organisation_id)
        assert row is not None
        assert (row.score, row.grade, row.components) == one_by_one[organisation_id]
        live = await market.credit_of(organisation_id)  # the independent per-organisation path
        assert (live.total, live.grade) == (row.score, row.grade), organisation_id
    assert len({score for score, _, _ in one_by_one.values()}) >= 5  # a varied population
    assert one_by_one[ids[4]][2]["regulator"] == "66.00"  # the latest year wins


async def test_red_list(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    market = MarketService(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    actors = {name: await qualified_intermediary(session, settings) for name in NAMES}
    complained, late, listed = actors["complained"], actors["late"], actors["listed"]
    org = {name: _org(actor) for name, actor in actors.items()}
    await _input(session, org["weak"], regulator, regulator_score=Decimal(60))
    # Defaults alone earn no grade: the clean and the listed intermediaries were rated (100 each).
    for name in ("clean", "listed"):
        deal = await selected_announcement(session, owner, actors[name])
        with use_clock(ShiftedClock(timedelta(days=10))):
            await complete_service(session, deal, owner)
            await market.rate(deal.id, _rating(100), actor=owner)
    # 70 + 10 + 20 (ratings of 100) − 2 (upheld complaint) = 98: grade A, score ≥ 95, but a
    # complaint was upheld within the last 12 months.
    complained_deal = await selected_announcement(session, owner, complained)
    late_deal = await selected_announcement(session, owner, late)
    with use_clock(ShiftedClock(timedelta(days=10))):
        await complete_service(session, complained_deal, owner)
        await market.rate(complained_deal.id, _rating(100), actor=owner)
        await _uphold(session, complained_deal, owner, regulator)
    # 70 + 10 + 20 − 5 (overdue delivery) = 95: A and ≥ 95, but overdue within 12 months.
    # (A rating needs the completed filings, so the overdue delivery comes first.)
    await _overdue(session, late_deal, owner)
    with use_clock(ShiftedClock(timedelta(days=40))):
        await complete_service(session, late_deal, owner)
        await market.rate(late_deal.id, _rating(100), actor=owner)
    blacklist = BlacklistService(session)
    notice = await blacklist.notice_blacklisting(
        BlacklistNotice(organisation_id=org["listed"], reason="提供虚假材料"),
        actor=regulator,
    )
    await blacklist.respond_blacklisting(notice.id, "无异议", actor=listed)
    await blacklist.decide_blacklisting(notice.id, BlacklistDecision(uphold=True, months=12), actor=regulator)

    credit_service = CreditService(session)
    now = await clock.now(session)
    scores = {name: (await credit_service.record(o)) for name, o in org.items()}
    assert {name: (r.score, r.grade) for name, r in scores.items() if r is not None} == {
        "clean": (Decimal(100), "A"),
        "weak": (Decimal(86), "B"),
        "complained": (Decimal(98), "A"),
        "late": (Decimal(95), "A"),
        # Issue 21 item 17: this used to assert (96, "A") — a blacklisted intermediary showing a
        # top grade. While the listing is in force the grade is ``blacklisted_grade`` (D).
        "listed": (Decimal(100), "D"),
    }
    assert scores["listed"] is not None
    assert scores["listed"].components["blacklisted"] is True
    members = {line.organisation_id for line in await credit_service.red_list(now)}
    assert {name for name, o in org.items() if o in members} == {"clean"}
    directory = [line for line in await market.directory(limit=200) if line.organisation_id in org.values()]
    assert [line.red_listed for line in directory] == [True, False, False, False, False]
    assert directory[0].organisation_id == org["clean"]
    assert {line.organisation_id: line.credit_grade for line in directory}[org["weak"]] == "B"
    # More than 12 months later the complaint, the overdue delivery and the 360-day listing have
    # all passed: the three return to the list; the weak score still keeps "weak" off.
    with use_clock(ShiftedClock(timedelta(days=420))):  # the sweep ends the listing (and regrades)
        assert await jobs.BlacklistExpiry().run(session, notice.id, await clock.now(session))
    later = {line.organisation_id for line in await credit_service.red_list(now + timedelta(days=420))}
    assert {name for name, o in org.items() if o in later} == {"clean", "complained", "late", "listed"}


def test_the_daily_task_is_registered_and_scheduled() -> None:
    from trading.server.celery_app import celery

    assert "intermediary_market.recompute_credit" in celery.tasks
    entry = celery.conf.beat_schedule["intermediary_market.recompute_credit"]
    assert (entry["task"], entry["schedule"]) == ("intermediary_market.recompute_credit", timedelta(days=1))


async def test_the_job_recomputes_every_snapshot(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_maker() as session:
        await publish_item(session)
        intermediary = await qualified_intermediary(session, settings)
        await session.commit()
    result = await jobs.recompute_credit(session_maker)
    again = await jobs.recompute_credit(session_maker)  # idempotent: the same snapshots
    assert result == again
    assert result["recomputed"] >= 1
    async with session_maker() as session:
        snapshot = await CreditService(session).record(_org(intermediary))
        assert snapshot is not None
        assert (snapshot.score, snapshot.grade) == (Decimal(96), UNRATED)


async def test_blacklisted_means_the_same_for_eligibility_and_credit(session: AsyncSession, settings: Settings) -> None:
    """One predicate, judged from time-stamped facts: before the decision the intermediary was not
    listed, and within the listing's term it was — even after the sweep has marked it expired.
    Registration eligibility (as of a close) and the credit snapshot's grade must agree at every
    moment; they used to disagree because the credit side read the status alone.
    """
    await publish_item(session)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    listed = await qualified_intermediary(session, settings)
    organisation_id = _org(listed)
    blacklist = BlacklistService(session)
    notice = await blacklist.notice_blacklisting(
        BlacklistNotice(organisation_id=organisation_id, reason="提供虚假材料"), actor=regulator
    )
    await blacklist.respond_blacklisting(notice.id, "无异议", actor=listed)
    decided = await blacklist.decide_blacklisting(notice.id, BlacklistDecision(uphold=True, months=1), actor=regulator)
    assert decided.decided_at is not None
    before, during = decided.decided_at - timedelta(days=1), decided.decided_at + timedelta(days=10)
    market, credit_repo = MarketService(session), CreditService(session).repo

    async def agree(at: datetime) -> bool:
        eligible_side = await market.repo.effective_blacklisting(organisation_id, at) is not None
        credit_side = organisation_id in await credit_repo.blacklisted_now(at, [organisation_id])
        assert eligible_side == credit_side, at
        return credit_side

    assert not await agree(before)  # a listing decided later does not count yet
    assert await agree(during)
    with use_clock(ShiftedClock(timedelta(days=60))):  # the sweep ends the listing
        assert await jobs.BlacklistExpiry().run(session, notice.id, await clock.now(session))
    assert await agree(during)  # still listed at that past moment, as a late close would judge it
    assert not await agree(decided.decided_at + timedelta(days=60))
