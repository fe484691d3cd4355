"""A small SM2 test PKI (root CA, leaves, CRL), built with asn1crypto and signed through gmssl-pyx.

`cryptography` cannot sign with SM2, so the to-be-signed structures are assembled with asn1crypto
and signed over their DER with the SM2 provider, using the GM/T 0009 default distinguishing ID, as
Chinese CAs do (``openssl verify -vfyopt distid:1234567812345678`` checks them). Requires the
optional provider (``ggzy[gm]``).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from certs.algorithms import SM2_SM3
from certs.providers.sm2 import Sm2PrivateKey

_serials = itertools.count(0x5000)


def _name(common_name: str, organisation: str, serial_number: str | None = None) -> Any:
    values = {"country_name": "CN", "organization_name": organisation, "common_name": common_name}
    if serial_number:
        values["serial_number"] = serial_number
    return asn1_x509.Name.build(values)


def _time(value: datetime) -> Any:
    return asn1_x509.Time({"utc_time": value})


@dataclass(frozen=True)
class Sm2Identity:
    certificate: x509.Certificate
    key: Sm2PrivateKey

    @property
    def der(self) -> bytes:
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass
class Sm2Authority:
    """A self-signed SM2 root CA that issues leaves and CRLs."""

    name: Any
    key: Sm2PrivateKey
    certificate: x509.Certificate
    crl_url: str
    revoked: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def create(cls, common_name: str, organisation: str, *, now: datetime, crl_url: str) -> Sm2Authority:
        key = Sm2PrivateKey.generate()
        name = _name(common_name, organisation)
        ski = hashlib.sha1(key.public_key().point).digest()  # noqa: S324 - RFC 5280 key identifier method 1
        extensions = [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"digital_signature", "key_cert_sign", "crl_sign"},
            },
            {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        ]
        der = _sign_certificate(
            key,
            name,
            name,
            key.public_key().spki_der(),
            now - timedelta(days=365),
            now + timedelta(days=3650),
            extensions,
        )
        return cls(name, key, x509.load_der_x509_certificate(der), crl_url)

    def issue(
        self,
        common_name: str,
        organisation: str,
        *,
        serial_number: str | None,
        not_before: datetime,
        not_after: datetime,
        key: Sm2PrivateKey | None = None,
    ) -> Sm2Identity:
        key = key or Sm2PrivateKey.generate()
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        extensions = [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
            {"extn_id": "key_usage", "critical": True, "extn_value": {"digital_signature", "non_repudiation"}},
            {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": ca_ski}},
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": ["client_auth", "email_protection"]},
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [
                    {
                        "distribution_point": {
                            "full_name": [asn1_x509.GeneralName({"uniform_resource_identifier": self.crl_url})]
                        }
                    }
                ],
            },
        ]
        der = _sign_certificate(
            self.key,
            self.name,
            _name(common_name, organisation, serial_number),
            key.public_key().spki_der(),
            not_before,
            not_after,
            extensions,
        )
        return Sm2Identity(x509.load_der_x509_certificate(der), key)

    def revoke(self, certificate: x509.Certificate, at: datetime) -> None:
        self.revoked[certificate.serial_number] = at

    def crl(
        self, this_update: datetime, next_update: datetime, *, extensions: list[dict[str, Any]] | None = None
    ) -> bytes:
        """A DER CRL signed with SM2 (``extensions``: asn1crypto crl_extensions, e.g. a scoping IDP)."""
        entries = [
            {"user_certificate": serial, "revocation_date": _time(at)}
            for serial, at in sorted(self.revoked.items())
            if at <= this_update
        ]
        tbs = asn1_crl.TbsCertList(
            {
                "version": "v2",
                "signature": {"algorithm": SM2_SM3.oid},
                "issuer": self.name,
                "this_update": _time(this_update),
                "next_update": _time(next_update),
                "revoked_certificates": entries or None,
                "crl_extensions": extensions or None,
            }
        )
        signature = self.key.sign(tbs.dump()).value
        return bytes(
            asn1_crl.CertificateList(
                {"tbs_cert_list": tbs, "signature_algorithm": {"algorithm": SM2_SM3.oid}, "signature": signature}
            ).dump()
        )


def _sign_certificate(  # noqa: PLR0917 - the fields of a TBSCertificate, in order
    issuer_key: Sm2PrivateKey,
    issuer: Any,
    subject: Any,
    spki_der: bytes,
    not_before: datetime,
    not_after: datetime,
    extensions: list[dict[str, Any]],
) -> bytes:
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": next(_serials),
            "signature": {"algorithm": SM2_SM3.oid},
            "issuer": issuer,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": asn1_keys.PublicKeyInfo.load(spki_der),
            "extensions": extensions,
        }
    )
    signature = issuer_key.sign(tbs.dump()).value
    certificate = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": {"algorithm": SM2_SM3.oid}, "signature_value": signature}
    )
    return bytes(certificate.dump())
