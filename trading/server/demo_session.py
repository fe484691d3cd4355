"""Demo data of the evaluation venues (评标场地): the centre's main evaluation room and a peer
platform's sub room, each with its seats, so an evaluation can choose a main and a sub venue and
the host can seat the committee at once.

Everything goes through `VenueCatalogue` (the same checks and ledger entries as the admin pages).
Idempotent: a venue whose code is already in the catalogue is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.venues.service import VenueCatalogue, VenueInput
from trading.kernel.auth.identity import Actor


@dataclass(frozen=True, slots=True)
class DemoVenue:
    venue: VenueInput
    seats: int


VENUES = (
    DemoVenue(
        VenueInput(
            code="HA-EVAL-MAIN",
            name="淮安市公共资源交易中心 第一评标室",
            region_code="320800",
            owner="own",
            address="淮安市清江浦区水渡口大道 1 号 5 楼",
        ),
        9,
    ),
    DemoVenue(
        VenueInput(
            code="NJ-EVAL-SUB",
            name="南京市公共资源交易中心 远程评标副场 3 室",
            region_code="320100",
            owner="peer",
            platform="南京市公共资源交易平台",
            address="南京市建邺区江东中路 265 号",
        ),
        6,
    ),
)


async def seed_demo_venues(session: AsyncSession) -> list[str]:
    """Add the demo venues and their seats; returns summary lines (none when already there)."""
    catalogue = VenueCatalogue(session)
    system = Actor.system()
    added = []
    for item in VENUES:
        if await catalogue.repo.venue_by_code(item.venue.code) is not None:
            continue
        venue = await catalogue.create(item.venue, actor=system)
        for number in range(1, item.seats + 1):
            await catalogue.add_seat(venue.id, f"{number:02d} 号席", actor=system)
        added.append(venue.name)
    return [f"  evaluation venues: {', '.join(added)}"] if added else []
