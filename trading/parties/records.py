"""Platform-signed PDF records (开标记录, 评标报告, 中标通知书 …).

`sign_platform_pdf` adds the platform's PAdES signature to a rendered record
(`trading.kernel.pdf.render.render_pdf`): signed with the platform's record key — the receipt key,
``GGZY_CERTS_RECEIPT_P12`` (embedded: the development PKI's ``platform_signer``) — and timestamped
by the platform TSA in the caller's transaction (its serial row commits with the record).

The signature is PAdES B-T. Not yet B-LT/B-LTA: `certs.sign.pades.RevocationMaterial` validates
with pyHanko in hard-fail mode from trust roots, but the trust list recognises issuing CAs, not
roots, so the revocation cache holds no CRL for the CAs themselves; with a listed CA as the trust
anchor pyHanko cannot build the CRL issuer's path (``InsufficientRevinfoError``). Archival
extension is a decision for `certs` (see the report of the change that added this module).

Signing is incremental: earlier signatures (the host's, bidders' confirmations) stay valid, and
later ones can be added after the platform's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from certs.cms import SigningIdentity
from certs.sign.pades import SealAppearance, sign_pdf
from trading.kernel import signing
from trading.kernel.settings import Settings
from trading.parties.certificates import tsa as platform_tsa

PLATFORM_FIELD = "PlatformSignature"


def platform_identity(settings: Settings) -> SigningIdentity:
    """The platform's record-signing key (the receipt key), read once per file version."""
    return signing.load_identity(
        settings.certs.receipt_p12, settings.certs.receipt_p12_password, setting="GGZY_CERTS_RECEIPT_P12"
    )


@dataclass(frozen=True)
class SessionTsa:
    """The platform TSA in the caller's transaction (a `certs.tsa.client.TsaTransport`)."""

    session: AsyncSession
    settings: Settings
    client_ip: str | None = None

    async def request(self, request_der: bytes) -> bytes:
        return await platform_tsa.timestamp(self.session, self.settings, request_der, client_ip=self.client_ip)


async def sign_platform_pdf(
    pdf: bytes,
    settings: Settings,
    session: AsyncSession,
    *,
    reason: str,
    location: str,
    field_name: str = PLATFORM_FIELD,
    seal: SealAppearance | None = None,
) -> bytes:
    """``pdf`` with the platform's PAdES B-T signature (signature plus a platform TSA timestamp).

    Raises `trading.kernel.signing.SigningKeyUnavailable` or
    `trading.parties.errors.TimestampServiceUnavailable` when a key is missing.
    """
    return await sign_pdf(
        pdf,
        platform_identity(settings),
        tsa=SessionTsa(session, settings),
        field_name=field_name,
        reason=reason,
        location=location,
        seal=seal,
        lta=False,
    )
