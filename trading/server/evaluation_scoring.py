"""The scoring part's provider: its service over the request's session, with the opened packages
plugged in from the opening hall (``bidding.evaluation`` may not import ``bidding.opening``).
"""

from __future__ import annotations

# Runtime imports: Litestar resolves dependency signatures at start-up.
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.evaluation.scoring.service import Scoring
from bidding.opening.deps import provide_opening
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store


async def provide_scoring(db_session: NamedDependency[AsyncSession], state: State) -> Scoring:
    settings: Settings = state.settings

    async def opened_package(code: str, lot: str, bidder: str) -> bytes:
        opening = await provide_opening(state)
        return await opening.hall.opened_package(code, lot, bidder)

    return Scoring(ScoringRepository(db_session), open_store(settings), opened_package)
