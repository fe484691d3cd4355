"""Read the lots of an OCDS 1.1 package (bids and lots extensions) as the screens' plain values.

``read_lots(stream)`` streams a release package (``releases.item``) or a record package
(``records.item``: the ``compiledRelease``, else the record's last release) with ijson, so memory
stays flat in the package's size: at most one process (ocid) is held at a time.

What becomes of a release
- One ``LotBids`` per lot: a bid goes to the lot in its ``relatedLots``; a bid without
  ``relatedLots`` belongs to the whole tender (``lot=None``, a single-lot tender). A bid naming
  several lots with one value cannot be priced per lot: those lots are reported ``Unusable``.
- Bid status (closed ``bidStatus`` codelist): ``valid`` and ``pending`` count as valid, and so does
  ProZorro's ``active`` (its word for a valid bid, reference §4.6) and a bid without a status (many
  publishers omit it). ``disqualified``, ``withdrawn`` and ``invited`` (an invitation, not a bid) are
  excluded, as is any other word (ProZorro's ``unsuccessful``, ``deleted``, ``invalid``): the screens
  run over valid bids only (reference §1.3).
- The bidder is the first tenderer's ``id`` (its ``name`` when the id is missing); a consortium's ids
  are joined with ``+`` so it is one bidder.
- The estimate is the lot's ``value`` (the tender's ``value`` for ``lot=None``), dropped when its
  currency differs from the bids'. The winner is the first supplier of an ``active`` award (else a
  ``pending`` one) for the lot. ``market`` is ``market_stratum(category, classification, year)``;
  ``date`` is the lot's ``tenderPeriod.endDate``, else the tender's.
- ``procurementMethod`` ``direct`` (or a method whose details say ``fixed``) makes the lot's
  ``price_formula`` ``NOT_PRICE_COMPETITIVE``: the screens skip predetermined prices (reference
  §1.3). ``awardCriteria`` ``priceOnly``/``lowestCost``/``costOnly`` is ``"lowest"``.
- A lot that cannot be screened is an ``Unusable`` with the reason (a valid bid without a value or
  bidder, a non-numeric, zero or negative amount, currencies mixed within the lot, no bids at all),
  never an exception: one bad lot does not stop the package.

Several releases of one ocid in a release package: they are merged in date order, later values
winning per top-level field (``tender``, ``bids``, ``buyer`` …) and per award ``id`` inside
``awards``; the merged release is read. This needs the releases of one ocid to be contiguous, which
holds for packages written per process (publishers' APIs, ``ocdskit package-releases`` of one
process, our simulator). An ocid that comes back after another ocid is not merged a second time: its
second run is reported ``Unusable`` ("compile the package first", e.g. ``ocdskit compile``). The set
of ocids already read is kept in a temporary SQLite file, not in memory, so memory does not grow with
the number of processes either. Full OCDS merging (``ocdsmerge``) is not attempted: it needs the
patched schema, and the bids and lots the screens read are whole objects in practice.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

import ijson

from bidding.integrity.screens.model import BidPrice, InvalidPrice, LotBids

NOT_PRICE_COMPETITIVE = "not price-competitive"
VALID_BID_STATUSES = frozenset({"valid", "pending", "active", None})  # "active": ProZorro's "valid"
_LOWEST_PRICE_CRITERIA = frozenset({"priceOnly", "lowestCost", "costOnly"})
_RELEASES = "releases.item"
_RECORDS = "records.item"
_UNREADABLE = "_ggzy_unreadable"  # marks an entry that is not a readable release, with the reason
NOT_A_PACKAGE = "not an OCDS release or record package: no top-level releases or records array"

Json: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unusable:
    """A lot (or a whole release, ``lot=None``) the reader could not turn into ``LotBids``, and why."""

    ocid: str
    lot: str | None
    reason: str


def market_stratum(category: str | None, classification: str | None, year: int | None) -> str | None:
    """The percentile stratum of a lot: category × item classification × year ("works|CPV:45|2025")."""
    if category is None and classification is None:
        return None
    return f"{category or '-'}|{classification or '-'}|{year if year is not None else '-'}"


def read_lots(stream: BinaryIO) -> Iterator[LotBids | Unusable]:
    """Every lot of the release or record package in ``stream``, as ``LotBids`` or ``Unusable``.

    Malformed JSON raises ``ijson.JSONError`` (the package cannot be read at all); everything else
    that cannot be screened is an ``Unusable`` in the stream.
    """
    seen = _SeenOcids()
    try:
        run: list[Json] = []
        try:
            for release in _releases(stream):
                ocid = str(release.get("ocid") or "")
                if run and str(run[0].get("ocid") or "") != ocid:
                    yield from _read_run(run, seen)
                    run = []
                run.append(release)
        except _NotAPackage:
            yield Unusable("", None, NOT_A_PACKAGE)
            return
        if run:
            yield from _read_run(run, seen)
    finally:
        seen.close()


def _read_run(run: list[Json], seen: _SeenOcids) -> Iterator[LotBids | Unusable]:
    ocid = str(run[0].get("ocid") or "")
    if _UNREADABLE in run[0]:
        yield Unusable(ocid, None, str(run[0][_UNREADABLE]))
        return
    if not ocid:
        yield Unusable("", None, "release without an ocid")
        return
    if not seen.add(ocid):
        yield Unusable(
            ocid,
            None,
            "releases of this ocid are not contiguous in the package; compile the package first (ocdskit compile)",
        )
        return
    yield from lots_of_release(merge_releases(run))


def merge_releases(releases: Iterable[Json]) -> Json:
    """Releases of one ocid merged in date order: later top-level fields and awards (by id) win."""
    merged: Json = {}
    awards: dict[str, Json] = {}
    for release in sorted(releases, key=lambda r: str(r.get("date") or "")):
        for key, value in release.items():
            if key == "awards" and isinstance(value, list):
                for number, award in enumerate(value):
                    if isinstance(award, dict):
                        awards[str(award.get("id", f"#{number}"))] = award
            else:
                merged[key] = value
    if awards:
        merged["awards"] = list(awards.values())
    return merged


def lots_of_release(release: Json) -> Iterator[LotBids | Unusable]:
    """The lots of one (compiled) release."""
    ocid = str(release.get("ocid"))
    if release.get("_unreadable"):
        yield Unusable(
            ocid, None, "the record has neither compiledRelease nor an embedded release (linked releases only)"
        )
        return
    tender = _obj(release.get("tender"))
    bids = _obj(release.get("bids")).get("details")
    if not isinstance(bids, list) or not bids:
        yield Unusable(ocid, None, _without_bids(tender, release.get("awards")))
        return
    lots = {str(lot["id"]): lot for lot in _objs(tender.get("lots")) if "id" in lot}
    grouped: dict[str | None, list[Json]] = {lot_id: [] for lot_id in lots}
    spanning: dict[str | None, str] = {}
    for bid in _objs(bids):
        related = [str(lot_id) for lot_id in bid.get("relatedLots") or []]
        if len(related) > 1 and _status(bid) in VALID_BID_STATUSES:
            for spanned in related:
                spanning.setdefault(spanned, str(bid.get("id")))
        targets: list[str | None] = [*related] if related else [None]
        for target in targets:
            grouped.setdefault(target, []).append(bid)
    for lot_id, lot_bids in grouped.items():
        if lot_id in spanning:
            yield Unusable(
                ocid, lot_id, f"bid {spanning[lot_id]!r} has one value for several lots: its price per lot is unknown"
            )
        elif not lot_bids:
            yield Unusable(ocid, lot_id, "no bids published for this lot")
        else:
            yield _lot(release, tender, lots.get(lot_id or ""), ocid=ocid, lot_id=lot_id, bids=lot_bids)


def _without_bids(tender: Json, awards: object) -> str:
    """Why a release without bids cannot be screened, and what it does say."""
    known = [f"tender.tenderers lists {len(_objs(tender.get('tenderers')))} parties without prices"]
    known.append(f"{len(_objs(awards))} award(s)")
    if _price_formula(tender) == NOT_PRICE_COMPETITIVE:
        known.append(f"procurementMethod {tender.get('procurementMethod')!r} is not price-competitive")
    return f"no bids: bids.details (bids extension) is absent or empty; {'; '.join(known)}"


def _prices(bids: list[Json], ocid: str, lot_id: str | None) -> tuple[list[BidPrice], set[str]] | Unusable:
    """The valid bids' prices and currencies, or why the lot cannot be priced."""
    prices: list[BidPrice] = []
    currencies: set[str] = set()
    for bid in bids:
        if _status(bid) not in VALID_BID_STATUSES:
            continue
        bid_id = str(bid.get("id"))
        bidder = _bidder(bid.get("tenderers"))
        if bidder is None:
            return Unusable(ocid, lot_id, f"valid bid {bid_id!r}: tenderers[].id and .name are missing")
        value = _obj(bid.get("value"))
        amount = value.get("amount")
        if amount is None:
            return Unusable(ocid, lot_id, f"valid bid {bid_id!r} of {bidder!r}: value.amount is missing")
        if isinstance(amount, bool) or not isinstance(amount, (int, float, Decimal)):
            reason = f"valid bid {bid_id!r} of {bidder!r}: value.amount {amount!r} is not a number"
            return Unusable(ocid, lot_id, reason)
        if isinstance(value.get("currency"), str):
            currencies.add(value["currency"])
        try:
            prices.append(BidPrice(bidder, float(amount), _datetime(bid.get("date"))))
        except InvalidPrice as refused:
            return Unusable(ocid, lot_id, f"valid bid {bid_id!r}: {refused}")
    return prices, currencies


def _lot(
    release: Json, tender: Json, lot: Json | None, *, ocid: str, lot_id: str | None, bids: list[Json]
) -> LotBids | Unusable:
    priced = _prices(bids, ocid, lot_id)
    if isinstance(priced, Unusable):
        return priced
    prices, currencies = priced
    if len(currencies) > 1:
        return Unusable(ocid, lot_id, f"currencies mixed within the lot: {', '.join(sorted(currencies))}")
    currency = next(iter(currencies), None)
    estimate_value = _obj((lot or tender).get("value"))
    estimate = estimate_value.get("amount")
    if not isinstance(estimate, (int, float, Decimal)) or isinstance(estimate, bool) or estimate <= 0:
        estimate = None
    elif currency is not None and estimate_value.get("currency") not in (None, currency):
        estimate = None  # an estimate in another currency cannot be compared with the bids
    deadline = _date(_obj(_obj(lot).get("tenderPeriod")).get("endDate")) or _date(
        _obj(tender.get("tenderPeriod")).get("endDate")
    )
    year = deadline.year if deadline else _year(release.get("date"))
    return LotBids(
        ocid=ocid,
        lot=lot_id,
        bids=tuple(prices),
        currency=currency,
        estimate=float(estimate) if estimate is not None and math.isfinite(float(estimate)) else None,
        winner=_winner(release.get("awards"), lot_id),
        buyer=_party_id(release.get("buyer")),
        market=market_stratum(
            _text(tender.get("mainProcurementCategory")), _classification(tender.get("items"), lot_id), year
        ),
        date=deadline,
        price_formula=_price_formula(tender),
    )


def _status(bid: Json) -> str | None:
    status = bid.get("status")
    return status if isinstance(status, str) else None


def _bidder(tenderers: object) -> str | None:
    ids = [_party_id(tenderer) for tenderer in _objs(tenderers)]
    known = [party for party in ids if party]
    return "+".join(known) if known else None


def _party_id(party: object) -> str | None:
    party = _obj(party)
    for key in ("id", "name"):
        if isinstance(party.get(key), (str, int)) and str(party[key]).strip():
            return str(party[key]).strip()
    return None


def _winner(awards: object, lot_id: str | None) -> str | None:
    for wanted in ("active", "pending"):
        for award in _objs(awards):
            related = [str(lot) for lot in award.get("relatedLots") or []]
            if award.get("status") == wanted and (lot_id in related if lot_id is not None else not related):
                supplier = _bidder(award.get("suppliers"))
                if supplier:
                    return supplier
    return None


def _classification(items: object, lot_id: str | None) -> str | None:
    ordered = sorted(_objs(items), key=lambda item: str(item.get("relatedLot")) != str(lot_id))
    for item in ordered:
        classification = _obj(item.get("classification"))
        if classification.get("id") is not None:
            scheme = classification.get("scheme")
            return f"{scheme}:{classification['id']}" if scheme else str(classification["id"])
    return None


def _price_formula(tender: Json) -> str | None:
    method = _text(tender.get("procurementMethod"))
    details = (_text(tender.get("procurementMethodDetails")) or "").lower()
    if method == "direct" or "fixed" in details:
        return NOT_PRICE_COMPETITIVE
    if tender.get("awardCriteria") in _LOWEST_PRICE_CRITERIA:
        return "lowest"
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _objs(value: object) -> list[Json]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _date(value: object) -> date | None:
    moment = _datetime(value)
    return moment.date() if moment else None


def _year(value: object) -> int | None:
    moment = _datetime(value)
    return moment.year if moment else None


def _releases(stream: BinaryIO) -> Iterator[Json]:
    """Each release of a release package, or each record's compiled (else last) release.

    What cannot be read comes through as ``{"ocid": …, _UNREADABLE: reason}``.
    """
    # amounts as float (ijson's use_float): what the screens compute with, and faster than Decimal
    for kind, item in _items(stream):
        if not isinstance(item, dict):
            yield {"ocid": "", _UNREADABLE: f"an entry of {kind.removesuffix('.item')} is not an object"}
        elif kind == _RELEASES:
            yield item
        elif isinstance(item.get("compiledRelease"), dict):
            yield item["compiledRelease"]
        else:
            releases = _objs(item.get("releases"))
            if releases and "ocid" in releases[-1] and "url" not in releases[-1]:
                yield releases[-1]
            else:
                reason = "the record has neither compiledRelease nor an embedded release (linked releases only)"
                yield {"ocid": item.get("ocid"), _UNREADABLE: reason}


def _items(stream: BinaryIO) -> Iterator[tuple[str, Any]]:
    """(``releases.item`` or ``records.item``, the item) for every entry of the package's array."""
    if stream.seekable():
        start = stream.tell()
        kind = _package_kind(stream)
        stream.seek(start)
        if kind is None:
            raise _NotAPackage
        for item in ijson.items(stream, kind, use_float=True):
            yield kind, item
        return
    # a stream that cannot seek: objects are built in Python from the events (slower)
    builder: Any = None
    kind = ""
    array = False
    for prefix, event, value in ijson.parse(stream, use_float=True):
        if builder is None:
            if prefix in (_RELEASES, _RECORDS) and event == "start_map":
                builder, kind = ijson.ObjectBuilder(), prefix
                builder.event(event, value)
            elif prefix == "" and event == "map_key" and value in ("releases", "records"):
                array = True
            continue
        builder.event(event, value)
        if prefix == kind and event == "end_map":
            yield kind, builder.value
            builder = None
    if not array:
        raise _NotAPackage


class _NotAPackage(Exception):
    """Neither a ``releases`` nor a ``records`` array at the top level."""


def _package_kind(stream: BinaryIO) -> str | None:
    """``releases.item`` or ``records.item``, from the package's top-level keys (a short scan)."""
    for prefix, event, value in ijson.parse(stream):
        if prefix == "" and event == "map_key" and value in ("releases", "records"):
            return f"{value}.item"
    return None


class _SeenOcids:
    """The ocids already read, on disk so memory does not grow with the number of processes."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="ggzy-ocds-")
        self._db = sqlite3.connect(Path(self._folder.name) / "seen.sqlite")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (ocid TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, ocid: str) -> bool:
        """True when ``ocid`` was not seen before."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (ocid,))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()
