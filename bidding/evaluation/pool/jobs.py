"""Sweep handlers of the expert pool: a suspension that ran out restores the expert."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.service import ExpertPool


class SuspensionEnd:
    """Restores suspended experts whose ``suspended_until`` (``next_check``) has passed: ``run``
    locks the expert, re-checks and restores once (`ExpertPool.end_suspension_if_due`).
    """

    name = "evaluation.suspension_end"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await ExpertPool(session).repo.due_suspensions(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"expert keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await ExpertPool(session).end_suspension_if_due(key, now)


SWEEP_HANDLERS = (SuspensionEnd(),)
