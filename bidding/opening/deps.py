"""The opening's dependencies, shared by its API (`bidding.opening.api`), pages
(`bidding.opening.web`) and live stream (`bidding.opening.live`).
"""

from __future__ import annotations

# Runtime imports: Litestar resolves dependency signatures at start-up.
from litestar.datastructures import State

from bidding.opening.record import OpeningRecords
from bidding.opening.service import OpeningService
from trading.kernel.settings import Settings
from trading.kernel.storage import Store, open_store


def _store(settings: Settings) -> Store:
    return open_store(settings)


async def provide_opening(state: State) -> OpeningService:
    """One `OpeningService` per application: its decryptions share transactions (group commit)."""
    service: OpeningService | None = state.get("opening_service")
    if service is None:
        settings: Settings = state.settings
        service = OpeningService(state.session_maker, settings, _store(settings))
        state["opening_service"] = service
    return service


async def provide_records(state: State) -> OpeningRecords:
    settings: Settings = state.settings
    return OpeningRecords(state.session_maker, settings, _store(settings))
