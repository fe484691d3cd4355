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

SM2 chains go through the same engine: `_EngineSignatures` verifies SM2-with-SM3 (GM/T 0009
default ID) through the optional provider, so they get exactly the same path and CRL rules; without
the provider they are refused (``unsupported-algorithm``). A verdict is remembered per chain and
revocation material until the material's earliest nextUpdate, and only when no CRL entry or OCSP
answer concerns the chain (so a revocation date never has to be compared again).
"""

from __future__ import annotations

import contextlib
import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import AuthorityWithCert, CertTrustAnchor
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    AlgorithmUsageConstraint,
    AlgorithmUsagePolicy,
    CertRevTrustPolicy,
    DisallowWeakAlgorithmsPolicy,
    PKIXValidationParams,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)
from pyhanko_certvalidator.validate import async_validate_path

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker, RevocationEvidence, RevocationMaterial, name_key
from certs.pathval.revocation import ocsp_urls as revocation_ocsp_urls
from certs.providers import sm2
from certs.providers.base import SignatureValue
from certs.report import Evidence
from certs.trustlist.model import Usage, fingerprint
from certs.trustlist.registry import Recognition, TrustRegistry

_VERIFIED_CACHE_SIZE: Final = 10_000
OID_DOCUMENT_SIGNING: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_SIGNING_EKUS: Final = frozenset(
    {
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.CODE_SIGNING,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        OID_DOCUMENT_SIGNING,
    }
)
_LOGIN_EKUS: Final = frozenset(
    {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)
_SIGNATURE_ALGORITHMS_BY_OID: Final = {
    "1.2.840.10045.4.3.2": algs.ECDSA_P256_SHA256,
    "1.2.840.10045.4.3.3": algs.ECDSA_P384_SHA384,
    "1.2.840.113549.1.1.11": algs.RSA_PKCS1_SHA256,
    "1.2.840.113549.1.1.12": algs.RSA_PKCS1_SHA384,
    "1.2.840.113549.1.1.13": algs.RSA_PKCS1_SHA512,
    "1.2.840.113549.1.1.5": algs.RSA_PKCS1_SHA1,
    "1.2.840.113549.1.1.10": algs.RSA_PSS_SHA256,
    "1.3.101.112": algs.ED25519,
    "1.2.156.10197.1.501": algs.SM2_SM3,
}


ANY_POLICY: Final = "2.5.29.32.0"
# Hash algorithms the engine itself refuses anywhere (CRLs, OCSP answers included); which certificate
# signature algorithms are acceptable on a date is the platform's `AlgorithmPolicy`'s decision.
_WEAK_HASHES: Final = DisallowWeakAlgorithmsPolicy(weak_hash_algos=frozenset({"md2", "md5"}))  # type: ignore[no-untyped-call]
_ENGINE_REVOCATION: Final = CertRevTrustPolicy(REQUIRE_REVINFO, retroactive_revinfo=True)
# Every certificate but the leaf, whose OCSP answer the platform checked itself (`_engine_with_listed_responder`).
_ENGINE_REVOCATION_LEAF_ANSWERED: Final = CertRevTrustPolicy(
    RevocationCheckingPolicy(RevocationCheckingRule.NO_CHECK, RevocationCheckingRule.CRL_OR_OCSP_REQUIRED),
    retroactive_revinfo=True,
)
_DSA_OIDS: Final = frozenset({"1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.3.2"})


class _EngineAlgorithms(AlgorithmUsagePolicy):
    """The engine's algorithm policy, knowing SM2-with-SM3 (GM/T 0009), which asn1crypto does not."""

    def digest_algorithm_allowed(self, algo: Any, moment: datetime | None) -> AlgorithmUsageConstraint:
        return _WEAK_HASHES.digest_algorithm_allowed(algo, moment)

    def signature_algorithm_allowed(
        self, algo: Any, moment: datetime | None, public_key: Any
    ) -> AlgorithmUsageConstraint:
        if algo["algorithm"].dotted == algs.SM2_SM3.oid:
            return AlgorithmUsageConstraint(allowed=sm2.available())
        return _WEAK_HASHES.signature_algorithm_allowed(algo, moment, public_key)


class _EngineSignatures(DefaultSignatureValidator):
    """Signature checks for the engine: SM2 (GM/T 0009 default ID) through the optional provider, the rest as usual.

    So SM2 chains get the very same RFC 5280 processing, CRL rules included, as RSA/ECDSA chains.
    """

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: Any,
        signature_algorithm: Any,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        if signature_algorithm["algorithm"].dotted != algs.SM2_SM3.oid:
            super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        try:
            key = sm2.Sm2PublicKey.from_spki_der(bytes(public_key_info.dump()))
            sm2.verify(key, signed_data, SignatureValue(algs.SM2_SM3, signature))
        except (Refused, ValueError, TypeError) as exc:
            raise InvalidSignature(str(exc)) from None


_ENGINE_ALGORITHMS: Final = _EngineAlgorithms()
_ENGINE_SIGNATURES: Final = _EngineSignatures()


class _ListedCaAuthority(AuthorityWithCert):
    """A listed CA that is not self-signed, as the engine's anchor, signing its own CRLs.

    pyhanko-certvalidator finds a CRL signer's path by looking for the signer's issuer in the path,
    which fails when the signer is an anchor that is not self-signed (the platform's usual case:
    the trust list names the issuing CA, not its root). Declaring the anchor a potential issuer of
    its own certificate, with that certificate recorded as validated (it is the anchor), lets the
    engine use the anchor's key for the CRL and still apply every other rule (scope, cRLSign …).
    """

    def is_potential_issuer_of(self, cert: asn1_x509.Certificate) -> bool:
        if cert.sha256 == self.certificate.sha256:
            return True
        return bool(super().is_potential_issuer_of(cert))


class _ListedCaAnchor(CertTrustAnchor):
    def __init__(self, cert: asn1_x509.Certificate) -> None:
        super().__init__(cert)
        self._authority = _ListedCaAuthority(cert)


@dataclass(frozen=True)
class CertificatePolicies:
    """The RFC 5280 §6.1.1 policy inputs: the platform's acceptable policy set (a setting) and the three flags.

    ``acceptable`` holds dotted OIDs; the default, anyPolicy alone, accepts every policy, and with
    ``require_explicit`` a path must still end with at least one valid policy.
    """

    acceptable: frozenset[str] = frozenset({ANY_POLICY})
    require_explicit: bool = False
    inhibit_mapping: bool = False
    inhibit_any_policy: bool = False

    def params(self) -> PKIXValidationParams:
        names = frozenset("any_policy" if oid == ANY_POLICY else oid for oid in self.acceptable)
        return PKIXValidationParams(
            user_initial_policy_set=names,
            initial_policy_mapping_inhibit=self.inhibit_mapping,
            initial_explicit_policy=self.require_explicit,
            initial_any_policy_inhibit=self.inhibit_any_policy,
        )


@dataclass(frozen=True)
class ValidatedPath:
    """A certificate validated for a usage at a time: its chain (leaf first), recognition and evidence."""

    chain: tuple[x509.Certificate, ...]
    recognition: Recognition
    revocation: tuple[RevocationEvidence, ...]
    at: datetime
    usage: Usage

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def anchor(self) -> x509.Certificate:
        return self.chain[-1]

    def evidence(self) -> tuple[Evidence, ...]:
        r = self.recognition
        listed = Evidence("trust-list", f"{r.source} sequence {r.list_sequence} sha256 {r.list_sha256}")
        return (listed, *(item.to_evidence() for item in self.revocation))


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _ekus(certificate: x509.Certificate) -> x509.Extension[x509.ExtendedKeyUsage] | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return None


def check_usage(certificate: x509.Certificate, usage: Usage) -> None:
    """Refuse (wrong-key-usage) a leaf whose keyUsage/EKU does not allow ``usage``."""
    ku = _key_usage(certificate)
    eku_ext = _ekus(certificate)
    ekus = set(eku_ext.value) if eku_ext else None

    def refuse(why: str) -> Refused:
        return Refused(Reason.WRONG_KEY_USAGE, f"{certificate.subject.rfc4514_string()} {why}")

    if usage is Usage.BID_ENCRYPTION:
        if ku is not None and not (ku.key_encipherment or ku.key_agreement):
            raise refuse("may not encrypt keys")
        return
    if usage is Usage.TIMESTAMP:
        if eku_ext is None or not eku_ext.critical or ekus != {ExtendedKeyUsageOID.TIME_STAMPING}:
            raise refuse("is not a TSA certificate (critical timeStamping EKU)")
        return
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        raise refuse("may not sign")
    allowed = _LOGIN_EKUS if usage is Usage.LOGIN else _SIGNING_EKUS
    if ekus is not None and not ekus & allowed:
        raise refuse(f"has no extended key usage allowing {usage.value}")


def _validity(certificate: x509.Certificate, at: datetime) -> None:
    if at < certificate.not_valid_before_utc:
        raise Refused(Reason.NOT_YET_VALID, certificate.subject.rfc4514_string(), at=certificate.not_valid_before_utc)
    if at > certificate.not_valid_after_utc:
        raise Refused(Reason.EXPIRED, certificate.subject.rfc4514_string(), at=certificate.not_valid_after_utc)


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _ski(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _aki(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def _is_sm2_signed(certificate: x509.Certificate) -> bool:
    return certificate.signature_algorithm_oid.dotted_string == algs.SM2_SM3.oid


def _check_link_signature(certificate: x509.Certificate, issuer: x509.Certificate) -> None:
    if not _is_sm2_signed(certificate):
        try:
            certificate.verify_directly_issued_by(issuer)
        except InvalidSignature:
            raise Refused(
                Reason.BAD_SIGNATURE, f"{certificate.subject.rfc4514_string()} is not signed by its issuer"
            ) from None
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise Refused(Reason.INVALID_PATH, str(exc)) from None
        return
    key = sm2.certificate_public_key(issuer.public_bytes(serialization.Encoding.DER))
    if key is None:
        raise Refused(Reason.INVALID_PATH, f"{issuer.subject.rfc4514_string()} has no SM2 key")
    try:
        sm2.verify(key, certificate.tbs_certificate_bytes, SignatureValue(algs.SM2_SM3, certificate.signature))
    except Refused:
        raise Refused(
            Reason.BAD_SIGNATURE, f"{certificate.subject.rfc4514_string()} is not signed by its issuer"
        ) from None


def _key_ids_match(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    aki, ski = _aki(certificate), _ski(issuer)
    return aki is None or ski is None or aki == ski


def _could_issue(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    if issuer.subject != certificate.issuer:
        return False
    aki, ski = _aki(certificate), _ski(issuer)
    return aki is None or ski is None or aki == ski


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

    def build_chain(self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
        """Leaf first, up to a certificate listed in the registry (or a refusal naming why not)."""
        chain = [leaf]
        current = leaf
        for _ in range(self.max_depth + 1):
            if self.registry.is_listed(current):
                return chain
            listed = [c for c in self.registry.issuers_of(current) if _could_issue(c, current)]
            if listed:
                chain.append(listed[0])
                return chain
            if _is_self_issued(current):
                raise Refused(
                    Reason.CA_NOT_RECOGNISED, f"root {current.subject.rfc4514_string()} is not in the trust list"
                )
            supplied = [c for c in intermediates if _could_issue(c, current) and c not in chain]
            if not supplied:
                raise Refused(Reason.UNKNOWN_ISSUER, f"no certificate for issuer {current.issuer.rfc4514_string()}")
            chain.append(supplied[0])
            current = supplied[0]
        raise Refused(Reason.INVALID_PATH, f"chain longer than {self.max_depth}")

    def validate_listed(self, certificate: x509.Certificate, at: datetime, usage: Usage) -> Recognition:
        """Validate a certificate listed itself as a service (a TSA, a credential issuer): status, validity, usage.

        The trust list's status for that service is its revocation status.
        """
        recognition = self.registry.recognise(certificate, at=at, usage=usage)
        _validity(certificate, at)
        check_usage(certificate, usage)
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
        """Validate ``leaf`` for ``usage`` at ``at``; raises `Refused` with the first failing reason."""
        if _is_sm2_signed(leaf) and not sm2.available():
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, "SM2 certificate chains need the optional SM2 provider")
        if self.registry.is_listed(leaf):
            chains = [self.build_chain(leaf, intermediates)]
        else:
            chains = await self._candidate_chains(leaf, intermediates, at)
        refusals: list[Refused] = []
        for chain in chains:
            try:
                return await self._validate_chain(chain, intermediates, at, usage, region, industry)
            except Refused as refusal:
                refusals.append(refusal)
        raise refusals[0]

    async def _candidate_chains(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], at: datetime
    ) -> list[list[x509.Certificate]]:
        """Every path from ``leaf`` to a listed certificate, shortest first (RFC 5280 §7.1 name matching).

        Path building depends on the certificates only, so the paths are kept per leaf, supplied
        intermediates and registry (a registry that gained a peer list is another registry here).
        """
        # only listed certificates that could issue something here: the engine indexes every root it gets
        issuers = {name_key(c.issuer) for c in (leaf, *intermediates)}
        roots = [c for c in self.registry.certificates() if name_key(c.subject) in issuers]
        key = (
            tuple(sorted(fingerprint(c) for c in roots)),
            fingerprint(leaf),
            *(fingerprint(c) for c in intermediates),
        )
        chains = self._chains.get(key)
        if chains is None:
            # the usual case, a leaf issued by a listed CA, needs no search (the names matched above)
            direct = [
                [leaf, c] for c in roots if name_key(c.subject) == name_key(leaf.issuer) and _key_ids_match(c, leaf)
            ]
            chains = direct or await self._build_chains(leaf, intermediates, roots, at)
            if len(self._chains) > _VERIFIED_CACHE_SIZE:
                self._chains.clear()
            self._chains[key] = chains
        return chains

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
    ) -> ValidatedPath:
        anchor = chain[-1]
        recognition = self.registry.recognise(anchor, at=at, usage=usage, region=region, industry=industry)
        for certificate in chain:
            _validity(certificate, at)
        check_usage(chain[0], usage)
        if len(chain) == 1:
            return ValidatedPath(tuple(chain), recognition, (), at, usage)
        for certificate, issuer in itertools.pairwise(chain):
            self._check_algorithm(certificate, issuer, at)
        evidence = await self._pkix(chain, intermediates, recognition, at)
        return ValidatedPath(tuple(chain), recognition, evidence, at, usage)

    async def _pkix(
        self,
        chain: list[x509.Certificate],
        intermediates: Sequence[x509.Certificate],
        recognition: Recognition,
        at: datetime,
    ) -> tuple[RevocationEvidence, ...]:
        """RFC 5280 path validation with revocation (required for every certificate below the anchor)."""
        service = recognition.service
        crl_urls, ocsp_urls = service.crl_urls, service.ocsp_urls
        material = await self.revocation.material(chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls)
        if not material.crls:
            material = await self.revocation.material(
                chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls, with_ocsp=True
            )
        if self._known_valid(chain, intermediates, material, at):
            return material.evidence()
        try:
            await self._engine(chain, intermediates, material, at)
        except Refused as refusal:
            if refusal.reason is not Reason.REVOCATION_UNKNOWN:
                raise
            if not material.ocsps:
                # a CRL was there but did not cover everything (scope, signer …): OCSP may answer
                material = await self.revocation.material(
                    chain, at, extra_crl_urls=crl_urls, extra_ocsp_urls=ocsp_urls, with_ocsp=True
                )
                if not material.ocsps:
                    raise
            await self._engine_with_listed_responder(chain, intermediates, material, at, refusal)
        self._remember_valid(chain, intermediates, material)
        return material.evidence()

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
        self_signed = anchor.self_signed != "no"
        trust_anchor = CertTrustAnchor(anchor) if self_signed else _ListedCaAnchor(anchor)
        context = ValidationContext(
            trust_roots=[trust_anchor],
            other_certs=[self._to_asn1(c) for c in intermediates],
            moment=at,
            crls=material.crl_ders(),
            ocsps=material.ocsp_ders(),
            revinfo_policy=_ENGINE_REVOCATION_LEAF_ANSWERED if leaf_answered else _ENGINE_REVOCATION,
            algorithm_usage_policy=_ENGINE_ALGORITHMS,
            signature_validator=_ENGINE_SIGNATURES,
        )
        if not self_signed:
            context.record_validation(anchor, ValidationPath(trust_anchor, interm=[], leaf=None))  # type: ignore[no-untyped-call]
        path = ValidationPath(trust_anchor=trust_anchor, interm=reversed(middle), leaf=leaf)
        try:
            await async_validate_path(context, path, parameters=self.certificate_policies.params())
        except RevokedError as exc:
            reason = _reason_name(exc.reason.native)
            raise Refused(Reason.REVOKED, f"{reason}: {exc}", at=exc.revocation_dt) from None
        except InsufficientRevinfoError as exc:
            raise Refused(Reason.REVOCATION_UNKNOWN, str(exc)) from None
        except ExpiredError as exc:
            raise Refused(Reason.EXPIRED, str(exc), at=exc.expired_dt) from None
        except NotYetValidError as exc:
            raise Refused(Reason.NOT_YET_VALID, str(exc), at=exc.valid_from) from None
        except DisallowedAlgorithmError as exc:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, str(exc)) from None
        except (PathValidationError, ValidationError, PathBuildingError) as exc:
            _diagnose_signatures(chain)
            raise Refused(Reason.INVALID_PATH, str(exc)) from None

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
        algorithm = _SIGNATURE_ALGORITHMS_BY_OID.get(certificate.signature_algorithm_oid.dotted_string)
        if algorithm is None and certificate.signature_algorithm_oid.dotted_string in _DSA_OIDS:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, "DSA certificate signatures are not supported")
        if algorithm is None:
            raise Refused(
                Reason.UNSUPPORTED_ALGORITHM,
                f"certificate signature {certificate.signature_algorithm_oid.dotted_string}",
            )
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


def _diagnose_signatures(chain: list[x509.Certificate]) -> None:
    """Refuse ``bad-signature`` when a link's signature does not verify under its issuer's key (SM2 included)."""
    for certificate, issuer in itertools.pairwise(chain):
        try:
            _check_link_signature(certificate, issuer)
        except Refused as refusal:
            if refusal.reason is Reason.BAD_SIGNATURE:
                raise


def _reason_name(native: str | None) -> str:
    """RFC 5280's name of a CRL reason (``keyCompromise``), from asn1crypto's (``key_compromise``)."""
    try:
        return x509.ReasonFlags[native or "unspecified"].value
    except KeyError:
        return native or "unspecified"
