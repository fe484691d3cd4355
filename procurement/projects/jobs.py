"""Sweep handler: a project about to start without a 30-day-old intention warns its purchaser and
the supervisory departments, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from procurement.projects.service import ProjectService


class IntentionWarning:
    name = "procurement.intention_missing"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await ProjectService(session).due(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        project_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await ProjectService(session).warn_if_due(project_id, now)


SWEEP_HANDLERS = (IntentionWarning(),)
