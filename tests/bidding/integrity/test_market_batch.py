"""The market batch's one-query reader (`market_batch.read_market`) against the lot-by-lot fold
of `screeners.market_lots` on the same simulated market in PostgreSQL: the same state, the same
findings, the same network pictures; and the bid-level screens of every lot equal `batch_values`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bench.alerts.pg_load import copy_rows, market_rows
from bidding.integrity import market_batch, screeners
from bidding.integrity.screens import prices
from bidding.integrity.screens.market import MarketState
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.sources import price_of
from bidding.opening.models import OpeningBid
from trading.kernel.db.engine import create_engine, create_session_maker


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
    # the awards' lots as evaluations may name them: none (every lot of the tender), upper case
    await session.execute(
        sa.text("""
            UPDATE evaluation_evaluations e SET lot_ids = CASE WHEN e.tender_id::text < '4' THEN '{}'::jsonb
                ELSE jsonb_build_object('ids', jsonb_build_array(upper(e.lot_ids -> 'ids' ->> 0))) END
            WHERE (SELECT count(*) FROM bidding_lots l WHERE l.tender_id = e.tender_id) = 1
        """)
    )
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
    # the odd totals: some left out (revoked, missing, zero, "abc" …), some read as Python reads them ("1_000.5")
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


async def test_a_transaction_that_wrote_nothing_reads_side_by_side_on_one_snapshot(fresh_db: str) -> None:
    """The daily batch's transaction (READ COMMITTED, in its screener's savepoint) has written
    nothing: the lots, the bids and the awards are read on three connections sharing one snapshot,
    and give what one connection reading them in turn gives (the path of a transaction with writes
    of its own, or with an older snapshot of its own).
    """
    engine = create_engine(fresh_db, pool_size=4)  # the caller's connection and three readers
    maker = create_session_maker(engine)
    try:
        async with maker() as session:
            await _load(session, seed=11, tenders=120, bidders=40, buyers=6, odd_prices=True)
            await session.commit()
        settings = sa.text("SELECT current_setting('jit') || ' ' || current_setting('work_mem')")
        async with maker() as session, session.begin_nested():
            before = await session.scalar(settings)
            side_by_side = await market_batch.read_market(session)
            assert await session.scalar(settings) == before  # the readers' settings stayed theirs
        async with maker() as session:
            await session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            assert (await market_batch.read_market(session)).connections == 1  # its own snapshot: in turn
        async with maker() as session:
            await session.execute(sa.text("SELECT txid_current()"))  # a transaction id: as if it had written
            in_turn = await market_batch.read_market(session)
        open_elsewhere = """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
        """
        async with maker() as session:
            assert await session.scalar(sa.text(open_elsewhere)) == 0  # the readers' transactions ended
    finally:
        await engine.dispose()
    assert (side_by_side.connections, in_turn.connections) == (3, 1)
    assert side_by_side.bids == in_turn.bids > 300
    assert side_by_side.state.to_bytes() == in_turn.state.to_bytes()
    assert side_by_side.keys == in_turn.keys
    assert np.array_equal(side_by_side.amounts, in_turn.amounts)
    assert np.array_equal(side_by_side.lot_of_bid, in_turn.lot_of_bid)
    for name, column in in_turn.lot_values.items():
        np.testing.assert_array_equal(side_by_side.lot_values[name], column)


async def test_batch_reader_on_an_empty_market(session: AsyncSession) -> None:
    batch = await market_batch.read_market(session)
    assert batch.state.lot_count == 0
    assert batch.bids == 0
    assert batch.state.findings(load_catalogue()) == []


async def test_the_read_out_total_is_the_summary_read_as_the_screens_read_it(session: AsyncSession) -> None:
    """``total_price`` (the batch's price) equals `price_of` of the JSON summary in every row, and
    the model sets it with the summary, whatever sets the summary."""
    await _load(session, seed=3, tenders=40, bidders=40, buyers=6, odd_prices=True)
    rows = (await session.execute(sa.select(OpeningBid.price_summary, OpeningBid.total_price))).all()
    assert len(rows) > 300
    assert [total for _, total in rows] == [price_of(summary) for summary, _ in rows]
    assert {total for _, total in rows} >= {None, 1000.5, 2500.75, 1234567.5}

    row = OpeningBid(price_summary={"totalPrice": "1_000.5"})
    assert row.total_price == 1000.5
    cases: list[tuple[Any, float | None]] = [
        (None, None),
        ({}, None),
        ({"totalPrice": "0"}, None),
        ({"totalPrice": "NaN"}, None),
        ({"totalPrice": True}, None),
        ({"totalPrice": 12}, 12.0),
        ({"totalPrice": " 7.25 "}, 7.25),
    ]
    for summary, total in cases:
        row.price_summary = summary
        assert row.total_price == total


def test_ids_are_numbered_in_byte_order_when_high_halves_are_shared() -> None:
    # the one-sort path (high halves distinct per id) and the two-key path (a high half shared)
    distinct = [bytes([8] * 8 + [1] * 8), bytes([2] * 16), bytes([8] * 8 + [0] * 8), bytes([9] * 16)]
    for chosen in (distinct[1:2] + distinct[3:], distinct):
        rows = [chosen[(index * 7) % len(chosen)] for index in range(40)]
        ids = np.frombuffer(b"".join(rows), dtype="V16")
        numbers, unique = market_batch._numbered(ids)
        ordered = sorted(set(rows))
        assert unique.tolist() == ordered
        assert numbers.tolist() == [ordered.index(row) for row in rows]


async def test_the_kept_state_is_stored_with_lz4_and_the_setting_put_back(session: AsyncSession) -> None:
    await _load(session, seed=3, tenders=40, bidders=40, buyers=6)
    state = (await market_batch.read_market(session)).state
    before = (await session.execute(sa.text("SELECT current_setting('default_toast_compression')"))).scalar_one()
    await screeners._keep(session, state)
    kept, method = (
        await session.execute(
            sa.text("SELECT data, pg_column_compression(data) FROM integrity_market_states WHERE name = :name"),
            {"name": screeners.MARKET},
        )
    ).one()
    assert len(kept) > 4000  # big enough for PostgreSQL to compress it
    assert method == "lz4"
    assert kept == state.to_bytes()
    assert MarketState.from_bytes(kept).to_bytes() == kept
    after = (await session.execute(sa.text("SELECT current_setting('default_toast_compression')"))).scalar_one()
    assert after == before


def test_ids_in_runs_are_looked_up_as_one_by_one() -> None:
    # a lot's bids arrive together (runs: looked up once each) or scattered (one by one): the same numbers
    rng = np.random.default_rng(5)
    known = sorted({bytes(rng.integers(0, 256, 16, dtype=np.uint8)) for _ in range(60)})
    table = market_batch._SortedIds(np.frombuffer(b"".join(known), dtype="V16"))
    stranger = bytes(16)  # not among them
    runs = [known[i] for i in rng.integers(0, len(known), 40).tolist() for _ in range(int(rng.integers(1, 8)))]
    runs[10:13] = [stranger] * 3
    scattered = [runs[i] for i in rng.permutation(len(runs)).tolist()]
    for order in (runs, scattered):
        ids = np.frombuffer(b"".join(order), dtype="V16")
        expected = [known.index(item) if item in known else -1 for item in order]
        assert table.numbers(ids, missing=-1).tolist() == expected
        with pytest.raises(ValueError, match="not among"):
            table.numbers(ids)
    assert table.numbers(np.frombuffer(b"".join(known[3:4] * 5), dtype="V16")).tolist() == [3] * 5
