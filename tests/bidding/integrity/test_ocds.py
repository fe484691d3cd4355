"""The OCDS reader on hand-written packages and on the real samples shipped with ocdskit."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bidding.integrity.ocds import NOT_A_PACKAGE, NOT_PRICE_COMPETITIVE, Unusable, market_stratum, read_lots
from bidding.integrity.screens.model import BidPrice, LotBids
from trading.server.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
NO_BIDS = "no bids: bids.details (bids extension) is absent or empty"


def package(*releases: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps({"uri": "x", "version": "1.1", "releases": list(releases)}).encode())


def bid(bid_id: str, tenderer: str | None, amount: object, currency: str = "CNY", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": bid_id, "value": {"amount": amount, "currency": currency}, **extra}
    if tenderer is not None:
        entry["tenderers"] = [{"id": tenderer, "name": f"name of {tenderer}"}]
    return entry


def release(
    ocid: str, bids: list[dict[str, Any]], *, when: str = "2025-03-01T00:00:00Z", **tender: Any
) -> dict[str, Any]:
    return {"ocid": ocid, "id": f"{ocid}-{when}", "date": when, "tender": tender, "bids": {"details": bids}}


class Unseekable(io.RawIOBase):
    """A pipe-like stream: the reader must not seek it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_multi_lot_release_gives_one_lot_bids_per_lot_with_its_estimate_winner_and_market() -> None:
    tender: dict[str, Any] = {
        "procurementMethod": "open",
        "awardCriteria": "priceOnly",
        "mainProcurementCategory": "works",
        "value": {"amount": 300, "currency": "CNY"},
        "tenderPeriod": {"endDate": "2025-02-10T09:30:00+08:00"},
        "lots": [
            {"id": "L1", "value": {"amount": 100, "currency": "CNY"}},
            {
                "id": "L2",
                "value": {"amount": 200, "currency": "CNY"},
                "tenderPeriod": {"endDate": "2025-02-12T09:30:00+08:00"},
            },
        ],
        "items": [
            {"id": "i1", "relatedLot": "L1", "classification": {"scheme": "CPV", "id": "45000000"}},
            {"id": "i2", "relatedLot": "L2", "classification": {"scheme": "CPV", "id": "30213100"}},
        ],
    }
    bids = [
        bid("1", "A", 90, relatedLots=["L1"], status="valid", date="2025-02-09T10:00:00+00:00"),
        bid("2", "B", 95.5, relatedLots=["L1"], status="pending"),
        bid("3", "C", 80, relatedLots=["L1"], status="disqualified"),
        bid("4", "A", 180, relatedLots=["L2"]),
        bid("5", "B", 190, relatedLots=["L2"], status="withdrawn"),
        bid("6", "D", 170, relatedLots=["L2"], status="invited"),
    ]
    data = release("ocds-1", bids, **tender)
    data["buyer"] = {"id": "T1", "name": "buyer"}
    data["awards"] = [
        {"id": "a1", "status": "active", "suppliers": [{"id": "A"}], "relatedLots": ["L1"]},
        {"id": "a2", "status": "cancelled", "suppliers": [{"id": "D"}], "relatedLots": ["L2"]},
        {"id": "a3", "status": "pending", "suppliers": [{"id": "A"}], "relatedLots": ["L2"]},
    ]

    assert list(read_lots(package(data))) == [
        LotBids(
            ocid="ocds-1",
            lot="L1",
            bids=(BidPrice("A", 90.0, datetime(2025, 2, 9, 10, tzinfo=UTC)), BidPrice("B", 95.5)),
            currency="CNY",
            estimate=100.0,
            winner="A",
            buyer="T1",
            market="works|CPV:45000000|2025",
            date=date(2025, 2, 10),
            price_formula="lowest",
        ),
        LotBids(
            ocid="ocds-1",
            lot="L2",
            bids=(BidPrice("A", 180.0),),  # withdrawn and invited bids are not valid bids
            currency="CNY",
            estimate=200.0,
            winner="A",  # the pending award: the cancelled one does not count
            buyer="T1",
            market="works|CPV:30213100|2025",
            date=date(2025, 2, 12),
            price_formula="lowest",
        ),
    ]


def test_a_record_package_reads_the_compiled_release_else_the_last_release() -> None:
    compiled = release("ocds-c", [bid("1", "A", 10), bid("2", "B", 11)])
    old = release("ocds-r", [bid("1", "A", 1)], when="2025-01-01T00:00:00Z")
    last = release("ocds-r", [bid("1", "A", 20), bid("2", "C", 21)], when="2025-02-01T00:00:00Z")
    records = {
        "records": [
            {"ocid": "ocds-c", "compiledRelease": compiled, "releases": [{"url": "x"}]},
            {"ocid": "ocds-r", "releases": [old, last]},
        ]
    }

    lots = list(read_lots(io.BytesIO(json.dumps(records).encode())))

    assert [(lot.ocid, lot.lot, [b.amount for b in lot.bids]) for lot in lots if isinstance(lot, LotBids)] == [
        ("ocds-c", None, [10.0, 11.0]),
        ("ocds-r", None, [20.0, 21.0]),
    ]


@pytest.mark.parametrize(
    ("bids", "reason"),
    [
        ([bid("1", "A", 10, "CNY"), bid("2", "B", 11, "USD")], "currencies mixed within the lot: CNY, USD"),
        ([bid("1", "A", 10), {"id": "2", "tenderers": [{"id": "B"}]}], "valid bid '2' of 'B': value.amount is missing"),
        ([bid("1", "A", 10), bid("2", "B", "12,5")], "valid bid '2' of 'B': value.amount '12,5' is not a number"),
        ([bid("1", "A", 10), bid("2", "B", 0)], "valid bid '2': bid of 'B': amount 0.0 must be a finite number > 0"),
        ([bid("1", "A", -3)], "valid bid '1': bid of 'A': amount -3.0 must be a finite number > 0"),
        ([bid("1", None, 10)], "valid bid '1': tenderers[].id and .name are missing"),
        (
            [],
            f"{NO_BIDS}; tender.tenderers lists 0 parties without prices; 0 award(s)",
        ),
    ],
)
def test_an_unusable_lot_is_reported_with_its_reason_and_the_next_release_is_still_read(
    bids: list[dict[str, Any]], reason: str
) -> None:
    lots = list(read_lots(package(release("ocds-bad", bids), release("ocds-good", [bid("1", "A", 5)]))))

    assert lots[0] == Unusable("ocds-bad", None, reason)
    assert isinstance(lots[1], LotBids)
    assert lots[1].ocid == "ocds-good"


def test_a_disqualified_bid_with_a_bad_value_does_not_spoil_the_lot() -> None:
    [lot] = read_lots(package(release("ocds-1", [bid("1", "A", 10), bid("2", "B", 0, "USD", status="disqualified")])))

    assert isinstance(lot, LotBids)
    assert lot.bids == (BidPrice("A", 10.0),)


def test_prozorro_active_bids_count_as_valid_and_its_other_statuses_do_not() -> None:
    bids = [
        bid("1", "UA-1", 43789.0, "UAH", status="active"),
        bid("2", "UA-2", 43788.9, "UAH", status="active"),
        bid("3", "UA-3", 42074.56, "UAH", status="unsuccessful"),
    ]

    [lot] = read_lots(package(release("ocds-be6bcu-UA", bids)))

    assert isinstance(lot, LotBids)
    assert [(b.bidder, b.amount) for b in lot.bids] == [("UA-1", 43789.0), ("UA-2", 43788.9)]
    assert lot.currency == "UAH"


def test_a_bid_with_one_value_for_several_lots_makes_those_lots_unusable() -> None:
    tender: dict[str, Any] = {"lots": [{"id": "1"}, {"id": "2"}, {"id": "3"}]}
    bids = [bid("x", "A", 10, relatedLots=["1", "2"]), bid("y", "B", 11, relatedLots=["3"])]

    lots = list(read_lots(package(release("ocds-1", bids, **tender))))

    assert lots[:2] == [
        Unusable("ocds-1", "1", "bid 'x' has one value for several lots: its price per lot is unknown"),
        Unusable("ocds-1", "2", "bid 'x' has one value for several lots: its price per lot is unknown"),
    ]
    assert isinstance(lots[2], LotBids)
    assert lots[2].lot == "3"


def test_a_lot_without_bids_is_reported() -> None:
    lots = list(
        read_lots(package(release("ocds-1", [bid("1", "A", 10, relatedLots=["1"])], lots=[{"id": "1"}, {"id": "2"}])))
    )

    assert lots[1] == Unusable("ocds-1", "2", "no bids published for this lot")


def test_direct_procurement_is_marked_not_price_competitive_and_a_foreign_estimate_is_dropped() -> None:
    data = release("ocds-1", [bid("1", "A", 10)], procurementMethod="direct", value={"amount": 12, "currency": "USD"})

    [lot] = read_lots(package(data))

    assert isinstance(lot, LotBids)
    assert (lot.price_formula, lot.estimate) == (NOT_PRICE_COMPETITIVE, None)


def test_contiguous_releases_of_one_ocid_are_merged_later_fields_and_awards_winning() -> None:
    first = release("ocds-1", [bid("1", "A", 10)], when="2025-01-01T00:00:00Z", value={"amount": 50})
    first["awards"] = [{"id": "a", "status": "pending", "suppliers": [{"id": "A"}]}]
    second = release("ocds-1", [bid("1", "A", 10), bid("2", "B", 9)], when="2025-02-01T00:00:00Z", value={"amount": 60})
    second["awards"] = [
        {"id": "a", "status": "cancelled", "suppliers": [{"id": "A"}]},
        {"id": "b", "status": "active", "suppliers": [{"id": "B"}]},
    ]

    # the later release comes first in the package: date order decides, not package order
    [lot] = read_lots(package(second, first))

    assert isinstance(lot, LotBids)
    assert (len(lot.bids), lot.estimate, lot.winner) == (2, 60.0, "B")


def test_an_ocid_that_comes_back_after_another_is_reported_not_merged_twice() -> None:
    lots = list(
        read_lots(
            package(
                release("ocds-1", [bid("1", "A", 10)]),
                release("ocds-2", [bid("1", "A", 10)]),
                release("ocds-1", [bid("1", "B", 10)]),
            )
        )
    )

    assert lots[2] == Unusable(
        "ocds-1",
        None,
        "releases of this ocid are not contiguous in the package; compile the package first (ocdskit compile)",
    )


def test_a_stream_that_cannot_seek_is_read_the_same() -> None:
    data = package(release("ocds-1", [bid("1", "A", 10), bid("2", "B", 12.25)])).getvalue()

    seekable = list(read_lots(io.BytesIO(data)))
    piped = list(read_lots(io.BufferedReader(Unseekable(data))))

    assert piped == seekable
    assert len(seekable) == 1


def test_a_record_package_from_a_pipe_is_read_like_from_a_file() -> None:
    records = {
        "records": [
            {"ocid": "ocds-c", "compiledRelease": release("ocds-c", [bid("1", "A", 10)])},
            {"ocid": "ocds-l", "releases": [{"url": "https://example.org/r.json", "date": "2025-01-01T00:00:00Z"}]},
        ]
    }
    data = json.dumps(records).encode()
    linked = Unusable(
        "ocds-l", None, "the record has neither compiledRelease nor an embedded release (linked releases only)"
    )

    piped = list(read_lots(io.BufferedReader(Unseekable(data))))

    assert piped == list(read_lots(io.BytesIO(data)))
    assert [type(entry) for entry in piped] == [LotBids, Unusable]
    assert piped[1] == linked


@pytest.mark.parametrize("document", [b'{"ocid": "ocds-1", "tender": {}}', b"[]", b'{"uri": "x"}'])
def test_json_that_is_not_a_package_is_one_unusable_entry(document: bytes) -> None:
    assert list(read_lots(io.BytesIO(document))) == [Unusable("", None, NOT_A_PACKAGE)]
    assert list(read_lots(io.BufferedReader(Unseekable(document)))) == [Unusable("", None, NOT_A_PACKAGE)]


def test_market_stratum() -> None:
    assert market_stratum("works", "CPV:45", 2025) == "works|CPV:45|2025"
    assert market_stratum(None, "CPV:45", None) == "-|CPV:45|-"
    assert market_stratum(None, None, 2025) is None


def test_the_real_samples_from_ocdskit_are_read_and_say_why_they_cannot_be_screened() -> None:
    with (FIXTURES / "ocdskit-cdmx-release-package.json").open("rb") as stream:
        cdmx = list(read_lots(stream))
    with (FIXTURES / "ocdskit-mx-record-package.json").open("rb") as stream:
        federal = list(read_lots(stream))

    # two releases of one ocid merged into one process; tenders and awards, but no bids extension
    assert cdmx == [
        Unusable(
            "OCDS-87SD3T-AD-SF-DRM-063-2015",
            None,
            f"{NO_BIDS}; tender.tenderers lists 2 parties without prices; 1 award(s)",
        )
    ]
    assert federal == [
        Unusable(
            "ocds-07smqs-993235",
            None,
            f"{NO_BIDS}; tender.tenderers lists 0 parties without prices; "
            "2 award(s); procurementMethod 'direct' is not price-competitive",
        )
    ]


def test_ocds_inspect_prints_lots_and_unusable_records(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(
        package(
            release("ocds-1", [bid("1", "A", 10), bid("2", "B", 11)]), release("ocds-2", [bid("1", "A", 0)])
        ).getvalue()
    )

    result = CliRunner().invoke(main, ["alerts", "ocds-inspect", str(path)])

    assert result.exit_code == 0, result.output
    assert "ocds-1  标段 —：2 份有效投标" in result.output
    assert "不可用  ocds-2  标段 —：valid bid '1': bid of 'A': amount 0.0 must be a finite number > 0" in result.output
    assert result.output.rstrip().endswith("合计：可筛查标段 1 个（2 份有效投标），不可用 1 个")


def test_ocds_inspect_refuses_a_broken_package_with_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"releases": [')

    result = CliRunner().invoke(main, ["alerts", "ocds-inspect", str(path)])

    assert result.exit_code == 2
    assert "not a JSON package" in result.output
