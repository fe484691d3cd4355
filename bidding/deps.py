"""The services bidding's API and pages depend on, one provider each (Litestar ``Provide``)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.intake.service import IntakeService
from bidding.objections import DocumentObjections
from bidding.tenders.service import TenderService
from trading.kernel.settings import Settings
from trading.kernel.storage import Store, open_store


def file_store(settings: Settings) -> Store:
    return open_store(settings)


async def provide_tenders(db_session: NamedDependency[AsyncSession], state: State) -> TenderService:
    settings: Settings = state.settings
    return TenderService(db_session, settings, file_store(settings))


async def provide_objections(db_session: NamedDependency[AsyncSession], state: State) -> DocumentObjections:
    return DocumentObjections(db_session, state.settings)


async def provide_intake(state: State) -> IntakeService:
    """Intake opens its own short units of work (see `bidding.intake`), so it takes the session maker."""
    settings: Settings = state.settings
    return IntakeService(state.session_maker, settings, file_store(settings))
