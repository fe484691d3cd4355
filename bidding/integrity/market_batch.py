"""The market batch's reader on PostgreSQL: every opened lot's valid bids in one streamed query.

`screeners.market_lots` builds one `LotBids` per opened lot through the opening's tables, a few
queries per tender: right for one lot, minutes for 100,000 tenders. Here the same facts are read
at once and folded with NumPy:

1. the lots of every tender that has an opening (its code, the tender's code, tenderee, category,
   deadline, how many lots it has): one query;
2. every read-out bid (`READ_OUT`) of those lots as (lot number, lot, bidder, price) through one binary
   ``COPY … TO STDOUT``, parsed with a NumPy structured dtype (fixed-width rows: no Python per
   bid). The total price is read in SQL where that is exact — a JSON string of plain digits, a
   JSON number — and every other shape (a string with spaces or underscores, a boolean …) is
   fetched again and read by `sources.price_of` in Python, exactly as `sources.opened_lots`;
3. the awards' winners (as `screeners.market_lots`);
4. `MarketState.from_arrays` (bids, wins, lots, co-bidding pairs with NumPy) and the lot-level
   price screens of every lot at once with `prices.batch_values`.

The result equals folding `screeners.market_lots` lot by lot into a `MarketState`
(`tests/bidding/integrity/test_market_batch.py`), bidder and lot order aside.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity.screens import prices
from bidding.integrity.screens.market import LotKey, MarketState
from bidding.integrity.sources import price_of
from bidding.opening.models import READ_OUT

# A totalPrice SQL can read exactly as Python's Decimal → float does: plain digits (≤ 250
# characters, so float8 cannot overflow; a bounded regex repetition {1,250} cost ~50 µs a row) or
# a JSON number of a sane size. Absent or null: NaN (no price); any other shape: -1, and the row is
# read again and its total read in Python (`ODD_SQL`; a JSON number -1 goes there too, and is
# refused there as here). jsonb_typeof once per row: each extra evaluation costs ~1 s per million.
_TOTAL = "(ob.price_summary -> 'totalPrice')"
_TEXT = f"({_TOTAL} #>> '{{}}')"
_PRICE = f"""CASE jsonb_typeof({_TOTAL})
    WHEN 'string' THEN CASE WHEN length({_TEXT}) <= 250 AND {_TEXT} ~ '^[0-9]+(\\.[0-9]*)?$'
                            THEN {_TEXT}::float8 ELSE -1 END
    WHEN 'number' THEN CASE WHEN abs({_TOTAL}::numeric) < 1e300 THEN {_TOTAL}::numeric::float8 ELSE -1 END
    WHEN 'null' THEN 'NaN'::float8
    ELSE CASE WHEN {_TOTAL} IS NULL THEN 'NaN'::float8 ELSE -1 END
END"""
_READ_OUT = ", ".join(f"'{outcome.value}'" for outcome in sorted(READ_OUT))
# The lots' numbers: their position in LOTS_SQL's order (checked against the lot ids read back).
_FROM = f"""
    FROM bidding_opening_bids ob
    JOIN bidding_opening_sessions s ON s.id = ob.session_id
    JOIN numbered n ON n.id = ob.lot_id AND n.tender_id = s.tender_id
    WHERE ob.outcome IN ({_READ_OUT})
"""
_NUMBERED = """
    WITH numbered AS (
        SELECT l.id, l.tender_id, (row_number() OVER (ORDER BY l.id) - 1)::int4 AS number
        FROM bidding_lots l JOIN bidding_opening_sessions s ON s.tender_id = l.tender_id
    )
"""
BIDS_SQL = f"{_NUMBERED} SELECT n.number, ob.lot_id, ob.organisation_id, {_PRICE} {_FROM}"
ODD_SQL = f"{_NUMBERED} SELECT ob.lot_id, ob.organisation_id, ob.price_summary::text {_FROM} AND ({_PRICE}) = -1"
# One row of arrays, not a row per lot (asyncpg decodes a text[] in C; 160,000 Records with UUID
# objects cost seconds): every column as text, in lot id order.
LOTS_SQL = """
    SELECT array_agg(id ORDER BY id), array_agg(tender ORDER BY id), array_agg(code ORDER BY id),
           array_agg(ocid ORDER BY id), array_agg(tenderee ORDER BY id), array_agg(category ORDER BY id),
           array_agg(year ORDER BY id), array_agg(day ORDER BY id), array_agg(lots ORDER BY id)
    FROM (
        SELECT l.id::text AS id, l.tender_id::text AS tender, l.code, t.project_code AS ocid,
               t.tenderee_organisation_id::text AS tenderee, t.category,
               extract(year FROM t.deadline AT TIME ZONE 'UTC')::int AS year,
               to_char(t.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               count(*) OVER (PARTITION BY l.tender_id) AS lots
        FROM bidding_lots l
        JOIN bidding_opening_sessions s ON s.tender_id = l.tender_id
        JOIN bidding_tenders t ON t.id = l.tender_id
    ) opened
"""
WINNERS_SQL = """
    SELECT array_agg(a.tender_id::text), array_agg(a.chosen_organisation_id::text), array_agg(e.lot_ids::text)
    FROM award_awards a JOIN evaluation_evaluations e ON e.id = a.evaluation_id
    WHERE a.chosen_organisation_id IS NOT NULL
"""

# One row of a binary COPY of (int4, uuid, uuid, float8): the field count, then each field's length and value.
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("number_len", ">i4"),
        ("number", ">i4"),
        ("lot_len", ">i4"),
        ("lot", "V16"),
        ("bidder_len", ">i4"),
        ("bidder", "V16"),
        ("price_len", ">i4"),
        ("price", ">f8"),
    ]
)
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


class _Sink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def __call__(self, chunk: bytes) -> None:
        self.parts.append(bytes(chunk))


def parse_copy(data: bytes) -> npt.NDArray[Any]:
    """The rows of a binary COPY of (int4, uuid, uuid, float8), none null, as a structured array."""
    if not data.startswith(_HEADER):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    start = 19 + extension
    body = memoryview(data)[start : len(data) - 2]  # the trailer: a field count of -1
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and not (rows["fields"] == _FIELDS).all():
        raise ValueError("unexpected COPY row layout")
    return rows


async def read_market(session: AsyncSession) -> MarketBatch:
    """Every opened lot's valid bids and winner, as `MarketState` and lot screens (module docstring)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    pg: Any = raw.driver_connection  # asyncpg: the same connection, so the session's transaction
    lots = _Lots(await pg.fetchrow(LOTS_SQL))
    timings["lots"] = time.perf_counter() - began

    mark = time.perf_counter()
    sink = _Sink()
    await pg.copy_from_query(BIDS_SQL, output=sink, format="binary")
    rows = parse_copy(b"".join(sink.parts))
    sink.parts.clear()
    timings["copy"] = time.perf_counter() - mark

    mark = time.perf_counter()
    price = rows["price"].astype(np.float64)
    valid = np.isfinite(price) & (price > 0)
    lot_of_bid = lots.numbers(rows[valid])
    bidder_ids = rows["bidder"][valid]
    amounts = price[valid]
    if (price == _ODD).any():  # totals SQL does not read exactly: read as the opening does
        extra = [(lot, bidder, price_of(json.loads(summary))) for lot, bidder, summary in await pg.fetch(ODD_SQL)]
        extra = [(lot, bidder, amount) for lot, bidder, amount in extra if amount is not None]
        if extra:
            lot_of_bid = np.r_[lot_of_bid, [lots.index[lot.bytes] for lot, _, _ in extra]].astype(np.int64)
            more = np.frombuffer(b"".join(bidder.bytes for _, bidder, _ in extra), dtype="V16")
            bidder_ids = np.concatenate([bidder_ids, more])
            amounts = np.r_[amounts, [amount for _, _, amount in extra]].astype(np.float64)
    bidder_of_bid, unique_ids = _numbered(bidder_ids)
    names = [str(uuid.UUID(bytes=bidder)) for bidder in unique_ids]
    timings["index"] = time.perf_counter() - mark

    mark = time.perf_counter()
    winners = np.full(len(lots.keys), -1, dtype=np.int64)
    tenders, chosen_ids, lot_ids_texts = await pg.fetchrow(WINNERS_SQL)
    name_number = {name: number for number, name in enumerate(names)}  # names: uuid text as ::text writes it
    for tender_id, chosen, lot_ids_text in zip(tenders or (), chosen_ids or (), lot_ids_texts or (), strict=True):
        number = name_number.get(chosen)
        for target in lots.awarded(tender_id, lot_ids_text):
            winners[target] = -1 if number is None else number
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


_ODD = -1.0


class _Lots:
    """The opened lots (LOTS_SQL's arrays, by lot id): their keys, details and numbers."""

    def __init__(self, row: Any) -> None:
        texts, tenders, codes, ocids, tenderees, categories, years, days, counts = (
            [] if column is None else column for column in row
        )
        self.by_text: dict[str, int] = {text: number for number, text in enumerate(texts)}
        self.keys: list[LotKey] = [
            (ocid, None if count == 1 else code) for ocid, code, count in zip(ocids, codes, counts, strict=True)
        ]
        self.details: list[tuple[str | None, str | None, str | None]] = [
            (tenderee, f"{category}|{year}" if year is not None else str(category), day)
            for tenderee, category, year, day in zip(tenderees, categories, years, days, strict=True)
        ]
        self.of_tender: dict[str, list[int]] = {}
        for number, tender in enumerate(tenders):
            self.of_tender.setdefault(tender, []).append(number)
        self.ids = np.frombuffer(bytes.fromhex("".join(texts).replace("-", "")), dtype="V16")
        self._index: dict[bytes, int] | None = None

    @property
    def index(self) -> dict[bytes, int]:
        """Lot number by the lot id's 16 bytes (for the rows numbered again, rarely needed)."""
        if self._index is None:
            self._index = {lot: number for number, lot in enumerate(self.ids.tolist())}
        return self._index

    def numbers(self, rows: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """Each bid's lot number: as numbered in SQL when every number names the lot id read with
        it (the same lots in both queries), else looked up by the lot id.
        """
        numbers = rows["number"].astype(np.int64)
        inside = numbers.size == 0 or (numbers.min() >= 0 and numbers.max() < self.ids.size)
        if inside and (self.ids[numbers] == rows["lot"]).all():
            return numbers
        index = self.index
        return np.fromiter((index[lot] for lot in rows["lot"].tolist()), dtype=np.int64, count=rows.size)

    def awarded(self, tender_id: str, lot_ids_text: str | None) -> list[int]:
        """The lots an award names (its evaluation's ``lot_ids``), else every lot of its tender."""
        data = json.loads(lot_ids_text) if lot_ids_text else None
        named = data.get("ids") if isinstance(data, dict) else None
        if not named:
            return self.of_tender.get(tender_id, [])
        found = []
        for item in named:
            number = self.by_text.get(item) if isinstance(item, str) else None
            if number is None:
                number = self.by_text.get(str(uuid.UUID(str(item))))
            if number is not None:
                found.append(number)
        return found


def _numbered(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], list[bytes]]:
    """Dense numbers for 16-byte ids (by sort, in byte order) and the distinct ids in that order."""
    if not ids.size:
        return np.zeros(0, dtype=np.int64), []
    halves = np.ascontiguousarray(ids).view(">u8").reshape(-1, 2)
    high, low = halves[:, 0], halves[:, 1]
    order = np.lexsort((low, high))
    high, low = high[order], low[order]
    new = np.r_[True, (high[1:] != high[:-1]) | (low[1:] != low[:-1])]
    numbers = np.empty(ids.size, dtype=np.int64)
    numbers[order] = np.cumsum(new) - 1
    return numbers, ids[order][new].tolist()
