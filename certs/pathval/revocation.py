"""Revocation: CRLs and OCSP behind an injectable fetcher, cached, failing closed.

`RevocationChecker.check(cert, issuer, at)` answers "was ``cert`` revoked at ``at``?" with evidence,
or refuses:

* ``revoked`` (dated with the revocation time) when a verified CRL or OCSP response says so;
* ``revocation-unknown`` when no fresh, verified information can be had — an unreachable CRL, a
  stale one, an OCSP ``unknown``, a bad responder signature: unknown is never "good".

CRLs are verified once when fetched (signature with the issuer's key, issuer name, freshness) and
then cached until their ``nextUpdate``; lookups are dictionary hits. OCSP responses get the four
manual checks `cryptography` leaves to the caller (reference §3.7): responder authorisation (the CA
itself, or a certificate it issued directly with the OCSPSigning EKU), signature, freshness, and the
nonce and serial match. `refresh_due` re-fetches CRLs before they expire; `trading/` runs it as a
periodic job ("fetched in the background"). The network is only reached through a `Fetcher`.
"""

from __future__ import annotations

import asyncio
import os
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from certs.algorithms import SM2_SM3
from certs.errors import Reason, Refused
from certs.providers import sm2
from certs.providers.base import SignatureValue
from certs.report import Evidence
from certs.trustlist.model import fingerprint


class Fetcher(Protocol):
    """GET (``body`` None) or POST a URL and return the response body; raise on any failure."""

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes: ...


class UrllibFetcher:
    """A plain HTTP fetcher (urllib in a worker thread) for CRL distribution points and OCSP responders."""

    def __init__(self, *, timeout: float = 10.0, max_bytes: int = 20 * 1024 * 1024) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if not url.startswith(("http://", "https://")):
            msg = f"refusing to fetch {url!r}: only http(s)"
            raise ValueError(msg)

        def run() -> bytes:
            headers = {"Content-Type": content_type} if content_type else {}
            request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")  # noqa: S310
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                return bytes(response.read(self.max_bytes))

        return await asyncio.to_thread(run)


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
    issuer_sha256: str
    this_update: datetime
    next_update: datetime
    revoked: dict[int, tuple[datetime, str]]


def _fingerprint(certificate: x509.Certificate) -> str:
    return fingerprint(certificate)


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


def crl_urls(certificate: x509.Certificate) -> list[str]:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


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
    """Checks certificates against CRLs (preferred: cacheable) and OCSP, through ``fetcher``."""

    fetcher: Fetcher
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    use_ocsp: bool = True
    tolerance: timedelta = timedelta(minutes=5)
    _crls: dict[str, _CachedCrl] = field(default_factory=dict)
    _crl_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _issuers: dict[str, x509.Certificate] = field(default_factory=dict)

    async def check(
        self,
        certificate: x509.Certificate,
        issuer: x509.Certificate,
        at: datetime,
        *,
        extra_crl_urls: Sequence[str] = (),
        extra_ocsp_urls: Sequence[str] = (),
    ) -> RevocationEvidence:
        """Evidence that ``certificate`` was not revoked at ``at``; refuses ``revoked`` or ``revocation-unknown``."""
        problems: list[str] = []
        for url in [*crl_urls(certificate), *extra_crl_urls]:
            try:
                cached = await self._crl(url, issuer)
            except Refused as refusal:
                problems.append(f"CRL {url}: {refusal.detail or refusal.text}")
                continue
            entry = cached.revoked.get(certificate.serial_number)
            if entry is not None and entry[0] <= at:
                raise Refused(Reason.REVOKED, f"{entry[1]}, per CRL {url}", at=entry[0], details={"source": url})
            return RevocationEvidence("crl", url, cached.der, cached.this_update, cached.next_update)
        if self.use_ocsp:
            for url in [*ocsp_urls(certificate), *extra_ocsp_urls]:
                try:
                    return await self._ocsp(url, certificate, issuer, at)
                except Refused as refusal:
                    if refusal.reason is Reason.REVOKED:
                        raise
                    problems.append(f"OCSP {url}: {refusal.detail or refusal.text}")
        detail = "; ".join(problems) or "the certificate names no CRL or OCSP responder"
        raise Refused(Reason.REVOCATION_UNKNOWN, detail)

    def add_crl(self, url: str, der: bytes, issuer: x509.Certificate) -> None:
        """Verify and cache a CRL obtained out of band (embedded evidence, a pushed update)."""
        self._crls[url] = self._verify_crl(der, issuer, url)

    async def refresh_due(self, *, margin: timedelta = timedelta(hours=1)) -> list[str]:
        """Re-fetch cached CRLs that expire within ``margin``; returns the URLs refreshed (a periodic job)."""
        now = self.clock()
        refreshed = []
        for url, cached in list(self._crls.items()):
            if cached.next_update - margin <= now:
                issuer = self._issuers[cached.issuer_sha256]
                try:
                    self._crls[url] = self._verify_crl(await self.fetcher.fetch(url), issuer, url)
                    refreshed.append(url)
                except (Refused, OSError, ValueError):
                    continue  # keep the old one; it fails closed once past nextUpdate
        return refreshed

    async def _crl(self, url: str, issuer: x509.Certificate) -> _CachedCrl:
        now = self.clock()
        cached = self._crls.get(url)
        if cached is not None and cached.issuer_sha256 == _fingerprint(issuer) and now < cached.next_update:
            return cached
        lock = self._crl_locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._crls.get(url)
            if cached is not None and cached.issuer_sha256 == _fingerprint(issuer) and now < cached.next_update:
                return cached
            try:
                der = await self.fetcher.fetch(url)
            except (OSError, ValueError) as exc:
                raise Refused(Reason.REVOCATION_UNKNOWN, f"cannot fetch: {exc}") from None
            cached = self._verify_crl(der, issuer, url)
            self._crls[url] = cached
            return cached

    def _verify_crl(self, der: bytes, issuer: x509.Certificate, url: str) -> _CachedCrl:
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError as exc:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"unparseable CRL from {url}: {exc}") from None
        if crl.issuer != issuer.subject:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is issued by another CA")
        if not _crl_signature_valid(crl, issuer):
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} has a bad signature")
        now = self.clock()
        next_update = crl.next_update_utc
        if next_update is None or now >= next_update:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is stale (nextUpdate {next_update})")
        if crl.last_update_utc > now + self.tolerance:
            raise Refused(Reason.REVOCATION_UNKNOWN, f"CRL from {url} is dated in the future")
        revoked = {}
        for entry in crl:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except x509.ExtensionNotFound:
                reason = "unspecified"
            revoked[entry.serial_number] = (entry.revocation_date_utc, reason)
        self._issuers[_fingerprint(issuer)] = issuer
        return _CachedCrl(der, _fingerprint(issuer), crl.last_update_utc, next_update, revoked)

    async def _ocsp(
        self, url: str, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime
    ) -> RevocationEvidence:
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
        if status is ocsp.OCSPCertStatus.REVOKED and response.revocation_time_utc is not None:
            if response.revocation_time_utc <= at:
                reason = response.revocation_reason.value if response.revocation_reason else "unspecified"
                raise Refused(Reason.REVOKED, f"{reason}, per OCSP {url}", at=response.revocation_time_utc)
        elif status is not ocsp.OCSPCertStatus.GOOD:
            raise Refused(Reason.REVOCATION_UNKNOWN, "the responder does not know the certificate")
        return RevocationEvidence("ocsp", url, der, response.this_update_utc, response.next_update_utc)

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
