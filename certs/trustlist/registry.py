"""The registry: which CAs and TSAs are recognised, for what, where, and when.

Built from our own verified list plus any peer platforms' verified lists. A peer list is accepted
only when our list points to it and it is signed by one of the operator certificates pinned in that
pointer. A peer's CA is then recognised within the intersection of the peer's own scope for it and
the scope we grant the peer, after mapping the peer's service types through the pointer's
``equivalence`` (unmapped types are not recognised), and only while both the service and our
equivalence with the peer are ``granted`` (reference §7.10).

Time travel (§7.12): `recognise` evaluates the status history at the given time, so a CA withdrawn
today still validates a bid signed while it was granted. Keeping every list version and choosing the
one in force at the signing time is `trading/`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from certs.errors import Reason, Refused
from certs.trustlist.model import PeerPointer, Provider, Scope, Service, ServiceType, Status, Usage, fingerprint
from certs.trustlist.verify import VerifiedTrustList


@dataclass(frozen=True)
class Recognition:
    """A service recognised for a use: from which list, within which effective scope."""

    provider: Provider
    service: Service
    service_type: ServiceType
    scope: Scope
    source: str
    list_sequence: int
    list_sha256: str
    pointer: PeerPointer | None = None


class TrustRegistry:
    """Recognition queries over our list and the peer lists it points to."""

    def __init__(self, own: VerifiedTrustList) -> None:
        self.own = own
        self.peers: dict[str, VerifiedTrustList] = {}
        self._by_fingerprint: dict[str, list[Recognition]] = {}
        self._by_subject: dict[bytes, list[Recognition]] = {}
        self.revision = 0
        """Bumped by every entry added (the registry only grows): what callers key derived indexes by."""
        for provider, service in own.trust_list.services():
            self._add(Recognition(provider, service, service.type, service.scope, "own", own.sequence, own.sha256))

    def _add(self, entry: Recognition) -> None:
        self.revision += 1
        self._by_fingerprint.setdefault(entry.service.sha256, []).append(entry)
        self._by_subject.setdefault(entry.service.certificate.subject.public_bytes(), []).append(entry)

    def pointer(self, name: str) -> PeerPointer:
        for pointer in self.own.trust_list.pointers:
            if pointer.name == name:
                return pointer
        raise Refused(Reason.PEER_NOT_RECOGNISED, f"our list does not point to {name!r}")

    def add_peer(self, peer: VerifiedTrustList) -> PeerPointer:
        """Recognise a peer's verified list through the pointer whose pinned operator signed it."""
        signer = fingerprint(peer.signer)
        for pointer in self.own.trust_list.pointers:
            if pointer.list_type == peer.trust_list.list_type and signer in {
                fingerprint(c) for c in pointer.operator_certificates
            }:
                break
        else:
            raise Refused(Reason.PEER_NOT_RECOGNISED, "no pointer in our list pins this list's operator")
        self.peers[pointer.name] = peer
        for provider, service in peer.trust_list.services():
            mapped = pointer.equivalence.get(service.type.value)
            if mapped is None:
                continue
            scope = service.scope.intersect(pointer.scope)
            self._add(Recognition(provider, service, mapped, scope, pointer.name, peer.sequence, peer.sha256, pointer))
        return pointer

    def services(self) -> Iterable[Recognition]:
        for entries in self._by_fingerprint.values():
            yield from entries

    def certificates(self) -> list[x509.Certificate]:
        """Every recognised service certificate (CAs, TSAs, issuers), once each."""
        return [entries[0].service.certificate for entries in self._by_fingerprint.values()]

    def issuers_of(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """Recognised service certificates whose subject is ``certificate``'s issuer."""
        seen: dict[str, x509.Certificate] = {}
        for entry in self._by_subject.get(certificate.issuer.public_bytes(), []):
            seen.setdefault(entry.service.sha256, entry.service.certificate)
        return list(seen.values())

    def entries_for(self, certificate: x509.Certificate) -> tuple[Recognition, ...]:
        """The entries `recognise` weighs for the service ``certificate`` (one per list naming it)."""
        return tuple(self._by_fingerprint.get(fingerprint(certificate), ()))

    def is_listed(self, certificate: x509.Certificate) -> bool:
        return fingerprint(certificate) in self._by_fingerprint

    def recognise(
        self,
        certificate: x509.Certificate,
        *,
        at: datetime,
        usage: Usage,
        region: str | None = None,
        industry: str | None = None,
    ) -> Recognition:
        """The recognition of the service ``certificate`` for ``usage`` at ``at``, or the reason there is none.

        Refuses with ``ca-not-recognised``, ``ca-withdrawn`` (dated), ``ca-not-recognised-for-usage``,
        ``…-for-region`` or ``…-for-industry``; when several lists name the CA, the first refusal
        (our own list's) is reported if none recognises it.
        """
        entries = self._by_fingerprint.get(fingerprint(certificate), [])
        if not entries:
            raise Refused(Reason.CA_NOT_RECOGNISED, certificate.subject.rfc4514_string())
        refusals: list[Refused] = []
        for entry in entries:
            try:
                self._check(entry, at, usage, region, industry)
            except Refused as refusal:
                refusals.append(refusal)
            else:
                return entry
        raise refusals[0]

    @staticmethod
    def _check(entry: Recognition, at: datetime, usage: Usage, region: str | None, industry: str | None) -> None:
        name = entry.service.name
        status = entry.service.status_at(at)
        if status is None:
            raise Refused(Reason.CA_NOT_RECOGNISED, f"{name} was not yet listed at {at.isoformat()}")
        if status.status is not Status.GRANTED:
            raise Refused(Reason.CA_WITHDRAWN, f"{name} is {status.status.value}", at=status.starting)
        if entry.pointer is not None:
            peer_status = entry.pointer.status_at(at)
            if peer_status is None or peer_status.status is not Status.GRANTED:
                when = peer_status.starting if peer_status else None
                raise Refused(Reason.CA_WITHDRAWN, f"recognition of {entry.source} is not granted", at=when)
        if usage not in entry.scope.usages:
            allowed = ", ".join(sorted(u.value for u in entry.scope.usages)) or "nothing"
            raise Refused(Reason.CA_NOT_RECOGNISED_FOR_USAGE, f"{name} is recognised for {allowed}, not {usage.value}")
        if not entry.scope.allows_region(region):
            raise Refused(Reason.CA_NOT_RECOGNISED_FOR_REGION, f"{name} is not recognised in {region}")
        if not entry.scope.allows_industry(industry):
            raise Refused(Reason.CA_NOT_RECOGNISED_FOR_INDUSTRY, f"{name} is not recognised for {industry}")
