"""A bid revoked after the deadline (撤销, `bidding.intake.revocation`) at the opening.

Plugged into intake's revocation by `trading.server.wiring` (core never imports the opening): in the
revocation's transaction, the bid's seat that still waits for its decryption (``pending``, or
``escrow-pending``) gets the outcome ``revoked`` with the revocation as its cause, so it is neither
decrypted nor read out and no longer holds up 唱标. A bid already opened keeps its outcome (its price
was read out and is in the record); the evaluation leaves it out by the bid's status.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid
from bidding.opening.models import OpeningBid, Outcome
from bidding.opening.stages import decide_bid
from trading.kernel.auth.identity import Actor

UNDECIDED = frozenset({Outcome.PENDING, Outcome.ESCROW_PENDING})


async def bid_revoked(
    session: AsyncSession, bid: Bid, *, receipt_no: str, now: datetime, actor: Actor, code: str
) -> None:
    """The revoked bid's seats still waiting for a decryption get the outcome ``revoked``."""
    rows = await session.scalars(
        sa.select(OpeningBid)
        .where(OpeningBid.bid_id == bid.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for row in rows:
        if row.outcome in UNDECIDED:
            cause = f"revoked by the bidder after the deadline (撤销), revocation receipt {receipt_no}"
            await decide_bid(
                session, row, Outcome.REVOKED, cause, now=now, actor=actor, code=code, revocation=receipt_no
            )
