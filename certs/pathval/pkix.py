"""RFC 5280 §6 path validation with revocation, run by pyhanko-certvalidator with the platform's
anchors, algorithms (SM2-with-SM3 included), policy inputs and revocation material; its failures
become named refusals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
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
from certs.pathval.revocation import RevocationMaterial
from certs.providers import sm2
from certs.providers.base import SignatureValue

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


async def validate_path(
    leaf: asn1_x509.Certificate,
    middle: Sequence[asn1_x509.Certificate],
    anchor: asn1_x509.Certificate,
    *,
    other_certs: list[asn1_x509.Certificate],
    material: RevocationMaterial,
    at: datetime,
    policies: CertificatePolicies,
    leaf_answered: bool = False,
) -> None:
    """Validate the path ``anchor`` → ``middle`` (anchor side first) → ``leaf``; `Refused` names the failure."""
    self_signed = anchor.self_signed != "no"
    trust_anchor = CertTrustAnchor(anchor) if self_signed else _ListedCaAnchor(anchor)
    context = ValidationContext(
        trust_roots=[trust_anchor],
        other_certs=other_certs,
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
        await async_validate_path(context, path, parameters=policies.params())
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
        raise Refused(Reason.INVALID_PATH, str(exc)) from None


def _reason_name(native: str | None) -> str:
    """RFC 5280's name of a CRL reason (``keyCompromise``), from asn1crypto's (``key_compromise``)."""
    try:
        return x509.ReasonFlags[native or "unspecified"].value
    except KeyError:
        return native or "unspecified"
