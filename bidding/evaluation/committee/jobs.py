"""Sweep handler of the committee: a drawn expert who did not answer in time is timed out and the
group's next reserve seated (`members.Memberships.time_out_if_due`: lock, re-check, act once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.repository import CommitteeRepository


class AnswerDue:
    name = "evaluation.member_answer_due"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await CommitteeRepository(session).due_answers(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"member keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await Memberships(session).time_out_if_due(key, now)


SWEEP_HANDLERS = (AnswerDue(),)
