"""Revocation data for `certs`' `RevocationChecker`: fetched over HTTP, cached in the database.

`certs` verifies every CRL and OCSP answer itself and fails closed; what it leaves to the platform
is the network and the persistence (reference §3.8). Both sit behind its `Fetcher` protocol:

* `HttpFetcher` GETs CRLs and POSTs OCSP requests with httpx (size and time limited, http(s)
  only); `OfflineFetcher` stands in when ``GGZY_CERTS_FETCH_REVOCATION`` is off, so only cached
  CRLs count and a certificate without one is refused (``revocation-unknown``, never "good").
* `CachingFetcher` answers a CRL request from the cache while the cached CRL is fresh, fetches it
  otherwise, and stores what it fetched once it verifies against a CA certificate of the trust
  list (issuer name and signature, not yet past nextUpdate) — the cache never holds a CRL nobody
  could check. OCSP requests always reach the responder (the checker sends a fresh nonce every
  time); the latest answer per certificate is kept as evidence only.

The cache is a cache of third-party signed data, not platform state: writing it appends no ledger
entry. The decision that relies on a CRL or OCSP answer (a login, a binding) digests it into that
decision's ledger entry. The periodic job ``parties.refresh_revocation`` (``jobs``) re-fetches
cached CRLs before they expire and fetches the CRLs the trust list names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import httpx
import structlog
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509 import ocsp
from sqlalchemy.ext.asyncio import AsyncSession

from certs.pathval.revocation import Fetcher, RevocationEvidence
from certs.trustlist.model import fingerprint
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import RevocationCacheEntry, RevocationKind
from trading.parties.repository import RevocationCacheRepository

log = structlog.get_logger(__name__)

MAX_RESPONSE_BYTES = 20 * 1024 * 1024


class OfflineFetcher:
    """Refuses every fetch: revocation data comes from the cache only."""

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        del body, content_type
        msg = f"fetching {url} is switched off (GGZY_CERTS_FETCH_REVOCATION=false)"
        raise OSError(msg)


class HttpFetcher:
    """CRL distribution points and OCSP responders over HTTP(S) with httpx.

    Every failure (unreachable, an HTTP error status, too large, a scheme other than http(s))
    surfaces as `OSError`, which the checker turns into ``revocation-unknown``.
    """

    def __init__(self, *, timeout: float = 10.0, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if not url.startswith(("http://", "https://")):
            msg = f"refusing to fetch {url!r}: only http(s)"
            raise OSError(msg)
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
                method = "POST" if body is not None else "GET"
                async with client.stream(method, url, content=body, headers=headers) as response:
                    response.raise_for_status()
                    chunks = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            msg = f"{url} answered more than {self.max_bytes} bytes"
                            raise OSError(msg)
                        chunks.append(chunk)
                    return b"".join(chunks)
        except httpx.HTTPError as exc:
            msg = f"{url}: {type(exc).__name__}: {exc}"
            raise OSError(msg) from exc


def upstream_fetcher(settings: Settings) -> Fetcher:
    """The network side as configured: httpx, or nothing at all."""
    if not settings.certs.fetch_revocation:
        return OfflineFetcher()
    return HttpFetcher(timeout=settings.certs.fetch_timeout_seconds)


@dataclass(frozen=True, slots=True)
class CachedRevocation:
    key: str
    kind: RevocationKind
    url: str
    der: bytes
    issuer_sha256: str
    this_update: datetime
    next_update: datetime | None

    def values(self, fetched_at: datetime) -> dict[str, object]:
        return {
            "id": uuid7(),
            "key": self.key,
            "kind": self.kind,
            "url": self.url,
            "der": self.der,
            "issuer_sha256": self.issuer_sha256,
            "this_update": self.this_update,
            "next_update": self.next_update,
            "fetched_at": fetched_at,
        }

    @classmethod
    def of(cls, row: RevocationCacheEntry) -> CachedRevocation:
        return cls(row.key, row.kind, row.url, row.der, row.issuer_sha256, row.this_update, row.next_update)


class RevocationCache(Protocol):
    async def crl(self, url: str) -> CachedRevocation | None: ...

    async def save(self, entry: CachedRevocation) -> None: ...


class SessionRevocationCache:
    """The cache in the caller's transaction (a request): reads and writes go through its session."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.repository = RevocationCacheRepository(session)
        self.now = now

    async def crl(self, url: str) -> CachedRevocation | None:
        row = await self.repository.crl(url)
        return CachedRevocation.of(row) if row is not None else None

    async def save(self, entry: CachedRevocation) -> None:
        await self.repository.upsert(entry.values(self.now))


class BufferedRevocationCache:
    """A snapshot of the cache whose writes wait for `persist` (the job fetches outside a transaction)."""

    def __init__(self, rows: Iterable[CachedRevocation]) -> None:
        self.entries = {row.key: row for row in rows}
        self.saved: dict[str, CachedRevocation] = {}

    async def crl(self, url: str) -> CachedRevocation | None:
        entry = self.entries.get(url)
        return entry if entry is not None and entry.kind is RevocationKind.CRL else None

    async def save(self, entry: CachedRevocation) -> None:
        self.entries[entry.key] = entry
        self.saved[entry.key] = entry

    async def persist(self, session: AsyncSession, now: datetime) -> int:
        repository = RevocationCacheRepository(session)
        for entry in self.saved.values():
            await repository.upsert(entry.values(now))
        return len(self.saved)


def verified_crl(url: str, der: bytes, issuers: Sequence[x509.Certificate], now: datetime) -> CachedRevocation | None:
    """``der`` as a cache entry when it is a CRL signed by one of ``issuers`` and still fresh."""
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError:
        return None
    next_update = crl.next_update_utc
    if next_update is None or now >= next_update:
        return None
    for issuer in issuers:
        if issuer.subject != crl.issuer:
            continue
        try:
            valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
        except (UnsupportedAlgorithm, TypeError, ValueError):
            continue  # SM2 and exotic keys: the checker verifies those itself, we just do not cache them
        if valid:
            return CachedRevocation(
                url, RevocationKind.CRL, url, der, fingerprint(issuer), crl.last_update_utc, next_update
            )
    return None


def _ocsp_entry(url: str, request_der: bytes, response_der: bytes) -> CachedRevocation | None:
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        response = ocsp.load_der_ocsp_response(response_der)
    except ValueError:
        return None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return None
    issuer_key = request.issuer_key_hash.hex()
    key = f"{url}#{issuer_key}:{request.serial_number:x}"
    return CachedRevocation(
        key, RevocationKind.OCSP, url, response_der, issuer_key, response.this_update_utc, response.next_update_utc
    )


class CachingFetcher:
    """certs' `Fetcher` in front of the database cache (see the module docstring).

    ``refresh_margin`` > 0 (the job) treats a CRL expiring within the margin as due, so it is
    fetched again before it goes stale.
    """

    def __init__(
        self,
        cache: RevocationCache,
        upstream: Fetcher,
        issuers: Sequence[x509.Certificate],
        now: datetime,
        *,
        refresh_margin: timedelta = timedelta(0),
    ) -> None:
        self.cache = cache
        self.upstream = upstream
        self.issuers = list(issuers)
        self.now = now
        self.refresh_margin = refresh_margin

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if body is not None:
            der = await self.upstream.fetch(url, body=body, content_type=content_type)
            entry = _ocsp_entry(url, body, der)
            if entry is not None:
                await self.cache.save(entry)
            return der
        cached = await self.cache.crl(url)
        if (
            cached is not None
            and cached.next_update is not None
            and cached.next_update - self.refresh_margin > self.now
        ):
            return cached.der
        der = await self.upstream.fetch(url)
        entry = verified_crl(url, der, self.issuers, self.now)
        if entry is not None:
            await self.cache.save(entry)
        else:
            log.info("parties.crl_not_cached", url=url, reason="not verifiable against a listed CA, or stale")
        return der

    def _fresh(self, cached: CachedRevocation) -> bool:
        return cached.next_update is not None and cached.next_update - self.refresh_margin > self.now

    def due(self, cached: CachedRevocation) -> bool:
        """True when a cached CRL would be fetched again (it expires within the refresh margin)."""
        return not self._fresh(cached)


def describe_evidence(items: Iterable[RevocationEvidence]) -> list[dict[str, str]]:
    """The revocation evidence of a validated path, for a ledger entry's (digested) data."""
    return [
        {
            "kind": item.kind,
            "source": item.source,
            "sha256": hashlib.sha256(item.der).hexdigest(),
            "this_update": item.this_update.isoformat(),
        }
        for item in items
    ]
