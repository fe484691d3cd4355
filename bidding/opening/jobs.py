"""The opening's sweep handlers: the bid deadline that begins the opening (`TenderDeadline`), and the
opening's clock, which ends timed stages (sign-in, the decryption window, confirmation).

`OpeningClock.run` locks the session row, re-checks that it is due (not paused, its stage's end
passed by the database clock) and acts once; a repeated, late or concurrent sweep finds the row no
longer due and changes nothing. A worker restarted mid-window neither skips nor repeats the end:
the state is in the row, not in the worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import jobs
from bidding.opening import repository
from bidding.opening.stages import advance_if_due, start_opening


class OpeningClock:
    """Sign-in → decryption, the window's end (outcomes, then 唱标), confirmation → closed."""

    name = "bidding.opening_clock"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await repository.due_openings(session, now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await advance_if_due(session, key, now)


class TenderDeadline(jobs.TenderDeadline):
    """The bid deadline as the platform runs it: the tender closes and, in the same transaction,
    its opening begins (`start_opening`: a session in sign-in, or 流标 with too few bids).
    """

    at_close = (start_opening,)


SWEEP_HANDLERS = (TenderDeadline(), OpeningClock())
