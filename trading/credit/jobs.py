"""Sweep handlers: an effective record becomes expired at ``valid_until``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.repository import CreditRepository
from trading.credit.service import CreditService


class CreditExpiry:
    """Marks records whose period ran out; eligibility never waits for it (it reads the period)."""

    name = "credit.record_expiry"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await CreditRepository(session).due(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        record_id = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        return await CreditService(session).expire_if_due(record_id, now)


SWEEP_HANDLERS = (CreditExpiry(),)
