"""The demo's venue catalogue: the centre's main room and a peer's sub room with seats; seeding twice
adds nothing. The server's wiring of the session machine."""

from __future__ import annotations

import inspect

import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Seat, Venue, VenueOwner
from bidding.evaluation.session import hooks
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


def test_the_server_hands_the_machine_the_scoring_finaliser(app: Litestar) -> None:
    """Entering report-signing computes the result with the scoring part's ``result.finalise``
    (and enqueues the report's rendering): the server registers it when it builds the application."""
    del app  # building the application registers it
    finalise = hooks.finaliser()
    assert finalise is not None
    assert finalise.__module__ == "trading.server.wiring"
    assert "scoring_result.finalise" in inspect.getsource(finalise)
