"""The demo's venue catalogue: the centre's main room and a peer's sub room with seats; seeding twice
adds nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Seat, Venue, VenueOwner
from trading.server import demo_session


async def test_the_demo_venues_are_seeded_once(session: AsyncSession) -> None:
    lines = await demo_session.seed_demo_venues(session)
    assert lines
    venues = {v.code: v for v in await session.scalars(sa.select(Venue))}
    assert venues["HA-EVAL-MAIN"].owner is VenueOwner.OWN
    assert venues["NJ-EVAL-SUB"].owner is VenueOwner.PEER
    assert venues["NJ-EVAL-SUB"].platform
    seats = await session.scalar(sa.select(sa.func.count()).select_from(Seat))
    assert seats == 15
    assert await demo_session.seed_demo_venues(session) == []
    assert await session.scalar(sa.select(sa.func.count()).select_from(Venue)) == 2
