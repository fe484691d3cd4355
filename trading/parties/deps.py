"""The parties services as Litestar dependencies, one provider each for the pages and the API."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from trading.parties.authentication import AuthenticationService
from trading.parties.certificates.bindings import BindingService
from trading.parties.certificates.login import CertificateService
from trading.parties.certificates.trust import TrustListService
from trading.parties.service import PartiesService


async def provide_parties_service(db_session: NamedDependency[AsyncSession], state: State) -> PartiesService:
    return PartiesService(db_session, state.settings)


async def provide_auth_service(db_session: NamedDependency[AsyncSession], state: State) -> AuthenticationService:
    return AuthenticationService(db_session, state.settings)


async def provide_certificate_service(db_session: NamedDependency[AsyncSession], state: State) -> CertificateService:
    return CertificateService(db_session, state.settings)


async def provide_binding_service(db_session: NamedDependency[AsyncSession], state: State) -> BindingService:
    return BindingService(db_session, state.settings)


async def provide_trust_list_service(db_session: NamedDependency[AsyncSession], state: State) -> TrustListService:
    return TrustListService(db_session, state.settings)
