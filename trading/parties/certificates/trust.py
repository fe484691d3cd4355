"""The trust list in the platform: loading signed lists, keeping every version, the registry in force.

`certs.trustlist` verifies a list (pinned operator signature, timestamp, sequence, expiry, schema)
and answers recognition questions; the platform keeps what it needs between requests:

* every accepted version, exact bytes and signature (``parties_trust_lists``), so the list in
  force at any past time can be chosen again (reference §7.12), and the high-water mark per list
  series (``parties_trust_list_marks``, certs' `SequenceStore`), so a rollback is refused even
  after a restart;
* peer platforms' lists, accepted only through a pointer in our own list whose pinned operator
  signed them (mutual recognition within the scope we grant, §7.10).

Loading is an administrator's act (or the embedded first start's) and is recorded in the ledger,
refusals included. The registry in force is rebuilt from the stored bytes (signatures checked
again against the pins configured now) once per process and version, then cached; whether our
list has passed its ``nextUpdate`` is checked on every use, so an expired list stops every
certificate login at once (fail closed).

The pinned operator certificates are configuration (``GGZY_CERTS_OPERATOR_CERTIFICATES``), never
taken from a list.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Final

import httpx
import structlog
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Indication, Reason, Refused
from certs.pathval.identity import Party, party_of
from certs.pathval.pkix import CertificatePolicies
from certs.pathval.revocation import Fetcher, RevocationChecker
from certs.pathval.validate import PathValidator
from certs.sign.cades import DetachedSignature
from certs.trustlist.model import TrustList, Usage, document_sha256, fingerprint
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.verify import MemorySequenceStore, VerifiedTrustList, load_trust_list
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.certificates.revocation import (
    CachingFetcher,
    OfflineFetcher,
    SessionRevocationCache,
    upstream_fetcher,
    verified_crl,
)
from trading.parties.models import TrustListVersion
from trading.parties.repository import TrustListRepository
from trading.parties.service import record_change

log = structlog.get_logger(__name__)

_REGISTRY_CACHE_SIZE: Final = 8


# --- refusals ------------------------------------------------------------------------------------


class PlatformReason(StrEnum):
    """Refusals the platform adds to certs' own reasons (same style: stable kebab-case codes)."""

    TRUST_LIST_MISSING = "trust-list-missing"
    PARTY_NOT_REGISTERED = "party-not-registered"
    PARTY_AMBIGUOUS = "party-ambiguous"
    PARTY_MISMATCH = "party-mismatch"
    ALREADY_BOUND = "already-bound"


_PLATFORM_TEXT: Final = {
    PlatformReason.TRUST_LIST_MISSING: "no trust list has been loaded, so no certificate is recognised",
    PlatformReason.PARTY_NOT_REGISTERED: "the organisation or person the certificate names has no account here",
    PlatformReason.PARTY_AMBIGUOUS: (
        "several accounts belong to the organisation the certificate names; bind the certificate to one of them first"
    ),
    PlatformReason.PARTY_MISMATCH: "the certificate names another organisation or person than this account",
    PlatformReason.ALREADY_BOUND: "the certificate is already bound to an account",
}


class PlatformRefused(Exception):
    """A platform-side refusal (certs' own are `certs.errors.Refused`)."""

    def __init__(self, reason: PlatformReason, detail: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(self.text)

    @property
    def text(self) -> str:
        base = _PLATFORM_TEXT[self.reason]
        return f"{base}: {self.detail}" if self.detail else base


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a certificate, credential or list was refused: the code, the words, and the date if any."""

    reason: str
    text: str
    at: datetime | None = None
    indication: str = Indication.INDETERMINATE.value

    @classmethod
    def of(cls, exc: Refused | PlatformRefused) -> Refusal:
        if isinstance(exc, Refused):
            return cls(exc.reason.value, exc.text, exc.at, exc.indication.value)
        return cls(exc.reason.value, exc.text)

    def problem_extra(self) -> dict[str, str]:
        extra = {"reason": self.reason, "reason_text": self.text, "indication": self.indication}
        if self.at is not None:
            extra["reason_at"] = self.at.isoformat()
        return extra


# --- configuration -------------------------------------------------------------------------------


def pinned_operators(settings: Settings) -> list[x509.Certificate]:
    """The pinned trust-list operator certificates (empty when none are configured or readable)."""
    path = settings.certs.operator_certificates
    if path is None or not path.is_file():
        return []
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError:
        log.warning("parties.pinned_operators_unreadable", path=str(path))
        return []


def signature_location(location: str) -> str:
    """Where a list's detached signature is published: the document's name with ``.p7s``."""
    head, dot, suffix = location.rpartition(".")
    if dot and "/" not in suffix:
        return f"{head}.p7s"
    return f"{location}.p7s"


async def read_list_source(location: str, signature: str | None = None) -> tuple[bytes, bytes]:
    """The exact bytes of a published list and its signature, from files or over http(s)."""
    signature = signature or signature_location(location)
    if location.startswith(("http://", "https://")):
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            document = await client.get(location)
            document.raise_for_status()
            signed = await client.get(signature)
            signed.raise_for_status()
            return document.content, signed.content
    return await asyncio.to_thread(Path(location).read_bytes), await asyncio.to_thread(Path(signature).read_bytes)


# --- the registry in force -----------------------------------------------------------------------

_registries: OrderedDict[tuple[object, ...], TrustRegistry] = OrderedDict()


def _tsa_recognised(verified: VerifiedTrustList, registries: Sequence[TrustRegistry]) -> None:
    """§7.9 step 2: the list's timestamp comes from a TSA recognised for ``timestamp`` at its time."""
    stamp = verified.timestamp
    refusals = []
    for registry in registries:
        try:
            PathValidator(registry, RevocationChecker(OfflineFetcher())).validate_listed(
                stamp.tsa_certificate, stamp.gen_time, Usage.TIMESTAMP
            )
        except Refused as refusal:
            refusals.append(refusal)
        else:
            return
    why = refusals[0].text if refusals else "no registry to check it against"
    raise Refused(Reason.TIMESTAMP_INVALID, f"the list's timestamp authority is not recognised: {why}")


def _verify_stored(row: TrustListVersion, pinned: Sequence[x509.Certificate], now: datetime) -> VerifiedTrustList:
    return load_trust_list(row.document, row.signature, pinned=pinned, now=now, store=MemorySequenceStore())


async def registry_in_force(session: AsyncSession, settings: Settings, now: datetime) -> TrustRegistry:
    """Our list in force plus the peers' lists it points to, verified; refuses when there is none.

    Raises `PlatformRefused` (no list loaded) or `Refused` (``trust-list-expired``, or a stored
    list that no longer verifies against the configured pins). A peer list that has expired or no
    longer verifies is left out (its CAs are then not recognised), with a warning in the log.
    """
    repository = TrustListRepository(session)
    # Which lists are in force, without their bytes: a registry already verified for exactly these
    # digests (and pins) is answered from the cache; only a miss reads the documents.
    own_head, peer_heads = await repository.latest_heads()
    if own_head is None:
        raise PlatformRefused(PlatformReason.TRUST_LIST_MISSING)
    if now >= own_head.next_update:
        raise Refused(Reason.LIST_EXPIRED, f"sequence {own_head.sequence}", at=own_head.next_update)
    peer_heads = [peer for peer in peer_heads if now < peer.next_update]
    pinned = pinned_operators(settings)
    key = (
        own_head.sha256,
        tuple(sorted((peer.peer_name or "", peer.sha256) for peer in peer_heads)),
        tuple(sorted(fingerprint(certificate) for certificate in pinned)),
    )
    registry = _registries.get(key)
    if registry is not None:
        _registries.move_to_end(key)
        return registry
    own = await session.get_one(TrustListVersion, own_head.id)
    peers = [await session.get_one(TrustListVersion, peer.id) for peer in peer_heads]
    registry = TrustRegistry(_verify_stored(own, pinned, now))
    for peer in peers:
        try:
            pointer = registry.pointer(peer.peer_name or "")
            registry.add_peer(_verify_stored(peer, pointer.operator_certificates, now))
        except Refused as refusal:
            log.warning("parties.peer_list_skipped", peer=peer.peer_name, reason=refusal.reason.value)
    _registries[key] = registry
    while len(_registries) > _REGISTRY_CACHE_SIZE:
        _registries.popitem(last=False)
    return registry


async def registry_at(session: AsyncSession, settings: Settings, at: datetime) -> TrustRegistry:
    """The registry as it stood at ``at`` (time travel, reference §7.12): our list of the highest
    sequence issued by then, and the peers' likewise, each verified as of ``at`` (so a list that
    has expired since still answers for its own time). For validating what was signed at ``at``;
    `TrustRegistry.recognise` then evaluates each service's status history at that time.
    """
    repository = TrustListRepository(session)
    own = await repository.own_at(at)
    if own is None:
        raise PlatformRefused(PlatformReason.TRUST_LIST_MISSING, f"none issued by {at.isoformat()}")
    pinned = pinned_operators(settings)
    registry = TrustRegistry(_verify_stored(own, pinned, at))
    for peer in await repository.latest_peers(issued_by=at):
        try:
            pointer = registry.pointer(peer.peer_name or "")
            registry.add_peer(_verify_stored(peer, pointer.operator_certificates, at))
        except Refused as refusal:
            log.info("parties.peer_list_skipped", peer=peer.peer_name, at=at.isoformat(), reason=refusal.reason.value)
    return registry


@dataclass(frozen=True)
class TrustContext:
    """What a certificate decision needs at one time: the registry and a validator over it."""

    registry: TrustRegistry
    validator: PathValidator
    now: datetime


async def trust_context(
    session: AsyncSession, settings: Settings, now: datetime, *, upstream: Fetcher | None = None
) -> TrustContext:
    """A validator over the registry in force, with revocation through the database cache."""
    registry = await registry_in_force(session, settings, now)
    fetcher = CachingFetcher(
        SessionRevocationCache(session, now),
        upstream or upstream_fetcher(settings),
        registry.certificates(),
        now,
    )
    checker = RevocationChecker(fetcher, clock=lambda: now)
    return TrustContext(registry, PathValidator(registry, checker, certificate_policies=_policies(settings)), now)


def _policies(settings: Settings) -> CertificatePolicies:
    acceptable = frozenset(settings.certs.acceptable_policies)
    if not acceptable:
        return CertificatePolicies()
    return CertificatePolicies(acceptable=acceptable, require_explicit=True)


async def signer_party(
    session: AsyncSession, settings: Settings, signed: DetachedSignature, *, usage: Usage, at: datetime
) -> Party:
    """Who made an intact signature: its signer validated for ``usage`` at ``at`` under the list in
    force (revocation included), mapped to a party by the CA's identity rule. Raises `Refused`.
    """
    context = await trust_context(session, settings, at)
    path = await context.validator.validate(signed.signer_certificate, signed.certificates, at=at, usage=usage)
    return party_of(path)


async def cache_crl(session: AsyncSession, settings: Settings, url: str, der: bytes) -> bool:
    """Put a CRL obtained out of band (a file) into the cache, if it verifies against a listed CA."""
    now = await clock.now(session)
    registry = await registry_in_force(session, settings, now)
    entry = verified_crl(url, der, registry.certificates(), now)
    if entry is None:
        return False
    await SessionRevocationCache(session, now).save(entry)
    return True


# --- loading lists -------------------------------------------------------------------------------


@dataclass
class _SnapshotSequenceStore:
    """certs' `SequenceStore` over the marks read (and locked) at the start of the load."""

    marks: dict[str, tuple[int, str]]
    recorded: tuple[str, int, str] | None = field(default=None)

    def highest(self, series: str) -> tuple[int, str] | None:
        return self.marks.get(series)

    def record(self, series: str, sequence: int, sha256: str) -> None:
        self.recorded = (series, sequence, sha256)


@dataclass(frozen=True)
class LoadOutcome:
    """The version now stored (``created`` False when those exact bytes were loaded before), or why not."""

    version: TrustListVersion | None = None
    created: bool = False
    refusal: Refusal | None = None


class TrustListService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.lists = TrustListRepository(session)

    async def load(self, document: bytes, signature: bytes, *, actor: Actor, peer: bool = False) -> LoadOutcome:
        """Verify and store our list (``peer`` False) or a peer platform's list.

        Our list must be signed by a pinned operator certificate, timestamped by a TSA it
        recognises itself, not rolled back (lower sequence) nor a reused sequence with other bytes,
        not expired, and name our validation policy when one is configured. A peer list must be
        signed by an operator pinned in a pointer of our list in force, whose list type matches.
        Loading the same bytes again changes nothing. Appends ``parties.trust_list_loaded``, or
        ``parties.trust_list_refused`` naming the reason (returned, not raised, so it commits).
        """
        now = await clock.now(self.session)
        store = _SnapshotSequenceStore(await self.lists.marks(for_update=True))
        try:
            if peer:
                verified, peer_name = await self._verify_peer(document, signature, store, now)
            else:
                verified, peer_name = self._verify_own(document, signature, store, now), None
        except (Refused, PlatformRefused) as exc:
            refusal = Refusal.of(exc)
            await record_change(
                self.session,
                actor,
                "trust_list_refused",
                "trust_list",
                document_sha256(document),
                summary={"reason": refusal.reason, "peer": peer},
                data={"reason": refusal.reason, "text": refusal.text, "peer": peer},
            )
            return LoadOutcome(refusal=refusal)
        trust_list = verified.trust_list
        existing = await self.lists.version(trust_list.operator_key, trust_list.sequence)
        if existing is not None:
            return LoadOutcome(existing, created=False)
        await self.lists.raise_mark(trust_list.operator_key, trust_list.sequence, verified.sha256, now)
        version = TrustListVersion(
            id=uuid7(),
            series=trust_list.operator_key,
            peer_name=peer_name,
            sequence=trust_list.sequence,
            issued_at=trust_list.issued,
            next_update=trust_list.next_update,
            sha256=verified.sha256,
            document=verified.document,
            signature=verified.signature,
            operator_name=trust_list.operator_name,
            operator_certificate_sha256=fingerprint(verified.signer),
            timestamped_at=verified.timestamp.gen_time,
            loaded_at=now,
        )
        self.lists.add(version)
        await self.session.flush()
        summary = {
            "sequence": trust_list.sequence,
            "operator": trust_list.operator_name,
            "peer": peer_name,
            "sha256": verified.sha256,
            "next_update": trust_list.next_update.isoformat(),
        }
        await record_change(
            self.session,
            actor,
            "trust_list_loaded",
            "trust_list",
            version.id,
            summary=summary,
            data={**summary, "series": trust_list.operator_key, "signature_sha256": document_sha256(signature)},
        )
        return LoadOutcome(version, created=True)

    def _verify_own(
        self, document: bytes, signature: bytes, store: _SnapshotSequenceStore, now: datetime
    ) -> VerifiedTrustList:
        pinned = pinned_operators(self.settings)
        if not pinned:
            raise Refused(Reason.LIST_FORGED, "no operator certificate is pinned (GGZY_CERTS_OPERATOR_CERTIFICATES)")
        verified = load_trust_list(
            document,
            signature,
            pinned=pinned,
            now=now,
            store=store,
            policy_sha256=self.settings.certs.validation_policy_sha256 or None,
        )
        _tsa_recognised(verified, [TrustRegistry(verified)])
        return verified

    async def _verify_peer(
        self, document: bytes, signature: bytes, store: _SnapshotSequenceStore, now: datetime
    ) -> tuple[VerifiedTrustList, str]:
        in_force = await registry_in_force(self.session, self.settings, now)
        # A registry of our own list alone, so the check does not touch the shared cached one.
        registry = TrustRegistry(in_force.own)
        forged: Refused | None = None
        for pointer in in_force.own.trust_list.pointers:
            try:
                verified = load_trust_list(
                    document, signature, pinned=pointer.operator_certificates, now=now, store=store
                )
            except Refused as refusal:
                if refusal.reason is Reason.LIST_FORGED:
                    forged = refusal
                    continue
                raise
            recognised = registry.add_peer(verified)
            _tsa_recognised(verified, [in_force, TrustRegistry(verified)])
            return verified, recognised.name
        detail = forged.detail if forged is not None else "our list points to no peer list"
        raise Refused(Reason.PEER_NOT_RECOGNISED, f"no pointer in our list pins its operator ({detail})")


def parse_stored(version: TrustListVersion) -> TrustList:
    """The stored list's content, for display (it was verified when it was loaded)."""
    return TrustList.from_dict(json.loads(version.document))
