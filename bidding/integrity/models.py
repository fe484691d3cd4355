"""Integrity's tables, prefixed ``integrity_``.

``integrity_rule_versions`` keeps every version of every rule, written once and never changed: an
alert names the ``(rule_id, version)`` it was raised by and must stay explainable after the rule
changes. The current version of a rule is its highest. ``integrity_alerts`` are advisory findings
(nothing in bidding reads them), deduplicated by ``dedupe_key`` so re-screening a lot with the same
rule version adds nothing. ``integrity_reviews`` is an alert's lifecycle, one row a transition.
``integrity_lot_screenings`` keeps each lot's combined score per scope, for distributions.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData


class IntegrityRuleVersion(UUIDPrimaryKey, Base):
    """One version of one rule: ``definition`` holds the screens' ``Rule`` fields as JSON."""

    __tablename__ = "integrity_rule_versions"
    __table_args__ = (sa.UniqueConstraint("rule_id", "version"),)

    rule_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSONData)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    """Who wrote it; empty for the shipped default (the platform stored it)."""
    author_name: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class IntegrityAlert(UUIDPrimaryKey, Base):
    """What a screen found about a lot (or the market), with the rule version that found it."""

    __tablename__ = "integrity_alerts"

    dedupe_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """SHA-256 of (ocid, lot, scope, rule, version, subjects): one alert per finding, ever."""
    rule_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    rule_version: Mapped[int]
    scope: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16), index=True)
    hard: Mapped[bool]
    score: Mapped[float]
    summary: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONData)
    subjects: Mapped[list[str]] = mapped_column(JSONData)
    tender_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    """The tender on ggzy; empty for market findings and outside (OCDS) data."""
    ocid: Mapped[str] = mapped_column(sa.String(200), index=True)
    """The tender's code on ggzy, the ocid of outside data, or a market's name."""
    lot: Mapped[str] = mapped_column(sa.String(200))
    """The lot's id; empty for a single-lot tender or a market finding."""
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class IntegrityReview(UUIDPrimaryKey, Base):
    """One step of an alert's lifecycle, with who took it and why."""

    __tablename__ = "integrity_reviews"

    alert_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("integrity_alerts.id"), index=True)
    from_status: Mapped[str] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    reviewer_name: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime]


class IntegrityLotScreening(UUIDPrimaryKey, Base):
    """A lot's latest combined score for one scope, and the values behind it (for charts)."""

    __tablename__ = "integrity_lot_screenings"
    __table_args__ = (sa.UniqueConstraint("ocid", "lot", "scope"),)

    tender_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_tenders.id"), index=True)
    ocid: Mapped[str] = mapped_column(sa.String(200))
    lot: Mapped[str] = mapped_column(sa.String(200))
    scope: Mapped[str] = mapped_column(sa.String(32), index=True)
    score: Mapped[float]
    flagged: Mapped[bool]
    values: Mapped[dict[str, Any]] = mapped_column(JSONData)
    computed_at: Mapped[datetime]


class IntegrityMarketState(Base):
    """The market screens' state, kept between runs so a newly opened lot is folded in at once;
    the daily batch rebuilds it from every opened lot. Kept as `MarketState.to_bytes` in ``data``
    (migration 0053); a row kept earlier has only ``state``, the JSON of `MarketState.to_json`.
    """

    __tablename__ = "integrity_market_states"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    """One market per platform for now: ``platform``."""
    state: Mapped[str | None] = mapped_column(sa.Text)
    """The JSON form (format 1), read when ``data`` is empty; no longer written."""
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    """The binary form (format 2)."""
    lots: Mapped[int]
    updated_at: Mapped[datetime]
