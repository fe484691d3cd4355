"""Which guarantor a request's key id names, and whether its certificate may sign now: the lookup
`api_auth.authenticate` asks (registered by ``trading.server.wiring.use_guarantor_api``).

The key id is the hex SHA-256 of the API certificate's DER (``Guarantor.api_cert_sha256``). The
certificate itself is the guarantor's issuing certificate when the two are the same (the demo); a
separate API certificate is not stored by the core, so such a guarantor's requests are refused until
it is (``api_certificate_unknown``, said in the problem's detail). The certificate is validated like
any other on the platform — the trust list in force, usage ``guarantee``, revocation through the
database cache (`trading.parties.certificates.trust.trust_context`) — at every request: a revoked or
delisted certificate stops working at once. A suspended guarantor's key is known but refused.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from certs.trustlist.model import Usage
from trading.guarantees import service
from trading.guarantees.api_auth import GuarantorKey, GuarantorKeys
from trading.guarantees.models import GuarantorStatus
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import PlatformRefused, trust_context


def guarantor_keys(settings: Settings) -> GuarantorKeys:
    """The lookup over onboarded guarantors, validating certificates under ``settings``' trust list."""

    async def lookup(session: AsyncSession, key_id: str, now: datetime, /) -> GuarantorKey | None:
        guarantor = await service.guarantor_by_api_key(session, key_id)
        if guarantor is None or guarantor.issuing_cert_sha256 != guarantor.api_cert_sha256:
            # Unknown, or an API certificate the core keeps only the hash of: nothing to verify with.
            return None
        certificate = x509.load_der_x509_certificate(guarantor.issuing_cert_der)
        guarantor_id = str(guarantor.id)
        if guarantor.status != GuarantorStatus.ACTIVE:
            return GuarantorKey(guarantor_id, certificate, refusal=f"the guarantor is {guarantor.status.value}")
        try:
            context = await trust_context(session, settings, now)
            await context.validator.validate(certificate, (), at=now, usage=Usage.GUARANTEE)
        except PlatformRefused as refusal:
            return GuarantorKey(guarantor_id, certificate, refusal=f"no trust list to judge it: {refusal}")
        except Refused as refusal:
            return GuarantorKey(guarantor_id, certificate, refusal=f"{refusal.reason.value}: {refusal.text}")
        return GuarantorKey(guarantor_id, certificate)

    return lookup
