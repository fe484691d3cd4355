"""What the platform checks of single certificates and links, before and beside RFC 5280 processing:
key usage and extended key usage per platform usage, validity at a time, issuer candidates by name
and key identifier, link signatures (SM2 included) and the signature algorithm of a certificate.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from certs import algorithms as algs
from certs.errors import Reason, Refused
from certs.percert import per_certificate
from certs.providers import sm2
from certs.providers.base import SignatureValue
from certs.trustlist.model import Usage

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

_DSA_OIDS: Final = frozenset({"1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.3.2"})


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
    problem = _usage_problem(certificate, usage)
    if problem is not None:
        raise Refused(Reason.WRONG_KEY_USAGE, f"{certificate.subject.rfc4514_string()} {problem}")


@per_certificate(maxsize=4096)
def _usage_problem(certificate: x509.Certificate, usage: Usage) -> str | None:  # noqa: PLR0911 - one answer per rule
    """Why the certificate's keyUsage/EKU does not allow ``usage`` (None: they do), once per certificate
    (its exact DER) and usage: a signer's certificate comes back with every document it signs.
    """
    ku = _key_usage(certificate)
    eku_ext = _ekus(certificate)
    ekus = set(eku_ext.value) if eku_ext else None
    if usage is Usage.BID_ENCRYPTION:
        if ku is not None and not (ku.key_encipherment or ku.key_agreement):
            return "may not encrypt keys"
        return None
    if usage is Usage.TIMESTAMP:
        if eku_ext is None or not eku_ext.critical or ekus != {ExtendedKeyUsageOID.TIME_STAMPING}:
            return "is not a TSA certificate (critical timeStamping EKU)"
        return None
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        return "may not sign"
    allowed = _LOGIN_EKUS if usage is Usage.LOGIN else _SIGNING_EKUS
    if ekus is not None and not ekus & allowed:
        return f"has no extended key usage allowing {usage.value}"
    return None


def check_validity(certificate: x509.Certificate, at: datetime) -> None:
    not_before, not_after = _validity(certificate)
    if at < not_before:
        raise Refused(Reason.NOT_YET_VALID, certificate.subject.rfc4514_string(), at=not_before)
    if at > not_after:
        raise Refused(Reason.EXPIRED, certificate.subject.rfc4514_string(), at=not_after)


@per_certificate()
def _validity(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """NotBefore and notAfter (`cryptography` builds both datetimes again on every access)."""
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


def validity_window(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """NotBefore and notAfter: `check_validity` passes exactly for notBefore <= at <= notAfter."""
    return _validity(certificate)


def is_self_issued(certificate: x509.Certificate) -> bool:
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


@per_certificate()
def is_sm2_signed(certificate: x509.Certificate) -> bool:
    return certificate.signature_algorithm_oid.dotted_string == algs.SM2_SM3.oid


def check_link_signature(certificate: x509.Certificate, issuer: x509.Certificate) -> None:
    if not is_sm2_signed(certificate):
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


def key_ids_match(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    aki, ski = _aki(certificate), _ski(issuer)
    return aki is None or ski is None or aki == ski


def could_issue(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    if issuer.subject != certificate.issuer:
        return False
    aki, ski = _aki(certificate), _ski(issuer)
    return aki is None or ski is None or aki == ski


@per_certificate()
def signature_algorithm(certificate: x509.Certificate) -> algs.SignatureAlgorithm:
    """The platform's algorithm for the certificate's signature; DSA and unknown ones are refused by name."""
    algorithm = _SIGNATURE_ALGORITHMS_BY_OID.get(certificate.signature_algorithm_oid.dotted_string)
    if algorithm is None and certificate.signature_algorithm_oid.dotted_string in _DSA_OIDS:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, "DSA certificate signatures are not supported")
    if algorithm is None:
        raise Refused(
            Reason.UNSUPPORTED_ALGORITHM,
            f"certificate signature {certificate.signature_algorithm_oid.dotted_string}",
        )
    return algorithm


def diagnose_signatures(chain: list[x509.Certificate]) -> None:
    """Refuse ``bad-signature`` when a link's signature does not verify under its issuer's key (SM2 included)."""
    for certificate, issuer in itertools.pairwise(chain):
        try:
            check_link_signature(certificate, issuer)
        except Refused as refusal:
            if refusal.reason is Reason.BAD_SIGNATURE:
                raise
