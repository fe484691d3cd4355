"""Path validation: a certificate chains to a CA recognised for a usage, at a time, and is not revoked.

`PathValidator.validate` runs, in order, and stops at the first refusal, each naming its reason:

1. **Chain building** by issuer name (and key identifiers) through the supplied intermediates up to a
   service certificate listed in the trust registry (usually the issuing CA; a listed TSA or
   credential-issuer certificate is its own anchor). Nothing found: ``unknown-issuer``; a
   self-signed root that is not listed: ``ca-not-recognised``.
2. **Recognition** of that CA for the usage, region and industry at the time (``ca-withdrawn``,
   ``ca-not-recognised-for-usage`` …), from the trust registry's status history.
3. **Validity** of every certificate at the time (``expired`` / ``not-yet-valid``, dated).
4. **Key usage** of the leaf for the usage (``wrong-key-usage``), and the **algorithm policy**.
5. **RFC 5280 path validation** by `cryptography.x509.verification` with the relaxations Chinese CA
   certificates need (reference §3.2: no SAN, EKUs without clientAuth, no AKI), anchored at the
   recognised CA. A failure is diagnosed: a certificate whose signature does not verify under its
   issuer gives ``bad-signature``; anything else ``invalid-path`` with the verifier's message.
6. **Revocation** of every certificate below the anchor through the `RevocationChecker`, failing
   closed (``revoked`` dated, or ``revocation-unknown``).

Chains with SM2 signatures, which `cryptography`'s verifier rejects, get the same steps with step 5
done by `_sm2_chain` (CA constraints, critical extensions, SM2 signatures through the optional
provider, GM/T 0009 default ID); without the provider they are refused (``unsupported-algorithm``).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker, RevocationEvidence
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


def _relaxed_ee_policy() -> ExtensionPolicy:
    # Usage-specific EKU and key-usage rules are checked by `check_usage`; here only RFC 5280 structure.
    return (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.AuthorityKeyIdentifier, Criticality.AGNOSTIC, None)
    )


_EE_POLICY: Final = _relaxed_ee_policy()
_CA_POLICY: Final = ExtensionPolicy.webpki_defaults_ca()


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


def _sm2_chain(chain: list[x509.Certificate]) -> None:
    """Structural and signature checks for chains with SM2 links (which `cryptography` cannot verify).

    Each issuer must be a CA allowed to sign certificates; no certificate may carry a critical
    extension we do not understand; every signature must verify (SM2 with the GM/T 0009 default ID).
    Validity, key usage, recognition and revocation are checked by `PathValidator.validate` itself.
    """
    for certificate in chain:
        for ext in certificate.extensions:
            if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
                raise Refused(Reason.INVALID_PATH, f"unknown critical extension {ext.oid.dotted_string}")
    for certificate, issuer in itertools.pairwise(chain):
        _check_issuer_is_ca(issuer)
        _check_link_signature(certificate, issuer)


def _check_issuer_is_ca(issuer: x509.Certificate) -> None:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    usage = _key_usage(issuer)
    if constraints is None or not constraints.ca or (usage is not None and not usage.key_cert_sign):
        raise Refused(Reason.INVALID_PATH, f"{issuer.subject.rfc4514_string()} is not a CA")


def _check_link_signature(certificate: x509.Certificate, issuer: x509.Certificate) -> None:
    if not _is_sm2_signed(certificate):
        try:
            certificate.verify_directly_issued_by(issuer)
        except InvalidSignature:
            raise Refused(Reason.BAD_SIGNATURE, certificate.subject.rfc4514_string()) from None
        except (ValueError, TypeError) as exc:
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


def _could_issue(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    if issuer.subject != certificate.issuer:
        return False
    aki, ski = _aki(certificate), _ski(issuer)
    return aki is None or ski is None or aki == ski


class PathValidator:
    """Validates certificates against a `TrustRegistry`, with a `RevocationChecker` (required: fail closed)."""

    def __init__(
        self,
        registry: TrustRegistry,
        revocation: RevocationChecker,
        *,
        policy: algs.AlgorithmPolicy = algs.DEFAULT_POLICY,
        max_depth: int = 4,
    ) -> None:
        self.registry = registry
        self.revocation = revocation
        self.policy = policy
        self.max_depth = max_depth
        # Chains that passed RFC 5280 validation. The verifier's verdict on a fixed chain depends on
        # time only through the validity periods, which `validate` checks itself on every call.
        self._verified: OrderedDict[tuple[str, ...], None] = OrderedDict()
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
        chain = self.build_chain(leaf, intermediates)
        anchor = chain[-1]
        recognition = self.registry.recognise(anchor, at=at, usage=usage, region=region, industry=industry)
        for certificate in chain:
            _validity(certificate, at)
        check_usage(leaf, usage)
        if len(chain) == 1:
            return ValidatedPath(tuple(chain), recognition, (), at, usage)
        for certificate, issuer in itertools.pairwise(chain):
            self._check_algorithm(certificate, issuer, at)
        self._rfc5280(chain, at)
        evidence = []
        for certificate, issuer in itertools.pairwise(chain):
            evidence.append(
                await self.revocation.check(
                    certificate,
                    issuer,
                    at,
                    extra_crl_urls=recognition.service.crl_urls if issuer is anchor else (),
                    extra_ocsp_urls=recognition.service.ocsp_urls if issuer is anchor else (),
                )
            )
        return ValidatedPath(tuple(chain), recognition, tuple(evidence), at, usage)

    def _check_algorithm(self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime) -> None:
        algorithm = _SIGNATURE_ALGORITHMS_BY_OID.get(certificate.signature_algorithm_oid.dotted_string)
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

    def _rfc5280(self, chain: list[x509.Certificate], at: datetime) -> None:
        key = tuple(fingerprint(c) for c in chain)
        if key in self._verified:
            self._verified.move_to_end(key)
            return
        if any(_is_sm2_signed(c) for c in chain[:-1]):
            _sm2_chain(chain)
        else:
            self._rfc5280_uncached(chain, at)
        self._verified[key] = None
        if len(self._verified) > _VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)

    def _rfc5280_uncached(self, chain: list[x509.Certificate], at: datetime) -> None:
        verifier = (
            PolicyBuilder()
            .store(Store([chain[-1]]))
            .time(at)
            .max_chain_depth(self.max_depth)
            .extension_policies(ee_policy=_EE_POLICY, ca_policy=_CA_POLICY)
            .build_client_verifier()
        )
        try:
            verifier.verify(chain[0], chain[1:-1])
        except VerificationError as exc:
            for certificate, issuer in itertools.pairwise(chain):
                try:
                    certificate.verify_directly_issued_by(issuer)
                except InvalidSignature:
                    raise Refused(
                        Reason.BAD_SIGNATURE, f"{certificate.subject.rfc4514_string()} is not signed by its issuer"
                    ) from None
                except (ValueError, TypeError):
                    continue
            raise Refused(Reason.INVALID_PATH, str(exc)) from None
