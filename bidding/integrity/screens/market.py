"""Market behaviour over many tenders: cover bidders, 标王, co-bidding groups, rotation, shared
identities across tenders and experts drawn too often for one tenderee (issue 19 §6).

`MarketState` is an accumulator: the batch recompute folds every lot into an empty state, the
incremental run adds one lot to the stored state (`to_json` / `from_json` keep it between runs),
and `MarketState.findings` computes every market rule from the state alone, so both give the
same findings. Re-adding a lot already folded (the award arrives after the opening) replaces it.

Quantiles are NumPy's default (linear interpolation, "type 7"), so a fence can be computed by hand.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from bidding.integrity.screens.model import BidSignals, Finding, LotBids, Severity
from bidding.integrity.screens.rules import RuleSet, load_catalogue

COVER_BIDDER = "MARKET-COVER-BIDDER"
WIN_RATE = "MARKET-WIN-RATE"
MARKET_SHARE = "MARKET-SHARE"
COBID_GROUP = "MARKET-COBID-GROUP"
ROTATION = "MARKET-ROTATION"
SHARED_IDENTITY = "MARKET-SHARED-IDENTITY"
EXPERT_TENDEREE = "MARKET-EXPERT-TENDEREE"

# How many lots an evidence list names before it says "and n more": an alert stays readable.
_LOTS_SHOWN = 50
_STATE_FORMAT = 1
_BINARY_FORMAT = 3  # 2: the same with the co-bidding pairs stored (still read)
_PAIRS_STORED = 2
MAGIC = b"GGZYMKT\x02"
"""The first bytes of a state kept by `MarketState.to_bytes`."""
# The binary state's arrays, in their order in the data, with their stored types (little endian).
_ARRAYS: tuple[tuple[str, str], ...] = (
    ("sizes", "<i4"),
    ("winners", "<i4"),
    ("buyer_codes", "<i4"),
    ("market_codes", "<i4"),
    ("date_codes", "<i4"),
    ("bidders", "<i4"),
    ("pair_keys", "<i8"),
    ("pair_counts", "<i4"),
)
_LOT_FIELDS = 8  # a stored lot: ocid, lot, bidders, winner, buyer, market, date, identities
_DRAW_FIELDS = 4  # a stored draw: expert, tenderee, ocid, date
_MIN_FENCE_POPULATION = 4  # quartiles of fewer values are no fence
_PAIR = 2

# The identities that make two firms one (《招标投标法实施条例》第四十条): a device, a payer account
# or a project manager is hard to share by accident; a phone number or e-mail less so (an agent
# filing for several firms is itself 第四十条(二), but a switchboard number can be shared honestly).
_IDENTITY_KINDS: dict[str, tuple[str, Severity]] = {
    "device_hash": ("设备指纹", Severity.RED),
    "guarantee_payer_account": ("保证金付款账户", Severity.RED),
    "project_manager": ("项目经理", Severity.RED),
    "contact": ("联系方式", Severity.AMBER),
}


class MarketInputError(ValueError):
    """A lot, signal or draw the market state cannot fold, named by its field."""

    def __init__(self, where: str, field_name: str, problem: str) -> None:
        self.where = where
        self.field_name = field_name
        super().__init__(f"{where}: {field_name} {problem}")


@dataclass(frozen=True, slots=True)
class ExpertDraw:
    """One expert's seat on one tender's panel, drawn for a tenderee on a date."""

    expert: str
    tenderee: str
    ocid: str
    drawn_on: date


LotKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class _Lot:
    bidders: tuple[int, ...]  # indices into MarketState._names, each once
    winner: int  # index, or -1 when not awarded yet
    buyer: str | None
    market: str | None
    on: str | None  # the bid deadline, ISO


_EMPTY: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)


class _ArrayLots(Mapping[LotKey, _Lot]):
    """The lots of a batch state as per-lot columns (no `_Lot` per lot until one is asked for).

    ``sizes``, ``winners``: per lot; ``bidders``: every lot's bidders one lot after the other;
    ``buyers``, ``markets``, ``dates``: per lot, as `_Lot` holds them. A fold turns the state's
    lots into a dict first (`MarketState._lot_dict`); reading stays on the arrays.
    """

    def __init__(
        self,
        keys: list[LotKey],
        sizes: npt.NDArray[np.int64],
        bidders: npt.NDArray[np.int64],
        winners: npt.NDArray[np.int64],
        details: tuple[list[str | None], list[str | None], list[str | None]],
    ) -> None:
        self.lot_keys = keys
        self.sizes = sizes
        self.bidders = bidders
        self.winners = winners
        self.buyers, self.markets, self.dates = details
        self._position: dict[LotKey, int] | None = None
        self._columns: tuple[list[int], list[int], list[int], list[int]] | None = None
        self._made: dict[LotKey, _Lot] = {}  # the `_Lot`s asked for so far (a rule reads a few, often)
        self.coded: dict[str, tuple[list[str], npt.NDArray[np.int64]]] = {}  # `MarketState._codes`

    def _lot(self, position: int) -> _Lot:
        if self._columns is None:  # Python lists once: a lookup per lot, not NumPy scalars
            ends = np.cumsum(self.sizes)
            self._columns = ((ends - self.sizes).tolist(), ends.tolist(), self.bidders.tolist(), self.winners.tolist())
        starts, ends_at, bidders, winners = self._columns
        return _Lot(
            tuple(bidders[starts[position] : ends_at[position]]),
            winners[position],
            self.buyers[position],
            self.markets[position],
            self.dates[position],
        )

    def __getitem__(self, key: LotKey) -> _Lot:
        lot = self._made.get(key)
        if lot is None:
            if self._position is None:
                self._position = {item: position for position, item in enumerate(self.lot_keys)}
            lot = self._made[key] = self._lot(self._position[key])
        return lot

    def __iter__(self) -> Iterator[LotKey]:
        return iter(self.lot_keys)

    def __len__(self) -> int:
        return len(self.lot_keys)

    def __contains__(self, key: object) -> bool:
        if self._position is None:
            self._position = {item: position for position, item in enumerate(self.lot_keys)}
        return key in self._position


class _LotTable:
    """The lots as arrays, in the state's lot order: what the per-bidder rules read with NumPy.

    ``bidders`` holds every lot's bidders one lot after the other (``sizes`` of them each); the
    per-bidder views (`by_bidder`, `fair_wins`) are computed on first use.
    """

    def __init__(
        self,
        keys: list[LotKey],
        sizes: npt.NDArray[np.int64],
        bidders: npt.NDArray[np.int64],
        winners: npt.NDArray[np.int64],
    ) -> None:
        self.keys = keys
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.bidders = np.asarray(bidders, dtype=np.int64)
        self.winners = np.asarray(winners, dtype=np.int64)
        self._by_bidder: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
        self._fair: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None = None

    def lot_of_entry(self) -> npt.NDArray[np.int64]:
        return np.repeat(np.arange(self.sizes.size, dtype=np.int64), self.sizes)

    def by_bidder(self, bidders: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(lot positions, offsets): bidder i's lots are positions[offsets[i]:offsets[i + 1]], in lot order."""
        if self._by_bidder is None:
            # stable: each bidder's lots stay in lot order. NumPy sorts 16-bit integers stably by
            # radix, several times faster than int64's merge sort, the same order.
            narrow = bidders <= np.iinfo(np.uint16).max + 1
            order = np.argsort(self.bidders.astype(np.uint16) if narrow else self.bidders, kind="stable")
            offsets = np.zeros(bidders + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.bidders, minlength=bidders), out=offsets[1:])
            self._by_bidder = (self.lot_of_entry()[order], offsets)
        return self._by_bidder

    def fair_wins(self, bidders: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Per bidder: the awarded lots it bid in, and Σ 1 / (bidders of the lot) over them.

        `np.bincount` adds the weights one entry after the other in entry (lot) order, as the
        scalar loop did, so each sum is the same float to the last bit.
        """
        if self._fair is None:
            lot = self.lot_of_entry()
            awarded = (self.winners >= 0)[lot]
            who = self.bidders[awarded]
            weights = (1.0 / self.sizes.astype(np.float64))[lot[awarded]]
            counts: npt.NDArray[np.int64] = np.bincount(who, minlength=bidders).astype(np.int64)
            sums: npt.NDArray[np.float64] = np.bincount(who, weights=weights, minlength=bidders).astype(np.float64)
            self._fair = (counts, sums)
        return self._fair


def _coded(items: list[str | None]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The distinct items in order of first use (None left out) and each item's number among
    them (None: -1), a dict lookup per item in C.
    """
    distinct = [item for item in dict.fromkeys(items) if item is not None]
    number: dict[str | None, int] = {item: position for position, item in enumerate(distinct)}
    number[None] = -1
    return distinct, np.fromiter(map(number.__getitem__, items), dtype=np.int64, count=len(items))


def _pairs_of(indices: Sequence[int]) -> Iterator[int]:
    """Every unordered pair of a lot's bidders as one int (low << 32 | high): a small pair table."""
    return ((low << 32) | high for low, high in combinations(sorted(indices), 2))


def _sorted_unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """np.unique by sort and mask (NumPy 2's hash-based unique was several times slower here)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


def _unpair(key: int) -> tuple[int, int]:
    return key >> 32, key & 0xFFFFFFFF


def _lot_name(key: LotKey) -> dict[str, str | None]:
    return {"ocid": key[0], "lot": key[1]}


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    q1, q3 = np.percentile(np.asarray(values, dtype=float), [25.0, 75.0])
    return float(q1), float(q3), float(q3 - q1)


def _round(value: float) -> float:
    return round(value, 6)


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space (no SciPy in the pure screens)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_odds = math.log(p) - math.log1p(-p)
    log_term = (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    )
    log_total = log_term
    mode = (n + 1) * p
    for i in range(k, n):
        log_term += math.log((n - i) / (i + 1)) + log_odds
        log_total = max(log_total, log_term) + math.log1p(math.exp(-abs(log_total - log_term)))
        if i + 1 > mode and log_term < log_total - 45.0:
            break  # past the mode the terms only shrink: e⁻⁴⁵ of the sum cannot change it
    return min(1.0, math.exp(log_total))


def binomial_lower_tail(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p): the upper tail of the failures, n − X ~ Binomial(n, 1 − p)."""
    return binomial_upper_tail(n - k, n, 1.0 - p)


class MarketState:
    """Everything the market rules need, folded lot by lot; serialisable between runs."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._bids: list[int] = []
        self._wins: list[int] = []
        self._lots: dict[LotKey, _Lot] | _ArrayLots = {}  # _ArrayLots: a batch state, until a fold
        self._pair_counter: Counter[int] | None = Counter()  # None: only in `_pair_arrays` (a batch state)
        # (kind, value) → bidder → the lots it was used in; and per lot what it added, to replace it.
        self._identities: dict[tuple[str, str], dict[str, set[LotKey]]] = {}
        self._lot_identities: dict[LotKey, tuple[tuple[str, str, str], ...]] = {}
        self._draws: dict[tuple[str, str], ExpertDraw] = {}  # (expert, ocid) → the draw
        self._table: _LotTable | None = None  # the lots as arrays: a cache for findings, never stored
        self._pair_arrays: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None  # likewise

    # ---- folding -------------------------------------------------------------------------------

    @property
    def _pairs(self) -> Counter[int]:
        """The pair counts as a Counter (built from the arrays on first use by a fold or `co_bids`)."""
        if self._pair_counter is None:
            keys, counts = self.pair_arrays()
            self._pair_counter = Counter(dict(zip(keys.tolist(), counts.tolist(), strict=True)))
        return self._pair_counter

    @_pairs.setter
    def _pairs(self, value: Counter[int]) -> None:
        self._pair_counter = value
        self._pair_arrays = None

    def _index(self, bidder: str) -> int:
        index = self._ids.get(bidder)
        if index is None:
            index = len(self._names)
            self._ids[bidder] = index
            self._names.append(bidder)
            self._bids.append(0)
            self._wins.append(0)
        return index

    def add_lot(self, lot: LotBids, signals: Sequence[BidSignals] = ()) -> None:
        """Fold one lot (its valid bids, winner, buyer) and the signals captured with its bids."""
        where = f"lot {lot.ocid!r}/{lot.lot!r}"
        if not isinstance(lot.ocid, str) or not lot.ocid:
            raise MarketInputError(where, "ocid", "must be a non-empty string")
        bidders = list(dict.fromkeys(bid.bidder for bid in lot.bids))
        if any(not isinstance(name, str) or not name for name in bidders):
            raise MarketInputError(where, "bids[].bidder", "must be a non-empty string")
        if lot.winner is not None and lot.winner not in bidders:
            raise MarketInputError(where, "winner", f"{lot.winner!r} is not among the lot's valid bids")
        known = set(bidders)
        for signal in signals:
            if signal.bidder not in known:
                raise MarketInputError(where, "signals[].bidder", f"{signal.bidder!r} has no valid bid in the lot")
        key: LotKey = (lot.ocid, lot.lot)
        identities = tuple((kind, value, signal.bidder) for signal in signals for kind, value in _identities_of(signal))
        self._fold(
            key,
            bidders,
            winner=lot.winner,
            buyer=lot.buyer,
            market=lot.market,
            on=lot.date.isoformat() if lot.date is not None else None,
            identities=identities,
        )

    def _fold(
        self,
        key: LotKey,
        bidders: Sequence[str],
        *,
        winner: str | None,
        buyer: str | None,
        market: str | None,
        on: str | None,
        identities: tuple[tuple[str, str, str], ...],
    ) -> None:
        self._table = None
        lots = self._lot_dict()
        if key in lots:
            self._unfold(key)
        indices = tuple(self._index(name) for name in bidders)
        winner_index = self._ids[winner] if winner is not None else -1
        bids = self._bids
        for index in indices:
            bids[index] += 1
        if self._pair_counter is None:  # a state built or loaded as arrays stays arrays
            self._shift_pairs(indices, 1)
        else:
            # Counter.update over an iterable counts in C: most of a fold is these n(n−1)/2 pairs
            self._pair_counter.update(_pairs_of(indices))
            self._pair_arrays = None
        if winner_index >= 0:
            self._wins[winner_index] += 1
        lots[key] = _Lot(indices, winner_index, buyer, market, on)
        if identities:
            self._lot_identities[key] = identities
            for kind, value, bidder in identities:
                self._identities.setdefault((kind, value), {}).setdefault(bidder, set()).add(key)

    def _unfold(self, key: LotKey) -> None:
        old = self._lot_dict().pop(key)
        for index in old.bidders:
            self._bids[index] -= 1
        if self._pair_counter is None:
            self._shift_pairs(old.bidders, -1)
        else:
            pairs = self._pair_counter
            for pair in _pairs_of(old.bidders):
                pairs[pair] -= 1
                if pairs[pair] == 0:
                    del pairs[pair]
            self._pair_arrays = None
        if old.winner >= 0:
            self._wins[old.winner] -= 1
        for kind, value, bidder in self._lot_identities.pop(key, ()):
            users = self._identities[(kind, value)]
            users[bidder].discard(key)
            if not users[bidder]:
                del users[bidder]
            if not users:
                del self._identities[(kind, value)]

    def _lot_dict(self) -> dict[LotKey, _Lot]:
        """The lots as a dict of `_Lot` (a batch state's columns made into one, for a fold)."""
        lots = self._lots
        if not isinstance(lots, dict):
            lots = dict(lots.items())
            self._lots = lots
        return lots

    def _lot_columns(
        self,
    ) -> tuple[list[LotKey], list[str | None], list[str | None], list[str | None]]:
        """Keys, buyers, markets and dates per lot, in lot order (from the columns when kept so)."""
        lots = self._lots
        if isinstance(lots, _ArrayLots):
            return lots.lot_keys, lots.buyers, lots.markets, lots.dates
        values = list(lots.values())
        return list(lots), [lot.buyer for lot in values], [lot.market for lot in values], [lot.on for lot in values]

    def _codes(self, name: str, items: list[str | None]) -> tuple[list[str], npt.NDArray[np.int64]]:
        """The distinct ``items`` (the lots' "buyers", "markets" or "dates", from `_lot_columns`) in
        order of first use (lot order) and each lot's code among them (-1: none). A batch state's
        columns code each once (the market-share strata and `to_bytes` read the same codes); a
        dict of lots codes every time.
        """
        lots = self._lots
        if not isinstance(lots, _ArrayLots):
            return _coded(items)
        coded = lots.coded.get(name)
        if coded is None:
            coded = lots.coded[name] = _coded(items)
        return coded

    def _shift_pairs(self, indices: Sequence[int], step: int) -> None:
        """Add (step 1) or remove (step -1) one lot's pairs in the sorted pair arrays (array mode)."""
        keys, counts = self._pair_arrays if self._pair_arrays is not None else (_EMPTY, _EMPTY)
        lot_pairs = np.fromiter(_pairs_of(indices), dtype=np.int64)  # ascending: sorted indices
        if not lot_pairs.size:
            return
        at = np.searchsorted(keys, lot_pairs)
        known = at < keys.size
        known[known] = keys[at[known]] == lot_pairs[known]
        counts = counts.copy()  # never write into arrays a loaded state may share with its bytes
        counts[at[known]] += step
        if step > 0 and not known.all():
            keys = np.insert(keys, at[~known], lot_pairs[~known])
            counts = np.insert(counts, at[~known], 1)
        elif step < 0:
            if not known.all():
                raise MarketInputError("market state", "pairs", "lack a pair of a lot being replaced")
            kept = counts > 0
            keys, counts = keys[kept], counts[kept]
        self._pair_arrays = (keys, counts)

    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        keys: Sequence[LotKey],
        *,
        lot_of_bid: npt.ArrayLike,
        bidder_of_bid: npt.ArrayLike,
        winners: npt.ArrayLike,
        details: Sequence[tuple[str | None, str | None, str | None]],
    ) -> MarketState:
        """The state `add_lot` would fold from the same lots, built with NumPy (the batch recompute).

        ``lot_of_bid[i]`` / ``bidder_of_bid[i]``: the lot (index into ``keys``) and bidder (index
        into ``names``) of valid bid i, any order, a repeated pair counted once; ``winners[k]``
        the winner's index of lot k or -1 (a winner without a valid bid in the lot is left out,
        as the platform leaves it out before `add_lot`); ``details[k]`` its (buyer, market, date
        ISO). Lots without bids are left out, as the platform leaves them out. No signals and no
        draws: the batch folds none.
        """
        state = cls()
        state._names = list(names)
        state._ids = {name: index for index, name in enumerate(state._names)}
        width = max(len(state._names), 1)
        # int32 keys while lot * width + bidder fits (160,000 lots of 5,000 bidders do): the same
        # order, sorted in about half the time of int64 ones
        dtype = np.int32 if max(len(keys), 1) * width <= np.iinfo(np.int32).max else np.int64
        combined = _sorted_unique(
            np.asarray(lot_of_bid, dtype=dtype) * width + np.asarray(bidder_of_bid, dtype=dtype)
        )  # sorted by lot, then bidder: each lot's bidders ascending, as `_pairs_of` wants them
        lots, bidders = (combined // width).astype(np.int64), (combined % width).astype(np.int64)
        won = np.asarray(winners, dtype=np.int64)
        winning = won[lots] == bidders
        has_winner = np.zeros(len(keys), dtype=bool)
        has_winner[lots[winning]] = True
        state._bids = np.bincount(bidders, minlength=len(state._names)).tolist()
        state._wins = np.bincount(won[has_winner], minlength=len(state._names)).tolist()
        if not lots.size:
            return state
        starts = np.flatnonzero(np.r_[True, lots[1:] != lots[:-1]])
        ends = np.r_[starts[1:], lots.size]
        lot_winners = np.where(has_winner[lots[starts]], won[lots[starts]], -1)
        numbers = lots[starts].tolist()
        lot_keys = [keys[lot] for lot in numbers]
        if len(set(lot_keys)) != len(lot_keys):  # as a dict would keep the last: never in a batch
            raise MarketInputError("market batch", "keys", "name a lot twice")
        chosen = [details[lot] for lot in numbers]
        columns = ([d[0] for d in chosen], [d[1] for d in chosen], [d[2] for d in chosen])
        sizes = ends - starts
        state._lots = _ArrayLots(lot_keys, sizes, bidders, lot_winners, columns)
        state._table = _LotTable(lot_keys, sizes, bidders, lot_winners)
        state._pair_counter = None  # array mode, pairs or not
        state._pair_arrays = _count_pairs(bidders, sizes)
        return state

    def add_draw(self, draw: ExpertDraw) -> None:
        """Fold one expert's seat; drawing the same expert for the same tender again replaces it."""
        for field_name in ("expert", "tenderee", "ocid"):
            value = getattr(draw, field_name)
            if not isinstance(value, str) or not value:
                raise MarketInputError(f"draw {draw.expert!r}/{draw.ocid!r}", field_name, "must be a non-empty string")
        if not isinstance(draw.drawn_on, date):
            raise MarketInputError(f"draw {draw.expert!r}/{draw.ocid!r}", "drawn_on", "must be a date")
        self._draws[(draw.expert, draw.ocid)] = draw

    # ---- what the state holds ------------------------------------------------------------------

    @property
    def lot_count(self) -> int:
        return len(self._lots)

    @property
    def bid_count(self) -> int:
        return sum(self._bids)

    def bidder_counts(self) -> dict[str, tuple[int, int]]:
        """Each bidder's (valid bids, wins)."""
        return {name: (self._bids[i], self._wins[i]) for i, name in enumerate(self._names) if self._bids[i]}

    def pair_arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The co-bidding pairs as NumPy arrays: keys (low << 32 | high bidder index) and counts."""
        if self._pair_arrays is None:
            pairs = self._pairs
            size = len(pairs)
            self._pair_arrays = (
                np.fromiter(pairs.keys(), dtype=np.int64, count=size),
                np.fromiter(pairs.values(), dtype=np.int64, count=size),
            )
        return self._pair_arrays

    def co_bids_of(self, bidders: Iterable[str]) -> list[tuple[int, str, str]]:
        """(lots together, a, b), a < b by name, for every pair with one of ``bidders`` in it."""
        wanted = np.zeros(len(self._names), dtype=bool)  # a lookup per pair end, not np.isin's sort
        wanted[[self._ids[name] for name in bidders if name in self._ids]] = True
        keys, counts = self.pair_arrays()
        low, high = keys >> 32, keys & 0xFFFFFFFF
        chosen = wanted[low] | wanted[high]
        names = self._names
        edges = []
        for a, b, count in zip(low[chosen].tolist(), high[chosen].tolist(), counts[chosen].tolist(), strict=True):
            first, second = sorted((names[a], names[b]))
            edges.append((count, first, second))
        return edges

    def co_bids(self) -> dict[tuple[str, str], int]:
        """How many lots each pair of bidders bid in together (names in sorted order)."""
        names = self._names
        result: dict[tuple[str, str], int] = {}
        keys, counts = self.pair_arrays()
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            a, b = _unpair(key)
            first, second = sorted((names[a], names[b]))
            result[(first, second)] = count
        return result

    # ---- serialisation -------------------------------------------------------------------------

    def to_json(self) -> str:
        """The state as JSON: bidders, lots (bidders by index), the pair counts, identities, draws.

        The pair counts are stored although the lots imply them: rebuilding them is most of a
        fold, and loading the state must cost far less than the batch recompute it saves.
        """
        lots = [
            [
                key[0],
                key[1],
                list(lot.bidders),
                lot.winner,
                lot.buyer,
                lot.market,
                lot.on,
                [list(item) for item in self._lot_identities.get(key, ())],
            ]
            for key, lot in self._lots.items()
        ]
        keys, counts = self.pair_arrays()
        pairs = np.column_stack((keys, counts)).ravel().tolist()
        draws = [[d.expert, d.tenderee, d.ocid, d.drawn_on.isoformat()] for d in self._draws.values()]
        return json.dumps(
            {"format": _STATE_FORMAT, "bidders": self._names, "lots": lots, "pairs": pairs, "draws": draws},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> MarketState:
        """Load a state saved by `to_json`; a state that does not add up is refused by its field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise MarketInputError("market state", "json", f"is not JSON ({error.msg})") from error
        if not isinstance(data, dict) or data.get("format") != _STATE_FORMAT:
            raise MarketInputError("market state", "format", f"must be {_STATE_FORMAT}")
        state = cls()
        names = data.get("bidders", [])
        if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
            raise MarketInputError("market state", "bidders", "must be a list of non-empty strings")
        state._names = names
        state._ids = {name: index for index, name in enumerate(names)}
        state._bids = [0] * len(names)
        state._wins = [0] * len(names)
        expected_pairs = sum(state._load_lot(number, row) for number, row in enumerate(data.get("lots", [])))
        flat = data.get("pairs", [])
        if not isinstance(flat, list) or len(flat) % _PAIR:
            raise MarketInputError("market state", "pairs", "must be a flat list of pair, count")
        state._pairs = Counter(dict(zip(flat[::2], flat[1::2], strict=True)))
        if sum(state._pairs.values()) != expected_pairs:
            raise MarketInputError("market state", "pairs", "do not add up to the lots' co-bids")
        for number, row in enumerate(data.get("draws", [])):
            if not isinstance(row, list) or len(row) != _DRAW_FIELDS:
                raise MarketInputError(f"market state draw #{number}", "draws[]", "must be a list of 4 fields")
            state.add_draw(ExpertDraw(str(row[0]), str(row[1]), str(row[2]), date.fromisoformat(str(row[3]))))
        return state

    # ---- compact binary form (format 2) ---------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The state in the compact binary form `from_bytes` reads (format 3: no pairs, see below)."""
        return self._to_bytes(with_pairs=False)

    def _to_bytes(self, *, with_pairs: bool) -> bytes:
        """The state in the compact binary form (format 3; 2 ``with_pairs``, as kept before).

        ``MAGIC``, the header's length (8 bytes, little endian), a JSON header with the strings
        (bidders, each lot's ocid and lot code, the distinct buyers, markets and dates, the
        identities, the draws), then the arrays of `_ARRAYS` in that order, each padded to 8
        bytes: per lot its size, winner and buyer / market / date codes (-1 = none), every lot's
        bidders one lot after the other, and the co-bidding pairs (sorted keys, counts): in format
        2 only. Format 3 leaves them out (empty arrays): they follow from the lots' bidders and
        `from_bytes` counts them again with NumPy, 12 bytes a pair not written (37 of 50 MB for
        1.1 M bids) for ~1 s more at each load.
        """
        keys, buyers, markets, dates = self._lot_columns()
        table = self._lot_table()
        values: dict[str, list[str]] = {}

        def coded(name: str, items: list[str | None]) -> npt.NDArray[np.int64]:
            values[name], codes = self._codes(name, items)
            return codes

        pair_keys, pair_counts = self.pair_arrays() if with_pairs else (_EMPTY, _EMPTY)
        if pair_keys.size > 1 and not bool((pair_keys[1:] > pair_keys[:-1]).all()):
            order = np.argsort(pair_keys)
            pair_keys, pair_counts = pair_keys[order], pair_counts[order]
        # each lot's position, for the identities alone (a batch state has none: no dict of its lots)
        number = {key: position for position, key in enumerate(keys)} if self._lot_identities else {}
        arrays: dict[str, npt.NDArray[Any]] = {
            "sizes": table.sizes,
            "winners": table.winners,
            "buyer_codes": coded("buyers", buyers),
            "market_codes": coded("markets", markets),
            "date_codes": coded("dates", dates),
            "bidders": table.bidders,
            "pair_keys": pair_keys.astype("<i8"),
            "pair_counts": pair_counts.astype("<i4"),
        }
        header = {
            "format": _PAIRS_STORED if with_pairs else _BINARY_FORMAT,
            "bidders": self._names,
            "ocids": [key[0] for key in keys],
            "lots": [key[1] for key in keys],
            **values,
            "identities": [
                [number[key], kind, value, bidder]
                for key, items in self._lot_identities.items()
                for kind, value, bidder in items
            ],
            "draws": [[d.expert, d.tenderee, d.ocid, d.drawn_on.isoformat()] for d in self._draws.values()],
            "lengths": {name: int(array.size) for name, array in arrays.items()},
        }
        text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        parts = [MAGIC, len(text).to_bytes(8, "little"), text]
        for name, dtype in _ARRAYS:
            data = np.ascontiguousarray(arrays[name], dtype=dtype).tobytes()
            parts.extend((data, b"\0" * (-len(data) % 8)))
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> MarketState:
        """Load a state saved by `to_bytes`; a state that does not add up is refused by its field."""
        header, arrays = _read_binary(data)
        names, ocids, codes, strings = _checked_binary(header, arrays)
        sizes, winners, bidders = arrays["sizes"], arrays["winners"], arrays["bidders"]
        pair_keys, pair_counts = arrays["pair_keys"], arrays["pair_counts"]
        lot_count = sizes.size
        state = cls()
        state._names = names
        state._ids = {name: index for index, name in enumerate(names)}
        state._bids = np.bincount(bidders, minlength=len(names)).tolist()
        state._wins = np.bincount(winners[winners >= 0], minlength=len(names)).tolist()
        keys: list[LotKey] = list(zip(ocids, codes, strict=True))
        if len(set(keys)) != lot_count:
            raise MarketInputError("market state", "lots", "name a lot twice")

        def decoded(name: str) -> list[str | None]:
            listed: list[str | None] = [*strings[name], None]  # code -1: the None at the end
            return list(map(listed.__getitem__, arrays[f"{name[:-1]}_codes"].tolist()))

        columns = (decoded("buyers"), decoded("markets"), decoded("dates"))
        state._lots = _ArrayLots(
            keys, sizes.astype(np.int64), bidders.astype(np.int64), winners.astype(np.int64), columns
        )
        try:
            for position, kind, value, bidder in header.get("identities", []):
                key = keys[position]
                state._lot_identities[key] = (*state._lot_identities.get(key, ()), (kind, value, bidder))
                state._identities.setdefault((kind, value), {}).setdefault(bidder, set()).add(key)
            for row in header.get("draws", []):
                state.add_draw(ExpertDraw(str(row[0]), str(row[1]), str(row[2]), date.fromisoformat(str(row[3]))))
        except (IndexError, TypeError, ValueError) as error:
            raise MarketInputError("market state", "identities/draws", f"do not fit ({error})") from error
        state._table = _LotTable(keys, sizes, bidders, winners)
        state._pair_counter = None  # array mode: a fold shifts the sorted pair arrays
        state._pair_arrays = (
            (pair_keys, pair_counts) if header["format"] == _PAIRS_STORED else _count_pairs(bidders, sizes)
        )
        return state

    @classmethod
    def load(cls, data: bytes | str) -> MarketState:
        """A kept state in either form: `to_bytes` (format 2) or the older `to_json` (format 1)."""
        if isinstance(data, str):
            return cls.from_json(data)
        return cls.from_bytes(data)

    def _load_lot(self, number: int, row: object) -> int:
        """One stored lot into a state being loaded; returns the co-bids it implies."""
        where = f"market state lot #{number}"
        if not isinstance(row, list) or len(row) != _LOT_FIELDS:
            raise MarketInputError(where, "lots[]", f"must be a list of {_LOT_FIELDS} fields")
        ocid, lot, bidders, winner, buyer, market, on, identities = row
        try:
            indices = tuple(int(index) for index in bidders)
            for index in indices:
                self._bids[index] += 1
            if winner >= 0:
                self._wins[winner] += 1
            key: LotKey = (str(ocid), lot)
            self._lot_dict()[key] = _Lot(indices, int(winner), buyer, market, on)
            items = tuple((str(k), str(v), str(b)) for k, v, b in identities)
        except (IndexError, TypeError, ValueError) as error:
            raise MarketInputError(where, "lots[]", f"does not fit the bidders list ({error})") from error
        if items:
            self._lot_identities[key] = items
            for kind, value, bidder in items:
                self._identities.setdefault((kind, value), {}).setdefault(bidder, set()).add(key)
        return len(indices) * (len(indices) - 1) // 2

    # ---- the rules -----------------------------------------------------------------------------

    def findings(self, rules: RuleSet) -> list[Finding]:
        """Every market rule present in ``rules``, computed from the state; sorted, deterministic."""
        found: list[Finding] = []
        if COVER_BIDDER in rules:
            found.extend(self._cover_bidders(rules))
        if WIN_RATE in rules:
            found.extend(self._win_rate(rules))
        if MARKET_SHARE in rules:
            found.extend(self._market_share(rules))
        if COBID_GROUP in rules:  # rotation is looked for inside the groups, so it needs them
            groups = self.groups(rules)
            found.extend(self._group_findings(rules, groups))
            if ROTATION in rules:
                found.extend(self._rotation(rules, groups))
        if SHARED_IDENTITY in rules:
            found.extend(self._shared_identities(rules))
        if EXPERT_TENDEREE in rules:
            found.extend(self._expert_tenderee(rules))
        return found

    def _score(self, rules: RuleSet, rule_id: str) -> float:
        return float(rules[rule_id].thresholds.get("score", 0.0))

    def _finding(
        self,
        rules: RuleSet,
        rule_id: str,
        summary: str,
        evidence: Mapping[str, object],
        subjects: Iterable[str],
        *,
        severity: Severity | None = None,
    ) -> Finding:
        rule = rules[rule_id]
        return Finding(
            rule=rule.id,
            rule_version=rule.version,
            severity=severity or rule.severity,
            summary=summary,
            evidence=dict(evidence),
            subjects=tuple(subjects),
            score=self._score(rules, rule_id),
            hard=rule.hard,
        )

    def _cover_bidders(self, rules: RuleSet) -> list[Finding]:
        percentile = _threshold(rules, COVER_BIDDER, "percentile")
        min_bids = _threshold(rules, COVER_BIDDER, "min_bids")
        factor = _threshold(rules, COVER_BIDDER, "iqr_factor")
        max_p = _threshold(rules, COVER_BIDDER, "max_p_value")
        active = [i for i, count in enumerate(self._bids) if count > 0]
        if not active:
            return []
        counts = np.asarray([self._bids[i] for i in active], dtype=float)
        bid_cut = max(float(np.percentile(counts, percentile)), min_bids)
        top = [i for i in active if self._bids[i] >= bid_cut]
        if len(top) < _MIN_FENCE_POPULATION:
            return []  # a fence over fewer than four bidders is no fence
        ratios = [self._wins[i] / self._bids[i] for i in top]
        q1, q3, iqr = _quartiles(ratios)
        fence = q1 - factor * iqr
        found = []
        for i, ratio in sorted(zip(top, ratios, strict=True), key=lambda item: self._names[item[0]]):
            # strictly below Q1 too: with IQR 0 the fence is Q1 and the bulk itself is no outlier
            below_fence = ratio <= fence and ratio < q1
            awarded, expected = self._fair_wins(i)
            p_value = binomial_lower_tail(self._wins[i], awarded, expected / awarded) if awarded else 1.0
            # Bonferroni over the busy bidders: the test is run once for each of them
            p_adjusted = min(1.0, p_value * len(top))
            if below_fence or p_adjusted <= max_p:
                name = self._names[i]
                found.append(
                    self._finding(
                        rules,
                        COVER_BIDDER,
                        f"投标人 {name} 有效投标 {self._bids[i]} 次仅中标 {self._wins[i]} 次（中标率 {ratio:.1%}，"
                        f"机会均等时期望 {expected:.1f} 次），"
                        + (f"低于投标活跃者的下栅栏 {fence:.1%}，" if below_fence else f"下尾概率 {p_value:.1e}，")
                        + "疑为陪标专业户。",
                        {
                            "bidder": name,
                            "bids": self._bids[i],
                            "wins": self._wins[i],
                            "win_ratio": _round(ratio),
                            "bid_count_cut": _round(bid_cut),
                            "percentile": percentile,
                            "top_bidders": len(top),
                            "q1": _round(q1),
                            "q3": _round(q3),
                            "iqr": _round(iqr),
                            "lower_fence": _round(fence),
                            "below_fence": below_fence,
                            "awarded_lots": awarded,
                            "expected_wins": _round(expected),
                            "p_value": p_value,
                            "p_adjusted": p_adjusted,
                            "max_p_value": max_p,
                            "lots": self._lots_of(i),
                        },
                        (name,),
                    )
                )
        return found

    def _win_rate(self, rules: RuleSet) -> list[Finding]:
        min_bids = _threshold(rules, WIN_RATE, "min_bids")
        min_wins = _threshold(rules, WIN_RATE, "min_wins")
        factor = _threshold(rules, WIN_RATE, "iqr_factor")
        max_p = _threshold(rules, WIN_RATE, "max_p_value")
        eligible = [i for i, count in enumerate(self._bids) if count >= min_bids and count > 0]
        if len(eligible) < _MIN_FENCE_POPULATION:
            return []
        ratios = [self._wins[i] / self._bids[i] for i in eligible]
        q1, q3, iqr = _quartiles(ratios)
        fence = q3 + factor * iqr
        found = []
        for i, ratio in sorted(zip(eligible, ratios, strict=True), key=lambda item: self._names[item[0]]):
            if not (ratio >= fence and ratio > q3 and self._wins[i] >= min_wins):
                continue
            # a big market has lucky bidders above any fence: the wins must also be unlikely when
            # every bidder of each lot had the same chance
            awarded, expected = self._fair_wins(i)
            p_value = binomial_upper_tail(self._wins[i], awarded, expected / awarded) if awarded else 1.0
            p_adjusted = min(1.0, p_value * len(eligible))  # Bonferroni over the eligible bidders
            if p_adjusted <= max_p:
                name = self._names[i]
                found.append(
                    self._finding(
                        rules,
                        WIN_RATE,
                        f"投标人 {name} 有效投标 {self._bids[i]} 次中标 {self._wins[i]} 次（中标率 {ratio:.1%}），"
                        f"高于上栅栏 {fence:.1%}，中标率异常偏高。",
                        {
                            "bidder": name,
                            "bids": self._bids[i],
                            "wins": self._wins[i],
                            "win_ratio": _round(ratio),
                            "eligible_bidders": len(eligible),
                            "q1": _round(q1),
                            "q3": _round(q3),
                            "iqr": _round(iqr),
                            "upper_fence": _round(fence),
                            "awarded_lots": awarded,
                            "expected_wins": _round(expected),
                            "p_value": p_value,
                            "p_adjusted": p_adjusted,
                            "max_p_value": max_p,
                            "lots_won": self._lots_of(i, won_only=True),
                        },
                        (name,),
                    )
                )
        return found

    def _market_share(self, rules: RuleSet) -> list[Finding]:
        min_lots = _threshold(rules, MARKET_SHARE, "min_lots")
        share_cut = _threshold(rules, MARKET_SHARE, "share")
        hhi_cut = _threshold(rules, MARKET_SHARE, "hhi")
        found = []
        for (kind, stratum), wins, won_in in self._strata_wins(min_lots, top_share=share_cut):
            awarded = sum(wins.values())
            shares = {i: count / awarded for i, count in wins.items()}
            hhi = sum(share * share for share in shares.values())  # in first-win order, as always
            most = max(wins.values())  # the same count is the same share: the leader by name among them
            leader = max((i for i, count in wins.items() if count == most), key=lambda i: self._names[i])
            top_share = shares[leader]
            if top_share >= share_cut and hhi >= hhi_cut:
                name = self._names[leader]
                label = "招标人" if kind == "buyer" else "市场"
                found.append(
                    self._finding(
                        rules,
                        MARKET_SHARE,
                        f"{label} {stratum} 已定标 {awarded} 个标段中，{name} 中标 {wins[leader]} 个"
                        f"（份额 {top_share:.1%}），HHI {hhi:.3f}，市场高度集中。",
                        {
                            "stratum": kind,
                            kind: stratum,
                            "awarded_lots": awarded,
                            "leader": name,
                            "leader_wins": wins[leader],
                            "leader_share": _round(top_share),
                            "hhi": _round(hhi),
                            "share_threshold": share_cut,
                            "hhi_threshold": hhi_cut,
                            "shares": {
                                self._names[i]: _round(s) for i, s in sorted(shares.items(), key=lambda x: -x[1])[:10]
                            },
                            "lots_won": [_lot_name(key) for key in sorted(won_in(leader), key=_sort_key)[:_LOTS_SHOWN]],
                        },
                        (name,),
                    )
                )
        return found

    def _strata_wins(
        self, min_lots: float, *, top_share: float = 0.0
    ) -> Iterator[tuple[tuple[str, str], dict[int, int], Callable[[int], list[LotKey]]]]:
        """Each stratum (("buyer" | "market", name), in sorted order) with at least ``min_lots``
        awarded lots and a winner with at least ``top_share`` of them: its winners' win counts in
        the order of their first win (lot order), and a function giving the lots a winner won in
        it. Counted with NumPy over the lot table (the share as `_market_share` divides it).
        """
        table = self._lot_table()
        _, buyers, markets, _ = self._lot_columns()
        awarded = np.flatnonzero(table.winners >= 0)
        for kind in ("buyer", "market"):
            distinct, code = self._codes(*(("buyers", buyers) if kind == "buyer" else ("markets", markets)))
            codes = range(len(distinct))
            position = awarded[code[awarded] >= 0]
            if not position.size:
                continue
            stratum, winner = code[position], table.winners[position]
            # (stratum, winner) groups, each with its wins and its first win's position
            order = np.lexsort((position, winner, stratum))
            stratum, winner, position = stratum[order], winner[order], position[order]
            starts = np.flatnonzero(np.r_[True, (stratum[1:] != stratum[:-1]) | (winner[1:] != winner[:-1])])
            counts = np.diff(np.r_[starts, stratum.size])
            first = position[starts]
            group_stratum, group_winner = stratum[starts], winner[starts]
            totals = np.bincount(group_stratum, weights=counts, minlength=len(codes))
            ranked = np.lexsort((first, group_stratum))  # by stratum, then first win
            bounds = np.searchsorted(group_stratum[ranked], np.arange(len(codes) + 1))
            rows = np.searchsorted(stratum, np.arange(len(codes) + 1))
            most = np.zeros(len(codes), dtype=np.int64)
            np.maximum.at(most, group_stratum, counts)
            with np.errstate(divide="ignore", invalid="ignore"):
                shown = (totals >= min_lots) & (most / totals >= top_share)  # a float64 division, as in Python
            winners_list, counts_list = group_winner[ranked].tolist(), counts[ranked].tolist()
            for number in sorted(np.flatnonzero(shown).tolist(), key=distinct.__getitem__):
                low, high = int(bounds[number]), int(bounds[number + 1])
                wins = dict(zip(winners_list[low:high], counts_list[low:high], strict=True))
                yield (kind, distinct[number]), wins, self._won_in(position[rows[number] : rows[number + 1]])

    def _won_in(self, positions: npt.NDArray[np.int64]) -> Callable[[int], list[LotKey]]:
        table = self._lot_table()

        def won(index: int) -> list[LotKey]:
            return [table.keys[p] for p in positions[table.winners[positions] == index].tolist()]

        return won

    def strong_pairs(self, rules: RuleSet) -> list[tuple[str, str, int, float]]:
        """(a, b, lots together, share of the smaller bidder's lots) for every strong pair."""
        min_shared = _threshold(rules, COBID_GROUP, "min_shared_lots")
        min_overlap = _threshold(rules, COBID_GROUP, "min_overlap")
        # A firm in nearly every lot of a market shares all of each small firm's lots: measured
        # against the smaller bidder alone it would tie the whole market into one group.
        min_overlap_larger = _threshold(rules, COBID_GROUP, "min_overlap_larger")
        names = self._names
        keys, counts = self.pair_arrays()
        chosen = counts >= min_shared  # NumPy first: most of a big market's pairs met once or twice
        keys, counts = keys[chosen], counts[chosen]
        bids = np.asarray(self._bids, dtype=np.int64)
        of_low, of_high = bids[keys >> 32], bids[keys & 0xFFFFFFFF]
        # The overlaps in NumPy too: int / int in Python and float64 / float64 here are the same
        # correctly rounded quotient (the counts are exact as floats), so the same pairs pass.
        overlaps = counts / np.minimum(of_low, of_high)
        passed = (overlaps >= min_overlap) & (counts / np.maximum(of_low, of_high) >= min_overlap_larger)
        strong = []
        for key, count, overlap in zip(
            keys[passed].tolist(), counts[passed].tolist(), overlaps[passed].tolist(), strict=True
        ):
            a, b = _unpair(key)
            first, second = sorted((names[a], names[b]))
            strong.append((first, second, count, overlap))
        return sorted(strong)

    def groups(self, rules: RuleSet) -> list[tuple[str, ...]]:
        """Co-bidding groups: connected components of the strong-pair graph, largest first.

        Components, not k-cliques: a ring whose members do not all meet each other often enough is
        still one ring (A meets B, B meets C), and components are linear in the graph's size.
        """
        graph: nx.Graph[str] = nx.Graph()
        for a, b, count, _overlap in self.strong_pairs(rules):
            graph.add_edge(a, b, weight=count)
        min_size = _threshold(rules, COBID_GROUP, "min_group_size")
        groups = [tuple(sorted(component)) for component in nx.connected_components(graph)]
        return sorted((g for g in groups if len(g) >= min_size), key=lambda g: (-len(g), g))

    def _group_findings(self, rules: RuleSet, groups: Sequence[tuple[str, ...]]) -> list[Finding]:
        pairs = self.strong_pairs(rules)
        found = []
        for group in groups:
            members = set(group)
            inside = [
                {"a": a, "b": b, "lots_together": count, "overlap": _round(overlap)}
                for a, b, count, overlap in pairs
                if a in members
            ]
            shared = self._shared_lots({self._ids[name] for name in group})
            found.append(
                self._finding(
                    rules,
                    COBID_GROUP,
                    f"{len(group)} 家投标人（{'、'.join(group)}）习惯性共同投标：{len(inside)} 对强关联，"
                    f"共同出现在 {len(shared)} 个标段。",
                    {
                        "members": list(group),
                        "members_bids": {name: self._bids[self._ids[name]] for name in group},
                        "strong_pairs": inside,
                        "shared_lots": len(shared),
                        "lots": [_lot_name(key) for key in shared[:_LOTS_SHOWN]],
                        "min_shared_lots": _threshold(rules, COBID_GROUP, "min_shared_lots"),
                        "min_overlap": _threshold(rules, COBID_GROUP, "min_overlap"),
                    },
                    group,
                )
            )
        return found

    def _rotation(self, rules: RuleSet, groups: Sequence[tuple[str, ...]]) -> list[Finding]:
        min_lots = _threshold(rules, ROTATION, "min_group_lots")
        min_rate = _threshold(rules, ROTATION, "min_in_group_win_rate")
        min_winners = _threshold(rules, ROTATION, "min_distinct_winners")
        max_top = _threshold(rules, ROTATION, "max_top_share")
        min_rotating = _threshold(rules, ROTATION, "min_rotating_members")
        # The lot table's columns by position, no `_Lot` per lot: a group's shared lots are tens
        # of thousands in a big market, its won lots sorted (by key, as the lots were) alone.
        table = self._lot_table()
        keys, _, _, dates = self._lot_columns()
        lot_of_entry = table.lot_of_entry()
        lost_by = table.bidders != table.winners[lot_of_entry]  # each entry: a bidder not its lot's winner
        found = []
        for group in groups:
            indices = {self._ids[name] for name in group}
            member = np.zeros(len(self._names), dtype=bool)
            member[sorted(indices)] = True
            positions = self._shared_positions(indices)
            shared = positions[table.winners[positions] >= 0]
            won_at = shared[member[table.winners[shared]]]
            if not won_at.size:
                continue
            winner_of = dict(zip(won_at.tolist(), table.winners[won_at].tolist(), strict=True))
            won = sorted(winner_of, key=lambda position: _sort_key(keys[position]))
            winners: Counter[str] = Counter(self._names[winner_of[position]] for position in won)
            # A member rotates when it wins some shared lots and bids in others that a member wins.
            in_won = np.zeros(len(keys), dtype=bool)
            in_won[won_at] = True
            losing = in_won[lot_of_entry] & member[table.bidders] & lost_by
            lost = np.bincount(table.bidders[losing], minlength=len(self._names))
            lost_to_member: Counter[str] = Counter(
                {self._names[index]: int(lost[index]) for index in np.flatnonzero(lost).tolist()}
            )
            rotating = sorted(name for name in winners if lost_to_member[name] > 0)
            in_group_rate = len(won) / shared.size
            top_share = max(winners.values()) / len(won)
            evenness = _evenness(list(winners.values()))
            if (
                len(won) >= min_lots
                and in_group_rate >= min_rate
                and len(winners) >= min_winners
                and top_share <= max_top
                and len(rotating) >= min_rotating
            ):
                timeline = sorted(won, key=lambda p: (dates[p] or "", keys[p][0], keys[p][1] or ""))
                found.append(
                    self._finding(
                        rules,
                        ROTATION,
                        f"抱团组（{'、'.join(group)}）共同投标且已定标的 {shared.size} 个标段中，组内中标 {len(won)} 个"
                        f"（{in_group_rate:.0%}），由 {len(winners)} 家成员轮流中标，最大份额 {top_share:.0%}。",
                        {
                            "members": list(group),
                            "shared_awarded_lots": int(shared.size),
                            "won_inside": len(won),
                            "in_group_win_rate": _round(in_group_rate),
                            "wins_by_member": dict(sorted(winners.items())),
                            "losses_to_member": dict(sorted(lost_to_member.items())),
                            "rotating_members": rotating,
                            "top_share": _round(top_share),
                            "evenness": _round(evenness),
                            "sequence": [
                                {
                                    **_lot_name(keys[p]),
                                    "date": dates[p],
                                    "winner": self._names[winner_of[p]],
                                }
                                for p in timeline[:_LOTS_SHOWN]
                            ],
                        },
                        group,
                    )
                )
        return found

    def _shared_identities(self, rules: RuleSet) -> list[Finding]:
        min_bidders = _threshold(rules, SHARED_IDENTITY, "min_bidders")
        min_tenders = _threshold(rules, SHARED_IDENTITY, "min_tenders")
        found = []
        for (kind, value), users in sorted(self._identities.items()):
            tenders = {key[0] for lots in users.values() for key in lots}
            if len(users) < min_bidders or len(tenders) < min_tenders:
                continue
            label, severity = _IDENTITY_KINDS[kind]
            bidders = sorted(users)
            found.append(
                self._finding(
                    rules,
                    SHARED_IDENTITY,
                    f"{len(bidders)} 家不同投标人（{'、'.join(bidders)}）在 {len(tenders)} 个项目中使用同一{label}。",
                    {
                        "kind": kind,
                        "value": value,
                        "bidders": bidders,
                        "tenders": len(tenders),
                        "uses": {
                            bidder: [_lot_name(key) for key in sorted(users[bidder], key=_sort_key)][:_LOTS_SHOWN]
                            for bidder in bidders
                        },
                    },
                    bidders,
                    # the kind's severity, unless the catalogue has lowered the whole rule to amber or info
                    severity=severity if rules[SHARED_IDENTITY].severity is Severity.RED else None,
                )
            )
        return found

    def _expert_tenderee(self, rules: RuleSet) -> list[Finding]:
        min_draws = _threshold(rules, EXPERT_TENDEREE, "min_draws")
        max_p = _threshold(rules, EXPERT_TENDEREE, "max_p_value")
        min_ratio = _threshold(rules, EXPERT_TENDEREE, "min_ratio")
        total = len(self._draws)
        if total == 0:
            return []
        by_expert: Counter[str] = Counter()
        by_tenderee: Counter[str] = Counter()
        together: dict[tuple[str, str], list[ExpertDraw]] = defaultdict(list)
        for draw in self._draws.values():
            by_expert[draw.expert] += 1
            by_tenderee[draw.tenderee] += 1
            together[(draw.expert, draw.tenderee)].append(draw)
        found = []
        candidates = []
        for (expert, tenderee), draws in sorted(together.items()):
            k, n = len(draws), by_tenderee[tenderee]
            share = by_expert[expert] / total
            if k >= min_draws and k / (n * share) >= min_ratio:
                candidates.append((expert, tenderee, draws, k, n, share))
        for expert, tenderee, draws, k, n, share in candidates:
            expected = n * share
            ratio = k / expected
            p_value = binomial_upper_tail(k, n, share)
            p_adjusted = min(1.0, p_value * len(candidates))  # Bonferroni over the pairs tested
            if p_adjusted <= max_p:
                found.append(
                    self._finding(
                        rules,
                        EXPERT_TENDEREE,
                        f"专家 {expert} 在招标人 {tenderee} 的 {n} 个评标席位中被抽中 {k} 次，期望 {expected:.2f} 次，"
                        f"二项上尾概率 {p_value:.2e}。",
                        {
                            "expert": expert,
                            "tenderee": tenderee,
                            "draws_for_tenderee": k,
                            "tenderee_seats": n,
                            "expert_draws": by_expert[expert],
                            "all_seats": total,
                            "expert_share": _round(share),
                            "expected": _round(expected),
                            "ratio": _round(ratio),
                            "p_value": p_value,
                            "p_adjusted": p_adjusted,
                            "max_p_value": max_p,
                            "tenders": [
                                {"ocid": d.ocid, "drawn_on": d.drawn_on.isoformat()}
                                for d in sorted(draws, key=lambda d: (d.drawn_on, d.ocid))
                            ][:_LOTS_SHOWN],
                        },
                        (expert,),
                    )
                )
        return found

    # ---- helpers over the lots -----------------------------------------------------------------

    def _lot_table(self) -> _LotTable:
        # Built once per findings run (the batch builds it with the state), dropped whenever a
        # lot is folded: the per-bidder rules then read arrays, not every lot per bidder.
        if self._table is None and isinstance(self._lots, _ArrayLots):
            lots_ = self._lots
            self._table = _LotTable(lots_.lot_keys, lots_.sizes, lots_.bidders, lots_.winners)
        if self._table is None:
            lots = list(self._lots.values())
            self._table = _LotTable(
                list(self._lots),
                np.fromiter((len(lot.bidders) for lot in lots), dtype=np.int64, count=len(lots)),
                np.fromiter((index for lot in lots for index in lot.bidders), dtype=np.int64),
                np.fromiter((lot.winner for lot in lots), dtype=np.int64, count=len(lots)),
            )
        return self._table

    def _positions_of(self, index: int) -> npt.NDArray[np.int64]:
        """The positions (in lot order) of the lots bidder ``index`` bid in."""
        positions, offsets = self._lot_table().by_bidder(len(self._names))
        return positions[offsets[index] : offsets[index + 1]]

    def _fair_wins(self, index: int) -> tuple[int, float]:
        """The awarded lots a bidder bid in, and its expected wins if each bidder had equal chance.

        The wins over those lots are then compared with Binomial(lots, expected / lots): the mean
        is exact; the binomial is a little wider than the true sum of unequal trials, so the tail
        it gives is conservative.
        """
        awarded, expected = self._lot_table().fair_wins(len(self._names))
        return int(awarded[index]), float(expected[index])

    def _lots_of(self, index: int, *, won_only: bool = False) -> list[dict[str, str | None]]:
        table = self._lot_table()
        positions = self._positions_of(index)
        if won_only:
            positions = positions[table.winners[positions] == index]
        keys = [table.keys[position] for position in positions.tolist()]
        return [_lot_name(key) for key in sorted(keys, key=_sort_key)[:_LOTS_SHOWN]]

    def _shared_lots(self, indices: set[int]) -> list[LotKey]:
        """The lots in which at least two of ``indices`` bid, sorted by key."""
        keys = self._lot_table().keys
        return sorted((keys[position] for position in self._shared_positions(indices).tolist()), key=_sort_key)

    def _shared_positions(self, indices: set[int]) -> npt.NDArray[np.int64]:
        """The positions (in lot order) of the lots in which at least two of ``indices`` bid."""
        if not indices:
            return _EMPTY
        every = np.concatenate([self._positions_of(index) for index in sorted(indices)])
        seen = np.bincount(every, minlength=len(self._lot_table().keys))
        return np.flatnonzero(seen >= _PAIR).astype(np.int64)


def _read_binary(data: bytes) -> tuple[dict[str, Any], dict[str, npt.NDArray[np.int64]]]:
    """The header and the arrays of a state kept by `MarketState.to_bytes`, each checked for size."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise MarketInputError("market state", "format", f"must start with {MAGIC!r}")
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    try:
        header = json.loads(data[start : start + size])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MarketInputError("market state", "header", "is not JSON") from error
    if not isinstance(header, dict) or header.get("format") not in {_BINARY_FORMAT, _PAIRS_STORED}:
        raise MarketInputError("market state", "format", f"must be {_BINARY_FORMAT} (or {_PAIRS_STORED})")
    lengths = header.get("lengths")
    if not isinstance(lengths, dict):
        raise MarketInputError("market state", "lengths", "are missing")
    arrays: dict[str, npt.NDArray[np.int64]] = {}
    offset = start + size
    for name, dtype in _ARRAYS:
        count = lengths.get(name)
        width = np.dtype(dtype).itemsize
        if not isinstance(count, int) or count < 0 or offset + count * width > len(data):
            raise MarketInputError("market state", name, "does not fit the data")
        arrays[name] = np.frombuffer(data, dtype=dtype, count=count, offset=offset).astype(np.int64)
        offset += count * width + (-(count * width) % 8)
    return header, arrays


def _checked_binary(
    header: dict[str, Any], arrays: dict[str, npt.NDArray[np.int64]]
) -> tuple[list[str], list[str], list[str | None], dict[str, list[str]]]:
    """The bidders, lot keys and coded strings of a binary state, once its arrays add up."""
    names = header.get("bidders")
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise MarketInputError("market state", "bidders", "must be a list of non-empty strings")
    ocids, codes = header.get("ocids"), header.get("lots")
    sizes, winners, bidders = arrays["sizes"], arrays["winners"], arrays["bidders"]
    lot_count = sizes.size
    if not isinstance(ocids, list) or not isinstance(codes, list) or not len(ocids) == len(codes) == lot_count:
        raise MarketInputError("market state", "lots", "do not match the lot arrays")
    for name in ("winners", "buyer_codes", "market_codes", "date_codes"):
        if arrays[name].size != lot_count:
            raise MarketInputError("market state", name, "do not match the lot arrays")
    if (sizes < 0).any() or int(sizes.sum()) != bidders.size:
        raise MarketInputError("market state", "bidders", "do not add up to the lots' sizes")
    if not _within(bidders, 0, len(names)):
        raise MarketInputError("market state", "bidders", "do not fit the bidders list")
    if not _within(winners, -1, len(names)):
        raise MarketInputError("market state", "winners", "do not fit the bidders list")
    _check_pairs(arrays, stored=header["format"] == _PAIRS_STORED)
    strings: dict[str, list[str]] = {}
    for name in ("buyers", "markets", "dates"):
        listed = header.get(name)
        if not isinstance(listed, list) or not _within(arrays[f"{name[:-1]}_codes"], -1, len(listed)):
            raise MarketInputError("market state", name, "do not fit their codes")
        strings[name] = listed
    return names, ocids, codes, strings


def _count_pairs(
    bidders: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The co-bidding pairs of lots given as their bidders one lot after the other (``sizes``
    each): sorted keys (low << 32 | high) and how many lots each pair bid in, with NumPy (lots
    of one size at a time, every pair of their columns at once).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    total = int((sizes * (sizes - 1) // 2).sum())
    if not total:
        return _EMPTY, _EMPTY
    # Most of the time is the sort of every pair (3.5 M for 1.1 M bids). While the bidders are
    # few enough that low * width + high fits in an int32 (46,340 of them), the pairs are sorted
    # as those int32 keys, half the bytes of the int64 ones and sorted in about half the time;
    # their order is the same (low first, then high), turned back into low << 32 | high once
    # distinct.
    width = int(bidders.max()) + 1
    narrow = width * width <= np.iinfo(np.int32).max
    dtype = np.int32 if narrow else np.int64
    members = np.asarray(bidders, dtype=dtype)
    # Every lot's pair keys written into one array (no parts to join), each lot's row of bidders
    # sorted first (so low, high are columns i < j: no minimum/maximum over the pairs), sorted in place.
    every = np.empty(total, dtype=dtype)
    at = 0
    for size in np.unique(sizes).tolist():
        if size < _PAIR:
            continue
        rows = members[(starts[sizes == size][:, None] + np.arange(size)[None, :])]
        rows.sort(axis=1)
        first, second = np.triu_indices(size, 1)
        out = every[at : at + rows.shape[0] * first.size].reshape(rows.shape[0], first.size)
        if narrow:
            np.multiply(rows[:, first], width, out=out)
            np.add(out, rows[:, second], out=out)
        else:
            np.left_shift(rows[:, first], 32, out=out)
            np.bitwise_or(out, rows[:, second], out=out)
        at += out.size
    every.sort()
    first_of = np.flatnonzero(np.r_[True, every[1:] != every[:-1]])
    counts = np.diff(np.r_[first_of, every.size])
    keys = every[first_of].astype(np.int64)
    if narrow:
        keys = ((keys // width) << 32) | (keys % width)
    return keys, counts.astype(np.int64)


def _check_pairs(arrays: dict[str, npt.NDArray[np.int64]], *, stored: bool) -> None:
    if not stored:
        if arrays["pair_keys"].size or arrays["pair_counts"].size:
            raise MarketInputError("market state", "pairs", f"are not stored in format {_BINARY_FORMAT}")
        return
    sizes, pair_keys, pair_counts = arrays["sizes"], arrays["pair_keys"], arrays["pair_counts"]
    if pair_keys.size != pair_counts.size or int(pair_counts.sum()) != int((sizes * (sizes - 1) // 2).sum()):
        raise MarketInputError("market state", "pairs", "do not add up to the lots' co-bids")
    if (pair_counts <= 0).any() or (pair_keys.size > 1 and not bool((pair_keys[1:] > pair_keys[:-1]).all())):
        raise MarketInputError("market state", "pairs", "must be sorted, distinct and counted")


def _within(values: npt.NDArray[np.int64], low: int, high: int) -> bool:
    """Every value in [low, high)."""
    return not values.size or bool(values.min() >= low and values.max() < high)


def _threshold(rules: RuleSet, rule_id: str, name: str) -> float:
    """A rule's threshold; a catalogue entry without it is refused by the rule and the field."""
    try:
        return rules.threshold(rule_id, name)
    except KeyError:
        raise MarketInputError(f"rule {rule_id}", f"thresholds.{name}", "is missing from the catalogue") from None


def _sort_key(key: LotKey) -> tuple[str, str]:
    return key[0], key[1] or ""


def _evenness(counts: Sequence[int]) -> float:
    """Pielou's evenness of the wins among winners: 1 = perfectly even turns, 0 = one winner."""
    total = sum(counts)
    if len(counts) < _PAIR or total == 0:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts if c)
    return entropy / math.log(len(counts))


def _identities_of(signal: BidSignals) -> Iterable[tuple[str, str]]:
    if signal.device_hash:
        yield "device_hash", signal.device_hash
    if signal.guarantee_payer_account:
        yield "guarantee_payer_account", signal.guarantee_payer_account
    if signal.project_manager:
        yield "project_manager", signal.project_manager.strip()
    for contact in dict.fromkeys(signal.contacts):
        if contact:
            yield "contact", contact.strip().lower()


@dataclass(frozen=True, slots=True)
class NetworkContext:
    """What every network picture of one state needs, computed once (the batch draws one per
    group finding): the groups, each bidder's group and counts, each bidder's co-bidding edges.
    """

    groups: list[tuple[str, ...]]
    group_of: dict[str, int]
    counts: dict[str, tuple[int, int]]
    edges_of: dict[str, list[tuple[int, str, str]]]

    @classmethod
    def of(cls, state: MarketState, rules: RuleSet, focus: Iterable[str] | None = None) -> NetworkContext:
        """``focus``: the only bidders pictures will be asked about (all of them when None)."""
        groups = state.groups(rules) if COBID_GROUP in rules else []
        edges_of: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        edges = (
            [(count, a, b) for (a, b), count in state.co_bids().items()] if focus is None else state.co_bids_of(focus)
        )
        for count, a, b in edges:
            edges_of[a].append((count, a, b))
            edges_of[b].append((count, a, b))
        return cls(
            groups=groups,
            group_of={name: number for number, group in enumerate(groups) for name in group},
            counts=state.bidder_counts(),
            edges_of=dict(edges_of),
        )


def network_picture(
    state: MarketState,
    focus: Sequence[str] | None = None,
    *,
    rules: RuleSet | None = None,
    max_edges: int = 200,
    context: NetworkContext | None = None,
) -> dict[str, object]:
    """The co-bidding network as an ECharts graph series' data: nodes, edges (links), categories.

    Nodes are bidders (value = valid bids, with wins), edges the lots two bidders bid in together,
    categories the co-bidding groups (``rules`` default to the catalogue's). With ``focus``, only
    edges touching those bidders; at most ``max_edges`` edges, the heaviest first, so a page can
    draw it whatever the market's size.
    """
    if rules is None:
        rules = load_catalogue()
    if context is None:
        context = NetworkContext.of(state, rules)
    groups, group_of, counts = context.groups, context.group_of, context.counts
    wanted = set(focus) if focus is not None else None
    if wanted is None:
        edges = [(count, a, b) for (a, b), count in state.co_bids().items()]
    else:
        edges = list({edge for name in wanted for edge in context.edges_of.get(name, ())})
    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2]))
    eligible = len(edges)
    edges = edges[: max(0, max_edges)]
    shown = sorted({name for _count, a, b in edges for name in (a, b)} | (wanted or set()) & set(counts))
    other = len(groups)
    categories = [{"name": f"抱团组 {number + 1}"} for number in range(len(groups))] + [{"name": "其他"}]
    largest = max((counts[name][0] for name in shown), default=1)
    nodes = [
        {
            "id": name,
            "name": name,
            "value": counts[name][0],
            "bids": counts[name][0],
            "wins": counts[name][1],
            "category": group_of.get(name, other),
            "symbolSize": round(8 + 32 * math.sqrt(counts[name][0] / largest), 1),
        }
        for name in shown
    ]
    links = [{"source": a, "target": b, "value": count} for count, a, b in edges]
    return {"nodes": nodes, "edges": links, "categories": categories, "truncated": eligible > len(links)}
