"""Fixtures for the guarantor API: the development PKI and trust list loaded into PostgreSQL (the
certificate tests' fixtures), the dev guarantor onboarded with its real certificate, a bidder's paid
or fresh application, and a client that signs its requests as the guarantor's system would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki, Identity
from tests.trading.guarantees.factories import SYSTEM, organisation
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa, settings
from trading.guarantees import httpsig, service
from trading.guarantees.models import GuaranteeApplication, GuaranteeKind, GuaranteeProduct, Guarantor
from trading.kernel.settings import Settings
from trading.parties.models import Organisation, OrganisationKind

__all__ = ["dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings"]


@dataclass
class Bank:
    """An onboarded guarantor, its signing identity and its bid product."""

    guarantor: Guarantor
    identity: Identity
    product: GuaranteeProduct


@dataclass
class Parties:
    bidder: Organisation
    tenderee: Organisation


async def onboard(session: AsyncSession, settings: Settings, identity: Identity) -> Bank:
    bank = await organisation(session, settings, OrganisationKind.BANK)
    row = await service.onboard_guarantor(
        session, SYSTEM, organisation_id=bank.id, issuing_certificate=identity.cert_pem, callback_url=None
    )
    product = await service.add_product(
        session, SYSTEM, row.id, kind=GuaranteeKind.BID, name="投标保函", fee_rate_percent=Decimal("0.5")
    )
    return Bank(row, identity, product)


@pytest.fixture
async def bank(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki, dev_lists: None
) -> Bank:
    del dev_lists
    async with session_maker() as session, session.begin():
        return await onboard(session, settings, dev_pki.guarantor)


@pytest.fixture
async def parties(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Parties:
    async with session_maker() as session, session.begin():
        return Parties(
            await organisation(session, settings),
            await organisation(session, settings, OrganisationKind.PURCHASER_UNIT),
        )


async def apply(
    session_maker: async_sessionmaker[AsyncSession], bank: Bank, parties: Parties, *, paid: bool = False, **changes: Any
) -> GuaranteeApplication:
    values: dict[str, Any] = {
        "product_id": bank.product.id,
        "applicant_organisation_id": parties.bidder.id,
        "beneficiary_name": parties.tenderee.name,
        "beneficiary_uscc": parties.tenderee.uscc,
        "project_code": f"G-{uuid.uuid4().hex[:8]}",
        "lot_code": "001",
        "lot_name": "第一标段",
        "amount": Decimal("80000.00"),
        "valid_from": date(2026, 12, 1),
        "valid_until": date(2027, 3, 31),
    }
    values.update(changes)
    async with session_maker() as session, session.begin():
        application = await service.apply(session, SYSTEM, service.ApplicationRequest(**values))
        if paid:
            await service.mark_paid(session, SYSTEM, application.id)
        return application


@dataclass
class Signed:
    """Sends requests signed with ``identity`` (optionally naming another certificate) through ``http``."""

    http: httpx.AsyncClient
    identity: Identity
    certificate: x509.Certificate | None = None

    async def get(self, path: str, **params: str) -> httpx.Response:
        url = httpx.URL(f"http://testserver.local/api/v1/guarantor{path}", params=params or None)
        return await self.send("GET", url, b"", {})

    async def post(self, path: str, body: bytes, *, key: str | None = None) -> httpx.Response:
        url = httpx.URL(f"http://testserver.local/api/v1/guarantor{path}")
        headers = {"Content-Type": "application/json", "Idempotency-Key": key or uuid.uuid4().hex}
        return await self.send("POST", url, body, headers)

    def sign(self, method: str, url: httpx.URL, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        return httpsig.sign_request(
            method=method,
            url=str(url),
            headers=headers,
            body=body,
            key=self.identity.key,  # type: ignore[arg-type]
            certificate=self.certificate or self.identity.certificate,
        )

    async def send(self, method: str, url: httpx.URL, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.request(method, url, content=body, headers=self.sign(method, url, body, headers))


@pytest.fixture
def signed(client: httpx.AsyncClient, bank: Bank) -> Signed:
    return Signed(client, bank.identity)
