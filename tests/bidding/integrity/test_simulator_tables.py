"""The simulator's market in ggzy's own tables (`simulator_load`), screened by the platform's own
screeners as the platform runs them — each tender's opening (`jobs.screen_opening`), each award
(`jobs.screen_award`, the prices that need the winner), then the daily market batch
(`jobs.recompute_market`) — and compared lot by lot with the pure offline screens
(`offline.lot_findings`, the market state) on the same seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.integrity import jobs
from bidding.integrity.cli import alerts as alerts_command
from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening
from bidding.integrity.offline import LOT_MARKET_RULES, lot_findings
from bidding.integrity.screeners import plug_screeners
from bidding.integrity.screens import market, prices
from bidding.integrity.screens.model import Scope
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.simulator import (
    BID_ROTATION,
    COPIED_PRICE,
    COVER_BIDDING,
    IDENTICAL_DOCUMENTS,
    KINDS,
    SHARED_DEVICE,
    LotKey,
    SimulatedMarket,
    simulate,
)
from bidding.integrity.simulator_load import LoadedMarket, SimulationRefused, load_simulated
from bidding.models import Tender
from trading.kernel.db.engine import create_engine
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Mode, Settings, get_settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry

# 40 lots, 60 % of them rigged: every planted kind at least twice, and enough rotation lots (6)
# for the market's group rules to see the rotating group (they need ≥ 5 shared lots).
SEED = 19
LOTS = 40
PLANTED = 0.6


Offline = tuple[dict[LotKey, set[str]], dict[LotKey, bool], dict[LotKey, set[str]], dict[LotKey, set[str]]]


def _offline(sim: SimulatedMarket) -> Offline:
    """Per lot: the rules the pure screens fire, the combined flag, the lot-touching market rules
    and, last, the rules they fire at the opening, before the winner is known.

    The prices are screened with the winner known, as `offline.evaluate_simulated` screens them and
    as the platform has them once the award screened them again.
    """
    rules = load_catalogue()
    fired: dict[LotKey, set[str]] = {}
    at_opening_fired: dict[LotKey, set[str]] = {}
    flagged: dict[LotKey, bool] = {}
    state = market.MarketState()
    for item in sim.simulated_lots():
        key = (item.bids.ocid, item.bids.lot)
        at_opening = replace(item, bids=replace(item.bids, winner=None))
        findings, flag = lot_findings(item, rules)
        fired[key] = {finding.rule for finding in findings}
        flagged[key] = flag
        at_opening_fired[key] = {finding.rule for finding in lot_findings(at_opening, rules)[0]}
        state.add_lot(item.bids)  # the platform's market folds prices and winners, no signals
    touched: dict[LotKey, set[str]] = {key: set() for key in fired}
    bidders_of = {(lot.ocid, lot.lot): {bid.bidder for bid in lot.bids} for lot in sim.lots}
    for finding in state.findings(rules):
        if finding.rule in LOT_MARKET_RULES:
            for key, bidders in bidders_of.items():
                if len(set(finding.subjects) & bidders) >= 2:
                    touched[key].add(finding.rule)
    return fired, flagged, touched, at_opening_fired


async def _platform(
    session_maker: async_sessionmaker[AsyncSession], sim: SimulatedMarket, loaded: LoadedMarket
) -> tuple[dict[LotKey, set[str]], dict[LotKey, bool], dict[LotKey, set[str]]]:
    """The same three, read back from the alerts and lot screenings the platform recorded."""
    party_of = loaded.party_of()
    keys = {(lot.ocid, lot.lot) for lot in sim.lots}
    async with session_maker() as session:
        alerts = (await session.scalars(select(IntegrityAlert))).all()
        screenings = (
            await session.scalars(select(IntegrityLotScreening).where(IntegrityLotScreening.scope == Scope.LOT_PRICES))
        ).all()
    fired: dict[LotKey, set[str]] = {key: set() for key in keys}
    touched: dict[LotKey, set[str]] = {key: set() for key in keys}
    bidders_of = {(lot.ocid, lot.lot): {bid.bidder for bid in lot.bids} for lot in sim.lots}
    for alert in alerts:
        if alert.ocid == jobs.MARKET_OCID:
            if alert.rule_id in LOT_MARKET_RULES:
                subjects = {party_of[subject] for subject in alert.subjects}
                for key, bidders in bidders_of.items():
                    if len(subjects & bidders) >= 2:
                        touched[key].add(alert.rule_id)
            continue
        if alert.scope.startswith("lot-"):
            fired[(alert.ocid, alert.lot or None)].add(alert.rule_id)
    flagged = {(row.ocid, row.lot or None): row.flagged for row in screenings}
    return fired, flagged, touched


async def test_the_platform_screens_a_simulated_market_as_the_pure_screens_do(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore
) -> None:
    sim = simulate(SEED, LOTS, planted_share=PLANTED)
    plug_screeners(settings)
    async with transaction(session_maker) as session:
        loaded = await load_simulated(session, sim, settings=settings, store=store)
    assert len(loaded.lots) == LOTS
    assert loaded.bids == sum(len(lot.bids) for lot in sim.lots)
    for code in loaded.codes:  # each tender's opening closed: the job the platform enqueues then
        report = await jobs.screen_opening(session_maker, code)
        assert report.failed == (), code
    opened_only, _, _ = await _platform(session_maker, sim, loaded)
    for code in loaded.codes:  # each award named its winner: the job the award enqueues then
        report = await jobs.screen_tender_awards(session_maker, code)
        assert report.failed == (), code
        assert report.lots >= 1, code
    batch = await jobs.recompute_market(session_maker)  # the daily market batch
    assert batch.failed == ()

    fired, flagged, touched = await _platform(session_maker, sim, loaded)
    expected_fired, expected_flagged, expected_touched, at_opening = _offline(sim)
    # Lot by lot, the platform's results are the pure screens' results on the same seed.
    for key in sorted(expected_fired, key=str):
        assert fired[key] == expected_fired[key], key
        assert flagged[key] == expected_flagged[key], key
        assert touched[key] == expected_touched[key], key
    # Before the awards the platform had what the pure screens find without the winner; the
    # award's screen added exactly the rules that need the winner (on this seed PRICE-CEILING on
    # three rotation lots), and nothing else.
    for key in expected_fired:
        assert opened_only[key] == at_opening[key], key
    added = {key: fired[key] - opened_only[key] for key in fired if fired[key] != opened_only[key]}
    assert added, "the awards raised nothing"
    assert set().union(*added.values()) == prices.WINNER_RULES
    assert all(sim.truth[key].price_traces for key in added)

    # Each planted kind raises its rules on its planted lots.
    by_kind: dict[str, list[LotKey]] = {kind: [] for kind in KINDS}
    for key, truth in sim.truth.items():
        for kind in truth.kinds:
            by_kind[kind].append(key)
    assert all(by_kind.values()), {kind: len(keys) for kind, keys in by_kind.items()}
    _fire_on(fired, by_kind[SHARED_DEVICE], "EVID-DEVICE")
    _fire_on(fired, by_kind[IDENTICAL_DOCUMENTS], "DOC-SIMILAR")
    _fire_on(fired, by_kind[COPIED_PRICE], "PRICE-NEAR-IDENTICAL")
    for key in by_kind[COVER_BIDDING]:
        assert flagged[key], key  # the combined flag
    for key in by_kind[BID_ROTATION]:
        assert touched[key] & {market.ROTATION, market.COBID_GROUP}, key
    # Honest lots: no hard evidence, no document alert, no market group, no identical price; their
    # price alerts are exactly the pure screens' (checked above: the reference thresholds, near-
    # identical prices at 0.1 % among them, fire on some honest lots, hence their few points).
    honest = [key for key, truth in sim.truth.items() if not truth.kinds]
    assert len(honest) >= 20  # the seed's honest lots
    for key in honest:
        quiet = {rule for rule in fired[key] if rule.startswith(("EVID-", "DOC-"))} | touched[key]
        assert not quiet, (key, quiet)
        assert "PRICE-IDENTICAL" not in fired[key], key


def _fire_on(fired: Mapping[LotKey, set[str]], keys: list[LotKey], rule: str) -> None:
    missed = [key for key in keys if rule not in fired[key]]
    assert not missed, (rule, missed)


async def test_the_load_is_idempotent_recorded_and_refused_in_production(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore
) -> None:
    sim = simulate(7, 12)
    async with transaction(session_maker) as session:
        first = await load_simulated(session, sim, settings=settings, store=store)
    async with transaction(session_maker) as session:
        again = await load_simulated(session, sim, settings=settings, store=store)
    assert first.skipped == []
    assert again.skipped == first.codes
    assert again.lots == first.lots
    assert again.organisations == first.organisations
    async with session_maker() as session:
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.action == "integrity.simulation_loaded"))
        ).all()
    assert [entry.summary["bids"] for entry in entries] == [first.bids, 0]
    production = settings.model_copy(update={"mode": Mode.PRODUCTION})
    async with session_maker() as session:
        with pytest.raises(SimulationRefused):
            await load_simulated(session, sim, settings=production, store=store)


async def test_the_command_loads_and_screens_into_the_configured_database(
    fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GGZY_DB_URL", fresh_db)
    monkeypatch.setenv("GGZY_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        args = ["simulate", "--seed", "5", "--lots", "10", "--load"]
        first = await asyncio.to_thread(CliRunner().invoke, alerts_command, args, catch_exceptions=False)
        again = await asyncio.to_thread(CliRunner().invoke, alerts_command, [*args, "--no-screen"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "失败的筛查器：无" in first.output
    assert again.exit_code == 0, again.output
    assert "0 份投标" in again.output  # loaded already: left alone
    sim = simulate(5, 10)
    engine = create_engine(fresh_db, pool_size=1)
    try:
        async with engine.connect() as connection:
            tenders = await connection.scalar(select(func.count()).select_from(Tender))
            rules = set((await connection.scalars(select(IntegrityAlert.rule_id))).all())
    finally:
        await engine.dispose()
    assert tenders == len({lot.ocid for lot in sim.lots})
    # seed 5's ten lots plant a shared device and a copied price: screened at their openings
    assert {kind for truth in sim.truth.values() for kind in truth.kinds} == {SHARED_DEVICE, COPIED_PRICE}
    assert {"EVID-DEVICE", "PRICE-NEAR-IDENTICAL"} <= rules
