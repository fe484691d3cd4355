"""The market batch's one-query reader (`market_batch.read_market`) against the lot-by-lot fold
of `screeners.market_lots` on the same simulated market in PostgreSQL: the same state, the same
findings, the same network pictures; and the bid-level screens of every lot equal `batch_values`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from bench.alerts.pg_load import copy_rows, market_rows
from bidding.integrity import market_batch, screeners
from bidding.integrity.screens import prices
from bidding.integrity.screens.market import MarketState
from bidding.integrity.screens.rules import load_catalogue


def _lots(state: MarketState) -> dict[Any, tuple[Any, ...]]:
    names = state._names
    return {
        key: (
            sorted(names[i] for i in lot.bidders),
            names[lot.winner] if lot.winner >= 0 else None,
            lot.buyer,
            lot.market,
            lot.on,
        )
        for key, lot in state._lots.items()
    }


async def _load(session: AsyncSession, **options: Any) -> None:
    raw = await (await session.connection()).get_raw_connection()
    await copy_rows(raw.driver_connection, market_rows(**options))


async def test_batch_reader_rebuilds_the_lot_by_lot_state(session: AsyncSession) -> None:
    await _load(session, seed=7, tenders=250, bidders=40, buyers=6, odd_prices=True)
    reference = MarketState()
    opened = await screeners.market_lots(session)
    for lot in opened:
        reference.add_lot(lot)

    batch = await market_batch.read_market(session)

    assert reference.lot_count > 300
    assert batch.state.lot_count == reference.lot_count
    assert batch.state.bidder_counts() == reference.bidder_counts()
    assert batch.state.co_bids() == reference.co_bids()
    assert _lots(batch.state) == _lots(reference)
    assert batch.bids == sum(len(lot.bids) for lot in opened)
    # the odd totals: some left out (revoked, missing, zero, "abc" …), some read in Python ("1_000.5")
    assert batch.bids < 250 * 11
    amounts = {bid.amount for lot in opened for bid in lot.bids}
    assert {1000.5, 2500.75, 1234567.5} <= amounts
    assert 1000.0 not in amounts  # the revoked bid's price

    rules = load_catalogue()
    found = batch.state.findings(rules)
    assert found == reference.findings(rules)
    assert {f.rule for f in found} >= {"MARKET-COBID-GROUP", "MARKET-ROTATION"}
    pictures = screeners.with_networks(found, batch.state, rules)
    assert pictures == [screeners.with_network(f, reference, rules) for f in found]
    assert any("network" in f.evidence for f in pictures)

    # every lot's price screens: batch_values over the lots' valid bids as the opening reads them
    by_key = {(lot.ocid, lot.lot): lot for lot in opened}
    for number in range(0, len(batch.keys), 37):
        lot = by_key.get(batch.keys[number])
        if lot is None:
            assert batch.lot_values["n"][number] == 0 or np.isnan(batch.lot_values["n"][number])
            continue
        alone = prices.batch_values([bid.amount for bid in lot.bids], [0] * len(lot.bids))
        for name, column in alone.items():
            np.testing.assert_allclose(batch.lot_values[name][number], column[0], rtol=1e-12, equal_nan=True)


async def test_batch_reader_on_an_empty_market(session: AsyncSession) -> None:
    batch = await market_batch.read_market(session)
    assert batch.state.lot_count == 0
    assert batch.bids == 0
    assert batch.state.findings(load_catalogue()) == []
