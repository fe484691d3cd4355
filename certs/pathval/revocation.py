"""Revocation: CRLs and OCSP answers behind an injectable fetcher, cached, failing closed.

Two uses. `RevocationChecker.material(chain, at)` gathers what may bear on a chain — the CRLs at
each certificate's distribution points (full and freshest/delta), the trust list's URLs for the
anchor's subordinates, every cached CRL from an issuer the chain names (compared as RFC 5280 §7.1
says), and OCSP answers when CRLs do not settle it — for the RFC 5280 engine in `validate.py`,
which judges scope (Issuing Distribution Point), signer (cRLSign), deltas and holds. Nothing here
decides that a CRL is complete.

`RevocationChecker.check(cert, issuer, at)` is the platform's own, stricter judgement: it takes
only a complete, direct CRL signed by ``issuer`` (with cRLSign) and refuses every CRL it could
misread (`crl_scope_problem`: IDP-scoped, delta, indirect, unknown critical extensions); it
answers ``revoked`` (dated) or ``revocation-unknown``, never "good" from unknown.

CRLs are parsed once when fetched or offered (freshness by the clock: nextUpdate, not dated in
the future) and cached until their ``nextUpdate``; signatures checked by the platform are checked
once per issuer. OCSP responses get the four manual checks `cryptography` leaves to the caller
(reference §3.7): responder authorisation (the CA itself, or a certificate it issued directly with
the OCSPSigning EKU), signature, freshness, and the nonce and serial match; the verified answer is
then reused until its nextUpdate (or `ocsp_reuse` when it has none). `refresh_due` re-fetches CRLs
before they expire; `trading/` runs it as a periodic job. The network is only reached through a
`Fetcher`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from certs.algorithms import SM2_SM3
from certs.errors import Reason, Refused
from certs.percert import per_certificate
from certs.providers import sm2
from certs.providers.base import SignatureValue
from certs.report import Evidence
from certs.trustlist.model import fingerprint


class Fetcher(Protocol):
    """GET (``body`` None) or POST a URL and return the response body; raise on any failure."""

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes: ...


@dataclass(frozen=True)
class RevocationEvidence:
    """What a "not revoked" verdict rests on."""

    kind: str
    source: str
    der: bytes
    this_update: datetime
    next_update: datetime | None

    def to_evidence(self) -> Evidence:
        return Evidence(self.kind, f"{self.source} (thisUpdate {self.this_update.isoformat()})", self.der)


@dataclass
class _CachedCrl:
    der: bytes
    source: str
    issuer_name: str
    this_update: datetime
    next_update: datetime
    revoked: dict[int, tuple[datetime, str]]
    crl: x509.CertificateRevocationList
    # Issuers (SHA-256) whose key verified this CRL's signature, for the platform's own engine.
    verified_by: set[str] = field(default_factory=set)
    sha256: str = field(init=False)
    """SHA-256 of ``der``, hex (taken once: the material of every validation names its CRLs by it)."""

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.der).hexdigest()

    def evidence(self) -> RevocationEvidence:
        return RevocationEvidence("crl", self.source, self.der, self.this_update, self.next_update)


@dataclass(frozen=True)
class _OcspAnswer:
    der: bytes
    source: str
    certificate_sha256: str
    this_update: datetime
    next_update: datetime | None
    reuse_until: datetime
    revoked: tuple[datetime, str] | None

    def evidence(self) -> RevocationEvidence:
        return RevocationEvidence("ocsp", self.source, self.der, self.this_update, self.next_update)


@dataclass(frozen=True)
class RevocationMaterial:
    """The CRLs and OCSP answers gathered for a chain, all fresh by the checker's clock, not yet judged.

    The RFC 5280 engine decides which of them apply to which certificate (scope, signer, deltas).
    """

    crls: tuple[_CachedCrl, ...]
    ocsps: tuple[_OcspAnswer, ...]
    gaps: bool = False
    """Some CRL URL of the chain gave nothing (fetch or parse failed): another call may fetch it, so
    nothing derived from this material may be reused (`RevocationChecker.revision` would not say)."""

    def crl_ders(self) -> list[bytes]:
        return [c.der for c in self.crls]

    def ocsp_ders(self) -> list[bytes]:
        return [o.der for o in self.ocsps]

    def evidence(self) -> tuple[RevocationEvidence, ...]:
        return (*(c.evidence() for c in self.crls), *(o.evidence() for o in self.ocsps))

    @property
    def digest(self) -> tuple[str, ...]:
        ocsps = (hashlib.sha256(d).hexdigest() for d in self.ocsp_ders())
        return tuple(sorted((*(c.sha256 for c in self.crls), *ocsps)))

    @property
    def usable_until(self) -> datetime | None:
        """The earliest nextUpdate (None: some item has none, so no verdict may be reused)."""
        ends = [c.next_update for c in self.crls] + [o.next_update for o in self.ocsps]
        if not ends or any(end is None for end in ends):
            return None
        return min(end for end in ends if end is not None)

    def mentions_any(self, serials: Sequence[int]) -> bool:
        """Whether any CRL entry or OCSP answer concerns one of ``serials`` (then a verdict depends on the time)."""
        return any(s in c.revoked for c in self.crls for s in serials) or any(o.revoked for o in self.ocsps)


_NAME_KEYS: dict[x509.Name, str] = {}
_NAME_KEY_CACHE_SIZE: Final = 10_000


@per_certificate(maxsize=_NAME_KEY_CACHE_SIZE)
def issuer_key(certificate: x509.Certificate) -> str:
    """`name_key` of the certificate's issuer, cached by the certificate (its exact DER)."""
    return name_key(certificate.issuer)


@per_certificate(maxsize=_NAME_KEY_CACHE_SIZE)
def subject_key(certificate: x509.Certificate) -> str:
    """`name_key` of the certificate's subject, cached by the certificate (its exact DER)."""
    return name_key(certificate.subject)


def name_key(name: x509.Name) -> str:
    """A name compared as RFC 5280 §7.1 says (case, whitespace and string type folded), for lookups.

    Cached by the name itself: names `cryptography` holds equal fold to the same key anyway.
    """
    key = _NAME_KEYS.get(name)
    if key is None:
        if len(_NAME_KEYS) > _NAME_KEY_CACHE_SIZE:
            _NAME_KEYS.clear()
        key = _NAME_KEYS[name] = str(asn1_x509.Name.load(name.public_bytes()).hashable)
    return key


# --- the CRL rules of the platform's own engine (SM2 chains) --------------------------------------

_UNDERSTOOD_CRL_EXTENSIONS: Final = (x509.AuthorityKeyIdentifier, x509.CRLNumber, x509.IssuerAlternativeName)
_UNDERSTOOD_ENTRY_EXTENSIONS: Final = (x509.CRLReason, x509.InvalidityDate)


def crl_scope_problem(crl: x509.CertificateRevocationList) -> str | None:
    """Why ``crl`` may not be taken as the complete CRL of its issuer by the platform's own engine, or None.

    The own engine (SM2 chains, which pyhanko-certvalidator cannot verify) knows complete, direct
    CRLs only. A CRL scoped by an Issuing Distribution Point (a partition, user/CA-only, some
    reasons, indirect), a delta CRL, a CRL with an entry naming another certificate issuer, and a
    CRL with any critical extension it does not understand would each be misread as complete, so
    each is refused (revocation unknown: fail closed) rather than interpreted.
    """
    for ext in crl.extensions:
        if isinstance(ext.value, x509.IssuingDistributionPoint):
            return "is scoped by an Issuing Distribution Point"
        if isinstance(ext.value, (x509.DeltaCRLIndicator, x509.FreshestCRL)):
            return "is (or refers to) a delta CRL"
        if ext.critical and not isinstance(ext.value, _UNDERSTOOD_CRL_EXTENSIONS):
            return f"has an unknown critical extension {ext.oid.dotted_string}"
    for entry in crl:
        for entry_ext in entry.extensions:
            if isinstance(entry_ext.value, x509.CertificateIssuer):
                return "is an indirect CRL (entries name another issuer)"
            if entry_ext.critical and not isinstance(entry_ext.value, _UNDERSTOOD_ENTRY_EXTENSIONS):
                return f"has an entry with an unknown critical extension {entry_ext.oid.dotted_string}"
    return None


def may_sign_crls(issuer: x509.Certificate) -> bool:
    """RFC 5280 §6.3.3 (f): a CRL signer whose keyUsage is present must assert cRLSign."""
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.crl_sign


def _crl_signature_valid(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    if crl.signature_algorithm_oid.dotted_string == SM2_SM3.oid:
        key = sm2.certificate_public_key(issuer.public_bytes(serialization.Encoding.DER))
        if key is None:
            return False
        try:
            sm2.verify(key, crl.tbs_certlist_bytes, SignatureValue(SM2_SM3, crl.signature))
        except Refused:
            return False
        return True
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (UnsupportedAlgorithm, TypeError, ValueError):
        return False


def crl_urls(
    certificate: x509.Certificate,
    extension: type[x509.CRLDistributionPoints | x509.FreshestCRL] = x509.CRLDistributionPoints,
) -> list[str]:
    """The URIs of the certificate's CRL distribution points, or of its freshest-CRL (delta)
    locations with ``extension=x509.FreshestCRL``: the two extensions share the syntax.
    """
    try:
        points = certificate.extensions.get_extension_for_class(extension).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


@per_certificate(maxsize=_NAME_KEY_CACHE_SIZE)
def _distribution_urls(certificate: x509.Certificate) -> tuple[str, ...]:
    """The full and delta CRL URLs of a certificate, cached by the certificate (its exact DER)."""
    return (*crl_urls(certificate), *crl_urls(certificate, x509.FreshestCRL))


@per_certificate(maxsize=_NAME_KEY_CACHE_SIZE)
def _crl_issuer_names(certificate: x509.Certificate) -> frozenset[str]:
    """The cRLIssuer names of the certificate's distribution points (indirect CRLs)."""
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return frozenset()
    return frozenset(
        name_key(name.value)
        for point in points
        for name in point.crl_issuer or []
        if isinstance(name, x509.DirectoryName)
    )


def _refuse_if_revoked(answer: _OcspAnswer, at: datetime) -> None:
    if answer.revoked is not None and answer.revoked[0] <= at:
        when, reason = answer.revoked
        raise Refused(Reason.REVOKED, f"{reason}, per OCSP {answer.source}", at=when, details={"source": answer.source})


def ocsp_urls(certificate: x509.Certificate) -> list[str]:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in access
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


@dataclass
class RevocationChecker:
    """Gathers and caches CRLs (preferred: cacheable) and OCSP answers through ``fetcher``.

    Two users: `material` feeds the RFC 5280 engine (pyhanko-certvalidator judges scope, signer,
    deltas and holds), `check` is the platform's own judgement for SM2 chains, which refuses every
    CRL it could misread (`crl_scope_problem`).
    """

    fetcher: Fetcher
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    use_ocsp: bool = True
    tolerance: timedelta = timedelta(minutes=5)
    # An OCSP answer without nextUpdate is reused for this long at most.
    ocsp_reuse: timedelta = timedelta(minutes=5)
    _crls: dict[str, _CachedCrl] = field(default_factory=dict)
    _crl_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _issuers: dict[str, x509.Certificate] = field(default_factory=dict)
    _ocsps: dict[tuple[str, str], _OcspAnswer] = field(default_factory=dict)
    revision: int = field(default=0, init=False)
    """Bumped whenever a CRL or an OCSP answer is stored: with `freshness_window`, what tells a caller
    that `material` would gather exactly what it gathered before."""

    async def check(
        self,
        certificate: x509.Certificate,
        issuer: x509.Certificate,
        at: datetime,
        *,
        extra_crl_urls: Sequence[str] = (),
        extra_ocsp_urls: Sequence[str] = (),
    ) -> RevocationEvidence:
        """Evidence that ``certificate`` was not revoked at ``at``; refuses ``revoked`` or ``revocation-unknown``.

        Only complete, direct CRLs signed by ``issuer`` (with cRLSign) count (`crl_scope_problem`).
        """
        problems: list[str] = []
        for url in dict.fromkeys([*crl_urls(certificate), *extra_crl_urls]):
            try:
                cached = await self._crl(url, issuer)
            except Refused as refusal:
                problems.append(f"CRL {url}: {refusal.detail or refusal.text}")
                continue
            problem = crl_scope_problem(cached.crl)
            if problem is not None:  # never read as complete: it could hide a revocation
                problems.append(f"CRL {url} {problem}")
                continue
            entry = cached.revoked.get(certificate.serial_number)
            if entry is not None and entry[0] <= at:
                raise Refused(Reason.REVOKED, f"{entry[1]}, per CRL {url}", at=entry[0], details={"source": url})
            return cached.evidence()
        if self.use_ocsp:
            for url in dict.fromkeys([*ocsp_urls(certificate), *extra_ocsp_urls]):
                try:
                    answer = await self._ocsp(url, certificate, issuer)
                except Refused as refusal:
                    problems.append(f"OCSP {url}: {refusal.detail or refusal.text}")
                    continue
                _refuse_if_revoked(answer, at)
                return answer.evidence()
        detail = "; ".join(problems) or "the certificate names no CRL or OCSP responder"
        raise Refused(Reason.REVOCATION_UNKNOWN, detail)

    async def material(
        self,
        chain: Sequence[x509.Certificate],
        at: datetime,
        *,
        extra_crl_urls: Sequence[str] = (),
        extra_ocsp_urls: Sequence[str] = (),
        with_ocsp: bool = False,
    ) -> RevocationMaterial:
        """The fresh CRLs (and, ``with_ocsp``, OCSP answers) that may bear on ``chain`` (leaf first, anchor last).

        CRLs come from each certificate's distribution points (full and delta), the trust list's
        URLs for the anchor's direct subordinates, and every cached CRL from an issuer named in the
        chain (offered out of band: `add_crl`, `offer_crl`). Nothing is judged here except freshness
        by the clock; an OCSP answer saying "revoked" at ``at`` refuses at once.
        """
        anchor = chain[-1]
        names = {issuer_key(c) for c in chain[:-1]}
        urls: list[str] = []
        for certificate, issuer in itertools.pairwise(chain):
            urls += _distribution_urls(certificate)
            names |= _crl_issuer_names(certificate)
            if issuer is anchor:
                urls += extra_crl_urls
        found: dict[str, _CachedCrl] = {}
        gaps = False
        for url in dict.fromkeys(urls):
            try:
                cached = await self._crl(url, None)
            except Refused:
                gaps = True
                continue  # judged by the engine: no CRL for the certificate, then OCSP or refusal
            found.setdefault(cached.sha256, cached)
        now = self.clock()
        for cached in self._crls.values():
            if cached.issuer_name in names and self._fresh(cached, now):
                found.setdefault(cached.sha256, cached)
        answers = await self._ocsp_material(chain, at, extra_ocsp_urls) if with_ocsp and self.use_ocsp else []
        return RevocationMaterial(tuple(found.values()), tuple(answers), gaps)

    def freshness_window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The span [start, end) around ``now`` within which no cached CRL turns fresh or stale (None:
        unbounded on that side). While `revision` is unchanged and the clock stays inside it, `material`
        gathers the same CRLs for the same chain: its choice depends only on the cache and freshness.
        """
        start: datetime | None = None
        end: datetime | None = None
        for cached in self._crls.values():
            # fresh while this_update - tolerance <= now < next_update
            for boundary in (cached.this_update - self.tolerance, cached.next_update):
                if boundary <= now:
                    start = boundary if start is None or boundary > start else start
                else:
                    end = boundary if end is None or boundary < end else end
        return start, end

    def _keep_crl(self, url: str, cached: _CachedCrl) -> None:
        self._crls[url] = cached
        self.revision += 1

    async def _ocsp_material(
        self, chain: Sequence[x509.Certificate], at: datetime, extra_ocsp_urls: Sequence[str]
    ) -> list[_OcspAnswer]:
        answers: list[_OcspAnswer] = []
        for certificate, issuer in itertools.pairwise(chain):
            extra = extra_ocsp_urls if issuer is chain[-1] else ()
            for url in dict.fromkeys([*ocsp_urls(certificate), *extra]):
                try:
                    answer = await self._ocsp(url, certificate, issuer)
                except Refused:
                    continue
                _refuse_if_revoked(answer, at)
                answers.append(answer)
                break
        return answers

    def add_crl(self, url: str, der: bytes, issuer: x509.Certificate) -> None:
        """Verify and cache a CRL obtained out of band (embedded evidence, a pushed update)."""
        cached = self._parse_crl(der, url)
        self._verify_crl_signer(cached, issuer, url)
        self._keep_crl(url, cached)

    def offer_crl(self, der: bytes, source: str) -> None:
        """Cache a CRL obtained out of band without judging it: the engine checks signer and scope when used."""
        self._keep_crl(source, self._parse_crl(der, source))

    async def refresh_due(self, *, margin: timedelta = timedelta(hours=1)) -> list[str]:
        """Re-fetch cached CRLs that expire within ``margin``; returns the URLs refreshed (a periodic job)."""
        now = self.clock()
        refreshed = []
        for url, cached in list(self._crls.items()):
            if cached.next_update - margin > now or not url.startswith(("http://", "https://")):
                continue
            try:
                fresh = self._parse_crl(await self.fetcher.fetch(url), url)
                for issuer_id in cached.verified_by:
                    self._verify_crl_signer(fresh, self._issuers[issuer_id], url)
            except (Refused, OSError, ValueError):
                continue  # keep the old one; it fails closed once past nextUpdate
            self._keep_crl(url, fresh)
            refreshed.append(url)
        return refreshed

    def _fresh(self, cached: _CachedCrl, now: datetime) -> bool:
        return now < cached.next_update and cached.this_update <= now + self.tolerance

    async def _crl(self, url: str, issuer: x509.Certificate | None) -> _CachedCrl:
        cached = self._crls.get(url)
        if cached is None or not self._fresh(cached, self.clock()):
            lock = self._crl_locks.setdefault(url, asyncio.Lock())
            async with lock:
                cached = self._crls.get(url)
                if cached is None or not self._fresh(cached, self.clock()):
                    try:
                        der = await self.fetcher.fetch(url)
                    except (OSError, ValueError) as exc:
                        raise Refused(Reason.REVOCATION_UNKNOWN, f"cannot fetch: {exc}") from None
                    cached = self._parse_crl(der, url)
                    self._keep_crl(url, cached)
        if issuer is not None:
            self._verify_crl_signer(cached, issuer, url)
        return cached

    def _parse_crl(self, der: bytes, url: str) -> _CachedCrl:
        try:
            crl = x509.load_der_x509_crl(der)
            entries = list(crl)
        except ValueError as exc:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"unparseable CRL from {url}: {exc}") from None
        now = self.clock()
        next_update = crl.next_update_utc
        if next_update is None or now >= next_update:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is stale (nextUpdate {next_update})")
        if crl.last_update_utc > now + self.tolerance:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is dated in the future")
        revoked = {}
        for entry in entries:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except (x509.ExtensionNotFound, ValueError):
                reason = "unspecified"
            revoked[entry.serial_number] = (entry.revocation_date_utc, reason)
        return _CachedCrl(der, url, name_key(crl.issuer), crl.last_update_utc, next_update, revoked, crl)

    def _verify_crl_signer(self, cached: _CachedCrl, issuer: x509.Certificate, url: str) -> None:
        """That ``issuer`` signed the CRL and may sign CRLs (checked once per issuer); scope is judged on use."""
        issuer_id = fingerprint(issuer)
        if issuer_id in cached.verified_by:
            return
        if cached.issuer_name != name_key(issuer.subject):
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is issued by another CA")
        if not may_sign_crls(issuer):
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url}: its issuer may not sign CRLs (no cRLSign)")
        if not _crl_signature_valid(cached.crl, issuer):
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} has a bad signature")
        cached.verified_by.add(issuer_id)
        self._issuers[issuer_id] = issuer

    async def _ocsp(self, url: str, certificate: x509.Certificate, issuer: x509.Certificate) -> _OcspAnswer:
        """A verified OCSP answer about ``certificate``, reused from the cache within its validity window."""
        key = (fingerprint(certificate), fingerprint(issuer))
        now = self.clock()
        cached = self._ocsps.get(key)
        if cached is not None and now < cached.reuse_until:
            return cached
        nonce = os.urandom(16)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, hashes.SHA256())
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        try:
            der = await self.fetcher.fetch(
                url, body=request.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-request"
            )
            response = ocsp.load_der_ocsp_response(der)
        except (OSError, ValueError) as exc:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"no usable response: {exc}") from None
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"responder answered {response.response_status.name}")
        self._check_ocsp(response, request, issuer, nonce)
        status = response.certificate_status
        revoked: tuple[datetime, str] | None = None
        if status is ocsp.OCSPCertStatus.REVOKED and response.revocation_time_utc is not None:
            reason = response.revocation_reason.value if response.revocation_reason else "unspecified"
            revoked = (response.revocation_time_utc, reason)
        elif status is not ocsp.OCSPCertStatus.GOOD:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the responder does not know the certificate")
        next_update = response.next_update_utc
        answer = _OcspAnswer(
            der, url, key[0], response.this_update_utc, next_update, next_update or now + self.ocsp_reuse, revoked
        )
        self._ocsps[key] = answer
        self.revision += 1
        return answer

    def _check_ocsp(
        self, response: ocsp.OCSPResponse, request: ocsp.OCSPRequest, issuer: x509.Certificate, nonce: bytes
    ) -> None:
        if response.serial_number != request.serial_number or response.issuer_key_hash != request.issuer_key_hash:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the response is about another certificate")
        signer = _ocsp_signer(response, issuer)
        try:
            _verify_response_signature(signer, response)
        except InvalidSignature:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the OCSP response has a bad signature") from None
        now = self.clock()
        if response.this_update_utc > now + self.tolerance:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the OCSP response is dated in the future")
        if response.next_update_utc is not None and now >= response.next_update_utc:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the OCSP response is stale")
        echoed = [e.value for e in response.extensions if isinstance(e.value, x509.OCSPNonce)]
        if not echoed or echoed[0].nonce != nonce:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the OCSP response does not echo our nonce")


def _verify_response_signature(signer: x509.Certificate, response: ocsp.OCSPResponse) -> None:
    key = signer.public_key()
    digest = response.signature_hash_algorithm
    if isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
        key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(digest))
    elif isinstance(key, rsa.RSAPublicKey) and digest is not None:
        key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), digest)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(response.signature, response.tbs_response_bytes)
    else:
        raise Refused(Reason.REVOCATION_UNKNOWN, f"unsupported OCSP responder key {type(key).__name__}")


def _ocsp_signer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The responder certificate: the CA itself, or one it issued directly with the OCSPSigning EKU."""
    key_hash = response.responder_key_hash
    name = response.responder_name
    issuer_key_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
    if (key_hash is not None and key_hash == issuer_key_hash) or (name is not None and name == issuer.subject):
        return issuer
    for candidate in response.certificates:
        candidate_hash = x509.SubjectKeyIdentifier.from_public_key(candidate.public_key()).digest
        if (key_hash is not None and candidate_hash != key_hash) or (name is not None and candidate.subject != name):
            continue
        try:
            candidate.verify_directly_issued_by(issuer)
            eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return candidate
    raise Refused(Reason.REVOCATION_UNKNOWN, "the OCSP responder is not authorised by the CA")
