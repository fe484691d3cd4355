"""Running the pure screens over a whole market: an OCDS package from any platform, or the
simulator's market with its planted cartels. ``ggzy alerts screen`` and ``ggzy alerts evaluate``
are thin commands over this module.

Pure like the screens (import contract): the same code runs inside the platform and on a laptop
with somebody else's data. Per lot: the price screens (and, when the data has them, the document
similarity and the hard evidence); over the whole package: the market screens, fed lot by lot
(`MarketState`) so a package is read once, streaming.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from bidding.integrity.ocds import Unusable, read_lots
from bidding.integrity.screens import evidence, market, prices, similarity
from bidding.integrity.screens.model import BidSignals, Finding, LotBids
from bidding.integrity.screens.rules import RuleSet
from bidding.integrity.simulator import (
    BID_ROTATION,
    COPIED_PRICE,
    COVER_BIDDING,
    IDENTICAL_DOCUMENTS,
    SHARED_DEVICE,
    LotKey,
    Report,
    SimulatedLot,
    evaluate_detections,
    iter_simulated,
)

# What each rule is meant to catch among the simulator's planted kinds (for precision and recall).
# Market rules name groups of bidders, not lots: a lot counts as found by one when at least two of
# the finding's bidders bid in it (`_lots_touched`). Rules not listed (market share, 标王, cover
# bidders, expert draws) speak about parties over time, and the simulator plants nothing per lot
# for them: their figures come from the market tests instead. Nor does it plant identical prices,
# progressions or shared typos: those rules are tested on their own cases (tests/bidding/integrity).
RULE_KINDS: Mapping[str, set[str]] = {
    "PRICE-CV": {COVER_BIDDING, BID_ROTATION},
    "PRICE-RD": {COVER_BIDDING, BID_ROTATION},
    "PRICE-COVER": {COVER_BIDDING, BID_ROTATION},
    "PRICE-SKEW": {COVER_BIDDING, BID_ROTATION},
    "PRICE-NEAR-IDENTICAL": {COPIED_PRICE},
    "PRICE-CEILING": {COVER_BIDDING, BID_ROTATION},
    "EVID-DEVICE": {SHARED_DEVICE},
    similarity.SIMILAR: {IDENTICAL_DOCUMENTS},
    similarity.CLUSTER: {IDENTICAL_DOCUMENTS},
    market.COBID_GROUP: {BID_ROTATION},
    market.ROTATION: {BID_ROTATION},
}
LOT_MARKET_RULES = frozenset({market.COBID_GROUP, market.ROTATION, market.SHARED_IDENTITY})


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_safe(value: Any) -> Any:
    """Evidence as JSON: tuples as lists, non-finite floats as null."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def alert_record(ocid: str | None, lot: str | None, finding: Finding) -> dict[str, Any]:
    """One alert as the command writes it (one JSON object per line)."""
    return {
        "type": "alert",
        "ocid": ocid,
        "lot": lot,
        "rule": finding.rule,
        "ruleVersion": finding.rule_version,
        "severity": finding.severity.value,
        "score": finding.score,
        "hard": finding.hard,
        "summary": finding.summary,
        "subjects": list(finding.subjects),
        "evidence": _json_safe(finding.evidence),
    }


@dataclass
class Tally:
    """What a run could and could not screen, for the closing summary."""

    lots: int = 0
    bids: int = 0
    flagged: int = 0
    not_screened: dict[str, int] = field(default_factory=dict)
    unusable: dict[str, int] = field(default_factory=dict)
    market_notes: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)

    def count_alert(self, rule: str) -> None:
        self.alerts[rule] = self.alerts.get(rule, 0) + 1


def screen_ocds(
    stream: BinaryIO, rules: RuleSet, tally: Tally, *, with_market: bool = True
) -> Iterator[dict[str, Any]]:
    """Screen every lot of an OCDS package, then the market it makes up.

    Yields, in order: per lot its alerts and one summary ``{"type": "lot", "ocid", "lot", "score",
    "flagged"}`` (also for a lot the price screens do not apply to, with ``notScreened``), a record
    ``{"type": "unusable", "ocid", "lot", "reason"}`` for every lot that cannot be screened, and at
    the end the market's alerts (``ocid`` and ``lot`` null: they name bidders, and their evidence
    names the lots). Memory: one lot at a time plus the market state (counts per bidder and pair).
    """
    state = market.MarketState() if with_market else None
    for item in read_lots(stream):
        if isinstance(item, Unusable):
            tally.unusable[item.reason] = tally.unusable.get(item.reason, 0) + 1
            yield {"type": "unusable", "ocid": item.ocid, "lot": item.lot, "reason": item.reason}
            continue
        yield from _screen_lot(item, rules, tally)
        if state is not None and item.bids:
            _add_to_market(state, item, tally)
    if state is not None:
        for finding in state.findings(rules):
            tally.count_alert(finding.rule)
            yield alert_record(None, None, finding)


def _add_to_market(state: market.MarketState, lot: LotBids, tally: Tally) -> None:
    """Fold the lot into the market. A winner the market cannot place (a consortium named as one
    supplier, a winner whose bid was not valid) is left out and the lot kept; any other problem
    leaves the lot out of the market screens. Either way the reason is counted, never fatal.
    """
    try:
        state.add_lot(lot)
    except market.MarketInputError as refused:
        if refused.field_name == "winner":
            reason = "market screens: the winner is not among the lot's valid bids (folded without it)"
            state.add_lot(replace(lot, winner=None))
        else:
            reason = f"market screens: lot left out ({refused.field_name})"
        tally.market_notes[reason] = tally.market_notes.get(reason, 0) + 1


def _screen_lot(lot: LotBids, rules: RuleSet, tally: Tally) -> Iterator[dict[str, Any]]:
    tally.lots += 1
    tally.bids += len(lot.bids)
    screening = prices.screen_prices(lot, rules)
    for finding in screening.findings:
        tally.count_alert(finding.rule)
        yield alert_record(lot.ocid, lot.lot, finding)
    summary: dict[str, Any] = {
        "type": "lot",
        "ocid": lot.ocid,
        "lot": lot.lot,
        "score": screening.score,
        "flagged": screening.flagged,
        "bids": len(lot.bids),
        "contributions": dict(screening.contributions),
    }
    if screening.not_screened:
        summary["notScreened"] = screening.not_screened
        tally.not_screened[screening.not_screened] = tally.not_screened.get(screening.not_screened, 0) + 1
    tally.flagged += screening.flagged
    yield summary


# --- the simulator: precision and recall per rule and for the combined lot flag -----------------------


@dataclass(frozen=True)
class Evaluation:
    report: Report
    lots: int
    bids: int


def _lots_touched(finding: Finding, bidders_of: Mapping[LotKey, frozenset[str]]) -> list[LotKey]:
    subjects = set(finding.subjects)
    return [key for key, bidders in bidders_of.items() if len(subjects & bidders) >= 2]  # noqa: PLR2004 - a pair


def lot_findings(item: SimulatedLot, rules: RuleSet) -> tuple[list[Finding], bool]:
    """Every per-lot screen over one simulated lot: its findings and the combined (price) flag
    (hard evidence and documents are kept apart from the flag, reference §7 F.2).
    """
    screening = prices.screen_prices(item.bids, rules)
    findings = list(screening.findings)
    findings += evidence.screen_evidence(item.bids.ocid, item.bids.lot, item.signals, rules)
    texts = _texts(item.signals)
    if len(texts) >= 2:  # noqa: PLR2004 - similarity compares pairs
        findings += similarity.screen_documents(item.bids.ocid, item.bids.lot, item.tender_text, texts, rules)
    return findings, screening.flagged


def _texts(signals: Sequence[BidSignals]) -> dict[str, str]:
    return {signal.bidder: "\n".join(signal.texts) for signal in signals if signal.texts}


def evaluate_simulated(seed: int, lots: int, rules: RuleSet) -> Evaluation:
    """Simulate a market (``simulator.iter_simulated``), run every screen on it and score them
    against the planted truth (``simulator.evaluate_detections``).
    """
    truth = {}
    fired: dict[LotKey, set[str]] = {}
    flagged: dict[LotKey, bool] = {}
    bidders_of: dict[LotKey, frozenset[str]] = {}
    state = market.MarketState()
    bids = 0
    for item in iter_simulated(seed, lots):
        key = (item.bids.ocid, item.bids.lot)
        truth[key] = item.truth
        bidders_of[key] = frozenset(bid.bidder for bid in item.bids.bids)
        bids += len(item.bids.bids)
        findings, flag = lot_findings(item, rules)
        fired[key] = {finding.rule for finding in findings if finding.rule in RULE_KINDS}
        flagged[key] = flag
        state.add_lot(item.bids, item.signals)
    for finding in state.findings(rules):
        if finding.rule in LOT_MARKET_RULES and finding.rule in RULE_KINDS:
            for key in _lots_touched(finding, bidders_of):
                fired[key].add(finding.rule)
    return Evaluation(evaluate_detections(truth, fired, flagged, RULE_KINDS), len(truth), bids)
