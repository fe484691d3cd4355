"""What bidding asks of a signed statement (a bid's manifest, a withdrawal, an objection to the
documents): the detached CAdES signature verifies over the exact statement, and its certificate,
valid for bid signatures at the database time, names the organisation that acts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from certs.sign.cades import DetachedSignature, verify_detached
from certs.trustlist.model import Usage
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import signer_party


def verified(
    statement: bytes, signature: bytes, *, refusal: type[DomainError], what: str = "the signature does not verify"
) -> DetachedSignature:
    """The signature over ``statement``, or ``refusal`` naming the field ``signature`` and why."""
    try:
        return verify_detached(statement, signature)
    except Refused as exc:
        raise refusal(f"{what}: {exc.text}", field="signature", rule=exc.reason.value) from None


async def signer_must_be(
    session: AsyncSession,
    settings: Settings,
    signed: DetachedSignature,
    *,
    uscc: str,
    at: datetime,
    refusal: type[DomainError],
    signed_what: str,
    not_by: str,
    rule: str,
) -> None:
    """The signer's certificate is accepted for bid signatures at ``at`` and names ``uscc``."""
    try:
        party = await signer_party(session, settings, signed, usage=Usage.BID_SIGNATURE, at=at)
    except Refused as exc:
        raise refusal(
            f"the signing certificate is not accepted: {exc.text}", field="signature", rule=exc.reason.value
        ) from None
    if party.identifier != uscc:
        raise refusal(
            f"{signed_what} by {party.name} ({party.identifier}), not by {not_by}", field="signature", rule=rule
        )
