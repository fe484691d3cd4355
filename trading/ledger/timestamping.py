"""RFC 3161 timestamps on checkpoints, from the platform TSA the composition root plugs in.

The platform TSA (``trading.parties.certificates.tsa``) sits above the ledger in the layers, so the ledger
does not import it: ``trading.server.wiring.use_platform_tsa`` registers a factory that gives a
`certs.tsa.client.TsaTransport` bound to the caller's session (the TSA's serial row then commits
with the checkpoint). Without a registered TSA (a bare script, some unit tests) checkpoints are
signed but not timestamped, and verification counts them as such.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from certs.tsa import client as tsa_client
from trading.kernel.errors import DomainError

log = structlog.get_logger(__name__)

TsaForSession = Callable[[AsyncSession], tsa_client.TsaTransport]

_platform_tsa: TsaForSession | None = None


def use_platform_tsa(factory: TsaForSession | None) -> TsaForSession | None:
    """Register the TSA checkpoints are timestamped by; returns the previous one (tests restore it)."""
    global _platform_tsa
    previous, _platform_tsa = _platform_tsa, factory
    return previous


async def timestamp_digest(session: AsyncSession, digest: bytes) -> bytes | None:
    """A token over the SHA-256 ``digest``, or ``None`` when no TSA is plugged in or it refused.

    A TSA that is down must not stop checkpoints (an unsigned tail is worse than an untimestamped
    checkpoint): the failure is logged and the checkpoint is kept without a token.
    """
    if _platform_tsa is None:
        return None
    try:
        # A savepoint: what the TSA wrote (its serial, its token row) before failing must not
        # commit with the checkpoint as if it had issued a token.
        async with session.begin_nested():
            return await tsa_client.timestamp(_platform_tsa(session), digest=digest)
    except (Refused, DomainError) as exc:
        log.warning("ledger.checkpoint_not_timestamped", error=str(exc))
        return None


def timestamp_time(token: bytes, digest: bytes) -> datetime:
    """When the TSA says it saw ``digest``; raises `certs.errors.Refused` if the token does not hold."""
    return tsa_client.verify_token(token, digest=digest, digest_name="sha256").gen_time
