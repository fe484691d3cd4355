"""CMS SignedData (RFC 5652) building and verification on asn1crypto and pyHanko, signatures through providers.

`cryptography` can produce simple PKCS#7 but cannot verify CMS at all, cannot sign with Ed25519
and cannot add a timestamp, so `certs` assembles SignedData from asn1crypto's CMS structures
(``SignedData``, ``SignerInfo``, ``CMSAttribute``) and signs the DER of the signed attributes
through a `Signer` (an in-memory key or an HSM). The same code builds CAdES detached signatures
(`certs.sign.cades`) and RFC 3161 timestamp tokens (`certs.tsa.server`), and verifies both. Every
signature carries the ``signing-certificate-v2`` attribute (ESSCertIDv2, SHA-256, RFC 5035, built
by pyHanko), so a signer certificate cannot be substituted.

Verification parses with asn1crypto, maps the SignerInfo to a registered algorithm (anything else
is refused by name), checks CMS algorithm protection (RFC 6211) with pyHanko, and the signature
over the received signed-attribute octets through the provider. (pyHanko's ``validate_sig_integrity``
re-encodes the attributes first, which made verification several times slower; the tests run
pyHanko's validator and CLI on our output instead.) It is cryptographic only (digest, signature, signer certificate
binding); whether the signer is trusted is for `certs.pathval`.

SM2 is not signed or verified in CMS here (GM/T 0010 SignedData uses its own OIDs, and OpenSSL 3.0
cannot sign it); SM2 signatures are raw `SignatureValue`s checked by `certs.sign.verify.verify_raw`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, Final

from asn1crypto import algos, cms, core, parser  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pyhanko.sign.general import CMSStructuralError, as_signing_certificate_v2
from pyhanko.sign.validation.errors import CMSAlgorithmProtectionError
from pyhanko.sign.validation.generic_cms import validate_algorithm_protection

from certs import algorithms as algs
from certs import der as d
from certs.algorithms import SignatureAlgorithm
from certs.errors import Reason, Refused
from certs.providers import pyca
from certs.providers.base import SignatureValue, Signer

_UTC_TIME_LIMIT: Final = 2050
_ALGORITHM_PROTECTION: Final = frozenset({"cms_algorithm_protection", "1.2.840.113549.1.9.52"})
_SIGNING_CERTIFICATE_V2: Final = cms.CMSAttribute._oid_specs["signing_certificate_v2"]._child_spec  # noqa: SLF001 - asn1crypto's registry of attribute value types


@dataclass(frozen=True)
class SigningIdentity:
    """What signs: a `Signer` (key and algorithm), its certificate and the chain to embed."""

    signer: Signer
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_key(
        cls, key: pyca.PrivateKey, certificate: x509.Certificate, chain: Sequence[x509.Certificate] = ()
    ) -> SigningIdentity:
        return cls(pyca.PycaSigner(key), certificate, tuple(chain))


def to_asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def from_asn1(certificate: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


def _digest_for(algorithm: SignatureAlgorithm) -> algs.DigestAlgorithm:
    # RFC 8419: Ed25519 in CMS with signed attributes uses SHA-512 as the message digest.
    return algorithm.digest or algs.SHA512


def signature_algorithm_id(algorithm: SignatureAlgorithm) -> Any:
    names = {
        algs.ECDSA_P256_SHA256.name: "sha256_ecdsa",
        algs.ECDSA_P384_SHA384.name: "sha384_ecdsa",
        algs.RSA_PKCS1_SHA256.name: "sha256_rsa",
        algs.RSA_PKCS1_SHA384.name: "sha384_rsa",
        algs.RSA_PKCS1_SHA512.name: "sha512_rsa",
        algs.ED25519.name: "ed25519",
    }
    if algorithm.name in names:
        return algos.SignedDigestAlgorithm({"algorithm": names[algorithm.name]})
    if algorithm == algs.RSA_PSS_SHA256:
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "salt_length": 32,
            }
        )
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"{algorithm.name} cannot be used in CMS here")


def _algorithm_from_cms(signer_info: Any, public_key: object) -> SignatureAlgorithm:
    """Map a SignerInfo's (signature algorithm, digest algorithm) and the key to a registered algorithm."""
    sig_name = signer_info["signature_algorithm"]["algorithm"].native
    digest = signer_info["digest_algorithm"]["algorithm"].native
    if isinstance(public_key, ed25519.Ed25519PublicKey) and sig_name == "ed25519":
        return algs.ED25519
    if isinstance(public_key, ec.EllipticCurvePublicKey) and sig_name in {"sha256_ecdsa", "sha384_ecdsa", "ecdsa"}:
        wanted = {"secp256r1": algs.ECDSA_P256_SHA256, "secp384r1": algs.ECDSA_P384_SHA384}.get(public_key.curve.name)
        implied = {"sha256_ecdsa": "sha256", "sha384_ecdsa": "sha384"}.get(sig_name, digest)
        if wanted is not None and wanted.digest is not None and wanted.digest.name == digest == implied:
            return wanted
    if isinstance(public_key, rsa.RSAPublicKey):
        if sig_name == "rsassa_pss":
            params = signer_info["signature_algorithm"]["parameters"]
            if params["hash_algorithm"]["algorithm"].native == "sha256" and digest == "sha256":
                return algs.RSA_PSS_SHA256
        pkcs1 = {"sha256": algs.RSA_PKCS1_SHA256, "sha384": algs.RSA_PKCS1_SHA384, "sha512": algs.RSA_PKCS1_SHA512}
        pkcs1["sha1"] = algs.RSA_PKCS1_SHA1
        if sig_name in {"rsassa_pkcs1v15", f"{digest}_rsa"} and digest in pkcs1:
            return pkcs1[digest]
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"CMS signature {sig_name} with {digest} for this key")


_OIDS: Final = {
    "data": "1.2.840.113549.1.7.1",
    "signed_data": "1.2.840.113549.1.7.2",
    "tst_info": "1.2.840.113549.1.9.16.1.4",
    "content_type": "1.2.840.113549.1.9.3",
    "message_digest": "1.2.840.113549.1.9.4",
    "signing_time": "1.2.840.113549.1.9.5",
    "signing_certificate_v2": "1.2.840.113549.1.9.16.2.47",
    "signature_time_stamp_token": "1.2.840.113549.1.9.16.2.14",
}


def _content_type_id(name_or_dotted: str) -> Any:
    """A ``ContentType`` by asn1crypto name (``data``, ``tst_info``) or dotted OID."""
    return cms.ContentType(_OIDS.get(name_or_dotted, name_or_dotted))


def attribute(kind: str, value: Any) -> Any:
    """A CMS ``Attribute`` with one value.

    ``kind`` is an asn1crypto attribute name (e.g. ``signature_time_stamp_token``) or a dotted OID,
    ``value`` the asn1crypto value or its DER.
    """
    spec = cms.CMSAttribute._oid_specs.get(kind)  # noqa: SLF001 - asn1crypto's registry of attribute value types
    if isinstance(value, bytes | bytearray):
        value = spec._child_spec.load(bytes(value)) if spec is not None else core.Any.load(bytes(value))  # noqa: SLF001
    return cms.CMSAttribute({"type": cms.CMSAttributeType(_OIDS.get(kind, kind)), "values": [value]})


def attribute_der(kind: str, value_der: bytes) -> bytes:
    """``Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value }`` with one value, as DER."""
    return bytes(attribute(kind, value_der).dump())


@lru_cache(maxsize=256)
def _certificate_parts(der: bytes) -> tuple[bytes, bytes]:
    """(IssuerAndSerialNumber, SigningCertificateV2) DER of a certificate, cached per certificate.

    The ESS identifier (RFC 5035) is SHA-256 over the certificate with its issuer and serial, so a
    signer certificate cannot be substituted by another with the same key.
    """
    certificate = asn1_x509.Certificate.load(der)
    sid = cms.IssuerAndSerialNumber({"issuer": certificate.issuer, "serial_number": certificate.serial_number})
    return bytes(sid.dump()), bytes(as_signing_certificate_v2(certificate, "sha256").dump())


@lru_cache(maxsize=256)
def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@lru_cache(maxsize=256)
def _fixed_attributes(certificate_der: bytes, content_type: str) -> tuple[bytes, bytes]:
    """The DER content-type and signing-certificate-v2 attributes, the same for every signature of a signer."""
    _, ess = _certificate_parts(certificate_der)
    return (
        bytes(attribute("content_type", _content_type_id(content_type)).dump()),
        bytes(attribute("signing_certificate_v2", ess).dump()),
    )


@lru_cache(maxsize=64)
def _certificate_set(ders: tuple[bytes, ...]) -> bytes:
    """The DER ``CertificateSet`` of a signer's certificates, built once per identity.

    Loaded back lazily for each signature, so asn1crypto copies the octets instead of walking every
    certificate again (building it afresh each time made signing three times slower).
    """
    choices = [cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(der)}) for der in ders]
    return bytes(cms.CertificateSet(choices).dump())


@lru_cache(maxsize=32)
def _algorithm_ids(algorithm: SignatureAlgorithm) -> tuple[bytes, bytes]:
    digest = bytes(algos.DigestAlgorithm({"algorithm": _digest_for(algorithm).name}).dump())
    return digest, bytes(signature_algorithm_id(algorithm).dump())


def _time(value: datetime) -> Any:
    # RFC 5652 §11.3: UTCTime up to 2049, GeneralizedTime from 2050 on.
    return cms.Time({"utc_time" if value.year < _UTC_TIME_LIMIT else "generalized_time": value})


@dataclass(frozen=True)
class PreparedSignature:
    """A signed SignerInfo waiting for its unsigned attributes (e.g. a signature timestamp)."""

    identity: SigningIdentity
    content: bytes
    content_type: str
    detached: bool
    embed_certificates: bool
    signed_attrs: bytes
    """The DER ``SET OF Attribute`` that was signed (RFC 5652 §5.4: tagged SET, not [0])."""
    signature: SignatureValue

    def finish(self, unsigned_attributes: Sequence[bytes] = ()) -> bytes:
        """The DER ContentInfo(SignedData), with ``unsigned_attributes`` (DER Attributes) added."""
        identity = self.identity
        digest_id, signature_id = _algorithm_ids(identity.signer.algorithm)
        sid, _ = _certificate_parts(_der(identity.certificate))
        signer_info: dict[str, Any] = {
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber.load(sid)}),
            "digest_algorithm": algos.DigestAlgorithm.load(digest_id),
            # asn1crypto re-tags the loaded SET as [0] IMPLICIT and keeps the signed octets unchanged
            "signed_attrs": cms.CMSAttributes.load(self.signed_attrs),
            "signature_algorithm": algos.SignedDigestAlgorithm.load(signature_id),
            "signature": self.signature.value,
        }
        if unsigned_attributes:
            signer_info["unsigned_attrs"] = cms.CMSAttributes([cms.CMSAttribute.load(a) for a in unsigned_attributes])
        is_data = self.content_type == "data"
        encap: dict[str, Any] = {"content_type": _content_type_id(self.content_type)}
        if not self.detached:
            encap["content"] = core.OctetString(self.content) if is_data else core.ParsableOctetString(self.content)
        signed_data: dict[str, Any] = {
            # RFC 5652 §5.1: version 3 when the encapsulated content is not id-data (asn1crypto then
            # reads the encapsulated content as EncapsulatedContentInfo, else as ContentInfo: same DER)
            "version": "v1" if is_data else "v3",
            "digest_algorithms": [algos.DigestAlgorithm.load(digest_id)],
            "encap_content_info": (cms.ContentInfo if is_data else cms.EncapsulatedContentInfo)(encap),
            "signer_infos": [cms.SignerInfo(signer_info)],
        }
        if self.embed_certificates:
            ders = tuple(_der(c) for c in (identity.certificate, *identity.chain))
            signed_data["certificates"] = cms.CertificateSet.load(_certificate_set(ders))
        info = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
        return bytes(info.dump())


def prepare_signature(
    identity: SigningIdentity,
    *,
    content: bytes,
    content_type: str = "data",
    detached: bool,
    signing_time: datetime | None = None,
    embed_certificates: bool = True,
) -> PreparedSignature:
    """Sign ``content`` as CMS: signed attributes content-type, message-digest, signing-certificate-v2
    and, when given, signing-time. ``content_type`` is ``data`` or ``tst_info`` (or a dotted OID).
    """
    algorithm = identity.signer.algorithm
    digest = pyca.digest(content, _digest_for(algorithm).name)
    fixed = _fixed_attributes(_der(identity.certificate), content_type)
    attrs = [
        *(cms.CMSAttribute.load(der) for der in fixed),
        attribute("message_digest", core.OctetString(digest)),
    ]
    if signing_time is not None:
        attrs.append(attribute("signing_time", _time(signing_time)))
    signed_attrs = bytes(cms.CMSAttributes(attrs).dump())  # a SET OF: asn1crypto sorts the encodings (DER)
    return PreparedSignature(
        identity=identity,
        content=content,
        content_type=content_type,
        detached=detached,
        embed_certificates=embed_certificates,
        signed_attrs=signed_attrs,
        signature=identity.signer.sign(signed_attrs),
    )


def build_signed_data(
    identity: SigningIdentity,
    *,
    content: bytes,
    content_type: str = "data",
    detached: bool,
    signing_time: datetime | None = None,
    embed_certificates: bool = True,
) -> bytes:
    """A DER ContentInfo(SignedData) over ``content``, signed by ``identity`` (see `prepare_signature`)."""
    return prepare_signature(
        identity,
        content=content,
        content_type=content_type,
        detached=detached,
        signing_time=signing_time,
        embed_certificates=embed_certificates,
    ).finish()


@dataclass(frozen=True)
class VerifiedSignedData:
    """The result of a cryptographically valid SignedData: who signed, how, when they said, over what."""

    signer_certificate: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    algorithm: SignatureAlgorithm
    content_type: str
    content: bytes
    signing_time: datetime | None
    signer_info_source: Any
    """The parsed SignerInfo, or its exact DER (the DER reader's result: parsed on first use of `signer_info`)."""
    signature: SignatureValue
    encap_content_info_source: Any = None
    """The parsed EncapsulatedContentInfo or its exact DER, as `signer_info_source`."""
    unsigned_attributes: tuple[tuple[bytes, tuple[bytes, ...]], ...] | None = None
    """The unsigned attributes as (type OID's DER, values' DER) when read by the DER reader, else None."""

    # Parsed only when a caller asks: verifying a guarantee or a receipt never does, and asn1crypto's
    # load of the two structures cost about a tenth of reading the whole SignedData with `certs.der`.
    @cached_property
    def signer_info(self) -> Any:
        """The SignerInfo (asn1crypto)."""
        source = self.signer_info_source
        return cms.SignerInfo.load(source) if isinstance(source, bytes) else source

    @cached_property
    def encap_content_info(self) -> Any:
        """The parsed EncapsulatedContentInfo (a timestamp token's TSTInfo is read from it)."""
        source = self.encap_content_info_source
        return cms.EncapsulatedContentInfo.load(source) if isinstance(source, bytes) else source


def load_content_info(der: bytes) -> Any:
    """Parse a ContentInfo(SignedData) (lazily: later field access may still find malformed parts)."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise Refused(Reason.MALFORMED, "not a CMS SignedData")
        info["content"]["signer_infos"]
    except (ValueError, TypeError, KeyError) as exc:
        raise Refused(Reason.MALFORMED, f"CMS structure cannot be parsed: {exc}") from None
    return info


def present(value: Any) -> bool:
    """True when an optional asn1crypto field is present."""
    return not isinstance(value, core.Void)


@dataclass(frozen=True)
class _Embedded:
    """What verification needs of one embedded certificate, worked out once per exact DER.

    Every signature of an archive's bidder ships the same certificates and every timestamp token
    the same TSA chain: parsing them again (asn1crypto, then `cryptography`) for each signature was
    the bulk of verifying one. The entries are immutable facts of those bytes.
    """

    der: bytes
    certificate: x509.Certificate
    issuer_der: bytes
    serial_number: int
    public_key: object
    key_error: str | None


_EMBEDDED_CACHE_SIZE: Final = 4096


@lru_cache(maxsize=_EMBEDDED_CACHE_SIZE)
def _embedded(der: bytes) -> _Embedded:
    parsed = asn1_x509.Certificate.load(der)
    certificate = x509.load_der_x509_certificate(der)
    try:
        public_key: object = certificate.public_key()
        key_error = None
    except Exception as exc:  # noqa: BLE001 - cryptography refuses SM2 and exotic keys
        public_key, key_error = None, str(exc)
    return _Embedded(
        der=der,
        certificate=certificate,
        issuer_der=bytes(parsed.issuer.dump()),
        serial_number=parsed.serial_number,
        public_key=public_key,
        key_error=key_error,
    )


_certificate_sets: dict[bytes, tuple[_Embedded, ...]] = {}


def _embedded_certificates(signed_data: Any) -> tuple[_Embedded, ...]:
    """The SignedData's certificates (not attribute certificates or other choices), cached by the
    exact octets of its ``certificates`` field.
    """
    field = signed_data["certificates"]
    if not present(field):
        return ()
    key = bytes(field.contents)
    found = _certificate_sets.get(key)
    if found is None:
        found = tuple(_embedded(bytes(c.chosen.dump())) for c in field if c.name == "certificate")
        if len(_certificate_sets) >= _EMBEDDED_CACHE_SIZE:
            _certificate_sets.clear()
        _certificate_sets[key] = found
    return found


def _find_signer(signer_info: Any, certificates: Sequence[_Embedded]) -> _Embedded:
    return _signer_by_sid(bytes(signer_info["sid"].dump()), certificates)


def _signer_by_sid(sid_der: bytes, certificates: Sequence[_Embedded]) -> _Embedded:
    kind, wanted = _signer_identifier(sid_der)
    for cert in certificates:
        # compare DER: asn1crypto's Name equality runs LDAP string preparation, which is slow
        if kind == "issuer_and_serial_number" and (cert.serial_number, cert.issuer_der) == wanted:
            return cert
        if kind != "issuer_and_serial_number" and _key_identifier(cert.der) == wanted:
            return cert
    raise Refused(Reason.MALFORMED, "the signer's certificate is not in the signature")


@lru_cache(maxsize=_EMBEDDED_CACHE_SIZE)
def _key_identifier(der: bytes) -> bytes | None:
    """The certificate's subject key identifier (parsing every extension: only when a signer is
    named by its key identifier).
    """
    return asn1_x509.Certificate.load(der).key_identifier  # type: ignore[no-any-return]


@lru_cache(maxsize=1024)
def _signer_identifier(sid_der: bytes) -> tuple[str, Any]:
    """A SignerIdentifier (its exact DER) as (issuer_and_serial_number, (serial, issuer DER)) or
    (subject_key_identifier, key identifier).
    """
    sid = cms.SignerIdentifier.load(sid_der)
    if sid.name == "issuer_and_serial_number":
        return sid.name, (sid.chosen["serial_number"].native, bytes(sid.chosen["issuer"].dump()))
    return sid.name, sid.chosen.native


def _attr_values(attrs: Any, kind: str) -> list[Any]:
    if not present(attrs):
        return []
    return [v for a in attrs if a["type"].native == kind for v in a["values"]]


def _attributes(attrs: Any) -> dict[str, list[Any]]:
    """Every value of the attributes, by attribute type, in one pass over the SET.

    Each attribute is read from its exact DER; the ones that are the same in every signature of a
    signer (content-type, signing-certificate-v2) are parsed once (`_REPEATING`).
    """
    found: dict[str, list[Any]] = {}
    octets = bytes(attrs.contents)
    offset = 0
    while offset < len(octets):
        size = parser.peek(octets[offset:])
        der = octets[offset : offset + size]
        offset += size
        kind, values = _parsed_attributes.get(der) or _parse_attribute(der)
        found.setdefault(kind, []).extend(values)
    return found


_REPEATING: Final = frozenset({"content_type", "signing_certificate_v2"})
_parsed_attributes: dict[bytes, tuple[str, tuple[Any, ...]]] = {}


def _parse_attribute(der: bytes) -> tuple[str, tuple[Any, ...]]:
    attribute = cms.CMSAttribute.load(der)
    parsed = attribute["type"].native, tuple(attribute["values"])
    if parsed[0] in _REPEATING:
        if len(_parsed_attributes) >= _EMBEDDED_CACHE_SIZE:
            _parsed_attributes.clear()
        _parsed_attributes[der] = parsed
    return parsed


def verify_signed_data(der: bytes, *, detached_content: bytes | None = None) -> VerifiedSignedData:
    """Check a CMS SignedData cryptographically: one signer, digest, signature and signer binding.

    Refuses with ``malformed``, ``digest-mismatch``, ``bad-signature`` or ``unsupported-algorithm``.
    """
    try:
        return _verify_signed_data(der, detached_content)
    except (ValueError, TypeError, KeyError, IndexError, x509.InvalidVersion) as exc:
        # InvalidVersion: `cryptography` refusing an embedded certificate's version is a malformed signature too
        raise Refused(Reason.MALFORMED, f"CMS structure cannot be parsed: {exc}") from None


def _verify_signed_data(der: bytes, detached_content: bytes | None) -> VerifiedSignedData:
    fast = _verify_common_shape(der, detached_content)
    if fast is not None:
        return fast
    return _verify_parsed(der, detached_content)


def _verify_parsed(der: bytes, detached_content: bytes | None) -> VerifiedSignedData:
    """`verify_signed_data` on asn1crypto's object model: any shape, every refusal named."""
    try:
        parser.parse(der, strict=True)  # one value and nothing after it (asn1crypto's load ignores the rest)
    except ValueError as exc:
        raise Refused(Reason.MALFORMED, f"not one DER value: {exc}") from None
    info = load_content_info(der)
    signed_data = info["content"]
    signer_infos = list(signed_data["signer_infos"])
    if len(signer_infos) != 1:
        raise Refused(Reason.MALFORMED, f"expected one signer, found {len(signer_infos)}")
    signer_info = signer_infos[0]
    encap = signed_data["encap_content_info"]
    content_type = encap["content_type"].native
    if detached_content is not None:
        content = detached_content
    elif present(encap["content"]):
        content = bytes(encap["content"].contents)
    else:
        raise Refused(Reason.MALFORMED, "detached signature given without its content")
    embedded = _embedded_certificates(signed_data)
    signer = _find_signer(signer_info, embedded)
    if signer.key_error is not None:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"signer key: {signer.key_error}")
    algorithm = _algorithm_for(
        bytes(signer_info["signature_algorithm"].dump()), bytes(signer_info["digest_algorithm"].dump()), signer.der
    )
    attrs = _check_integrity(signer_info, _Claim(signer, algorithm, content, content_type))
    signature = SignatureValue(algorithm, signer_info["signature"].native)
    times = attrs.get("signing_time", [])
    return VerifiedSignedData(
        signer_certificate=signer.certificate,
        certificates=tuple(c.certificate for c in embedded),
        algorithm=algorithm,
        content_type=content_type,
        content=content,
        signing_time=times[0].native if times else None,
        signer_info_source=signer_info,
        signature=signature,
        encap_content_info_source=encap,
    )


@lru_cache(maxsize=256)
def _algorithm_for(signature_algorithm: bytes, digest_algorithm: bytes, signer_der: bytes) -> SignatureAlgorithm:
    """`_algorithm_from_cms` for the exact DER of a SignerInfo's algorithm identifiers and signer."""
    parts = {
        "signature_algorithm": algos.SignedDigestAlgorithm.load(signature_algorithm),
        "digest_algorithm": algos.DigestAlgorithm.load(digest_algorithm),
    }
    return _algorithm_from_cms(parts, _embedded(signer_der).public_key)


@dataclass(frozen=True)
class _Claim:
    """What a SignerInfo is checked against: the signer's certificate and key, the algorithm, the content."""

    signer: _Embedded
    algorithm: SignatureAlgorithm
    content: bytes
    content_type: str


def _check_integrity(signer_info: Any, claim: _Claim) -> dict[str, list[Any]]:
    """Check the signed attributes, the content digest and the signature; returns the signed
    attributes' values by type.
    """
    attrs = signer_info["signed_attrs"]
    if not present(attrs):
        raise Refused(Reason.MALFORMED, "signatures without signed attributes are not accepted")
    # RFC 5652 §5.4: the signature covers the received attribute octets under a SET tag, not the [0]
    # tag they travel with. Taken before the attributes are read: asn1crypto re-encodes a SET OF whose
    # children were parsed, which is exact for DER but slow.
    signed_octets = bytes(cms.CMSAttributes(contents=attrs.contents).dump())
    signer, algorithm = claim.signer, claim.algorithm
    content, content_type = claim.content, claim.content_type
    values = _attributes(attrs)
    digests = values.get("message_digest", [])
    types = values.get("content_type", [])
    if len(digests) != 1 or len(types) != 1 or types[0].native != content_type:
        raise Refused(Reason.MALFORMED, "signed attributes must name the content type and digest once")
    actual = pyca.digest(content, signer_info["digest_algorithm"]["algorithm"].native)
    if not hmac.compare_digest(digests[0].native, actual):
        raise Refused(Reason.DIGEST_MISMATCH, "the content does not match the signed digest")
    ess = values.get("signing_certificate_v2")
    if ess and not _names_signer(bytes(ess[0].dump()), signer.der):
        raise Refused(Reason.BAD_SIGNATURE, "signing-certificate-v2 names another certificate than the signer's")
    if _ALGORITHM_PROTECTION & values.keys():
        # RFC 6211: when the signer protected its algorithm choice, the SignerInfo must agree (pyHanko;
        # it does nothing when the attribute is absent, so it is only called when one is present)
        try:
            validate_algorithm_protection(
                attrs,
                claimed_digest_algorithm_obj=signer_info["digest_algorithm"],
                claimed_signature_algorithm_obj=signer_info["signature_algorithm"],
                claimed_mac_algorithm_obj=None,
            )
        except (CMSStructuralError, CMSAlgorithmProtectionError) as exc:
            raise Refused(Reason.BAD_SIGNATURE, exc.failure_message) from None
    pyca.verify(signer.public_key, signed_octets, SignatureValue(algorithm, signer_info["signature"].native))  # type: ignore[arg-type]
    return values


@lru_cache(maxsize=1024)
def _names_signer(signing_certificate_v2: bytes, signer_der: bytes) -> bool:
    """Whether the first ESSCertIDv2 of a signing-certificate-v2 value (its exact DER) is the hash of
    the signer's certificate (the same pair repeats for every signature of a signer).
    """
    first = _SIGNING_CERTIFICATE_V2.load(signing_certificate_v2)["certs"][0]
    algorithm = first["hash_algorithm"]["algorithm"].native
    return hmac.compare_digest(first["cert_hash"].native, pyca.digest(signer_der, algorithm))


def unsigned_attribute(signer_info: Any, kind: str) -> list[Any]:
    """The values of an unsigned attribute of ``signer_info`` (e.g. ``signature_time_stamp_token``)."""
    return _attr_values(signer_info["unsigned_attrs"], kind)


def unsigned_attribute_der(signed: VerifiedSignedData, kind: str) -> list[bytes]:
    """The values' DER of an unsigned attribute of a verified SignedData's signer (e.g. its timestamp tokens)."""
    if signed.unsigned_attributes is None:
        return [bytes(v.dump()) for v in unsigned_attribute(signed.signer_info, kind)]
    wanted = _OID_DER[kind]
    return [value for oid, values in signed.unsigned_attributes if oid == wanted for value in values]


def clear_caches() -> None:
    """Forget every structure cached by exact DER (for benchmarks that time a cold verification)."""
    for cached in (_embedded, _key_identifier, _signer_identifier, _algorithm_for, _names_signer):
        cached.cache_clear()
    _certificate_sets.clear()
    _parsed_attributes.clear()
    _shapes.clear()


# --- the common shape, read with `certs.der` ---------------------------------------------------------
#
# Nearly every SignedData verified here has one shape: ContentInfo(SignedData) with one SignerInfo
# naming its certificate by issuer and serial, the certificates embedded, content-type, message-digest,
# signing-time and signing-certificate-v2 as its only signed attributes. Reading that shape with
# asn1crypto's object model cost several times the signature check itself, so it is read octet by
# octet (`certs.der`). The reader only *accepts*: anything else about the bytes — another shape, an
# attribute it does not know, a digest or signature that does not verify — returns None and the
# asn1crypto path above decides, with its own refusal and words. Every check of that path is made
# here too, on the same octets, with the same per-DER caches.

_OID_DER: Final = {name: d.oid(dotted) for name, dotted in _OIDS.items()}
_CONTENT_TYPES: Final = {_OID_DER["data"]: "data", _OID_DER["tst_info"]: "tst_info"}
_KNOWN_SIGNED: Final = {
    _OID_DER[name]: name for name in ("content_type", "message_digest", "signing_time", "signing_certificate_v2")
}
_HASHLIB: Final = frozenset({"sha256", "sha384", "sha512"})


@lru_cache(maxsize=64)
def digest_name(digest_algorithm: bytes) -> str:
    """The asn1crypto name of a DigestAlgorithm (its exact DER), e.g. ``sha256``."""
    return str(algos.DigestAlgorithm.load(digest_algorithm)["algorithm"].native)


def _verify_common_shape(der: bytes, detached_content: bytes | None) -> VerifiedSignedData | None:
    """`verify_signed_data` for the common shape, or None when the full parser has to decide."""
    try:
        for shape in _shapes.get((len(der), detached_content is None), ()):
            if shape.fits(der):
                return shape.read(der, detached_content)
        return _read_common_shape(der, detached_content)
    except (d.DerError, Refused, ValueError, TypeError, KeyError, IndexError, x509.InvalidVersion):
        return None


def _read_common_shape(der: bytes, detached_content: bytes | None) -> VerifiedSignedData | None:  # noqa: C901, PLR0911, PLR0912, PLR0915 - one pass over one structure
    info = d.children(der, d.only(der, d.SEQUENCE))
    if len(info) != 2 or d.tlv(der, info[0]) != _OID_DER["signed_data"] or info[1][0] != 0xA0:  # noqa: PLR2004
        return None
    (body,) = d.children(der, info[1])
    parts = d.children(der, d.expect(body, d.SEQUENCE))
    if [p[0] for p in parts] not in ([0x02, 0x31, 0x30, 0xA0, 0x31], [0x02, 0x31, 0x30, 0x31]):
        return None
    encap_node, signer_set = parts[2], parts[-1]
    encap = d.children(der, encap_node)
    content_type = _CONTENT_TYPES.get(d.tlv(der, encap[0]))
    if content_type is None or len(encap) > 2:  # noqa: PLR2004
        return None
    encap_content: d.Node = (0, 0, 0, 0)
    if detached_content is not None:
        content = detached_content
    elif len(encap) == 2 and encap[1][0] == 0xA0:  # noqa: PLR2004
        (octets,) = d.children(der, encap[1])
        content = d.contents(der, d.expect(octets, d.OCTET_STRING))
        encap_content = octets
    else:
        return None
    embedded: tuple[_Embedded, ...] = ()
    if len(parts) == 5:  # noqa: PLR2004 - the certificates are there
        key = d.contents(der, parts[3])
        found = _certificate_sets.get(key)
        if found is None:
            certs = d.children(der, parts[3])
            if any(c[0] != d.SEQUENCE for c in certs):
                return None
            found = tuple(_embedded(d.tlv(der, c)) for c in certs)
            if len(_certificate_sets) >= _EMBEDDED_CACHE_SIZE:
                _certificate_sets.clear()
            _certificate_sets[key] = found
        embedded = found
    (signer_node,) = d.children(der, signer_set)
    fields = d.children(der, d.expect(signer_node, d.SEQUENCE))
    tags = [f[0] for f in fields]
    if tags[:6] != [0x02, 0x30, 0x30, 0xA0, 0x30, 0x04] or tags[6:] not in ([], [0xA1]):
        return None
    signer = _signer_by_sid(d.tlv(der, fields[1]), embedded)
    if signer.key_error is not None:
        return None
    digest_algorithm = d.tlv(der, fields[2])
    algorithm = _algorithm_for(d.tlv(der, fields[4]), digest_algorithm, signer.der)
    attrs_node = fields[3]
    values: dict[str, d.Node] = {}
    for kind_der, kind_values in d.attributes(der, attrs_node):
        kind = _KNOWN_SIGNED.get(kind_der)
        if kind is None or kind in values or len(kind_values) != 1:
            return None
        values[kind] = kind_values[0]
    if "message_digest" not in values or "content_type" not in values:
        return None
    if _CONTENT_TYPES.get(d.tlv(der, values["content_type"])) != content_type:
        return None
    hash_name = digest_name(digest_algorithm)
    if hash_name not in _HASHLIB:
        return None
    signed_digest = d.contents(der, d.expect(values["message_digest"], d.OCTET_STRING))
    if not hmac.compare_digest(signed_digest, hashlib.new(hash_name, content).digest()):
        return None
    ess = values.get("signing_certificate_v2")
    if ess is not None and not _names_signer(d.tlv(der, ess), signer.der):
        return None
    signing_time = d.time(der, values["signing_time"]) if "signing_time" in values else None
    # RFC 5652 §5.4: the signature covers the attributes under a SET tag instead of their [0]
    signed_octets = b"\x31" + der[attrs_node[1] + 1 : attrs_node[3]]
    signature = SignatureValue(algorithm, d.contents(der, fields[5]))
    pyca.verify(signer.public_key, signed_octets, signature)  # type: ignore[arg-type]
    unsigned: list[tuple[bytes, tuple[bytes, ...]]] = []
    unsigned_nodes: list[tuple[bytes, tuple[d.Node, ...]]] = []
    if len(fields) == 7:  # noqa: PLR2004 - unsigned attributes
        for kind_der, kind_values in d.attributes(der, fields[6]):
            unsigned.append((kind_der, tuple(der[v[1] : v[3]] for v in kind_values)))
            unsigned_nodes.append((kind_der, tuple(kind_values)))
    _remember_shape(
        der,
        _Shape(
            fixed=(),
            content_type=content_type,
            content=None if detached_content is not None else (encap_content[2], encap_content[3]),
            embedded=embedded,
            signer=signer,
            algorithm=algorithm,
            hash_name=hash_name,
            message_digest=(values["message_digest"][2], values["message_digest"][3]),
            signing_time=values.get("signing_time"),
            signed_attributes=(attrs_node[1], attrs_node[3]),
            signature=(fields[5][2], fields[5][3]),
            signer_info=(signer_node[1], signer_node[3]),
            encap_content_info=(encap_node[1], encap_node[3]),
            unsigned=tuple((kind, tuple((v[1], v[2], v[3]) for v in nodes)) for kind, nodes in unsigned_nodes),
        ),
        encapsulated=detached_content is None,
    )
    return VerifiedSignedData(
        signer_certificate=signer.certificate,
        certificates=tuple(c.certificate for c in embedded),
        algorithm=algorithm,
        content_type=content_type,
        content=content,
        signing_time=signing_time,
        signer_info_source=d.tlv(der, signer_node),
        signature=signature,
        encap_content_info_source=d.tlv(der, encap_node),
        unsigned_attributes=tuple(unsigned),
    )


# --- shapes: the same structure again, recognised by its octets ---------------------------------------
#
# A signer's SignedData differ from one another only inside a few values: the signing time's and the
# message digest's contents, the signature's, an encapsulated content's (a timestamp token's TSTInfo) and
# the unsigned attributes' values (a timestamp token). Every tag and length octet, and every other
# value, is the same. So after `_read_common_shape` accepts a SignedData, the octets outside those
# contents are kept, with where everything was found (`_Shape`). Another SignedData of the same length
# whose octets outside those ranges are all equal has exactly the same tag-length-value tree (the reader
# only reads tags and lengths, and they are all among the equal octets), so what the reader derived
# from the equal octets holds for it too: content type, certificates, signer, algorithm, attribute
# types. What it read inside the varying contents is read again, with the same checks: the digest
# compared, the time parsed strictly (`certs.der.time`), the signature verified; the encapsulated
# content and the unsigned values are handed on as octets, as the reader hands them on. Any other
# difference: the reader runs as before (and, when it refuses, asn1crypto's path decides).

_SHAPE_CACHE_SIZE: Final = 256
_HASHLIB_NEW: Final = {name: getattr(hashlib, name) for name in _HASHLIB}
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What `_read_common_shape` found in one SignedData: where each varying value's contents lie and what
    it derived from the rest (``fixed``: the octets outside those contents, as (offset, octets)).
    """

    fixed: tuple[tuple[int, bytes], ...]
    content_type: str
    content: Span | None  # the encapsulated content's contents, when read from the SignedData
    embedded: tuple[_Embedded, ...]
    signer: _Embedded
    algorithm: SignatureAlgorithm
    hash_name: str
    message_digest: Span
    signing_time: d.Node | None
    signed_attributes: Span  # the [0] signed attributes' whole encoding
    signature: Span
    signer_info: Span
    encap_content_info: Span
    unsigned: tuple[tuple[bytes, tuple[tuple[int, int, int], ...]], ...]  # (type, (tag offset, start, end) of each)
    certificates: tuple[x509.Certificate, ...] = ()  # the embedded ones, as `VerifiedSignedData` names them

    def varying(self) -> list[Span]:
        """The contents that may differ between SignedData of this shape, in order."""
        spans = [self.message_digest, self.signature]
        if self.content is not None:
            spans.append(self.content)
        if self.signing_time is not None:
            spans.append((self.signing_time[2], self.signing_time[3]))
        spans += [(start, end) for _, values in self.unsigned for _, start, end in values]
        return sorted(spans)

    def fits(self, der: bytes) -> bool:
        """Whether ``der`` (of the same length) has the same octets outside the varying contents."""
        return all(der.startswith(octets, offset) for offset, octets in self.fixed)

    def read(self, der: bytes, detached_content: bytes | None) -> VerifiedSignedData:
        """`_read_common_shape`'s result for ``der``, which `fits`: the varying contents checked as it checks them."""
        if detached_content is not None:
            content = detached_content
        elif self.content is not None:
            content = der[self.content[0] : self.content[1]]
        else:  # pragma: no cover - such a shape is never kept (the reader returned None)
            raise d.DerError("no content")
        start, end = self.message_digest
        if not hmac.compare_digest(der[start:end], _HASHLIB_NEW[self.hash_name](content).digest()):
            raise d.DerError("the digest is checked by the full path")
        signing_time = d.time(der, self.signing_time) if self.signing_time is not None else None
        start, end = self.signed_attributes
        signature = SignatureValue(self.algorithm, der[self.signature[0] : self.signature[1]])
        pyca.verify(self.signer.public_key, b"\x31" + der[start + 1 : end], signature)  # type: ignore[arg-type]
        return VerifiedSignedData(
            signer_certificate=self.signer.certificate,
            certificates=self.certificates,
            algorithm=self.algorithm,
            content_type=self.content_type,
            content=content,
            signing_time=signing_time,
            signer_info_source=der[self.signer_info[0] : self.signer_info[1]],
            signature=signature,
            encap_content_info_source=der[self.encap_content_info[0] : self.encap_content_info[1]],
            unsigned_attributes=tuple(
                (kind, tuple(der[offset:end] for offset, _, end in values)) for kind, values in self.unsigned
            ),
        )


_SHAPES_PER_LENGTH: Final = 8  # a signature value's length (70-72 for P-256) and a token's vary apart
_shapes: dict[tuple[int, bool], list[_Shape]] = {}


def _remember_shape(der: bytes, shape: _Shape, *, encapsulated: bool) -> None:
    """Keep ``shape`` (with the octets of ``der`` outside its varying contents) for SignedData of this length
    (the latest few shapes of each length: the first that fits is read).
    """
    fixed = []
    offset = 0
    for start, end in shape.varying():
        if start < offset:  # pragma: no cover - the contents of distinct values never overlap
            return
        fixed.append((offset, der[offset:start]))
        offset = end
    fixed.append((offset, der[offset:]))
    if len(_shapes) >= _SHAPE_CACHE_SIZE:
        _shapes.clear()
    known = _shapes.setdefault((len(der), encapsulated), [])
    del known[_SHAPES_PER_LENGTH - 1 :]
    known.insert(
        0,
        _Shape(
            # the short pieces first: they hold the tags and lengths that tell shapes of one length apart
            tuple(sorted(((at, octets) for at, octets in fixed if octets), key=lambda piece: len(piece[1]))),
            shape.content_type,
            shape.content,
            shape.embedded,
            shape.signer,
            shape.algorithm,
            shape.hash_name,
            shape.message_digest,
            shape.signing_time,
            shape.signed_attributes,
            shape.signature,
            shape.signer_info,
            shape.encap_content_info,
            shape.unsigned,
            tuple(c.certificate for c in shape.embedded),
        ),
    )
