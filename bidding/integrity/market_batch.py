"""The market batch's reader on PostgreSQL: every opened lot's valid bids in one streamed query.

`screeners.market_lots` builds one `LotBids` per opened lot through the opening's tables, a few
queries per tender: right for one lot, minutes for 100,000 tenders. Here the same facts are read
at once and folded with NumPy:

1. the lots of every tender that has an opening (its code, the tender's code, tenderee, category,
   deadline, how many lots it has): one query, one row of arrays, in no order;
2. every read-out bid (`READ_OUT`) of those lots as (lot, bidder, price) through one binary
   ``COPY … TO STDOUT``, parsed with a NumPy structured dtype (fixed-width rows: no Python per
   bid). The price is ``bidding_opening_bids.total_price``, the number the opening keeps with the
   signed summary (`bidding.opening.models.read_out_total`, the screens' reading of ``totalPrice``);
   each bid finds its lot number by binary search of the lots' sorted ids;
3. the awards' winners (as `sources.lot_winners`), their lots expanded in SQL;
4. `MarketState.from_arrays` (bids, wins, lots, co-bidding pairs with NumPy) and the lot-level
   price screens of every lot at once with `prices.batch_values`.

The result equals folding `screeners.market_lots` lot by lot into a `MarketState`
(`tests/bidding/integrity/test_market_batch.py`), bidder and lot order aside.

The three reads are independent, and most of their time is the server's. When the caller's
transaction has written nothing and reads committed data statement by statement (READ COMMITTED:
the daily batch, inside its screener's savepoint), what it would read next is what is committed
now, and another connection reads exactly that: the three reads then run at once on three more
connections of the session's engine, one snapshot shared between them (``pg_export_snapshot`` /
``SET TRANSACTION SNAPSHOT``, as ``pg_dump -j`` does), so the server works on them side by side and
they see one state of the database (read in turn, each statement took its own). A transaction that
has written, or holds an older snapshot (REPEATABLE READ), reads on its own connection, one read
after the other: another connection could not see what it sees.
"""

from __future__ import annotations

import asyncio
import operator
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; only its exception classes are used here
import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bidding.integrity.screens import prices
from bidding.integrity.screens.market import LotKey, MarketState
from bidding.opening.models import READ_OUT

_READ_OUT = ", ".join(f"'{outcome.value}'" for outcome in sorted(READ_OUT))
# Every read-out bid with a total (``total_price``: the summary's total as a positive number, set
# by the opening with the summary), with its opening: one table scanned, no join (a bid counts
# when its lot is a lot of its opening's tender, checked in NumPy against LOTS_SQL's sessions).
BIDS_SQL = f"""
    SELECT ob.lot_id, ob.organisation_id, ob.session_id, ob.total_price
    FROM bidding_opening_bids ob
    WHERE ob.outcome IN ({_READ_OUT}) AND ob.total_price IS NOT NULL
"""  # noqa: S608 - constants only
# One row, not a row per lot (asyncpg decodes a text[] in C; 160,000 Records with UUID objects cost
# seconds), in one statement (one snapshot): the opened lots' ids, openings and tenders as one bytea
# each, 16 bytes an id (`uuid_send`: no text written by the server, none parsed here), and their
# codes; then the opened tenders' ids and, as text arrays in the same order, each tender's code,
# tenderee, market ("category|year") and deadline's day. Per tender, not per lot: 100,000 rows of
# text for the server to write and asyncpg to decode, not 160,000 (0.5 → 0.35 s), and no join of
# the lots with the tenders; each lot finds its tender by binary search. A tender's lot count (its
# lots' key: the code only when it has more than one) is counted in NumPy: one opening per tender
# (unique), so each lot of an opened tender is one row here.
LOTS_SQL = """
    SELECT lots.*, tenders.* FROM (
        SELECT string_agg(uuid_send(l.id), ''::bytea), string_agg(uuid_send(s.id), ''::bytea),
               string_agg(uuid_send(l.tender_id), ''::bytea), array_agg(l.code)
        FROM bidding_lots l JOIN bidding_opening_sessions s ON s.tender_id = l.tender_id
    ) lots (ids, sessions, tenders, codes), (
        SELECT string_agg(uuid_send(t.id), ''::bytea), array_agg(t.project_code),
               array_agg(t.tenderee_organisation_id::text),
               array_agg(CASE WHEN t.deadline IS NULL THEN t.category::text ELSE
                         t.category::text || '|' || extract(year FROM t.deadline AT TIME ZONE 'UTC')::int END),
               array_agg(to_char(t.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
        FROM bidding_tenders t JOIN bidding_opening_sessions s ON s.tender_id = t.id
    ) tenders (ids, ocids, tenderees, markets, days)
"""
# The awarded lots with their winner, one row each: the lots the award's evaluation names
# (``lot_ids`` {"ids": [...]}, each read as a uuid), else (no list, or an empty one) every lot of
# its tender. Two awards naming the same lot: one of them, as the platform's own reading. Lots and
# winners as 16-byte ids one after the other, in the same order.
_NAMED = "(e.lot_ids -> 'ids')"
_HAS_NAMED = f"CASE WHEN jsonb_typeof({_NAMED}) = 'array' THEN jsonb_array_length({_NAMED}) > 0 ELSE false END"
WINNERS_SQL = f"""
    WITH chosen AS (
        SELECT a.tender_id, a.chosen_organisation_id AS chosen, {_NAMED} AS named, {_HAS_NAMED} AS has_named
        FROM award_awards a JOIN evaluation_evaluations e ON e.id = a.evaluation_id
        WHERE a.chosen_organisation_id IS NOT NULL
    )
    SELECT string_agg(uuid_send(lot), ''::bytea), string_agg(uuid_send(chosen), ''::bytea) FROM (
        SELECT (item #>> '{{}}')::uuid AS lot, c.chosen
        FROM chosen c CROSS JOIN LATERAL jsonb_array_elements(c.named) item
        WHERE c.has_named
        UNION ALL
        SELECT l.id, c.chosen FROM chosen c JOIN bidding_lots l ON l.tender_id = c.tender_id
        WHERE NOT c.has_named
    ) awarded
"""  # noqa: S608 - constants only

# One row of a binary COPY of (uuid, uuid, uuid, float8): the field count, then each field's length and value.
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("lot_len", ">i4"),
        ("lot", "V16"),
        ("bidder_len", ">i4"),
        ("bidder", "V16"),
        ("session_len", ">i4"),
        ("session", "V16"),
        ("price_len", ">i4"),
        ("price", ">f8"),
    ]
)
_WORK_MEM = "64MB"
_HEADER = b"PGCOPY\n\xff\r\n\x00"
_FIELDS = 4


@dataclass
class MarketBatch:
    """The market as the batch reads it: the state, and every lot's price screens (`batch_values`)."""

    state: MarketState
    keys: list[LotKey]
    lot_values: dict[str, npt.NDArray[np.float64]]
    bids: int
    amounts: npt.NDArray[np.float64]  # every valid bid's price …
    lot_of_bid: npt.NDArray[np.int64]  # … and its lot (index into ``keys``): the bench's floor input
    timings: dict[str, float] = field(default_factory=dict)
    connections: int = 1  # 3: read side by side on one snapshot; 1: in turn, in the caller's transaction


class _Sink:
    """The COPY's chunks appended to one buffer as they come: 80 MB copied once, not kept as
    parts and joined (twice).
    """

    def __init__(self) -> None:
        self.data = bytearray()

    async def __call__(self, chunk: bytes) -> None:
        self.data += chunk


def parse_copy(data: bytes | bytearray) -> npt.NDArray[Any]:
    """The rows of a binary COPY of (uuid, uuid, uuid, float8), none null, as a structured array."""
    if not data.startswith(_HEADER):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    start = 19 + extension
    body = memoryview(data)[start : len(data) - 2]  # the trailer: a field count of -1
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and not (rows["fields"] == _FIELDS).all():
        raise ValueError("unexpected COPY row layout")
    return rows


# Plain scans and hash joins: PostgreSQL's JIT (set off for these reads, in their transaction)
# compiled the awards' query for a second, misled by jsonb_array_elements' row estimate. work_mem:
# the lots' and awards' hash joins (100,000-160,000 rows each) fit in memory instead of spilling to
# temporary files at the default 4 MB.
_READ_SETTINGS = f"SELECT set_config('jit', 'off', true), set_config('work_mem', '{_WORK_MEM}', true)"
# Whether other connections read what the caller would: it has no transaction id (wrote nothing,
# savepoints included) and takes a snapshot per statement.
_READS_COMMITTED_NOW = """
    SELECT txid_current_if_assigned() IS NULL AND current_setting('transaction_isolation') = 'read committed'
"""
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")
_READERS = 3  # the lots, the bids, the awards


@dataclass
class _Fetched:
    lots: _Lots
    copy: bytearray
    winners: Any  # (awarded lot ids, winner ids) as two bytea, or Nones


async def read_market(session: AsyncSession) -> MarketBatch:
    """Every opened lot's valid bids and winner, as `MarketState` and lot screens (module docstring)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    bind = session.bind
    engine = bind if isinstance(bind, AsyncEngine) and _spare_connections(bind) >= _READERS else None
    if engine is not None and await session.scalar(sa.text(_READS_COMMITTED_NOW)):
        async with engine.connect() as first, engine.connect() as second, engine.connect() as third:
            connections: tuple[AsyncConnection, ...] = (first, second, third)
            fetched = await _fetch_side_by_side(connections)
    else:
        connections = (await session.connection(),)
        jit, work_mem = (await session.execute(sa.text(_READ_SETTINGS))).one()
        pg: Any = (await connections[0].get_raw_connection()).driver_connection  # in the session's transaction
        fetched = await _fetch_in_turn(pg)
        await pg.execute("SELECT set_config('jit', $1, true), set_config('work_mem', $2, true)", jit, work_mem)
    timings["reads"] = time.perf_counter() - began
    batch = _fold(fetched, timings)  # (a failed read rolls the settings back anyway)
    batch.connections = len(connections)
    return batch


def _spare_connections(engine: AsyncEngine) -> int:
    """Connections the engine's pool gives without waiting, within its size (a command's engine of
    one connection reads in turn rather than wait for three it will never have).
    """
    pool: Any = engine.pool
    try:
        return int(pool.size()) - int(pool.checkedout())
    except AttributeError:  # a pool without a size (NullPool): no promise
        return 0


async def _fetch_in_turn(pg: Any) -> _Fetched:
    sink = _Sink()
    lots = _Lots(await pg.fetchrow(LOTS_SQL))
    await pg.copy_from_query(BIDS_SQL, output=sink, format="binary")
    return _Fetched(lots, sink.data, await pg.fetchrow(WINNERS_SQL))


async def _fetch_side_by_side(connections: tuple[AsyncConnection, ...]) -> _Fetched:
    """The lots, the bids and the awards, each on one of ``connections``, all at once, read-only on
    the first one's snapshot; their transactions end with the reads.
    """
    readers: list[Any] = []
    try:
        snapshot = None
        for connection in connections:
            pg: Any = (await connection.get_raw_connection()).driver_connection
            await pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            readers.append(pg)
            if snapshot is None:
                snapshot = await pg.fetchval("SELECT pg_export_snapshot()")
                if not _SNAPSHOT_ID.fullmatch(snapshot):  # pragma: no cover - PostgreSQL writes ids so
                    raise ValueError(f"unexpected snapshot id {snapshot!r}")
            else:
                await pg.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # checked: an id as PostgreSQL writes it
            await pg.execute(_READ_SETTINGS)
        lots_pg, bids_pg, winners_pg = readers
        sink = _Sink()

        async def lots() -> _Lots:
            return _Lots(await lots_pg.fetchrow(LOTS_SQL))  # parsed while the bids are still coming

        async with asyncio.TaskGroup() as reads:  # one failing cancels the others
            read_lots = reads.create_task(lots())
            reads.create_task(bids_pg.copy_from_query(BIDS_SQL, output=sink, format="binary"))
            winners = reads.create_task(winners_pg.fetchrow(WINNERS_SQL))
        return _Fetched(read_lots.result(), sink.data, winners.result())
    finally:
        for connection, pg in zip(connections, readers, strict=False):
            try:
                await pg.execute("ROLLBACK")  # read only: nothing to keep
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await connection.invalidate()  # after a cancelled read: not back into the pool


def _fold(fetched: _Fetched, timings: dict[str, float]) -> MarketBatch:
    lots = fetched.lots
    mark = time.perf_counter()
    rows = parse_copy(fetched.copy)  # a view of the buffer, which lives as long as ``rows`` (this step)
    price = rows["price"].astype(np.float64)
    lot_of_bid = lots.numbers(np.ascontiguousarray(rows["lot"]), missing=-1)
    valid = np.isfinite(price) & (price > 0) & (lot_of_bid >= 0)  # positive: so written (`read_out_total`)
    valid[valid] = lots.sessions[lot_of_bid[valid]] == rows["session"][valid]  # a lot of the opening's tender
    if not valid.all():
        rows, price, lot_of_bid = rows[valid], price[valid], lot_of_bid[valid]
    amounts = price
    bidder_of_bid, unique_ids = _numbered(np.ascontiguousarray(rows["bidder"]))
    del rows
    fetched.copy = bytearray()
    names = [str(uuid.UUID(bytes=bidder)) for bidder in unique_ids.tolist()]
    timings["index"] = time.perf_counter() - mark

    mark = time.perf_counter()
    winners = np.full(len(lots.keys), -1, dtype=np.int64)
    awarded_lots, chosen_ids = fetched.winners
    if awarded_lots:
        targets = lots.numbers(_ids(awarded_lots), missing=-1)
        numbers = _SortedIds(unique_ids).numbers(_ids(chosen_ids), missing=-1)  # a winner without a bid: -1
        awarded = targets >= 0
        winners[targets[awarded]] = numbers[awarded]
    timings["winners"] = time.perf_counter() - mark

    mark = time.perf_counter()
    state = MarketState.from_arrays(
        names, lots.keys, lot_of_bid=lot_of_bid, bidder_of_bid=bidder_of_bid, winners=winners, details=lots.details
    )
    timings["state"] = time.perf_counter() - mark
    mark = time.perf_counter()
    lot_values = prices.batch_values(amounts, lot_of_bid) if amounts.size else {}
    timings["lot_screens"] = time.perf_counter() - mark
    return MarketBatch(state, lots.keys, lot_values, int(amounts.size), amounts, lot_of_bid, timings)


class _SortedIds:
    """16-byte ids sorted in byte order, found by binary search (`numbers`)."""

    def __init__(self, ids: npt.NDArray[Any]) -> None:
        halves = np.ascontiguousarray(ids).view(">u8").reshape(-1, 2)
        self._high, self._low = halves[:, 0], halves[:, 1]

    def numbers(self, ids: npt.NDArray[Any], *, missing: int | None = None) -> npt.NDArray[np.int64]:
        """The position of each 16-byte id among the sorted ids; an id not among them is ``missing``
        (None: refused).
        """
        halves = np.ascontiguousarray(ids).view(">u8").reshape(-1, 2)
        high, low = halves[:, 0], halves[:, 1]
        # Runs of one id looked up once: a lot's bids are written together at its opening and a
        # scan reads them so (1.1 M bids, ~160,000 runs), and a binary search per bid is most of
        # this step. Any order gives the same numbers (runs of one then).
        head = np.r_[True, (high[1:] != high[:-1]) | (low[1:] != low[:-1])] if high.size else np.zeros(0, dtype=bool)
        if high.size and np.count_nonzero(head) * 2 < high.size:
            heads = np.flatnonzero(head)
            looked = self._looked_up(high[heads], low[heads], missing)
            run_of: npt.NDArray[np.int64] = np.cumsum(head) - 1
            return looked[run_of]
        return self._looked_up(high, low, missing)

    def _looked_up(self, high: npt.NDArray[Any], low: npt.NDArray[Any], missing: int | None) -> npt.NDArray[np.int64]:
        at = np.searchsorted(self._high, high)  # the first id with this high half
        found = np.zeros(high.size, dtype=bool)
        inside = at < self._high.size
        found[inside] = (self._high[at[inside]] == high[inside]) & (self._low[at[inside]] == low[inside])
        if not found.all():  # a high half shared by two ids (never by chance): the next ones
            for index in np.flatnonzero(~found).tolist():
                place = int(at[index])
                while place < self._high.size and self._high[place] == high[index]:
                    if self._low[place] == low[index]:
                        at[index], found[index] = place, True
                        break
                    place += 1
        if not found.all() and missing is None:
            raise ValueError("an id not among the sorted ids")
        return np.where(found, at, -1 if missing is None else missing).astype(np.int64)


class _Lots(_SortedIds):
    """The opened lots (LOTS_SQL's arrays), numbered in lot id order (the order the state folds
    them in, so sums over lots add up in the same order run after run): keys, details, sorted ids.
    """

    def __init__(self, row: Any) -> None:
        lot_ids, sessions, lot_tenders, codes, tender_ids, ocids, tenderees, markets, days = row
        ids = _ids(lot_ids or b"")
        order = _byte_order(ids)
        super().__init__(ids[order])
        self.sessions = _ids(sessions or b"")[order]  # each lot's opening
        tenders = _ids(tender_ids or b"")
        by_id = _byte_order(tenders)
        # each lot's tender: its row in the tenders' arrays (every lot here is of an opened tender)
        tender_of_lot = by_id[_SortedIds(tenders[by_id]).numbers(_ids(lot_tenders or b""))]
        several = (np.bincount(tender_of_lot, minlength=tenders.size)[tender_of_lot] > 1)[order]  # its tender's lots
        at, tender_at = order.tolist(), tender_of_lot[order].tolist()  # columns gathered in C, no Python loop
        lot_codes = [code if named else None for code, named in zip(_pick(codes, at), several.tolist(), strict=True)]
        self.keys: list[LotKey] = list(zip(_pick(ocids, tender_at), lot_codes, strict=True))
        self.details: list[tuple[str | None, str | None, str | None]] = list(
            zip(_pick(tenderees, tender_at), _pick(markets, tender_at), _pick(days, tender_at), strict=True)
        )


def _byte_order(ids: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """The order that sorts 16-byte ids (uuids) by their bytes."""
    halves = ids.view(">u8").reshape(-1, 2)
    return np.lexsort((halves[:, 1], halves[:, 0]))


def _pick(items: list[Any], order: list[int]) -> list[Any]:
    """``[items[i] for i in order]``, the items gathered in C when there are several."""
    if len(order) > 1:
        return list(operator.itemgetter(*order)(items))
    return [items[i] for i in order]


def _ids(data: bytes) -> npt.NDArray[Any]:
    """Uuids as `uuid_send` writes them, one after the other, as 16-byte values."""
    return np.frombuffer(data, dtype="V16")


def _numbered(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Dense numbers for 16-byte ids (by sort, in byte order) and the distinct ids in that order."""
    if not ids.size:
        return np.zeros(0, dtype=np.int64), ids
    halves = np.ascontiguousarray(ids).view(">u8").reshape(-1, 2)
    high, low = halves[:, 0], halves[:, 1]
    # One sort by the high halves: when no two distinct ids share one (random uuids never do), that
    # is byte order already; else the two-key sort.
    order = np.argsort(high, kind="stable")
    high, low = high[order], low[order]
    same_high = high[1:] == high[:-1]
    if (same_high & (low[1:] != low[:-1])).any():
        order = np.lexsort((halves[:, 1], halves[:, 0]))
        high, low = halves[order, 0], halves[order, 1]
        same_high = high[1:] == high[:-1]
    new = np.r_[True, ~same_high | (low[1:] != low[:-1])]
    numbers = np.empty(ids.size, dtype=np.int64)
    numbers[order] = np.cumsum(new) - 1
    return numbers, ids[order][new]
