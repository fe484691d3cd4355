"""Request bodies and answers of the opening API (``/api/v1/bidding/opening``).

The answers keep the JSON the hall has always sent (the bidder client, `ggzy bid` and the hall's
script read it): times are the ISO strings the services write, and a key the caller may not see at
this stage (`bidding.visibility.OpeningPolicy`) is left out (``msgspec.UNSET``), not sent as null.
A bidder's price summary is its own signed JSON, so its fields are typed ``Any``.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from bidding.opening.models import Outcome, PartStatus, Stage
from trading.kernel.bounds import Input


class DecryptionCreate(Input, rename="camel"):
    """A content key the bidder unwrapped on its own machine, for one part of its bid for a lot."""

    lot: str
    part: Literal["price-summary", "package"]
    content_key: str


class TransitionCreate(Input, rename="camel"):
    """The host's move: the next stage, or pause/resume (the running stage's remaining time is kept)."""

    action: Literal["decryption", "price-reading", "coefficient-draw", "confirmation", "closed", "pause", "resume"]
    reason: str = ""


class IncidentCreate(Input, rename="camel"):
    """A platform-side cause of a bidder's failure to decrypt, recorded by the host in the window."""

    lot: str
    bidder: str
    cause: str


class SharesCreate(Input, rename="camel"):
    """A key holder's shares of one bid (base64 per part) and its CAdES signature (base64 DER) over
    `bidding.client.format.share_release_statement`.
    """

    lot: str
    bidder: str
    shares: dict[str, str]
    signature: str


class ObjectionCreate(Input, rename="camel"):
    """An objection's text and the bidder's CAdES signature (base64 DER) over its UTF-8 bytes."""

    text: str
    signature: str


class AnswerCreate(Input, rename="camel"):
    answer: str


class ConfirmationCreate(Input, rename="camel"):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.confirmation_statement`."""

    signature: str


class SignInCreate(Input, rename="camel"):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.sign_in_statement`."""

    signature: str


# --- answers ----------------------------------------------------------------------------------------


class BidStatusRead(msgspec.Struct, rename="camel"):
    """One bid's state after a bidder's, host's or key holder's action."""

    bidder: str
    price_summary: PartStatus
    package: PartStatus
    outcome: Outcome
    cause: str | None


class SessionRead(msgspec.Struct, rename="camel"):
    """The opening's stage after a transition, pause or resume."""

    stage: Stage
    paused: bool
    stage_ends_at: str | None
    remaining_seconds: int | None


class ObjectionRead(msgspec.Struct, rename="camel"):
    """An objection as filed or answered."""

    id: str
    text: str
    filed_at: str
    answer: str | None
    answered_at: str | None


class ConfirmationRead(msgspec.Struct, rename="camel"):
    confirmed_at: str
    signer_sha256: str


class HostSignatureRead(msgspec.Struct, rename="camel"):
    """The host-signed record that is now the published one."""

    sha256: str
    previous_sha256: str | None
    signer_sha256: str
    at: str


class EnvelopePartRead(msgspec.Struct, rename="camel"):
    header: dict[str, Any]
    """The part's cleartext envelope header (wrapped keys, binding)."""
    sha256: str
    status: PartStatus


class EnvelopesRead(msgspec.Struct, rename="camel"):
    """A bid's envelopes, per part (``price-summary``, ``package``)."""

    lot: str
    bidder: str
    receipt_no: str
    outcome: Outcome
    parts: dict[str, EnvelopePartRead]


class LotStateRead(msgspec.Struct, rename="camel"):
    """A lot at the deadline: its bids and whether it opens (``opening``) or failed (流标, with the reason)."""

    bids: int | UnsetType = UNSET
    status: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET


class BidCountsRead(msgspec.Struct, rename="camel"):
    total: int
    signed_in: int
    opened: int
    prices_opened: int
    packages_opened: int


class DecryptionRowRead(msgspec.Struct, rename="camel"):
    """One bid's progress in the hall (no prices)."""

    lot: str
    bidder: str
    bidder_name: str
    signed_in: bool
    price_summary: PartStatus
    package: PartStatus
    outcome: Outcome
    cause: str | None
    incident: bool
    failed_attempts: int


class PriceLineRead(msgspec.Struct, rename="camel"):
    """A line of the price table (唱标); the prices only where the caller may see them."""

    lot: str
    bidder: str
    bidder_name: str
    outcome: Outcome
    cause: str | None
    currency: Any = UNSET
    total_price: Any = UNSET
    duration_days: Any = UNSET
    items: Any = UNSET


class HallObjectionRead(msgspec.Struct, rename="camel"):
    """An objection as the hall and the record show it (with the bidder's name and signer)."""

    id: str
    bidder: str | None
    text: str
    signer_sha256: str
    filed_at: str | None
    answer: str | None
    answered_at: str | None


class CoefficientRead(msgspec.Struct, rename="camel"):
    """A random coefficient of the hall (抽取系数, `bidding.opening.coefficients`): the range and the
    seed's commitment from the opening's start; the seed and the value once drawn (recompute with
    `bidding.coefficients.derive` or ``ggzy bid coefficients``).
    """

    name: str
    low: str
    high: str
    step: str
    purpose: str
    seed_commitment: str
    committed_at: str
    seed: str | None
    value: str | None
    drawn_at: str | None


class OpeningView(msgspec.Struct, rename="camel"):
    """The hall's state for the caller (`HallView.view`)."""

    tender: str
    title: str
    stage: Stage
    paused: bool
    server_time: str
    stage_ends_at: str | None
    remaining_seconds: int | None
    decryption_closed_at: str | None
    failed_reason: str | None
    lots: dict[str, LotStateRead]
    bids: BidCountsRead
    decryption_window_open: bool
    role: str
    audience: str
    decryption: list[DecryptionRowRead] | UnsetType = UNSET
    price_table: list[PriceLineRead] | UnsetType = UNSET
    price_table_sha256: str | UnsetType = UNSET
    objections: list[HallObjectionRead] | UnsetType = UNSET
    coefficients: list[CoefficientRead] = msgspec.field(default_factory=list)
    next_stage: Stage | None = None
    """The stage the host moves to next (抽取系数 only for tenders with coefficients)."""


class RecordTenderKeyHolders(msgspec.Struct):
    n: int
    k: int | None
    remedy: bool


class RecordTenderRead(msgspec.Struct, rename="camel"):
    code: str
    title: str
    category: str
    deadline: str | None
    tenderee: str | None
    agency: str | None
    key_holders: RecordTenderKeyHolders


class RecordLotRead(msgspec.Struct, rename="camel"):
    code: str
    name: str
    estimate: str
    bids: int | UnsetType = UNSET
    status: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET


class RecordHostRead(msgspec.Struct):
    organisation: str | None
    uscc: str | None


class RecordBidRead(PriceLineRead, rename="camel"):
    """A price line with when each part was opened, the incident and the sign-in."""

    price_opened_at: str | None = None
    package_opened_at: str | None = None
    package_sha256: str | None = None
    incident: dict[str, Any] | None = None
    signed_in_at: str | None = None


class RecordConfirmationRead(msgspec.Struct, rename="camel"):
    bidder: str
    bidder_name: str
    confirmed: bool
    confirmed_at: str | None
    signer_sha256: str | None
    deemed_accepted: bool
    """87号令 Art. 42: a bidder who does not confirm by the end accepts the result."""


class RecordLedgerRead(msgspec.Struct):
    chain: str
    head: str | None
    sequence: int | None


class OpeningRecordRead(msgspec.Struct, rename="camel"):
    """The opening record's data (开标记录) as far as the caller may see it."""

    tender: RecordTenderRead
    lots: list[RecordLotRead]
    host: RecordHostRead
    stage: Stage
    failed_reason: str | None
    created_at: str | None
    closed_at: str | None
    timeline: list[dict[str, Any]]
    bids: list[RecordBidRead]
    objections: list[HallObjectionRead]
    confirmations: list[RecordConfirmationRead]
    ledger: RecordLedgerRead
    coefficients: list[CoefficientRead] = msgspec.field(default_factory=list)
