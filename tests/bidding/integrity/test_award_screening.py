"""The award-time screen on PostgreSQL: a winner decided through the award service enqueues
``integrity.screen_award`` (after commit), and the job raises PRICE-CEILING for the lot with the
winner known — once, next to the opening's alerts, which it never raises again.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import award as decisions
from bidding.integrity import jobs
from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening
from bidding.integrity.screeners import plug_screeners
from bidding.integrity.screening import SCREEN_AWARD_TASK
from bidding.integrity.screens.model import Scope
from bidding.models import Lot
from bidding.opening.models import OpeningBid
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    award_hook,
    award_of,
    confirm_winner,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    gp_report,
    pass_over,
    settings,
    store,
)
from tests.bidding.factories import tenderee_party
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def _alerts(session_maker: async_sessionmaker[AsyncSession], code: str) -> list[IntegrityAlert]:
    async with session_maker() as session:
        query = sa.select(IntegrityAlert).where(IntegrityAlert.ocid == code).order_by(IntegrityAlert.rule_id)
        return list((await session.scalars(query)).all())


async def test_an_award_enqueues_the_screen_that_raises_the_ceiling_alert(  # noqa: PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
    publisher: RecordingPublisher,
) -> None:
    del dev_lists
    plug_screeners(settings)
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    award = await award_of(session_maker, world)
    opening = await jobs.screen_opening(session_maker, world.project_code)
    assert "prices" not in opening.failed  # (the documents screen has no real packages here)
    before = {(a.rule_id, a.rule_version, tuple(a.subjects)) for a in await _alerts(session_maker, world.project_code)}
    assert "PRICE-CEILING" not in {rule for rule, _, _ in before}  # no winner at the opening

    # Nothing is enqueued before a winner is decided; the confirmation enqueues the screen by name.
    assert [m for m in publisher.published if m.name == SCREEN_AWARD_TASK] == []
    confirmed = await confirm_winner(session_maker, settings, award, purchaser, str(world.bids[0]))
    messages = [m for m in publisher.published if m.name == SCREEN_AWARD_TASK]
    assert [m.kwargs for m in messages] == [{"award_id": str(award.id)}]
    assert decisions.SCREEN_AWARD_TASK == SCREEN_AWARD_TASK

    # The winner bid 99.5 % of the ceiling (the lot's estimate set so): R031 fires on the award.
    winner = str(confirmed.chosen_organisation_id)
    async with transaction(session_maker) as session:
        price = await session.scalar(
            sa.select(OpeningBid.price_summary).where(OpeningBid.organisation_id == confirmed.chosen_organisation_id)
        )
        assert price is not None
        lot = (await session.scalars(sa.select(Lot).where(Lot.tender_id == world.tender_id))).one()
        lot.estimate = (Decimal(str(price["totalPrice"])) / Decimal("0.995")).quantize(Decimal("0.01"))

    report = await jobs.screen_award(session_maker, award.id)  # what the task runs with the message
    assert (report.lots, report.alerts, report.failed) == (1, 1, ())
    alerts = await _alerts(session_maker, world.project_code)
    ceiling = [a for a in alerts if a.rule_id == "PRICE-CEILING"]
    assert len(ceiling) == 1
    assert ceiling[0].subjects == [winner]
    assert ceiling[0].scope == Scope.LOT_PRICES.value
    assert ceiling[0].tender_id == world.tender_id
    assert abs(ceiling[0].evidence["ratio"] - 0.995) < 1e-6
    # The opening's alerts are neither duplicated nor raised again.
    others = {(a.rule_id, a.rule_version, tuple(a.subjects)) for a in alerts if a.rule_id != "PRICE-CEILING"}
    assert others == before
    async with session_maker() as session:
        screening = (
            await session.scalars(
                sa.select(IntegrityLotScreening).where(
                    IntegrityLotScreening.ocid == world.project_code,
                    IntegrityLotScreening.scope == Scope.LOT_PRICES.value,
                )
            )
        ).one()
    assert abs(screening.values["winner_to_estimate"] - 0.995) < 1e-6
    assert screening.values["contributions"]["PRICE-CEILING"] == 1.0

    # Idempotent: the same message again adds nothing.
    again = await jobs.screen_award(session_maker, award.id)
    assert again.failed == ()
    assert len(await _alerts(session_maker, world.project_code)) == len(alerts)

    # The winner gives up and the next candidate is awarded: screened again, a new alert names the
    # new winner (its bid is above the first one's, so above 99 % too); the first alert stays.
    reassigned = await pass_over(session_maker, settings, award, purchaser, "gave_up")
    assert reassigned.chosen_organisation_id not in {None, confirmed.chosen_organisation_id}
    messages = [m for m in publisher.published if m.name == SCREEN_AWARD_TASK]
    assert [m.kwargs for m in messages] == [{"award_id": str(award.id)}] * 2
    third = await jobs.screen_award(session_maker, award.id)
    assert (third.alerts, third.failed) == (1, ())
    named = [a.subjects for a in await _alerts(session_maker, world.project_code) if a.rule_id == "PRICE-CEILING"]
    assert sorted(named) == sorted([[winner], [str(reassigned.chosen_organisation_id)]])
