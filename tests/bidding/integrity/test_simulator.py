"""The simulator: deterministic per seed, every planted kind present with its truth, an OCDS round trip,
and the scoring of detections against the truth with hand-computed precision and recall."""

from __future__ import annotations

import io
import json
import statistics
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from bidding.integrity.ocds import read_lots
from bidding.integrity.simulator import (
    BID_ROTATION,
    COPIED_PRICE,
    COVER_BIDDING,
    IDENTICAL_DOCUMENTS,
    KINDS,
    SHARED_DEVICE,
    LotKey,
    LotTruth,
    SimulatedMarket,
    evaluate_detections,
    iter_simulated,
    simulate,
    to_ocds_package,
)
from trading.server.cli import main


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return simulate(11, 300)


def lots_of(market: SimulatedMarket, kind: str | None) -> list[LotKey]:
    return [key for key, truth in market.truth.items() if (kind in truth.kinds if kind else not truth.kinds)]


def cv(amounts: list[float]) -> float:
    return statistics.stdev(amounts) / statistics.fmean(amounts)


def test_the_same_seed_gives_the_same_market_and_another_seed_another(market: SimulatedMarket) -> None:
    again = simulate(11, 300)

    assert again.lots == market.lots
    assert again.signals == market.signals
    assert again.truth == market.truth
    assert simulate(12, 300).lots != market.lots


def test_every_planted_kind_is_present_and_honest_lots_have_3_to_12_bidders(market: SimulatedMarket) -> None:
    counts = Counter(kind for truth in market.truth.values() for kind in truth.kinds)

    assert all(counts[kind] >= 5 for kind in KINDS), counts
    honest = [lot for lot in market.lots if not market.truth[(lot.ocid, lot.lot)].kinds]
    assert len(honest) > len(market.lots) / 2
    assert all(3 <= len(lot.bids) <= 12 for lot in honest)
    assert all(lot.winner == min(lot.bids, key=lambda bid: bid.amount).bidder for lot in market.lots)


def test_cover_bidding_lots_are_won_by_a_member_with_the_covers_clustered_above(market: SimulatedMarket) -> None:
    for key in lots_of(market, COVER_BIDDING):
        truth = market.truth[key]
        lot = next(lot for lot in market.lots if (lot.ocid, lot.lot) == key)
        amounts = sorted(bid.amount for bid in lot.bids)
        assert {bid.bidder for bid in lot.bids} == set(truth.members)
        assert truth.price_traces
        assert lot.winner in truth.members
        losers = amounts[1:]
        gap = amounts[1] - amounts[0]
        # the covers' spread is small against the first gap: RD = gap / s_L > 1 (reference §1.3)
        assert len(losers) < 2 or gap / statistics.stdev(losers) > 1


def test_honest_lots_are_dispersed_more_than_cover_lots(market: SimulatedMarket) -> None:
    honest = statistics.median(
        cv([b.amount for b in lot.bids]) for lot in market.lots if not market.truth[(lot.ocid, lot.lot)].kinds
    )
    covers = statistics.median(
        cv([b.amount for b in lot.bids])
        for lot in market.lots
        if COVER_BIDDING in market.truth[(lot.ocid, lot.lot)].kinds
    )
    assert covers < honest / 1.5


def test_bid_rotation_members_take_turns_winning_the_groups_lots(market: SimulatedMarket) -> None:
    keys = lots_of(market, BID_ROTATION)
    winners = [next(lot.winner for lot in market.lots if (lot.ocid, lot.lot) == key) for key in keys]
    group = market.truth[keys[0]].members

    assert all(market.truth[key].members == group and COVER_BIDDING in market.truth[key].kinds for key in keys)
    assert winners[: len(group)] == [group[i % len(group)] for i in range(min(len(group), len(winners)))]
    assert set(winners) == set(group)


def test_identical_documents_share_the_proposal_and_honest_bids_share_only_the_tender_text(
    market: SimulatedMarket,
) -> None:
    for key in lots_of(market, IDENTICAL_DOCUMENTS):
        truth = market.truth[key]
        assert not truth.price_traces
        proposals = {
            signal.texts[0].split("技术标（施工组织设计）")[1].split("投标人：")[0]
            for signal in market.signals[key]
            if signal.bidder in truth.members
        }
        assert len(proposals) == 1
    key = lots_of(market, None)[0]
    signals = market.signals[key]
    honest_proposals = [signal.texts[0].split("技术标（施工组织设计）")[1] for signal in signals]
    assert len(set(honest_proposals)) == len(signals)
    tender_lines = set(market.tender_texts[key].split("\n")[1:])
    for signal in signals:
        quoted = tender_lines & set(signal.texts[0].split("\n"))
        assert len(quoted) >= 3  # honest bids quote long parts of the tender document


def test_shared_devices_and_copied_prices_are_planted_on_the_members_only(market: SimulatedMarket) -> None:
    for key in lots_of(market, SHARED_DEVICE):
        members = set(market.truth[key].members)
        devices = {s.bidder: s.device_hash for s in market.signals[key]}
        assert len({devices[m] for m in members}) == 1
        assert len(set(devices.values())) == len(devices) - len(members) + 1
    for key in lots_of(market, COPIED_PRICE):
        truth = market.truth[key]
        assert truth.price_traces
        assert len(truth.members) == 2
        lot = next(lot for lot in market.lots if (lot.ocid, lot.lot) == key)
        first, second = (next(b.amount for b in lot.bids if b.bidder == m) for m in truth.members)
        assert 0.000009 < abs(second / first - 1) < 0.00011


def test_the_ocds_package_round_trip_gives_the_same_lots(market: SimulatedMarket) -> None:
    data = b"".join(to_ocds_package(market))
    package = json.loads(data)

    assert package["version"] == "1.1"
    assert len(package["extensions"]) == 2
    assert list(read_lots(io.BytesIO(data))) == list(market.lots)


def test_the_streamed_lots_equal_the_market_and_can_leave_texts_out() -> None:
    streamed = list(iter_simulated(3, 50, texts=False))

    assert tuple(item.bids for item in streamed) == simulate(3, 50).lots
    assert all(signal.texts == () for item in streamed for signal in item.signals)


def test_simulate_refuses_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="lots ≥ 1"):
        simulate(1, 0)


def test_ggzy_alerts_simulate_writes_the_package_and_prints_what_was_planted(tmp_path: Path) -> None:
    out = tmp_path / "market.json"

    result = CliRunner().invoke(main, ["alerts", "simulate", "--seed", "5", "--lots", "60", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "模拟市场（种子 5）：60 个标段" in result.output
    assert "cover-bidding:" in result.output
    with out.open("rb") as stream:
        assert list(read_lots(stream)) == list(simulate(5, 60).lots)


# --- evaluate_detections: hand-computed precision and recall ------------------------------------------

COVER = LotTruth(frozenset({COVER_BIDDING}), ("a", "b", "c"), price_traces=True)
DEVICE = LotTruth(frozenset({SHARED_DEVICE}), ("a", "b"), price_traces=False)
HONEST = LotTruth()
TRUTH: dict[LotKey, LotTruth] = {
    ("o1", None): COVER,
    ("o2", None): COVER,
    ("o3", "1"): DEVICE,
    ("o3", "2"): HONEST,
    ("o4", None): HONEST,
    ("o5", None): HONEST,
}
RULE_KINDS = {"PRICE-RD": {COVER_BIDDING}, "EVID-DEVICE": {SHARED_DEVICE}}


@pytest.mark.parametrize(
    ("fired", "flagged", "rows", "combined"),
    [
        # RD fires on o1 (TP) and o4 (FP), misses o2: P = 1/2, R = 1/2; the device rule: P = R = 1
        (
            {("o1", None): {"PRICE-RD"}, ("o4", None): {"PRICE-RD"}, ("o3", "1"): {"EVID-DEVICE"}},
            {("o1", None): True, ("o2", None): True, ("o4", None): True, ("o3", "1"): True},
            {"PRICE-RD": (1, 1, 1, 0.5, 0.5), "EVID-DEVICE": (1, 0, 0, 1.0, 1.0)},
            # the device lot is left out of the combined row: TP o1, o2; FP o4 → P = 2/3, R = 1
            (2, 1, 0, 2 / 3, 1.0),
        ),
        # nothing fires: precision undefined, recall 0
        ({}, {}, {"PRICE-RD": (0, 0, 2, None, 0.0), "EVID-DEVICE": (0, 0, 1, None, 0.0)}, (0, 0, 2, None, 0.0)),
    ],
)
def test_evaluate_detections_table(
    fired: dict[LotKey, set[str]],
    flagged: dict[LotKey, bool],
    rows: dict[str, tuple[int, int, int, float | None, float | None]],
    combined: tuple[int, int, int, float | None, float | None],
) -> None:
    report = evaluate_detections(TRUTH, fired, flagged, RULE_KINDS)

    got = {
        s.name: (s.true_positives, s.false_positives, s.false_negatives, s.precision, s.recall) for s in report.rules
    }
    assert got == rows
    c = report.combined
    assert (c.true_positives, c.false_positives, c.false_negatives, c.precision, c.recall) == combined
    assert (report.lots, report.left_out_of_combined) == (6, 1)


def test_the_report_prints_a_table() -> None:
    report = evaluate_detections(TRUTH, {("o1", None): {"PRICE-RD"}}, {("o1", None): True}, RULE_KINDS)

    lines = report.to_text().splitlines()
    assert lines[0].split() == ["rule", "TP", "FP", "FN", "precision", "recall", "planted", "kinds"]
    assert lines[2].split() == ["PRICE-RD", "1", "0", "1", "100.0%", "50.0%", COVER_BIDDING]
    assert lines[3].split()[:8] == ["combined", "lot", "flag", "1", "0", "1", "100.0%", "50.0%"]


@pytest.mark.parametrize(
    ("fired", "flagged", "message"),
    [
        ({("nope", None): {"PRICE-RD"}}, {}, "fired: lot ('nope', None) is not in the truth"),
        ({}, {("nope", "1"): True}, "flagged: lot ('nope', '1') is not in the truth"),
        ({("o1", None): {"PRICE-CV"}}, {}, "fired: rule 'PRICE-CV' has no entry in rule_kinds"),
    ],
)
def test_evaluate_detections_refuses_unknown_lots_and_rules(
    fired: dict[LotKey, set[str]], flagged: dict[LotKey, bool], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate_detections(TRUTH, fired, flagged, RULE_KINDS)


def test_no_lot_has_hard_evidence_that_was_not_planted(market: SimulatedMarket) -> None:
    for key, signals in market.signals.items():
        planted_device = SHARED_DEVICE in market.truth[key].kinds
        for field in ("submit_ip", "project_manager", "contacts", "device_hash"):
            values = [getattr(signal, field) for signal in signals]
            if field == "device_hash" and planted_device:
                continue
            assert len(set(values)) == len(values), (key, field)


def test_the_package_carries_the_fields_ocds_1_1_requires(market: SimulatedMarket) -> None:
    package = json.loads(b"".join(to_ocds_package(market)))

    assert {"uri", "publisher", "publishedDate", "releases", "version"} <= package.keys()
    assert package["publisher"]["name"]
    for release in package["releases"]:
        assert {"ocid", "id", "date", "tag", "initiationType"} <= release.keys()
        assert release["ocid"].startswith("ocds-")
        assert release["tender"]["id"]
        assert all(award["id"] for award in release["awards"])
        assert all(bid["id"] and bid["status"] == "valid" for bid in release["bids"]["details"])
        lots = {lot["id"] for lot in release["tender"].get("lots", [])}
        assert {lot for bid in release["bids"]["details"] for lot in bid.get("relatedLots", [])} == lots
        roles = {party["id"]: party["roles"] for party in release["parties"]}
        assert "buyer" in roles[release["buyer"]["id"]]
