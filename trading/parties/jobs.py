"""Parties jobs: time-driven transitions run by the sweep (``trading.kernel.sweep``), and the
certificate jobs (revocation refresh, challenge purge, trust-list loading) run by beat and the CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.errors import Refused
from certs.pathval.revocation import Fetcher, RevocationChecker
from certs.trustlist.model import fingerprint
from certs.trustlist.registry import TrustRegistry
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.parties import pdf_signing
from trading.parties.certificates.revocation import (
    BufferedRevocationCache,
    CachedRevocation,
    CachingFetcher,
    upstream_fetcher,
)
from trading.parties.certificates.trust import (
    LoadOutcome,
    PlatformRefused,
    Refusal,
    TrustListService,
    read_list_source,
    registry_in_force,
)
from trading.parties.repository import ChallengeRepository, MembershipRepository, RevocationCacheRepository
from trading.parties.service import expire_membership_if_due

log = structlog.get_logger(__name__)


class MembershipExpiry:
    """Expires active memberships whose ``valid_until`` has passed.

    ``due()`` lists candidates without locking; ``run()`` locks one membership, re-checks that it
    is still active and due, and expires it (see ``service.expire_membership_if_due``). Two
    sweeps racing for the same membership therefore expire it once: the loser waits for the
    lock, then finds it expired and returns False.
    """

    name = "parties.membership_expiry"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await MembershipRepository(session).due_ids(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"membership keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await expire_membership_if_due(session, key, now)


SWEEP_HANDLERS = (MembershipExpiry(),)


# --- certificates: revocation data, old challenges, the trust list -------------------------------


async def refresh_revocation(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, *, upstream: Fetcher | None = None
) -> dict[str, Any]:
    """Keep the CRL cache fresh: certs' ``RevocationChecker.refresh_due`` over the cached CRLs, plus
    the CRLs the trust list names that are not cached yet (or went stale).

    Three steps so no transaction stays open over the network: read the cache and the registry in
    force, fetch (through `CachingFetcher`, which keeps only CRLs that verify against a listed CA),
    then write what changed in one short unit of work. Idempotent: a second run finds everything
    fresh and fetches nothing. A CRL that cannot be fetched keeps its cached version, which fails
    closed once past its nextUpdate.
    """
    margin = timedelta(seconds=settings.certs.revocation_refresh_margin_seconds)
    async with session_maker() as session:
        now = await clock.now(session)
        try:
            registry = await registry_in_force(session, settings, now)
        except (Refused, PlatformRefused) as exc:
            log.warning("parties.revocation_refresh_skipped", reason=Refusal.of(exc).reason)
            return {"refreshed": [], "failed": [], "skipped": Refusal.of(exc).reason}
        rows = [CachedRevocation.of(row) for row in await RevocationCacheRepository(session).crls()]
        await session.rollback()
    cache = BufferedRevocationCache(rows)
    fetcher = CachingFetcher(
        cache, upstream or upstream_fetcher(settings), registry.certificates(), now, refresh_margin=margin
    )
    checker = RevocationChecker(fetcher, clock=lambda: now)
    pending = _prime(checker, rows, registry)
    due = {row.url for row in rows if row.url not in pending and fetcher.due(row)}
    refreshed = set(await checker.refresh_due(margin=margin))
    failed = due - refreshed
    for url, issuer in sorted(pending.items()):
        try:
            checker.add_crl(url, await fetcher.fetch(url), issuer)
        except (Refused, OSError, ValueError) as exc:
            log.info("parties.crl_fetch_failed", url=url, error=str(exc))
            failed.add(url)
        else:
            refreshed.add(url)
    async with transaction(session_maker, lock=True) as session:
        await cache.persist(session, await clock.now(session))
    return {"refreshed": sorted(refreshed), "failed": sorted(failed)}


def _prime(
    checker: RevocationChecker, rows: Sequence[CachedRevocation], registry: TrustRegistry
) -> dict[str, x509.Certificate]:
    """Hand the checker the cached CRLs it can use; returns the CRLs to fetch afresh, with their CA.

    Those are the cached ones that are stale or no longer verify, and the ones the trust list
    names (``revocation.crl``) that are not cached at all. CRLs of CAs no longer recognised are
    left alone: nothing will ask for them.
    """
    issuers = {fingerprint(certificate): certificate for certificate in registry.certificates()}
    pending: dict[str, x509.Certificate] = {}
    for row in rows:
        issuer = issuers.get(row.issuer_sha256)
        if issuer is None:
            continue
        try:
            checker.add_crl(row.url, row.der, issuer)
        except Refused:
            pending[row.url] = issuer
    cached = {row.url for row in rows}
    for recognition in registry.services():
        for url in recognition.service.crl_urls:
            if url not in cached:
                pending.setdefault(url, recognition.service.certificate)
    return pending


async def purge_login_challenges(session_maker: async_sessionmaker[AsyncSession], *, keep: timedelta) -> int:
    """Delete login challenges that expired more than ``keep`` ago (idempotent)."""
    async with transaction(session_maker, lock=True) as session:
        return await ChallengeRepository(session).purge(await clock.now(session) - keep)


async def purge_pdf_signing_requests(session_maker: async_sessionmaker[AsyncSession], *, keep: timedelta) -> int:
    """Delete in-page PDF signing requests that expired more than ``keep`` ago (idempotent): an
    unfinished one still holds its prepared PDF, and after expiry nothing may finish it.
    """
    async with transaction(session_maker, lock=True) as session:
        return await pdf_signing.purge_expired(session, await clock.now(session) - keep)


async def load_trust_list_source(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    location: str,
    *,
    signature: str | None = None,
    peer: bool = False,
    actor: Actor | None = None,
) -> LoadOutcome:
    """``ggzy certs trust-list load``: read a published list (file or URL) and load it, in one unit of work."""
    document, signed = await read_list_source(location, signature)
    async with transaction(session_maker, lock=True) as session:
        return await TrustListService(session, settings).load(
            document, signed, actor=actor or Actor.system(), peer=peer
        )
