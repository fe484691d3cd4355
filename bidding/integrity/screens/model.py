"""What the screens read and what they say, as plain frozen values shared by every screen.

The same values come from ggzy's own tables (``bidding.integrity`` builds them) and from an OCDS
package (``bidding.integrity.ocds``), so a screen never knows where its data came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Severity(StrEnum):
    RED = "red"  # act on it: hard evidence or a strong statistical signal
    AMBER = "amber"  # look at it
    INFO = "info"  # a value worth showing, not a warning


class Scope(StrEnum):
    """What a rule looks at; an alert's subject follows from it."""

    LOT_PRICES = "lot-prices"  # the valid bids' prices of one lot
    LOT_EVIDENCE = "lot-evidence"  # the signals captured with the bids of one lot (铁证)
    LOT_DOCUMENTS = "lot-documents"  # the opened documents of one lot
    EVALUATION = "evaluation"  # the experts' scores of one evaluation
    MARKET = "market"  # bidders, groups and experts over many tenders


class InvalidPrice(ValueError):
    """A price no screen can use: not finite, zero or negative. Refused by name, never skipped."""

    def __init__(self, bidder: str, amount: object) -> None:
        self.bidder = bidder
        self.amount = amount
        super().__init__(f"bid of {bidder!r}: amount {amount!r} must be a finite number > 0")


@dataclass(frozen=True, slots=True)
class BidPrice:
    """One valid bid's price in the lot's currency."""

    bidder: str  # a stable id: the party's id on ggzy, the tenderer's id in OCDS
    amount: float
    submitted_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount, (int, float)) or not math.isfinite(self.amount) or self.amount <= 0:
            raise InvalidPrice(self.bidder, self.amount)


@dataclass(frozen=True, slots=True)
class LotBids:
    """The valid bids of one lot, with what the price screens need to know about the lot."""

    ocid: str  # the tender's code on ggzy, the ocid in OCDS
    lot: str | None  # the lot's id; None for a single-lot tender
    bids: tuple[BidPrice, ...]  # valid bids only (reference §1.3: screens run over valid bids)
    currency: str | None = None
    estimate: float | None = None  # the estimate, budget or 最高限价 when published
    winner: str | None = None  # the awarded bidder, when known
    buyer: str | None = None  # the tenderee / buyer id
    market: str | None = None  # the stratum for percentiles: item category × year
    date: date | None = None  # the bid deadline
    price_formula: str | None = None  # "lowest", "mean" …: mean-price lots form their own stratum


@dataclass(frozen=True, slots=True)
class BidSignals:
    """What was captured with one bid (issue 19 §1), for the hard-evidence screens.

    Every field is optional: an OCDS package or an old bid carries none of them.
    """

    bidder: str
    bidder_name: str | None = None
    device_hash: str | None = None  # the client's salted hash of hardware identifiers
    file_digests: tuple[str, ...] = ()  # SHA-256 of each file inside the opened package
    authoring: tuple[Mapping[str, str], ...] = ()  # per file: creator, author, producer, created
    submit_ip: str | None = None
    decrypt_ip: str | None = None
    guarantee_issuer: str | None = None
    guarantee_payer_account: str | None = None
    contacts: tuple[str, ...] = ()  # normalised phone numbers and e-mail addresses
    project_manager: str | None = None  # the project manager's identity number or name
    texts: tuple[str, ...] = ()  # the opened files' text, for names or seals of other bidders


@dataclass(frozen=True, slots=True)
class Finding:
    """What a screen found: advisory, explained, with its evidence. Never a verdict."""

    rule: str  # the rule's id, e.g. "PRICE-CV"
    rule_version: int
    severity: Severity
    summary: str  # one Chinese sentence a supervisor reads first
    evidence: Mapping[str, object] = field(default_factory=dict)  # JSON-serialisable
    subjects: tuple[str, ...] = ()  # the bidders (or experts) concerned
    score: float = 0.0  # points added to the lot's combined score (0 for hard evidence)
    hard: bool = False  # 铁证: statutory "视为串通" evidence, kept apart from the score
