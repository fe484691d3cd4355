"""Demo data for electronic guarantees: the demo bank (user ``guarantor``) onboarded as a guarantor
with the development PKI's guarantor certificate (issued under ``guarantor_ca``, recognised on the
development trust list for the usage ``guarantee``) and a bid-guarantee product. Nothing twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import service
from trading.guarantees.models import GuaranteeKind
from trading.guarantees.repository import GuaranteesRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.parties.repository import OrganisationRepository


async def seed_demo_guarantor(
    session: AsyncSession, settings: Settings, manifest: dict[str, Any], *, bank_uscc: str
) -> list[str]:
    """Onboard the demo bank with a bid product; lines for the start-up summary."""
    out = settings.certs.dev_ca_dir
    leaf = manifest.get("leaves", {}).get("guarantor")
    bank = await OrganisationRepository(session).by_uscc(bank_uscc)
    if out is None or leaf is None or bank is None:
        return []
    if await GuaranteesRepository(session).guarantor_of_organisation(bank.id) is not None:
        return []
    pem = (out / leaf["pem"]).read_bytes()  # the leaf first, then its chain: the first is read
    guarantor = await service.onboard_guarantor(
        session, Actor.system(), organisation_id=bank.id, issuing_certificate=pem
    )
    await service.add_product(
        session,
        Actor.system(),
        guarantor.id,
        kind=GuaranteeKind.BID,
        name="投标保函（电子）",
        fee_rate_percent=Decimal("0.5"),
        minimum_fee=Decimal("200.00"),
    )
    return [f"  onboarded guarantor {guarantor.display_name} with a bid-guarantee product"]
