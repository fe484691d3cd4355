"""Opening tables, prefixed ``bidding_opening_``.

One `OpeningSession` per tender (created by the deadline sweep when enough bids are in), one
`OpeningBid` per bid that counts at the deadline (its current, submitted version), the key
holders' released shares, the bidders' objections with the host's answers, and the bidders'
signed confirmations. The decrypted price summary is stored on the bid row (it is read out in
public at 唱标); the decrypted package goes to the file store (namespace ``opened``), never into
the database.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates

from bidding.opening_stage import STAGE_ORDER, STAGE_ORDER_WITH_COEFFICIENTS, Stage
from trading.kernel.db.base import Base, UUIDPrimaryKey

__all__ = [
    "FINAL_OUTCOMES",
    "READ_OUT",
    "STAGE_ORDER",
    "STAGE_ORDER_WITH_COEFFICIENTS",
    "CoefficientDraw",
    "Confirmation",
    "Objection",
    "OpeningBid",
    "OpeningSession",
    "Outcome",
    "PartStatus",
    "ReleasedShare",
    "Stage",
    "read_out_total",  # defined in core (the visibility rules decide by it), stored in these tables
]


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class PartStatus(StrEnum):
    SEALED = "sealed"
    OPENED = "opened"


class Outcome(StrEnum):
    PENDING = "pending"  # the window runs; not (fully) decrypted yet
    DECRYPTED = "decrypted"  # opened with the bidder's keys
    ESCROW_PENDING = "escrow-pending"  # a platform-side incident, the remedy waits for k shares
    ESCROW = "escrow"  # opened with k of n key holders' shares (the tender's remedy)
    REVOKED = "revoked"  # 撤销: not decrypted by the bidder's fault (Order 20 Art. 31)
    WITHDRAWN = "withdrawn"  # 撤回: not decrypted for a cause outside the bidder (Order 20 Art. 31)


FINAL_OUTCOMES = frozenset({Outcome.DECRYPTED, Outcome.ESCROW, Outcome.REVOKED, Outcome.WITHDRAWN})
READ_OUT = frozenset({Outcome.DECRYPTED, Outcome.ESCROW})
"""Outcomes of a bid opened in full (price summary and package)."""


class OpeningSession(UUIDPrimaryKey, Base):
    """The opening of one tender: its stage, the running stage's end, pause state, timeline."""

    __tablename__ = "bidding_opening_sessions"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), unique=True)
    host_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    """The tender's agency if any, else the tenderee."""
    stage: Mapped[Stage] = mapped_column(_enum(Stage), index=True)
    stage_started_at: Mapped[datetime]
    stage_ends_at: Mapped[datetime | None]
    """When the running stage ends by itself (NULL: it waits for the host, or the session is paused)."""
    paused_at: Mapped[datetime | None]
    remaining_seconds: Mapped[int | None]
    """While paused: what was left of the running stage's time, given back on resume."""
    decryption_closed_at: Mapped[datetime | None]
    """When the decryption window ended and the outcomes were applied."""
    failed_reason: Mapped[str | None] = mapped_column(sa.String(500))
    """流标: why the opening did not proceed (too few bids); the session is then born closed."""
    lots: Mapped[dict[str, Any]]
    """``{"<lot code>": {"bids": n, "status": "opening" | "failed", "reason": …}}``."""
    timeline: Mapped[dict[str, Any]]
    """``{"events": [{"event", "stage", "at", "by", …}]}``: every transition, in order."""
    record_storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    record_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class OpeningBid(UUIDPrimaryKey, Base):
    """One bid at the opening: what of it is open, and its outcome with the cause."""

    __tablename__ = "bidding_opening_bids"
    __table_args__ = (sa.UniqueConstraint("session_id", "bid_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_sessions.id"), index=True)
    bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_bids.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_bid_versions.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_lots.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    bidder_uscc: Mapped[str] = mapped_column(sa.String(40))
    bidder_name: Mapped[str] = mapped_column(sa.String(300))
    signed_in_at: Mapped[datetime | None]
    price_status: Mapped[PartStatus] = mapped_column(_enum(PartStatus))
    price_summary: Mapped[dict[str, Any] | None]
    """The decrypted 开标一览表 (read out at 唱标), checked against the manifest's contentSha256."""
    total_price: Mapped[float | None] = mapped_column(sa.Double(), default=None)
    """The summary's ``totalPrice`` as a number (`read_out_total`: positive and finite, else NULL),
    set with ``price_summary`` and only by it (`_total_with_summary`): the market batch reads this
    column instead of the JSON (issue 19; migration 0055 filled it for rows read out before)."""
    price_opened_at: Mapped[datetime | None]
    package_status: Mapped[PartStatus] = mapped_column(_enum(PartStatus))
    package_content_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    """The content key that opened the package: it stays sealed in the file store and is decrypted
    again where it is read (`bidding.opening.decryption.reopen_package`), checked against
    ``package_sha256``. Set only once the package is open, when it is no longer secret from the platform.
    """
    package_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    package_opened_at: Mapped[datetime | None]
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    cause: Mapped[str | None] = mapped_column(sa.String(1000))
    incident: Mapped[dict[str, Any] | None]
    """A platform-side cause the host recorded: ``{"cause", "by", "at"}``."""
    failed_attempts: Mapped[int] = mapped_column(default=0)
    last_refusal: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]
    # Issue 19, read by the integrity screens only (never part of the opening's result):
    decrypt_ip: Mapped[str | None] = mapped_column(sa.String(45), default=None)
    """The client address of the bidder's first recorded decryption (or backup) of this bid."""
    package_files: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """``{"files": [{"name", "size", "sha256", "author", "created", …}]}``: the opened package's
    files with their authoring metadata (`bidding.opening.authoring.package_files`)."""
    declared_parties: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """The parties the opened package's structured response declares (`bidding.client.parties`:
    ``projectManager``, ``contacts``, ``bidSecurityPayer``, normalised), or ``{"problems": [rule…]}``
    when they break a rule; None without a response or without any. Confidential like the package."""

    @validates("price_summary")
    def _total_with_summary(self, _key: str, summary: dict[str, Any] | None) -> dict[str, Any] | None:
        """The one writer of ``total_price``: every assignment of the summary (constructor included)."""
        self.total_price = read_out_total(summary)
        return summary


def read_out_total(summary: dict[str, Any] | None) -> float | None:
    """The total price of a signed price summary as a number: ``totalPrice`` read as a decimal
    (a JSON string or number; Python's `Decimal` grammar, so " 2500.75 " and "1_000.5" too), None
    when missing, not a number, or not a positive finite number (the screens refuse those).
    """
    total = summary.get("totalPrice") if isinstance(summary, dict) else None
    if total is None:
        return None
    try:
        amount = float(Decimal(str(total)))
    except (InvalidOperation, ValueError):
        return None
    return amount if math.isfinite(amount) and amount > 0 else None


class ReleasedShare(UUIDPrimaryKey, Base):
    """A key holder's released shares (one per sealed part) for one bid, with its signature."""

    __tablename__ = "bidding_opening_shares"
    __table_args__ = (sa.UniqueConstraint("opening_bid_id", "holder_sha256"),)

    opening_bid_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_bids.id"), index=True)
    holder_sha256: Mapped[str] = mapped_column(sa.String(64))
    """The key holder's encryption certificate, as listed in the tender."""
    holder_index: Mapped[int]
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    statement: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """The signed release statement (canonical JSON, with the shares), exactly as signed."""
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    released_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    released_at: Mapped[datetime]


class Objection(UUIDPrimaryKey, Base):
    """A bidder's signed objection at the opening and the host's answer (实施条例 Art. 44)."""

    __tablename__ = "bidding_opening_objections"

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_sessions.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    filed_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    text: Mapped[str] = mapped_column(sa.String(4000))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    """Detached CAdES (DER) over the UTF-8 text, by the bidder's signing certificate."""
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(4000))
    answered_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    answered_at: Mapped[datetime | None]


class Confirmation(UUIDPrimaryKey, Base):
    """A bidder's signed confirmation of the opening result (absence at the end = acceptance)."""

    __tablename__ = "bidding_opening_confirmations"
    __table_args__ = (sa.UniqueConstraint("session_id", "organisation_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_sessions.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    confirmed_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    statement: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signer_sha256: Mapped[str] = mapped_column(sa.String(64))
    confirmed_at: Mapped[datetime]


class CoefficientDraw(UUIDPrimaryKey, Base):
    """A random coefficient (浮动系数, K) drawn in public in the hall, from a seed committed before.

    The seed's SHA-256 is published when the opening starts; the seed is revealed at the draw, and
    the value is ``low + step · i`` with ``i`` derived from the seed (`trading.kernel.draws`), so
    anyone can recompute it. One row per coefficient the tender's method needs.
    """

    __tablename__ = "bidding_opening_coefficient_draws"
    __table_args__ = (sa.UniqueConstraint("session_id", "name"),)

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_opening_sessions.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    low: Mapped[str] = mapped_column(sa.String(40))
    high: Mapped[str] = mapped_column(sa.String(40))
    step: Mapped[str] = mapped_column(sa.String(40))
    seed_commitment: Mapped[str] = mapped_column(sa.String(64))
    committed_at: Mapped[datetime]
    seed: Mapped[str | None] = mapped_column(sa.String(128))
    value: Mapped[str | None] = mapped_column(sa.String(40))
    """The drawn value as a decimal string (NULL until drawn)."""
    drawn_at: Mapped[datetime | None]
    drawn_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
