"""What the marketplace pages show beside the services' rows: the delivery clock and an intermediary's credit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import WARNING_BEFORE
from intermediary_market.models import Delivery
from intermediary_market.service import MarketService

# --- the delivery clock ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockView:
    state: str
    """``running``, ``warning``, ``overdue``, ``completed`` or ``completed_late`` (:data:`CLOCK_LABELS`)."""
    remaining: timedelta
    """Until the deadline (negative once past)."""

    @property
    def days(self) -> int:
        return int(self.remaining.total_seconds() // 86400)

    @property
    def hours(self) -> int:
        return int(abs(self.remaining.total_seconds()) % 86400 // 3600)


def clock_view(delivery: Delivery, now: datetime) -> ClockView:
    remaining = delivery.due_at - now
    if delivery.completed_at is not None:
        return ClockView("completed_late" if delivery.overdue else "completed", delivery.due_at - delivery.completed_at)
    if delivery.overdue or now >= delivery.due_at:
        return ClockView("overdue", remaining)
    if delivery.warned_at is not None or now >= delivery.due_at - WARNING_BEFORE:
        return ClockView("warning", remaining)
    return ClockView("running", remaining)


# --- credit as the pages show it ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditView:
    """An intermediary's credit as the pages show it: the snapshot when there is one, else computed."""

    score: Decimal
    grade: str
    components: dict[str, Any] = field(default_factory=dict)
    red_listed: bool = False
    blacklisted: bool = False
    computed_at: datetime | None = None


async def credit_view(
    session: AsyncSession, market: MarketService, organisation_id: uuid.UUID, now: datetime
) -> CreditView:
    line = await CreditService(session).line(organisation_id, now)
    if line is not None:
        return CreditView(
            line.score, line.grade, dict(line.components), line.red_listed, line.blacklisted, line.computed_at
        )
    score = await market.credit_of(organisation_id)
    listed = await market.repo.effective_blacklisting(organisation_id, now) is not None
    return CreditView(
        score.total,
        score.grade,
        {
            "regulator": str(score.regulator),
            "public_credit": str(score.public_credit),
            "social": str(score.social),
            "overdue_deduction": str(score.overdue_deduction),
        },
        blacklisted=listed,
    )
