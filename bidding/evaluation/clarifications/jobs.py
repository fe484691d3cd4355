"""Sweep handler of the clarifications: an unanswered request past its due time is marked overdue
(`Clarifications.mark_overdue_if_due`: lock, re-check, act once), on ``next_check``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.clarifications.repository import ClarificationRepository
from bidding.evaluation.clarifications.service import Clarifications
from trading.kernel.settings import get_settings


class ClarificationDue:
    name = "evaluation.clarification_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await ClarificationRepository(session).due(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"clarification keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await Clarifications(session, get_settings()).mark_overdue_if_due(key, now)


SWEEP_HANDLERS = (ClarificationDue(),)
