"""The tender's published 定标 rule (评定分离): one row per tender, table ``award_tender_rules``.

Set by the tenderee (or its agency) before the bid deadline (`award_rule.set_rule`), shown on the
public tender page, read by the award (`award.order_of`) through `succession.PublishedRule`. For a
draw the SHA-256 of the seed is published with the rule (``seed_sha256``); the seed itself is
revealed at 定标 and checked against it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData


class TenderAwardRule(UUIDPrimaryKey, Base):
    """A tender's 定标 rule as published (`succession.AwardRule`, `succession.TieBreak`)."""

    __tablename__ = "award_tender_rules"

    tender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bidding_tenders.id"), unique=True)
    rule: Mapped[str] = mapped_column(sa.String(32))
    tie_break: Mapped[str] = mapped_column(sa.String(32))
    voters: Mapped[list[str]] = mapped_column(JSONData, default=list)
    """``committee_vote``: the 定标委员会 members who vote."""
    seed_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    """The commitment to the draw's seed (the draw, or ties broken by the draw)."""
    set_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    set_at: Mapped[datetime]
