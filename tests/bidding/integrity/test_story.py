"""Issue 19 end to end on PostgreSQL: one tender whose bidders A and B seal on the same machine and
price as a cover-bidding cartel (A low, B and C close together far above), opened for real in the
hall. Screening the opening (the job `integrity.screen_opening` runs when the opening closes; the
event-to-task path is tested in test_screening.py and test_worker.py) raises the hard evidence and
the price alert; once the experts' scores are in, one expert's outlier score raises an expert
alert; the supervisor finds them on the pages with their evidence, takes one up, dismisses it with
a reason, and the ledger records each step.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.fingerprint import fingerprint_of
from bidding.evaluation.models import Finding as EvaluationFinding
from bidding.evaluation.models import SessionState
from bidding.integrity import jobs, screeners
from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening, IntegrityMarketState
from bidding.integrity.screeners import MARKET
from bidding.integrity.screens.market import MarketState
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import opened_world, run
from tests.bidding.integrity.test_evaluation_source import _sheet
from tests.intermediary_market.test_web import log_in
from tests.trading.parties.factories import create_account, csrf_token, ledger_entries
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

SHARED = fingerprint_of({"machine-id": "5e1f0c0ffee0c0de", "mac": "3c:52:82:aa:bb:cc"})
OTHER = fingerprint_of({"machine-id": "a11ce0b0b0c0ffee", "mac": "3c:52:82:dd:ee:ff"})
# A wins low; the covers B and C sit together 6 % above: cv = 0.0339 < 0.045, rd = 60000/1414 = 42 > 3.
CARTEL_PRICES = {"A": "1000000.00", "B": "1060000.00", "C": "1062000.00"}


async def _alerts(session_maker: async_sessionmaker[AsyncSession], code: str) -> dict[str, IntegrityAlert]:
    async with session_maker() as session:
        rows = (await session.scalars(select(IntegrityAlert).where(IntegrityAlert.ocid == code))).all()
    return {row.rule_id: row for row in rows}


async def test_a_cartel_raises_alerts_at_opening_and_an_outlier_expert_after_scoring(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    world = await opened_world(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        prices=CARTEL_PRICES,
        devices={"A": SHARED, "B": SHARED, "C": OTHER},
    )
    assert SHARED is not None
    orgs = {name: str(party.organisation_id) for name, party in world.bidders.items()}

    # The market as the daily batch last kept it (empty here): the opening folds its lot in at once.
    async with session_maker() as session:
        now = await clock.now(session)
        session.add(IntegrityMarketState(name=MARKET, state=MarketState().to_json(), lots=0, updated_at=now))
        await session.commit()

    # At the opening: the platform's screens over the read-out prices and the captured signals.
    opened = await jobs.screen_opening(session_maker, world.code)
    assert opened.failed == ()
    alerts = await _alerts(session_maker, world.code)
    device = alerts["EVID-DEVICE"]
    assert (device.hard, device.severity, device.lot or None) == (True, "red", None)  # single lot
    assert sorted(device.subjects) == sorted([orgs["A"], orgs["B"]])
    assert SHARED.device_hash[:12] in str(device.evidence)
    cover = alerts["PRICE-COVER"]
    assert (cover.hard, cover.severity) == (False, "red")
    assert cover.evidence["strong"] is True
    assert float(str(cover.evidence["rd"])) > 3
    async with session_maker() as session:
        [screening] = (
            await session.scalars(
                select(IntegrityLotScreening).where(
                    IntegrityLotScreening.ocid == world.code, IntegrityLotScreening.scope == "lot-prices"
                )
            )
        ).all()
    assert screening.flagged is True
    assert screening.score >= 3
    again = await jobs.screen_opening(session_maker, world.code)  # idempotent: nothing new
    assert set(await _alerts(session_maker, world.code)) == set(alerts)
    assert again.failed == ()
    async with session_maker() as session:
        kept = await session.get_one(IntegrityMarketState, MARKET)
    assert kept.lots == 1  # folded once, however often the opening is screened
    assert kept.state is None  # the JSON state kept before is now kept in the binary form
    assert kept.data is not None
    assert set(screeners.kept_state(kept).bidder_counts()) == set(orgs.values())
    rebuilt = await jobs.recompute_market(session_maker)  # the daily batch: every opened lot again
    assert rebuilt.failed == ()
    async with session_maker() as session:
        kept = await session.get_one(IntegrityMarketState, MARKET)
    assert kept.lots == 1
    assert set(screeners.kept_state(kept).bidder_counts()) == set(orgs.values())

    # The scores are in: expert 4 scored C's proposal far above the panel and gave a reason when
    # prompted; screening the evaluation raises EXPERT-DEVIATION naming that expert.
    ev, experts = world.evaluation_id, world.experts
    await world.set_state(SessionState.SCORING, chair=0)
    for i in range(len(experts)):
        await run(world, _sheet(world, i))
    async with session_maker() as session:
        found = {(f.rule, f.member_id): f.id for f in await session.scalars(select(EvaluationFinding))}
    reason = "C 的技术方案有独到的创新，见技术标第 3 章。"
    outlier = found["outlier_high", experts[4].member_id]
    await run(world, lambda s: s.resolve(experts[4].actor(), ev, outlier, justification=reason))
    scored = await jobs.screen_evaluation(session_maker, ev)
    assert scored.failed == ()
    expert_alert = (await _alerts(session_maker, world.code))["EXPERT-DEVIATION"]
    assert expert_alert.subjects == [str(experts[4].expert_id)]
    assert reason in str(expert_alert.evidence)
    # No expert opened a proposal before scoring it: EXPERT-FAST for each, counted on the pages the
    # opened files state (WeasyPrint's one-page proposal each).
    async with session_maker() as session:
        fast = (
            await session.scalars(
                select(IntegrityAlert).where(IntegrityAlert.ocid == world.code, IntegrityAlert.rule_id == "EXPERT-FAST")
            )
        ).all()
    assert sorted(alert.subjects[0] for alert in fast) == sorted(str(expert.expert_id) for expert in experts)
    for alert in fast:
        assert {(item["pages"], item["opened"]) for item in alert.evidence["items"]} == {(1, False)}

    # The supervisor: the alerts on the list, each with its evidence, one dismissed with a reason.
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    listing = await client.get("/integrity/alerts", params={"tender": world.code})
    assert listing.status_code == 200, listing.text
    for alert in (device, cover, expert_alert):
        assert f'href="/integrity/alerts/{alert.id}"' in listing.text
    device_page = await client.get(f"/integrity/alerts/{device.id}")
    assert SHARED.device_hash[:12] in device_page.text
    assert 'id="evidence-matches"' in device_page.text  # the shared value and the bidders it links
    assert "第四十条" in device_page.text  # the legal basis of 视为串通
    cover_page = await client.get(f"/integrity/alerts/{cover.id}")
    assert 'id="evidence-numbers"' in cover_page.text
    expert_page = await client.get(f"/integrity/alerts/{expert_alert.id}")
    assert expert_page.status_code == 200
    assert reason in expert_page.text

    taken = await client.post(
        f"/integrity/alerts/{expert_alert.id}/reviews",
        data={"_csrf_token": csrf_token(expert_page.text), "status": "reviewing"},
    )
    assert taken.status_code == 303, taken.text
    expert_page = await client.get(f"/integrity/alerts/{expert_alert.id}")
    why = "专家已说明理由（技术方案创新），经核查评分依据充分。"
    dismissed = await client.post(
        f"/integrity/alerts/{expert_alert.id}/reviews",
        data={"_csrf_token": csrf_token(expert_page.text), "status": "dismissed", "reason": why},
    )
    assert dismissed.status_code == 303, dismissed.text
    after = await client.get(f"/integrity/alerts/{expert_alert.id}")
    assert why in after.text
    assert 'data-status="dismissed"' in after.text
    [taken_up] = await ledger_entries(session_maker, action="integrity.alert_taken_up", subject_id=expert_alert.id)
    [entry] = await ledger_entries(session_maker, action="integrity.alert_dismissed", subject_id=expert_alert.id)
    assert entry.seq > taken_up.seq
    assert entry.actor_kind == "user"
    # Advisory: the evaluation's own findings and state are what they were.
    async with session_maker() as session:
        still = {(f.rule, f.member_id) for f in await session.scalars(select(EvaluationFinding))}
    assert set(found) <= still
