"""Path validation: a certificate chains to a CA recognised for a usage, at a time, and is not revoked.

`PathValidator.validate` runs, in order, and stops at the first refusal, each naming its reason:

1. **Path building** by pyhanko-certvalidator from the leaf through the supplied intermediates to
   certificates listed in the trust registry (usually the issuing CA; a listed TSA or credential
   issuer is its own anchor), names compared as RFC 5280 §7.1 says; candidate paths are tried
   shortest first. Nothing found: ``unknown-issuer``; a self-signed root that is not listed:
   ``ca-not-recognised``.
2. **Recognition** of the anchor for the usage, region and industry at the time (``ca-withdrawn``,
   ``ca-not-recognised-for-usage`` …), from the trust registry's status history.
3. **Validity** of every certificate at the time (``expired`` / ``not-yet-valid``, dated).
4. **Key usage** of the leaf for the usage (``wrong-key-usage``), and the platform's **algorithm
   policy** per date (DSA is refused by name).
5. **RFC 5280 §6 path validation with revocation** by pyhanko-certvalidator, anchored at the
   recognised CA: basic constraints, key usage of CAs, names and name constraints (directoryName,
   URI …), self-issued key-rollover certificates, certificate policies (`CertificatePolicies`: the
   platform's acceptable policy set and the initial flags), unknown critical extensions; and for
   every certificate below the anchor a CRL or OCSP answer is required (fail closed). CRLs are
   processed per RFC 5280 §6.3: Issuing Distribution Point scope (distribution point, user/CA/
   attribute-only, some reasons, indirect with cRLIssuer), unknown critical CRL extensions
   refused, cRLSign required of the signer, delta CRLs against their base, certificateHold and
   removeFromCRL. The CRLs and OCSP answers come from the `RevocationChecker` (fetched through the
   platform's fetcher and cache, freshness by the platform clock); revocation dates are compared
   with the time of validation. Failures map to named reasons: ``revoked`` (dated),
   ``revocation-unknown``, ``bad-signature`` (a link that does not verify), ``invalid-path``.

SM2 chains go through the same engine: `pkix` verifies SM2-with-SM3 (GM/T 0009
default ID) through the optional provider, so they get exactly the same path and CRL rules; without
the provider they are refused (``unsupported-algorithm``). A verdict is remembered per chain and
revocation material until the material's earliest nextUpdate, and only when no CRL entry or OCSP
answer concerns the chain (so a revocation date never has to be compared again).

The single-certificate checks are in `checks`, the RFC 5280 engine and its SM2 support in `pkix`.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.pathval import pkix
from certs.pathval.checks import (
    check_usage,
    check_validity,
    could_issue,
    diagnose_signatures,
    is_self_issued,
    is_sm2_signed,
    key_ids_match,
    signature_algorithm,
    validity_window,
)
from certs.pathval.pkix import CertificatePolicies
from certs.pathval.revocation import (
    RevocationChecker,
    RevocationEvidence,
    RevocationMaterial,
    issuer_key,
    subject_key,
)
from certs.pathval.revocation import ocsp_urls as revocation_ocsp_urls
from certs.providers import sm2
from certs.report import Evidence
from certs.trustlist.model import Usage, fingerprint
from certs.trustlist.registry import Recognition, TrustRegistry

__all__ = ["PathValidator", "ValidatedPath", "check_usage"]  # check_usage: bidding.tenders imports it from here

_VERIFIED_CACHE_SIZE: Final = 10_000
_DECISION_CACHE_SIZE: Final = 4096
_ONE_MICROSECOND: Final = timedelta(microseconds=1)


@dataclass(frozen=True)
class ValidatedPath:
    """A certificate validated for a usage at a time: its chain (leaf first), recognition and evidence."""

    chain: tuple[x509.Certificate, ...]
    recognition: Recognition
    revocation: tuple[RevocationEvidence, ...]
    at: datetime
    usage: Usage
    known_evidence: tuple[Evidence, ...] | None = field(default=None, compare=False, repr=False)
    """`evidence()` already built (a reused decision's: the same recognition and revocation evidence)."""

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def anchor(self) -> x509.Certificate:
        return self.chain[-1]

    def evidence(self) -> tuple[Evidence, ...]:
        if self.known_evidence is not None:
            return self.known_evidence
        r = self.recognition
        listed = Evidence("trust-list", f"{r.source} sequence {r.list_sequence} sha256 {r.list_sha256}")
        return (listed, *(item.to_evidence() for item in self.revocation))


@dataclass
class _SharedCaches:
    """Process-wide caches keyed by everything their values depend on (bounded, cleared when full).

    ``verdicts``: the engine's "valid, not revoked" per chain, supplied intermediates, revocation
    material and policy inputs, usable until the material's earliest nextUpdate; kept only when no
    CRL entry or OCSP answer concerns the chain. ``chains``: paths built per leaf, intermediates and
    candidate anchors. ``asn1``/``originals``/``parsed``: the certificates in both libraries' forms.
    """

    verdicts: OrderedDict[tuple[object, ...], datetime] = field(default_factory=OrderedDict)
    chains: dict[tuple[object, ...], list[list[x509.Certificate]]] = field(default_factory=dict)
    asn1: dict[str, asn1_x509.Certificate] = field(default_factory=dict)
    originals: dict[int, x509.Certificate] = field(default_factory=dict)
    parsed: dict[bytes, x509.Certificate] = field(default_factory=dict)


_SHARED: Final = _SharedCaches()


@dataclass(frozen=True, slots=True)
class _Gathered:
    """CRL material, with the checker's revision and clock reading taken before it was gathered."""

    material: RevocationMaterial
    revision: int
    now: datetime


def _status_times(registry: TrustRegistry, anchor: x509.Certificate) -> list[datetime]:
    """Every time at which the recognition of ``anchor`` can change: the status changes of each of its
    trust-list entries and of the peer pointers they come through (`TrustRegistry.recognise`).
    """
    times: list[datetime] = []
    for entry in registry.entries_for(anchor):
        times += (change.starting for change in (entry.service.status, *entry.service.history))
        if entry.pointer is not None:
            times += (change.starting for change in (entry.pointer.status, *entry.pointer.history))
    return times


@dataclass(frozen=True, slots=True)
class _Listed:
    """`validate_listed`'s recognition of a listed service for a usage, the same for ``at`` in [start, end):
    between the nearest changes of its status history around the time asked and within its validity
    (key usage does not depend on the time), for one registry at one revision.
    """

    registry: TrustRegistry
    revision: int
    start: datetime
    end: datetime
    recognition: Recognition


@dataclass(frozen=True, slots=True)
class _Decision:
    """A "valid" decision on a leaf (with its intermediates) for a usage, region and industry.

    It is kept with everything it rests on, and reused for another time ``at`` and clock reading
    ``now`` only while none of those inputs can have changed (`PathValidator._reuse`):

    - the same registry object at the same revision, the same checker at the same revision, the same
      algorithm and certificate policies (objects compared by identity);
    - ``at`` in [at_start, at_end): bounded by the data the checks read — every status change of the
      anchor's trust-list entries (and their peer pointers), each certificate's notBefore/notAfter, the
      algorithm policy's dates for each link, and the CRL material's earliest nextUpdate (the engine's
      verdict cache's own bound);
    - ``now`` in [now_start, now_end): no cached CRL turns fresh or stale (`RevocationChecker.freshness_window`).

    Only kept when the first candidate chain passed on CRLs alone, the material had no gaps and no CRL
    entry concerns the chain (the conditions of the engine's verdict cache), so a revocation date
    never has to be compared again.
    """

    registry: TrustRegistry
    registry_revision: int
    revocation: RevocationChecker
    revocation_revision: int
    policy: algs.AlgorithmPolicy
    certificate_policies: CertificatePolicies
    at_start: datetime | None
    at_end: datetime | None
    now_start: datetime | None
    now_end: datetime | None
    chain: tuple[x509.Certificate, ...]
    recognition: Recognition
    evidence: tuple[RevocationEvidence, ...]
    report: tuple[Evidence, ...]  # `ValidatedPath.evidence()`


class PathValidator:
    """Validates certificates against a `TrustRegistry`, with a `RevocationChecker` (required: fail closed).

    RSA/ECDSA/EdDSA chains are validated by pyhanko-certvalidator (RFC 5280 §6 including names,
    policies, name constraints, and §6.3 CRL processing with scopes and deltas, fed with the CRLs
    and OCSP answers the checker gathers); SM2 chains by the platform's own engine.
    """

    def __init__(
        self,
        registry: TrustRegistry,
        revocation: RevocationChecker,
        *,
        policy: algs.AlgorithmPolicy = algs.DEFAULT_POLICY,
        max_depth: int = 4,
        certificate_policies: CertificatePolicies | None = None,
    ) -> None:
        self.registry = registry
        self.revocation = revocation
        self.policy = policy
        self.max_depth = max_depth
        self.certificate_policies = certificate_policies or CertificatePolicies()
        # The platform builds a validator per request, so what depends on certificates (and
        # revocation material) only is shared by every validator in the process.
        self._verdicts = _SHARED.verdicts
        self._chains = _SHARED.chains
        self._asn1 = _SHARED.asn1
        self._originals = _SHARED.originals
        self._parsed = _SHARED.parsed
        self._issuer_keys: dict[str, int | None] = {}
        self._roots: dict[frozenset[str], tuple[list[x509.Certificate], tuple[str, ...]]] = {}
        self._roots_version: tuple[int, int] | None = None
        self._decisions: dict[tuple[object, ...], _Decision] = {}
        self._listed: dict[tuple[str, Usage], _Listed] = {}

    def build_chain(self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
        """Leaf first, up to a certificate listed in the registry (or a refusal naming why not)."""
        chain = [leaf]
        current = leaf
        for _ in range(self.max_depth + 1):
            if self.registry.is_listed(current):
                return chain
            listed = [c for c in self.registry.issuers_of(current) if could_issue(c, current)]
            if listed:
                chain.append(listed[0])
                return chain
            if is_self_issued(current):
                raise Refused(
                    Reason.CA_NOT_RECOGNISED, f"root {current.subject.rfc4514_string()} is not in the trust list"
                )
            supplied = [c for c in intermediates if could_issue(c, current) and c not in chain]
            if not supplied:
                raise Refused(Reason.UNKNOWN_ISSUER, f"no certificate for issuer {current.issuer.rfc4514_string()}")
            chain.append(supplied[0])
            current = supplied[0]
        raise Refused(Reason.INVALID_PATH, f"chain longer than {self.max_depth}")

    def validate_listed(self, certificate: x509.Certificate, at: datetime, usage: Usage) -> Recognition:
        """Validate a certificate listed itself as a service (a TSA, a credential issuer): status, validity, usage.

        The trust list's status for that service is its revocation status.
        """
        key = (fingerprint(certificate), usage)
        known = self._listed.get(key)
        if (
            known is not None
            and known.registry is self.registry
            and known.revision == self.registry.revision
            and known.start <= at < known.end
        ):
            return known.recognition
        recognition = self.registry.recognise(certificate, at=at, usage=usage)
        check_validity(certificate, at)
        check_usage(certificate, usage)
        # the same answer for every time between the nearest status changes and validity bounds around ``at``
        not_before, not_after = validity_window(certificate)
        starts, ends = [not_before], [not_after + _ONE_MICROSECOND]
        for when in _status_times(self.registry, certificate):
            (starts if when <= at else ends).append(when)
        if len(self._listed) >= _DECISION_CACHE_SIZE:
            self._listed.clear()
        self._listed[key] = _Listed(self.registry, self.registry.revision, max(starts), min(ends), recognition)
        return recognition

    async def validate(
        self,
        leaf: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime,
        usage: Usage,
        region: str | None = None,
        industry: str | None = None,
    ) -> ValidatedPath:
        """Validate ``leaf`` for ``usage`` at ``at``; raises `Refused` with the first failing reason.

        A decision on the same leaf reached earlier is reused when nothing it rests on can differ
        (`_Decision`); otherwise every check runs.
        """
        if is_sm2_signed(leaf) and not sm2.available():
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, "SM2 certificate chains need the optional SM2 provider")
        key = (fingerprint(leaf), *(fingerprint(c) for c in intermediates), usage, region, industry)
        decision = self._decisions.get(key)
        if decision is not None:
            reused = self._reuse(decision, at, usage)
            if reused is not None:
                return reused
        if self.registry.is_listed(leaf):
            chains = [self.build_chain(leaf, intermediates)]
        else:
            chains = await self._candidate_chains(leaf, intermediates, at)
        refusals: list[Refused] = []
        for chain in chains:
            try:
                path, gathered = await self._validate_chain(chain, intermediates, at, usage, region, industry)
            except Refused as refusal:
                refusals.append(refusal)
            else:
                if not refusals and gathered is not None:
                    self._remember_decision(key, path, gathered)
                return path
        raise refusals[0]

    def _reuse(self, decision: _Decision, at: datetime, usage: Usage) -> ValidatedPath | None:
        """``decision`` as the path at ``at``, or None when an input may have changed (then validate again)."""
        if (
            decision.registry is not self.registry
            or decision.registry_revision != self.registry.revision
            or decision.revocation is not self.revocation
            or decision.revocation_revision != self.revocation.revision
            or decision.policy is not self.policy
            or decision.certificate_policies is not self.certificate_policies
            or (decision.at_start is not None and at < decision.at_start)
            or (decision.at_end is not None and at >= decision.at_end)
        ):
            return None
        now = self.revocation.clock()
        if (decision.now_start is not None and now < decision.now_start) or (
            decision.now_end is not None and now >= decision.now_end
        ):
            return None
        return ValidatedPath(decision.chain, decision.recognition, decision.evidence, at, usage, decision.report)

    def _remember_decision(self, key: tuple[object, ...], path: ValidatedPath, gathered: _Gathered) -> None:
        """Keep ``path`` (validated on the CRL material ``gathered`` alone) with the spans of ``at`` and of
        the clock within which the same checks on the same inputs give the same result.
        """
        material = gathered.material
        if material.gaps or material.ocsps or material.usable_until is None:
            return
        if material.mentions_any([c.serial_number for c in path.chain[:-1]]):
            return
        now_start, now_end = self.revocation.freshness_window(gathered.now)
        now = self.revocation.clock()
        if (
            self.revocation.revision != gathered.revision  # something was stored meanwhile
            or (now_start is not None and now < now_start)
            or (now_end is not None and now >= now_end)
        ):
            return
        at = path.at
        starts: list[datetime] = []
        ends: list[datetime] = [material.usable_until]
        for when in _status_times(self.registry, path.anchor):
            (starts if when <= at else ends).append(when)
        for certificate in path.chain:
            not_before, not_after = validity_window(certificate)
            starts.append(not_before)
            ends.append(not_after + _ONE_MICROSECOND)  # valid while at <= notAfter
        for certificate in path.chain[:-1]:
            for when in self.policy.signature_dates(signature_algorithm(certificate)):
                (starts if when <= at else ends).append(when)
        if len(self._decisions) >= _DECISION_CACHE_SIZE:
            self._decisions.clear()
        self._decisions[key] = _Decision(
            self.registry,
            self.registry.revision,
            self.revocation,
            gathered.revision,
            self.policy,
            self.certificate_policies,
            max(starts) if starts else None,
            min(ends),
            now_start,
            now_end,
            path.chain,
            path.recognition,
            path.revocation,
            path.evidence(),
        )

    async def _candidate_chains(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], at: datetime
    ) -> list[list[x509.Certificate]]:
        """Every path from ``leaf`` to a listed certificate, shortest first (RFC 5280 §7.1 name matching).

        Path building depends on the certificates only, so the paths are kept per leaf, supplied
        intermediates and registry (a registry that gained a peer list is another registry here).
        """
        # only listed certificates that could issue something here: the engine indexes every root it gets
        issuers = frozenset(issuer_key(c) for c in (leaf, *intermediates))
        roots, roots_key = self._roots_for(issuers)
        key = (
            roots_key,
            fingerprint(leaf),
            *(fingerprint(c) for c in intermediates),
        )
        chains = self._chains.get(key)
        if chains is None:
            # the usual case, a leaf issued by a listed CA, needs no search (the names matched above)
            direct = [[leaf, c] for c in roots if subject_key(c) == issuer_key(leaf) and key_ids_match(c, leaf)]
            chains = direct or await self._build_chains(leaf, intermediates, roots, at)
            if len(self._chains) > _VERIFIED_CACHE_SIZE:
                self._chains.clear()
            self._chains[key] = chains
        return chains

    def _roots_for(self, issuers: frozenset[str]) -> tuple[list[x509.Certificate], tuple[str, ...]]:
        """The listed certificates whose subject is one of ``issuers``, with their sorted fingerprints, kept
        per registry revision (a registry only grows: `TrustRegistry.add_peer`), so the registry is not
        scanned per validation.
        """
        version = (id(self.registry), self.registry.revision)
        if self._roots_version != version:
            self._roots.clear()
            self._roots_version = version
        found = self._roots.get(issuers)
        if found is None:
            roots = [c for c in self.registry.certificates() if subject_key(c) in issuers]
            found = self._roots[issuers] = (roots, tuple(sorted(fingerprint(c) for c in roots)))
        return found

    async def _build_chains(
        self,
        leaf: x509.Certificate,
        intermediates: Sequence[x509.Certificate],
        roots: Sequence[x509.Certificate],
        at: datetime,
    ) -> list[list[x509.Certificate]]:
        context = ValidationContext(
            trust_roots=[self._to_asn1(c) for c in roots],
            other_certs=[self._to_asn1(c) for c in intermediates],
            moment=at,
        )
        try:
            paths = await context.path_builder.async_build_paths(self._to_asn1(leaf))
        except PathBuildingError as exc:
            self.build_chain(leaf, intermediates)  # names the reason: unknown issuer, unlisted root …
            raise Refused(Reason.UNKNOWN_ISSUER, str(exc)) from None
        chains = []
        for path in paths:
            chain = [self._from_asn1(c) for c in reversed(list(path.iter_certs(include_root=True)))]
            if len(chain) <= self.max_depth + 2:
                chains.append(chain)
        if not chains:
            raise Refused(Reason.INVALID_PATH, f"chain longer than {self.max_depth}")
        return sorted(chains, key=len)

    async def _validate_chain(  # noqa: PLR0917 - the platform's rules each take their input
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        at: datetime,
        usage: Usage,
        region: str | None,
        industry: str | None,
    ) -> tuple[ValidatedPath, _Gathered | None]:
        """The path, and the CRL material it rests on when that alone decided (None: nothing to reuse)."""
        anchor = chain[-1]
        recognition = self.registry.recognise(anchor, at=at, usage=usage, region=region, industry=industry)
        for certificate in chain:
            check_validity(certificate, at)
        check_usage(chain[0], usage)
        if len(chain) == 1:
            return ValidatedPath(tuple(chain), recognition, (), at, usage), None
        for certificate, issuer in itertools.pairwise(chain):
            self._check_algorithm(certificate, issuer, at)
        evidence, gathered = await self._pkix(chain, intermediates, recognition, at)
        return ValidatedPath(tuple(chain), recognition, evidence, at, usage), gathered

    async def _pkix(
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        recognition: Recognition,
        at: datetime,
    ) -> tuple[tuple[RevocationEvidence, ...], _Gathered | None]:
        """RFC 5280 path validation with revocation (required for every certificate below the anchor);
        the evidence, and the CRL material with the checker's revision and clock before it was gathered
        when the CRLs alone decided.
        """
        service = recognition.service
        crl_urls, ocsp_urls = service.crl_urls, service.ocsp_urls
        revision, now = self.revocation.revision, self.revocation.clock()
        material = await self.revocation.material(chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls)
        gathered: _Gathered | None = _Gathered(material, revision, now)
        if not material.crls:
            gathered = None
            material = await self.revocation.material(
                chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls, with_ocsp=True
            )
        if self._known_valid(chain, intermediates, material, at):
            return material.evidence(), gathered
        try:
            await self._engine(chain, intermediates, material, at)
        except Refused as refusal:
            if refusal.reason is not Reason.REVOCATION_UNKNOWN:
                raise
            gathered = None
            if not material.ocsps:
                # a CRL was there but did not cover everything (scope, signer …): OCSP may answer
                material = await self.revocation.material(
                    chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls, with_ocsp=True
                )
                if not material.ocsps:
                    raise
            await self._engine_with_listed_responder(chain, intermediates, material, at, refusal)
        self._remember_valid(chain, intermediates, material)
        return material.evidence(), gathered

    async def _engine_with_listed_responder(
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        material: RevocationMaterial,
        at: datetime,
        refusal: Refused,
    ) -> None:
        """The engine again, with OCSP; for a leaf naming no responder, the trust list's answers for it.

        pyhanko-certvalidator consults OCSP only for certificates whose AIA names a responder. A leaf
        without one may still be covered by the responder the trust list names for its CA: that
        answer passed the platform's own checks (responder authorised by the CA, signature,
        freshness, our nonce), so the engine then checks every other certificate and the leaf's
        revocation rests on that answer.
        """
        try:
            await self._engine(chain, intermediates, material, at)
        except Refused as again:
            leaf = chain[0]
            if again.reason is not Reason.REVOCATION_UNKNOWN or revocation_ocsp_urls(leaf):
                raise
            if not any(o.certificate_sha256 == fingerprint(leaf) for o in material.ocsps):
                raise refusal from None
            await self._engine(chain, intermediates, material, at, leaf_answered=True)

    def _verdict_key(
        self, chain: list[x509.Certificate], intermediates: Sequence[x509.Certificate], material: RevocationMaterial
    ) -> tuple[object, ...]:
        return (
            tuple(fingerprint(c) for c in chain),
            tuple(fingerprint(c) for c in intermediates),
            material.digest,
            self.certificate_policies,
        )

    def _known_valid(
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        material: RevocationMaterial,
        at: datetime,
    ) -> bool:
        key = self._verdict_key(chain, intermediates, material)
        usable_until = self._verdicts.get(key)
        if usable_until is None or at >= usable_until:
            return False
        with contextlib.suppress(KeyError):  # another thread may have dropped it meanwhile
            self._verdicts.move_to_end(key)
        return True

    def _remember_valid(
        self, chain: list[x509.Certificate], intermediates: Sequence[x509.Certificate], material: RevocationMaterial
    ) -> None:
        until = material.usable_until
        if until is None or material.mentions_any([c.serial_number for c in chain[:-1]]):
            return
        self._verdicts[self._verdict_key(chain, intermediates, material)] = until
        if len(self._verdicts) > _VERIFIED_CACHE_SIZE:
            with contextlib.suppress(KeyError):
                self._verdicts.popitem(last=False)

    async def _engine(
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        material: RevocationMaterial,
        at: datetime,
        *,
        leaf_answered: bool = False,
    ) -> None:
        leaf, *middle, anchor = [self._to_asn1(c) for c in chain]
        try:
            await pkix.validate_path(
                leaf,
                middle,
                anchor,
                other_certs=[self._to_asn1(c) for c in intermediates],
                material=material,
                at=at,
                policies=self.certificate_policies,
                leaf_answered=leaf_answered,
            )
        except Refused as refusal:
            if refusal.reason is Reason.INVALID_PATH:
                diagnose_signatures(chain)  # a link that does not verify is named as such
            raise

    def _to_asn1(self, certificate: x509.Certificate) -> asn1_x509.Certificate:
        key = fingerprint(certificate)
        parsed = self._asn1.get(key)
        if parsed is None:
            if len(self._asn1) > _VERIFIED_CACHE_SIZE:
                self._asn1.clear()
                self._originals.clear()
            parsed = self._asn1[key] = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
            self._originals[id(parsed)] = certificate
        return parsed

    def _from_asn1(self, certificate: asn1_x509.Certificate) -> x509.Certificate:
        original = self._originals.get(id(certificate))  # the objects the engine was given, kept alive above
        if original is not None:
            return original
        der = certificate.dump()
        parsed = self._parsed.get(der)
        if parsed is None:
            if len(self._parsed) > _VERIFIED_CACHE_SIZE:
                self._parsed.clear()
            parsed = self._parsed[der] = x509.load_der_x509_certificate(der)
        return parsed

    def _check_algorithm(self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime) -> None:
        algorithm = signature_algorithm(certificate)
        issuer_id = fingerprint(issuer)
        if algorithm is algs.SM2_SM3:
            self.policy.check_signature(algorithm, at)
            return
        if issuer_id not in self._issuer_keys:
            try:
                key = issuer.public_key()
            except UnsupportedAlgorithm as exc:
                raise Refused(Reason.UNSUPPORTED_ALGORITHM, str(exc)) from None
            self._issuer_keys[issuer_id] = key.key_size if isinstance(key, rsa.RSAPublicKey) else None
        self.policy.check_signature(algorithm, at, rsa_bits=self._issuer_keys[issuer_id])
