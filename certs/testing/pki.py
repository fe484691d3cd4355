"""Test and demo PKIs built with `cryptography`: CAs, leaves, CRLs and an OCSP responder.

`build_dev_pki` makes, in about a second, everything the tests and the platform's demo data need:
two independent CA hierarchies (a Jiangsu CA on ECDSA P-256 and an Anhui CA on RSA), a platform
hierarchy (TSA, trust-list operator, platform signing key, bid-opening key holders), a guarantor
CA, an issuer of electronic business licences and e-ID credentials, a peer platform's trust-list
operator, a rogue CA nobody recognises, and leaf certificates for organisations (统一社会信用代码)
and people (resident ID number), some deliberately revoked, expired or not yet valid.

Certificates follow the shapes real Chinese CAs use: no subjectAltName on personal and
organisation certificates, the USCC either in the ``serialNumber`` attribute or in the
``1.2.156.10260.4.1.4`` extension, document-signing EKUs without clientAuth.

Everything here is real cryptography; only the URLs are fictitious (``.invalid``), and
`PkiFetcher` answers them in memory.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from certs.cms import SigningIdentity
from certs.identifiers import id_number_check_char, uscc_check_char

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyKind = Literal["p256", "p384", "rsa2048", "rsa3072", "ed25519"]

OID_ORGANISATION_CODE = x509.ObjectIdentifier("1.2.156.10260.4.1.4")
OID_PERSON_ID = x509.ObjectIdentifier("1.2.156.10260.4.1.1")

_serials = itertools.count(0x1000)

DEMO_TENDEREE_NAME = "淮安市示范实验中学"
DEMO_TENDEREE_USCC = "123208124669000519"
"""The demo tenderee organisation of ``trading/server/demo.py`` ("school"): the development PKI
certifies it so the demo can publish a tender whose document that organisation signed. The two
must stay equal (the demo checks it against the manifest's ``identifiers["tenderee"]``)."""


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


def make_uscc(seed: int, region: str = "320000") -> str:
    """A well-formed 统一社会信用代码 (登记管理部门 9, 类别 1 = enterprise) with a correct check character."""
    body = f"91{region}{seed:09d}"
    return body + uscc_check_char(body)


def make_id_number(seed: int, region: str = "320102", birth: str = "19800101") -> str:
    """A well-formed 18-character resident ID number with a correct check character."""
    body = f"{region}{birth}{seed % 1000:03d}"
    return body + id_number_check_char(body)


def _printable(value: str) -> bytes:
    raw = value.encode("ascii")
    return bytes([0x13, len(raw)]) + raw


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
                [*self.certificate.subject.rdns[:-1], x509.RelativeDistinguishedName([_cn(f"{self.name} OCSP")])]
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


def _cn(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


def ca_name(common_name: str, organisation: str, province: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            _cn(common_name),
        ]
    )


def organisation_name(name: str, uscc: str | None, province: str, *, uscc_in_subject: bool) -> x509.Name:
    """An organisation subject: C, ST, O, CN (and the USCC as ``serialNumber`` when in the subject)."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        _cn(name),
    ]
    if uscc_in_subject and uscc:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, uscc))
    return x509.Name(attrs)


def person_name(name: str, id_number: str, province: str) -> x509.Name:
    """A personal subject: C, ST, CN and the ID number as ``serialNumber``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
            _cn(name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, id_number),
        ]
    )


def organisation_code_extension(uscc: str) -> tuple[x509.ExtensionType, bool]:
    """The ``1.2.156.10260.4.1.4`` extension carrying a USCC (PrintableString), as some CAs issue it."""
    return x509.UnrecognizedExtension(OID_ORGANISATION_CODE, _printable(uscc)), False


@dataclass
class DevPki:
    """The development PKI: see the module docstring. Build it with `build_dev_pki`."""

    now: datetime
    jiangsu_root: CertificateAuthority
    jiangsu_ca: CertificateAuthority
    anhui_root: CertificateAuthority
    anhui_ca: CertificateAuthority
    platform_root: CertificateAuthority
    platform_ca: CertificateAuthority
    guarantor_ca: CertificateAuthority
    credential_ca: CertificateAuthority
    rogue_ca: CertificateAuthority
    tsa: Identity
    operator: Identity
    peer_operator: Identity
    platform_signer: Identity
    guarantor: Identity
    licence_issuer: Identity
    eid_issuer: Identity
    org_sign: Identity
    org_enc: Identity
    tenderee_sign: Identity
    """Seal/signing certificate of the demo tenderee (淮安市示范实验中学, `DEMO_TENDEREE_USCC`)."""
    person_sign: Identity
    anhui_org_sign: Identity
    anhui_org_enc: Identity
    revoked: Identity
    expired: Identity
    not_yet_valid: Identity
    enc_only: Identity
    rogue_leaf: Identity
    key_holders: tuple[Identity, ...]
    org_uscc: str
    anhui_uscc: str
    person_id_number: str

    @property
    def authorities(self) -> tuple[CertificateAuthority, ...]:
        return (
            self.jiangsu_root,
            self.jiangsu_ca,
            self.anhui_root,
            self.anhui_ca,
            self.platform_root,
            self.platform_ca,
            self.guarantor_ca,
            self.credential_ca,
            self.rogue_ca,
        )

    def authority_for(self, certificate: x509.Certificate) -> CertificateAuthority:
        """The CA that issued ``certificate``."""
        for ca in self.authorities:
            if certificate.serial_number in ca.issued and ca.certificate.subject == certificate.issuer:
                return ca
        msg = f"no development CA issued {certificate.subject.rfc4514_string()}"
        raise LookupError(msg)


class PkiFetcher:
    """Answers the PKI's CRL and OCSP URLs in memory (a test `Fetcher`; no network)."""

    def __init__(self, pki: DevPki, clock: Callable[[], datetime] | None = None) -> None:
        self._pki = pki
        self._clock = clock or (lambda: pki.now)
        self.requests: list[str] = []

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        del content_type
        self.requests.append(url)
        now = self._clock()
        for ca in self._pki.authorities:
            if url == ca.crl_url:
                return ca.crl(now - timedelta(hours=1)).public_bytes(serialization.Encoding.DER)
            if url == ca.ocsp_url and body is not None:
                return ca.ocsp_respond(body, now)
        msg = f"no such URL in the development PKI: {url}"
        raise ConnectionError(msg)


def build_dev_pki(now: datetime | None = None) -> DevPki:
    """Build the development PKI valid around ``now`` (default: the current time, second precision)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    year = timedelta(days=365)
    leaf_from, leaf_to = now - timedelta(days=30), now + year

    def root(cn: str, org: str, province: str, *, kind: KeyKind, host: str, region: str = "") -> CertificateAuthority:
        return CertificateAuthority.root(
            ca_name(cn, org, province),
            key_kind=kind,
            not_before=now - 5 * year,
            not_after=now + 20 * year,
            base_url=f"http://{host}.invalid",
            region=region,
        )

    def sub(
        parent: CertificateAuthority, cn: str, org: str, province: str, *, kind: KeyKind, host: str
    ) -> CertificateAuthority:
        return parent.intermediate(
            ca_name(cn, org, province),
            key_kind=kind,
            not_before=now - 3 * year,
            not_after=now + 10 * year,
            base_url=f"http://{host}.invalid",
        )

    jiangsu_root = root(
        "江苏省数字证书认证中心 开发根CA",
        "江苏省数字证书认证中心(开发)",
        "江苏省",
        kind="p256",
        host="root.jsca",
        region="CN-32",
    )
    jiangsu_ca = sub(
        jiangsu_root,
        "江苏CA 机构及个人证书 开发CA",
        "江苏省数字证书认证中心(开发)",
        "江苏省",
        kind="p256",
        host="ca.jsca",
    )
    anhui_root = root(
        "安徽省电子认证中心 开发根CA",
        "安徽省电子认证中心(开发)",
        "安徽省",
        kind="rsa2048",
        host="root.ahca",
        region="CN-34",
    )
    anhui_ca = sub(
        anhui_root, "安徽CA 机构证书 开发CA", "安徽省电子认证中心(开发)", "安徽省", kind="rsa2048", host="ca.ahca"
    )
    platform_root = root(
        "ggzy 交易平台 开发根CA", "ggzy 公共资源交易平台(开发)", "江苏省", kind="p256", host="root.platform"
    )
    platform_ca = sub(
        platform_root, "ggzy 交易平台 服务CA", "ggzy 公共资源交易平台(开发)", "江苏省", kind="p256", host="ca.platform"
    )
    guarantor_ca = root("保函开具机构 开发CA", "金融电子认证(开发)", "江苏省", kind="p256", host="ca.guarantee")
    credential_ca = root("电子证照签发 开发CA", "电子证照签发中心(开发)", "北京市", kind="p256", host="ca.credentials")
    rogue_ca = root("未经认可的 CA", "某未认可机构", "江苏省", kind="p256", host="ca.rogue")

    org_uscc = make_uscc(1, "320100")
    anhui_uscc = make_uscc(2, "340100")
    person_id = make_id_number(17)

    def org(
        ca: CertificateAuthority,
        name: str,
        uscc: str,
        province: str,
        *,
        profile: Profile,
        key_kind: KeyKind = "p256",
        not_before: datetime = leaf_from,
        not_after: datetime = leaf_to,
    ) -> Identity:
        # The Anhui CA and the guarantor CA put the USCC in the subject; the others in an extension.
        in_subject = ca in (anhui_ca, guarantor_ca)
        return ca.issue(
            organisation_name(name, uscc, province, uscc_in_subject=in_subject),
            profile=profile,
            key_kind=key_kind,
            not_before=not_before,
            not_after=not_after,
            extensions=[] if in_subject else [organisation_code_extension(uscc)],
        )

    platform_ou = "ggzy 公共资源交易平台(开发)"
    tsa = platform_ca.issue(
        ca_name("ggzy 平台时间戳服务", platform_ou, "江苏省"),
        profile=Profile.TSA,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    operator = platform_root.issue(
        ca_name("ggzy 信任列表运营者", platform_ou, "江苏省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    platform_signer = platform_ca.issue(
        ca_name("ggzy 交易平台电子签章", platform_ou, "江苏省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    peer_root = root(
        "安徽省公共资源交易平台 信任列表根", "安徽省公共资源交易平台(开发)", "安徽省", kind="p256", host="root.ahggzy"
    )
    peer_operator = peer_root.issue(
        ca_name("安徽省公共资源交易平台 信任列表运营者", "安徽省公共资源交易平台(开发)", "安徽省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    guarantor = org(
        guarantor_ca, "江苏银行股份有限公司(开发)", make_uscc(3, "320000"), "江苏省", profile=Profile.DOCUMENT_SIGN
    )
    licence_issuer = credential_ca.issue(
        ca_name("电子营业执照签发(开发)", "市场监督管理总局(开发)", "北京市"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    eid_issuer = credential_ca.issue(
        ca_name("居民身份证电子证照签发(开发)", "公安部(开发)", "北京市"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )

    org_sign = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.SIGN)
    org_enc = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.ENCRYPT)
    tenderee_sign = org(jiangsu_ca, DEMO_TENDEREE_NAME, DEMO_TENDEREE_USCC, "江苏省", profile=Profile.SIGN)
    person_sign = jiangsu_ca.issue(
        person_name("张三", person_id, "江苏省"), profile=Profile.SIGN, not_before=leaf_from, not_after=leaf_to
    )
    anhui_org_sign = org(
        anhui_ca, "合肥示例工程咨询有限公司", anhui_uscc, "安徽省", profile=Profile.DOCUMENT_SIGN, key_kind="rsa2048"
    )
    anhui_org_enc = org(
        anhui_ca, "合肥示例工程咨询有限公司", anhui_uscc, "安徽省", profile=Profile.ENCRYPT, key_kind="rsa2048"
    )
    revoked = org(jiangsu_ca, "苏州已吊销证书有限公司", make_uscc(4, "320500"), "江苏省", profile=Profile.SIGN)
    jiangsu_ca.revoke(revoked.certificate, now - timedelta(days=2))
    expired = org(
        jiangsu_ca,
        "无锡过期证书有限公司",
        make_uscc(5, "320200"),
        "江苏省",
        profile=Profile.SIGN,
        not_before=now - 2 * year,
        not_after=now - timedelta(days=35),
    )
    not_yet_valid = org(
        jiangsu_ca,
        "常州未生效证书有限公司",
        make_uscc(6, "320400"),
        "江苏省",
        profile=Profile.SIGN,
        not_before=now + timedelta(days=10),
        not_after=now + year,
    )
    enc_only = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.ENCRYPT)
    rogue_leaf = org(rogue_ca, "来历不明有限公司", make_uscc(7, "320100"), "江苏省", profile=Profile.SIGN)
    holders = tuple(
        org(jiangsu_ca, holder, make_uscc(10 + i, "320100"), "江苏省", profile=Profile.ENCRYPT)
        for i, holder in enumerate(
            (
                "招标人代表(开发)",
                "南京市公共资源交易中心(开发)",
                "南京市住房和城乡建设局(开发)",
                "南京市公证处(开发)",
                "ggzy 平台(开发)",
            )
        )
    )
    return DevPki(
        now=now,
        jiangsu_root=jiangsu_root,
        jiangsu_ca=jiangsu_ca,
        anhui_root=anhui_root,
        anhui_ca=anhui_ca,
        platform_root=platform_root,
        platform_ca=platform_ca,
        guarantor_ca=guarantor_ca,
        credential_ca=credential_ca,
        rogue_ca=rogue_ca,
        tsa=tsa,
        operator=operator,
        peer_operator=peer_operator,
        platform_signer=platform_signer,
        guarantor=guarantor,
        licence_issuer=licence_issuer,
        eid_issuer=eid_issuer,
        org_sign=org_sign,
        org_enc=org_enc,
        tenderee_sign=tenderee_sign,
        person_sign=person_sign,
        anhui_org_sign=anhui_org_sign,
        anhui_org_enc=anhui_org_enc,
        revoked=revoked,
        expired=expired,
        not_yet_valid=not_yet_valid,
        enc_only=enc_only,
        rogue_leaf=rogue_leaf,
        key_holders=holders,
        org_uscc=org_uscc,
        anhui_uscc=anhui_uscc,
        person_id_number=person_id,
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
