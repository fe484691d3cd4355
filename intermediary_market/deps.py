"""The marketplace's services as Litestar dependencies, one definition for the API and the pages.

Each provider builds its service on the request's session (``db_session``, owned by the request:
the services only flush).
"""

from __future__ import annotations

from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import DeliveryService
from intermediary_market.reports import RegulatorReports
from intermediary_market.service import MarketService


async def provide_market(db_session: NamedDependency[AsyncSession]) -> MarketService:
    return MarketService(db_session)


async def provide_deliveries(db_session: NamedDependency[AsyncSession]) -> DeliveryService:
    return DeliveryService(db_session)


async def provide_blacklist(db_session: NamedDependency[AsyncSession]) -> BlacklistService:
    return BlacklistService(db_session)


async def provide_complaints(db_session: NamedDependency[AsyncSession]) -> ComplaintService:
    return ComplaintService(db_session)


async def provide_credit_service(db_session: NamedDependency[AsyncSession]) -> CreditService:
    return CreditService(db_session)


async def provide_reports(db_session: NamedDependency[AsyncSession]) -> RegulatorReports:
    return RegulatorReports(db_session)


DEPENDENCIES = {
    "market": Provide(provide_market),
    "deliveries": Provide(provide_deliveries),
    "blacklist": Provide(provide_blacklist),
    "complaints": Provide(provide_complaints),
    "credit_service": Provide(provide_credit_service),
    "reports": Provide(provide_reports),
}
"""Every marketplace service by the parameter name handlers ask for it with."""
