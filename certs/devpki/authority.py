"""Certificate authorities for development and tests: keys, leaf profiles, issuing, revoking, CRLs and
an OCSP responder, all real cryptography with `cryptography`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from certs.cms import SigningIdentity
from certs.devpki.names import common_name

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyKind = Literal["p256", "p384", "rsa2048", "rsa3072", "ed25519"]

_serials = itertools.count(0x1000)


def new_key(kind: KeyKind) -> PrivateKey:
    """A fresh private key of ``kind``."""
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind.removeprefix("rsa")))


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return hashes.SHA384()
    return hashes.SHA256()


class Profile(StrEnum):
    """Leaf certificate profiles."""

    SIGN = "sign"  # digitalSignature + nonRepudiation; EKU clientAuth + emailProtection
    DOCUMENT_SIGN = "document-sign"  # digitalSignature + nonRepudiation; EKU emailProtection only
    ENCRYPT = "encrypt"  # keyEncipherment (RSA) or keyAgreement (EC); no EKU
    TSA = "tsa"  # digitalSignature; critical EKU timeStamping
    OCSP = "ocsp"  # digitalSignature; EKU OCSPSigning; id-pkix-ocsp-nocheck


@dataclass(frozen=True)
class Identity:
    """A certificate, its private key and its issuers (nearest first, root last)."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def name(self) -> str:
        cns = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(cns[0].value) if cns else self.certificate.subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1] if self.chain else self.certificate

    def signing(self) -> SigningIdentity:
        """This identity as a CMS signer (its key through the `cryptography` provider)."""
        return SigningIdentity.from_key(self.key, self.certificate, self.chain)

    def pkcs12(self, password: bytes, friendly_name: str | None = None) -> bytes:
        """The key, certificate and chain as a password-protected PKCS#12 file."""
        name = (friendly_name or self.name).encode()
        return pkcs12.serialize_key_and_certificates(
            name, self.key, self.certificate, list(self.chain), serialization.BestAvailableEncryption(password)
        )


@dataclass
class _Revocation:
    at: datetime
    reason: x509.ReasonFlags


@dataclass
class CertificateAuthority:
    """A CA that issues certificates, revokes them, signs CRLs and answers OCSP requests."""

    identity: Identity
    crl_url: str
    ocsp_url: str
    region: str = ""
    revoked: dict[int, _Revocation] = field(default_factory=dict)
    issued: dict[int, x509.Certificate] = field(default_factory=dict)
    _responder: Identity | None = None
    _crl_number: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def certificate(self) -> x509.Certificate:
        return self.identity.certificate

    @property
    def key(self) -> PrivateKey:
        return self.identity.key

    @property
    def name(self) -> str:
        return self.identity.name

    @classmethod
    def root(
        cls,
        subject: x509.Name,
        *,
        key_kind: KeyKind,
        not_before: datetime,
        not_after: datetime,
        base_url: str,
        region: str = "",
    ) -> CertificateAuthority:
        key = new_key(key_kind)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(next(_serials))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                critical=False,
            )
        )
        cert = builder.sign(key, _hash_for(key))  # type: ignore[arg-type]
        return cls(Identity(cert, key), crl_url=f"{base_url}/root.crl", ocsp_url=f"{base_url}/ocsp", region=region)

    def intermediate(
        self,
        subject: x509.Name,
        *,
        key_kind: KeyKind,
        not_before: datetime,
        not_after: datetime,
        base_url: str,
    ) -> CertificateAuthority:
        """A subordinate CA (path length 0) under this one."""
        key = new_key(key_kind)
        cert = self._sign(
            self._builder(subject, key, not_before, not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
        )
        return CertificateAuthority(
            Identity(cert, key, (self.certificate, *self.identity.chain)),
            crl_url=f"{base_url}/ca.crl",
            ocsp_url=f"{base_url}/ocsp",
            region=self.region,
        )

    def issue(
        self,
        subject: x509.Name,
        *,
        profile: Profile = Profile.SIGN,
        key: PrivateKey | None = None,
        key_kind: KeyKind = "p256",
        not_before: datetime,
        not_after: datetime,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
        with_aki: bool = True,
    ) -> Identity:
        """A leaf certificate for ``subject`` under ``profile``; a new key unless ``key`` is given."""
        key = key or new_key(key_kind)
        builder = self._builder(subject, key, not_before, not_after, with_aki=with_aki)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        for ext, critical in _profile_extensions(profile, key):
            builder = builder.add_extension(ext, critical=critical)
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical=critical)
        cert = self._sign(builder)
        return Identity(cert, key, (self.certificate, *self.identity.chain))

    def revoke(
        self, certificate: x509.Certificate, at: datetime, reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise
    ) -> None:
        self.revoked[certificate.serial_number] = _Revocation(at, reason)

    def crl(self, this_update: datetime, next_update: datetime | None = None) -> x509.CertificateRevocationList:
        """A CRL listing every certificate revoked at or before ``this_update``."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(this_update)
            .next_update(next_update or this_update + timedelta(days=7))
            .add_extension(x509.CRLNumber(next(self._crl_number)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        for serial, revocation in sorted(self.revoked.items()):
            if revocation.at > this_update:
                continue
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(revocation.at)
                .add_extension(x509.CRLReason(revocation.reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(self.key, _hash_for(self.key))  # type: ignore[arg-type]

    def ocsp_responder(self) -> Identity:
        """The CA's delegated OCSP responder (EKU OCSPSigning, id-pkix-ocsp-nocheck)."""
        if self._responder is None:
            not_before = self.certificate.not_valid_before_utc
            subject = x509.Name(
                [
                    *self.certificate.subject.rdns[:-1],
                    x509.RelativeDistinguishedName([common_name(f"{self.name} OCSP")]),
                ]
            )
            self._responder = self.issue(
                subject,
                profile=Profile.OCSP,
                not_before=max(not_before, self.certificate.not_valid_before_utc),
                not_after=self.certificate.not_valid_after_utc,
            )
        return self._responder

    def ocsp_respond(self, request_der: bytes, now: datetime, *, validity: timedelta = timedelta(hours=12)) -> bytes:
        """Answer a DER OCSP request as this CA's responder at ``now`` (unknown serials: UNKNOWN)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        responder = self.ocsp_responder()
        revocation = self.revoked.get(request.serial_number)
        known = request.serial_number in self.issued and request.issuer_key_hash == _key_hash(
            self.certificate, request.hash_algorithm
        )
        if not known:
            status, rev_time, rev_reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        elif revocation is not None and revocation.at <= now:
            status, rev_time, rev_reason = ocsp.OCSPCertStatus.REVOKED, revocation.at, revocation.reason
        else:
            status, rev_time, rev_reason = ocsp.OCSPCertStatus.GOOD, None, None
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial_number,
                request.hash_algorithm,
                status,
                now,
                now + validity,
                rev_time,
                rev_reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
            .certificates([responder.certificate])
        )
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        return builder.sign(responder.key, _hash_for(responder.key)).public_bytes(serialization.Encoding.DER)

    def _builder(
        self, subject: x509.Name, key: PrivateKey, not_before: datetime, not_after: datetime, *, with_aki: bool = True
    ) -> x509.CertificateBuilder:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(next(_serials))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(self.crl_url)], None, None, None)]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url)
                        )
                    ]
                ),
                critical=False,
            )
        )
        if with_aki:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        return builder

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        cert = builder.sign(self.key, _hash_for(self.key))  # type: ignore[arg-type]
        self.issued[cert.serial_number] = cert
        return cert


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # issuerKeyHash covers the BIT STRING contents of the subjectPublicKey, not the whole SPKI.
    h = hashes.Hash(algorithm)
    h.update(_spki_bit_string(spki))
    return h.finalize()


def _spki_bit_string(spki: bytes) -> bytes:
    """The subjectPublicKey BIT STRING contents (without the unused-bits byte) of a DER SPKI."""

    def read_len(data: bytes, pos: int) -> tuple[int, int]:
        first = data[pos]
        if first < 0x80:  # noqa: PLR2004 - DER short form
            return first, pos + 1
        n = first & 0x7F
        return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n

    _, pos = read_len(spki, 1)  # outer SEQUENCE
    alg_len, pos = read_len(spki, pos + 1)  # AlgorithmIdentifier
    pos += alg_len
    bits_len, pos = read_len(spki, pos + 1)  # BIT STRING
    return spki[pos + 1 : pos + bits_len]


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _key_usage(
    *, signature: bool = False, non_repudiation: bool = False, encipherment: bool = False, agreement: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=non_repudiation,
        key_encipherment=encipherment,
        data_encipherment=False,
        key_agreement=agreement,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _profile_extensions(profile: Profile, key: PrivateKey) -> list[tuple[x509.ExtensionType, bool]]:
    if profile is Profile.SIGN:
        return [
            (_key_usage(signature=True, non_repudiation=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
        ]
    if profile is Profile.DOCUMENT_SIGN:
        return [
            (_key_usage(signature=True, non_repudiation=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
        ]
    if profile is Profile.ENCRYPT:
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        return [(_key_usage(encipherment=is_rsa, agreement=not is_rsa), True)]
    if profile is Profile.TSA:
        return [
            (_key_usage(signature=True, non_repudiation=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
        ]
    return [
        (_key_usage(signature=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
        (x509.OCSPNoCheck(), False),
    ]
