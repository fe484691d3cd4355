"""Sealed bids as standard CMS: AuthEnvelopedData (RFC 5083) with AES-256-GCM (RFC 5084).

A part sealed by ``ggzy bid seal`` is one DER ``ContentInfo`` that any CMS tool can open with the
bidder's key (``openssl cms -decrypt -inform DER -inkey key.pem``):

* **content**: ``id-data`` encrypted with a fresh 256-bit content-encryption key (CEK), AES-256-GCM,
  12-byte nonce, 16-byte tag (``mac``);
* **the CEK to the bidder's encryption certificate**: ``KeyAgreeRecipientInfo`` for EC keys —
  ephemeral-static ECDH, ``dhSinglePass-stdDH-sha256kdf-scheme`` (``sha384kdf`` for P-384), X9.63
  KDF over ``ECC-CMS-SharedInfo``, AES-256 key wrap (RFC 5753, RFC 3394) — and
  ``KeyTransRecipientInfo`` with RSAES-OAEP (SHA-256, MGF1-SHA-256; RFC 8017/4055) for RSA keys.
  On opening, the SHA-1/224/384/512 KDF variants and AES-128/192 wrap are accepted too
  (``openssl cms -encrypt`` uses the SHA-1 KDF unless told ``-keyopt ecdh_kdf_md:sha256``);
* **the binding**, a DER ``SET OF Attribute`` under the platform's OID arc (below): tender, lot,
  bidder USCC, deadline, inner manifest digest and, with key holders, the escrow policy
  (threshold, holders, share digests). It is carried **in the key delivery** — the KARI ``ukm``
  (RFC 5753: it enters ``ECC-CMS-SharedInfo``, so the KDF) or the RSA-OAEP label
  (``pSourceAlgorithm`` id-pSpecified) — so the CEK unwraps only under these exact bytes: changing
  one byte of the binding locks the bidder's own key out, and nobody without the CEK can re-bind;
* **escrow**: each Shamir share of the CEK is sealed to one key holder as its *own*
  AuthEnvelopedData (same construction, binding and share index in its key delivery), and the
  sequence of those objects is an unauthenticated attribute (``unauthAttrs``) of the bid's
  envelope; each released share is checked against the digest in the bound escrow policy.

**Why not ``authAttrs``** (RFC 5083's authenticated attributes, the GCM associated data): OpenSSL
3.0 — Debian 12 ships 3.0.19 — cannot parse an AuthEnvelopedData that has *any* attributes (its
ASN.1 template tags them [2]/[3] instead of [1]/[2]: openssl/openssl#26101, fixed by
openssl/openssl#31695 in 2026) and never feeds ``authAttrs`` to GCM. An envelope with
``authAttrs`` would lock out the most common CMS tool, against Order 20 Art. 8. The key-delivery
context gives the same guarantee (the binding cannot change without the CEK) in fields every
OpenSSL 3 processes. Envelopes from other tools that do use ``authAttrs`` are accepted: the binding
is read from whichever place carries it (the attributes are authenticated by GCM there). The
escrow share envelopes still need ``unauthAttrs``, so a part sealed with key holders opens with
``openssl cms -decrypt`` only in OpenSSL versions with that fix; a part without key holders opens
with 3.0.19.

**Binding an envelope another tool made** (`bind`, ``ggzy bid bind``). ``openssl cms -encrypt``
can set neither attributes nor a ``ukm``, and the key delivery cannot be changed afterwards
without breaking the key. So an envelope made elsewhere is *bound* by adding the same attributes
as **unauthenticated** attributes (``unauthAttrs``). That is still safe for bids: the container's
manifest, signed by the bidder (CAdES), names each sealed part's SHA-256 — unauthenticated
attributes included — and the plaintext's SHA-256; intake checks the binding against the tender,
and the opening checks the binding against the receipt, the stored part against the receipt's
digest, the plaintext against the signed digest, and the package's inner manifest against the
bound digest. Moving a part to another bid changes its bytes or its binding and is refused either
way. Escrow for such an envelope needs the CEK, which `bind` unwraps with the bidder's own key on
the bidder's machine. Each attribute may appear once, in one place only. Headers say which kind
a part has (``bindingAuthenticated``).

**Platform attributes** (arc ``2.25.202490350784430039733670305926131377351``, a UUID OID per
ITU-T X.667, ``{arc}.1.x`` binding, ``{arc}.2.x`` escrow), each with exactly one value:

=====================  =========  ==============================================================
OID                    name       value
=====================  =========  ==============================================================
``{arc}.1.1``          tender     UTF8String: 统一交易标识码 (tender code)
``{arc}.1.2``          lot        UTF8String: lot code
``{arc}.1.3``          bidder     UTF8String: bidder USCC
``{arc}.1.4``          deadline   UTF8String: ISO 8601 deadline with UTC offset
``{arc}.1.5``          manifest   OCTET STRING: SHA-256 of the package's inner ``manifest.json``
``{arc}.2.1``          escrow     SEQUENCE { threshold INTEGER, holders SEQUENCE OF OCTET STRING
                                  (certificate SHA-256), shareDigests SEQUENCE OF OCTET STRING }
``{arc}.2.2``          shares     SEQUENCE OF ContentInfo (one AuthEnvelopedData per holder, in
                                  holder order); always unauthenticated
``{arc}.2.3``          index      INTEGER: the share's index (in a share's own envelope)
=====================  =========  ==============================================================

Parsing walks the DER by hand down to the encrypted content, so the cleartext header (recipients,
attributes, tag) is read without touching the ciphertext (`read_header`), and opening decrypts a
memoryview of the stored bytes. Definite-length DER only: indefinite-length BER (``openssl cms
-stream``) is refused by name.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Final

from asn1crypto import algos, cms, core, keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from certs.envelope import threshold
from certs.envelope.binding import BidBinding, share_digest
from certs.errors import Reason, Refused

ARC: Final = "2.25.202490350784430039733670305926131377351"
OID_TENDER: Final = f"{ARC}.1.1"
OID_LOT: Final = f"{ARC}.1.2"
OID_BIDDER: Final = f"{ARC}.1.3"
OID_DEADLINE: Final = f"{ARC}.1.4"
OID_MANIFEST: Final = f"{ARC}.1.5"
OID_ESCROW: Final = f"{ARC}.2.1"
OID_SHARES: Final = f"{ARC}.2.2"
OID_SHARE_INDEX: Final = f"{ARC}.2.3"

FORMAT: Final = "cms-authenveloped"
AES_256_GCM: Final = "aes-256-gcm"
_OID_AUTH_ENVELOPED: Final = "1.2.840.113549.1.9.16.1.23"
_OID_DATA: Final = "1.2.840.113549.1.7.1"
_OID_AES256_GCM: Final = "2.16.840.1.101.3.4.1.46"
_KDF_SCHEMES: Final[dict[str, hashes.HashAlgorithm]] = {
    "1.3.133.16.840.63.0.2": hashes.SHA1(),  # dhSinglePass-stdDH-sha1kdf-scheme  # noqa: S303 - KDF, as openssl's default
    "1.3.132.1.11.0": hashes.SHA224(),
    "1.3.132.1.11.1": hashes.SHA256(),
    "1.3.132.1.11.2": hashes.SHA384(),
    "1.3.132.1.11.3": hashes.SHA512(),
}
_SCHEME_FOR_CURVE: Final = {"secp256r1": "1.3.132.1.11.1", "secp384r1": "1.3.132.1.11.2"}
_CURVES: Final[dict[str, ec.EllipticCurve]] = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1()}
_WRAP_KEY_BYTES: Final = {"aes128_wrap": 16, "aes192_wrap": 24, "aes256_wrap": 32}
_TAG_BYTES: Final = 16
_HEADER_LIMIT: Final = 256 * 1024
# DER identifier octets used while walking the envelope
_SEQUENCE: Final = 0x30
_SET: Final = 0x31
_OID: Final = 0x06
_CONTEXT_0: Final = 0xA0
_CONTEXT_1: Final = 0xA1
_CONTEXT_2: Final = 0xA2
_PRIMITIVE_0: Final = 0x80
_LONG_FORM: Final = 0x80
_HIGH_TAG: Final = 0x1F

UnwrapKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _malformed(text: str) -> Refused:
    return Refused(Reason.MALFORMED, f"CMS envelope: {text}")


# --- DER, by hand where streaming needs it ---------------------------------------------------------


def _length(n: int) -> bytes:
    if n < _LONG_FORM:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, *contents: bytes) -> bytes:
    body = b"".join(contents)
    return bytes([tag]) + _length(len(body)) + body


def _set_of(elements: Sequence[bytes]) -> bytes:
    """DER SET OF: elements sorted by their encodings (X.690 §11.6)."""
    return _tlv(0x31, *sorted(elements))


class _Reader:
    """Random access to the envelope's bytes: in memory (a view, no copies) or a seekable stream."""

    def __init__(self, data: bytes | memoryview | None = None, stream: BinaryIO | None = None, base: int = 0) -> None:
        self.view = memoryview(data) if data is not None else None
        self.stream = stream
        self.base = base

    def read(self, offset: int, size: int) -> bytes:
        if self.view is not None:
            chunk = bytes(self.view[offset : offset + size])
        else:
            assert self.stream is not None  # noqa: S101 - one of the two is given
            self.stream.seek(self.base + offset)
            chunk = self.stream.read(size)
        if len(chunk) != size:
            raise _malformed("truncated")
        return chunk


def _head(reader: _Reader, offset: int, end: int) -> tuple[int, int, int]:
    """(tag, content offset, content length) of the TLV at ``offset``; definite lengths only."""
    if offset + 2 > end:
        raise _malformed("truncated")
    first = reader.read(offset, 2)
    tag, octet = first[0], first[1]
    if tag & _HIGH_TAG == _HIGH_TAG:
        raise _malformed("high tag numbers are not used in an envelope")
    if octet == _LONG_FORM:
        raise _malformed("indefinite-length (BER streaming) encoding; write DER (no -stream)")
    if octet < _LONG_FORM:
        start, length = offset + 2, octet
    else:
        count = octet & 0x7F
        if count > 8:  # noqa: PLR2004 - no envelope is longer than 2**64 bytes
            raise _malformed("length too long")
        length = int.from_bytes(reader.read(offset + 2, count), "big")
        start = offset + 2 + count
    if start + length > end:
        raise _malformed("an element runs past its container")
    return tag, start, length


@dataclass(frozen=True)
class _Pieces:
    """The top-level elements of an AuthEnvelopedData, raw DER, and where the ciphertext lies."""

    version: bytes
    originator_info: bytes
    recipient_infos: bytes
    content_type: bytes
    content_algorithm: bytes
    ciphertext_offset: int
    ciphertext_length: int
    auth_attrs: bytes
    mac: bytes
    unauth_attrs: bytes


def _walk(reader: _Reader, size: int) -> _Pieces:  # noqa: C901, PLR0912, PLR0915 - one pass over a fixed grammar
    tag, start, length = _head(reader, 0, size)
    if tag != _SEQUENCE or start + length != size:
        raise _malformed("not one DER ContentInfo")
    tag, oid_start, oid_length = _head(reader, start, size)
    oid = core.ObjectIdentifier.load(reader.read(start, oid_start + oid_length - start)).dotted
    if oid != _OID_AUTH_ENVELOPED:
        raise _malformed(f"content type {oid} is not AuthEnvelopedData (RFC 5083)")
    tag, inner, inner_length = _head(reader, oid_start + oid_length, size)
    if tag != _CONTEXT_0:
        raise _malformed("no [0] content")
    tag, position, body_length = _head(reader, inner, inner + inner_length)
    if tag != _SEQUENCE:
        raise _malformed("AuthEnvelopedData is not a SEQUENCE")
    end = position + body_length
    raw: dict[str, bytes] = {}
    ciphertext = (0, 0)
    header_bytes = 0
    order = ("version", "originator", "recipients", "content", "auth", "mac", "unauth")
    expected = {0x02: "version", 0xA0: "originator", 0x31: "recipients", 0x30: "content", 0xA1: "auth", 0x04: "mac"}
    expected[0xA2] = "unauth"
    last = -1
    while position < end:
        tag, content, length = _head(reader, position, end)
        name = expected.get(tag)
        if name is None or order.index(name) <= last:
            raise _malformed(f"unexpected element (tag 0x{tag:02x}) in AuthEnvelopedData")
        last = order.index(name)
        if name == "content":
            c_end = content + length
            t1, s1, l1 = _head(reader, content, c_end)
            t2, s2, l2 = _head(reader, s1 + l1, c_end)
            if t1 != _OID or t2 != _SEQUENCE:
                raise _malformed("authEncryptedContentInfo")
            raw["content_type"] = reader.read(content, s1 + l1 - content)
            raw["algorithm"] = reader.read(s1 + l1, s2 + l2 - (s1 + l1))
            after = s2 + l2
            if after < c_end:
                t3, s3, l3 = _head(reader, after, c_end)
                if t3 == _CONTEXT_0:
                    raise _malformed("constructed (BER) encrypted content; write DER")
                if t3 != _PRIMITIVE_0 or s3 + l3 != c_end:
                    raise _malformed("encryptedContent")
                ciphertext = (s3, l3)
        else:
            element = content + length - position
            header_bytes += element
            if header_bytes > _HEADER_LIMIT:
                raise _malformed("the cleartext part is too long")
            raw[name] = reader.read(position, element)
        position = content + length
    for needed in ("version", "recipients", "content_type", "mac"):
        if needed not in raw:
            raise _malformed(f"{needed} missing")
    return _Pieces(
        version=raw["version"],
        originator_info=raw.get("originator", b""),
        recipient_infos=raw["recipients"],
        content_type=raw["content_type"],
        content_algorithm=raw["algorithm"],
        ciphertext_offset=ciphertext[0],
        ciphertext_length=ciphertext[1],
        auth_attrs=raw.get("auth", b""),
        mac=raw["mac"],
        unauth_attrs=raw.get("unauth", b""),
    )


# --- attributes --------------------------------------------------------------------------------------


def _attribute(oid: str, value: bytes) -> bytes:
    return _tlv(0x30, core.ObjectIdentifier(oid).dump(), _set_of([value]))


def _utf8(text: str) -> bytes:
    return bytes(core.UTF8String(text).dump())


class _Escrow(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("threshold", core.Integer),
        ("holders", core.SequenceOf, {"spec": core.OctetString}),
        ("share_digests", core.SequenceOf, {"spec": core.OctetString}),
    ]


class _GcmParameters(core.Sequence):  # type: ignore[misc]
    _fields = [("nonce", core.OctetString), ("icv_len", core.Integer, {"default": 12})]


@dataclass(frozen=True)
class EscrowPolicy:
    """Who holds shares of the CEK (certificate SHA-256, in share order), how many open it, and the
    SHA-256 of each share (`binding.share_digest`).
    """

    threshold: int
    holders: tuple[str, ...]
    share_digests: tuple[str, ...]


def _binding_attributes(binding: BidBinding) -> list[bytes]:
    return [
        _attribute(OID_TENDER, _utf8(binding.tender)),
        _attribute(OID_LOT, _utf8(binding.lot)),
        _attribute(OID_BIDDER, _utf8(binding.bidder)),
        _attribute(OID_DEADLINE, _utf8(binding.deadline.isoformat())),
        _attribute(OID_MANIFEST, core.OctetString(bytes.fromhex(binding.manifest_sha256)).dump()),
    ]


def _escrow_attribute(policy: EscrowPolicy) -> bytes:
    value = _Escrow(
        {
            "threshold": policy.threshold,
            "holders": [bytes.fromhex(h) for h in policy.holders],
            "share_digests": [bytes.fromhex(d) for d in policy.share_digests],
        }
    )
    return _attribute(OID_ESCROW, value.dump())


def _shares_attribute(envelopes: Sequence[bytes]) -> bytes:
    return _attribute(OID_SHARES, _tlv(0x30, *envelopes))


def _attributes(der: bytes) -> dict[str, bytes]:
    """``{oid: the single value's DER}`` of a [1]/[2] IMPLICIT SET OF Attribute; refuses repeats."""
    if not der:
        return {}
    try:
        parsed = cms.CMSAttributes.load(b"\x31" + der[1:])
        found: dict[str, bytes] = {}
        for attribute in parsed:
            oid = attribute["type"].dotted
            values = attribute["values"]
            if oid in found or len(values) != 1:
                raise _malformed(f"attribute {oid} must appear once with one value")
            found[oid] = values[0].dump()
    except (ValueError, TypeError) as exc:
        raise _malformed(f"attributes: {exc}") from None
    return found


def _text(values: dict[str, bytes], oid: str, name: str) -> str:
    if oid not in values:
        raise Refused(Reason.BINDING_MISMATCH, f"the envelope carries no {name} binding attribute ({oid})")
    try:
        return str(core.UTF8String.load(values[oid]).native)
    except ValueError:
        raise _malformed(f"the {name} attribute is not a UTF8String") from None


def _binding_from(values: dict[str, bytes]) -> BidBinding:
    if OID_MANIFEST not in values:
        raise Refused(Reason.BINDING_MISMATCH, "the envelope carries no manifest binding attribute")
    try:
        manifest = core.OctetString.load(values[OID_MANIFEST]).native
        deadline = datetime.fromisoformat(_text(values, OID_DEADLINE, "deadline"))
    except ValueError:
        raise _malformed("the deadline or manifest attribute") from None
    if deadline.tzinfo is None or len(manifest) not in {0, hashlib.sha256().digest_size}:
        raise _malformed("the deadline needs its UTC offset and the manifest digest is SHA-256")
    return BidBinding(
        tender=_text(values, OID_TENDER, "tender"),
        lot=_text(values, OID_LOT, "lot"),
        bidder=_text(values, OID_BIDDER, "bidder"),
        deadline=deadline,
        manifest_sha256=manifest.hex(),
    )


def _escrow_from(values: dict[str, bytes]) -> EscrowPolicy | None:
    if OID_ESCROW not in values:
        return None
    try:
        escrow = _Escrow.load(values[OID_ESCROW])
        policy = EscrowPolicy(
            threshold=int(escrow["threshold"].native),
            holders=tuple(bytes(h).hex() for h in escrow["holders"].native),
            share_digests=tuple(bytes(d).hex() for d in escrow["share_digests"].native),
        )
    except ValueError:
        raise _malformed("the escrow attribute") from None
    if len(policy.holders) != len(policy.share_digests) or not 1 <= policy.threshold <= len(policy.holders):
        raise _malformed("the escrow attribute: holders, digests and threshold disagree")
    return policy


def _share_envelopes(values: dict[str, bytes]) -> tuple[bytes, ...]:
    if OID_SHARES not in values:
        return ()
    reader = _Reader(values[OID_SHARES])
    size = len(values[OID_SHARES])
    tag, position, length = _head(reader, 0, size)
    if tag != _SEQUENCE:
        raise _malformed("the shares attribute is not a SEQUENCE")
    found = []
    while position < length + 2 and position < size:
        _, content, element = _head(reader, position, size)
        found.append(reader.read(position, content + element - position))
        position = content + element
    return tuple(found)


# --- recipients --------------------------------------------------------------------------------------


def _issuer_and_serial(certificate: x509.Certificate) -> cms.IssuerAndSerialNumber:
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    return cms.IssuerAndSerialNumber({"issuer": parsed.issuer, "serial_number": parsed.serial_number})


def _check_usage(certificate: x509.Certificate, *, agreement: bool) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.key_agreement if agreement else usage.key_encipherment):
        needed = "keyAgreement" if agreement else "keyEncipherment"
        raise Refused(Reason.WRONG_KEY_USAGE, f"the encryption certificate lacks {needed}")


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)


def _shared_info(wrap_algorithm: bytes, ukm: bytes | None, key_bytes: int) -> bytes:
    """ECC-CMS-SharedInfo (RFC 5753 §7.2): keyInfo, optional entityUInfo, suppPubInfo (key bits)."""
    parts = [wrap_algorithm]
    if ukm is not None:
        parts.append(_tlv(0xA0, core.OctetString(ukm).dump()))
    parts.append(_tlv(0xA2, core.OctetString((key_bytes * 8).to_bytes(4, "big")).dump()))
    return _tlv(0x30, *parts)


def _kek(
    private: ec.EllipticCurvePrivateKey,
    peer: ec.EllipticCurvePublicKey,
    scheme: str,
    wrap_algorithm: bytes,
    ukm: bytes | None,
) -> bytes:
    key_bytes = _WRAP_KEY_BYTES[cms.KeyEncryptionAlgorithm.load(wrap_algorithm)["algorithm"].native]
    shared = private.exchange(ec.ECDH(), peer)
    kdf = X963KDF(
        algorithm=_KDF_SCHEMES[scheme], length=key_bytes, sharedinfo=_shared_info(wrap_algorithm, ukm, key_bytes)
    )
    return kdf.derive(shared)


def recipient_info(cek: bytes, certificate: x509.Certificate, context: bytes) -> bytes:
    """The RecipientInfo (DER) delivering ``cek`` to ``certificate``'s key: KARI for EC, KTRI for RSA;
    ``context`` (the binding's DER) is the KARI ``ukm`` / the OAEP label, so it enters the key derivation.
    """
    public = certificate.public_key()
    rid = _issuer_and_serial(certificate)
    if isinstance(public, rsa.RSAPublicKey):
        _check_usage(certificate, agreement=False)
        oaep = algos.RSAESOAEPParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "p_source_algorithm": {"algorithm": "p_specified", "parameters": context},
            }
        )
        ktri = cms.KeyTransRecipientInfo(
            {
                "version": "v0",
                "rid": cms.RecipientIdentifier({"issuer_and_serial_number": rid}),
                "key_encryption_algorithm": {"algorithm": "rsaes_oaep", "parameters": oaep},
                "encrypted_key": public.encrypt(cek, _oaep(context)),
            }
        )
        return bytes(cms.RecipientInfo({"ktri": ktri}).dump())
    if isinstance(public, ec.EllipticCurvePublicKey):
        _check_usage(certificate, agreement=True)
        scheme = _SCHEME_FOR_CURVE.get(public.curve.name)
        if scheme is None:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"no CMS key agreement for curve {public.curve.name}")
        ephemeral = ec.generate_private_key(public.curve)
        point = ephemeral.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        wrap_algorithm = cms.KeyEncryptionAlgorithm({"algorithm": "aes256_wrap"}).dump()
        kek = _kek(ephemeral, public, scheme, wrap_algorithm, context)
        kari = cms.KeyAgreeRecipientInfo(
            {
                "version": "v3",
                "ukm": context,
                "originator": cms.OriginatorIdentifierOrKey(
                    {"originator_key": keys.PublicKeyInfo({"algorithm": {"algorithm": "ec"}, "public_key": point})}
                ),
                "key_encryption_algorithm": {
                    "algorithm": scheme,
                    "parameters": core.Any.load(wrap_algorithm),
                },
                "recipient_encrypted_keys": [
                    {
                        "rid": cms.KeyAgreementRecipientIdentifier({"issuer_and_serial_number": rid}),
                        "encrypted_key": keywrap.aes_key_wrap(kek, cek),
                    }
                ],
            }
        )
        return bytes(cms.RecipientInfo({"kari": kari}).dump())
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"cannot deliver a CMS key to a {type(public).__name__}")


def _unwrap_kari(kari: cms.KeyAgreeRecipientInfo, key: ec.EllipticCurvePrivateKey) -> list[bytes]:
    algorithm = kari["key_encryption_algorithm"]
    scheme = algorithm["algorithm"].dotted
    if scheme not in _KDF_SCHEMES:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"key agreement scheme {scheme}")
    originator = kari["originator"]
    if originator.name != "originator_key":
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, "only ephemeral-static ECDH (originatorKey) is supported")
    point = originator.chosen["public_key"].native
    peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, bytes(point))
    wrap_algorithm = algorithm["parameters"].dump()
    ukm = kari["ukm"].native if kari["ukm"].native is not None else None
    kek = _kek(key, peer, scheme, wrap_algorithm, ukm)
    found = []
    for recipient in kari["recipient_encrypted_keys"]:
        try:
            found.append(keywrap.aes_key_unwrap(kek, recipient["encrypted_key"].native))
        except keywrap.InvalidUnwrap:
            continue
    return found


def _unwrap_ktri(ktri: cms.KeyTransRecipientInfo, key: rsa.RSAPrivateKey) -> list[bytes]:
    algorithm = ktri["key_encryption_algorithm"]
    if algorithm["algorithm"].native != "rsaes_oaep":
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"key transport {algorithm['algorithm'].native}: RSA-OAEP only")
    params = algorithm["parameters"]
    digest = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}  # noqa: S303
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
    if hash_name not in digest or mgf_name not in digest:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"RSA-OAEP with {hash_name}/{mgf_name}")
    label = params["p_source_algorithm"]["parameters"].native or None
    oaep = padding.OAEP(mgf=padding.MGF1(digest[mgf_name]), algorithm=digest[hash_name], label=label)
    try:
        return [key.decrypt(ktri["encrypted_key"].native, oaep)]
    except ValueError:
        return []


def unwrap_cek(recipient_infos: bytes, key: UnwrapKey) -> bytes:
    """The CEK, unwrapped with the recipient's private key from any RecipientInfo it opens."""
    try:
        infos = cms.RecipientInfos.load(recipient_infos)
        for info in infos:
            opened: list[bytes] = []
            if info.name == "kari" and isinstance(key, ec.EllipticCurvePrivateKey):
                opened = _unwrap_kari(info.chosen, key)
            elif info.name == "ktri" and isinstance(key, rsa.RSAPrivateKey):
                opened = _unwrap_ktri(info.chosen, key)
            if opened:
                return opened[0]
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(f"recipient infos: {exc}") from None
    raise Refused(Reason.NOT_A_RECIPIENT, "no recipient of the envelope opens with this key")


# --- the envelope ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CmsSealedBid:
    """A parsed AuthEnvelopedData; the ciphertext stays a view into the stored bytes."""

    pieces: _Pieces
    binding: BidBinding
    binding_authenticated: bool
    escrow: EscrowPolicy | None
    share_envelopes: tuple[bytes, ...]
    nonce: bytes
    tag_length: int
    ciphertext: bytes | memoryview = field(repr=False)
    content_algorithm: str = AES_256_GCM

    @property
    def threshold(self) -> int:
        return self.escrow.threshold if self.escrow else 0

    @property
    def share_digests(self) -> tuple[str, ...]:
        return self.escrow.share_digests if self.escrow else ()

    @property
    def holder_fingerprints(self) -> tuple[str, ...]:
        return self.escrow.holders if self.escrow else ()

    @property
    def mac(self) -> bytes:
        return bytes(core.OctetString.load(self.pieces.mac).native)

    def aad(self) -> bytes:
        """GCM associated data: the authenticated attributes' DER with the SET OF tag (RFC 5083 §2.2)."""
        return b"\x31" + self.pieces.auth_attrs[1:] if self.pieces.auth_attrs else b""

    def chunks(self) -> tuple[bytes | memoryview, ...]:
        """The whole DER in three slices (prefix, ciphertext, suffix), to be written without joining."""
        return _encode(self.pieces, self.ciphertext)

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())

    def detached(self) -> bytes:
        """The same ContentInfo with the encrypted content left out (it is OPTIONAL in CMS)."""
        return b"".join(_encode(self.pieces, None))

    def header(self) -> dict[str, Any]:
        """What the platform serves and the clients read: the detached CMS object (authoritative)
        plus what is derived from it (binding, escrow) for display and intake's quick checks.
        """
        return {
            "version": 2,
            "format": FORMAT,
            "cms": base64.b64encode(self.detached()).decode(),
            "binding": self.binding.to_dict(),
            "bindingAuthenticated": self.binding_authenticated,
            "holders": [{"recipient": fingerprint} for fingerprint in self.holder_fingerprints],
            "threshold": self.threshold,
            "shareDigests": list(self.share_digests),
        }


def _encode(pieces: _Pieces, ciphertext: bytes | memoryview | None) -> tuple[bytes | memoryview, ...]:
    content_head = pieces.content_type + pieces.content_algorithm
    if ciphertext is None:
        encrypted_content = _tlv(0x30, content_head)
        tail: tuple[bytes | memoryview, ...] = ()
        body_chunks: list[bytes] = [encrypted_content]
    else:
        inner = content_head + b"\x80" + _length(len(ciphertext))
        body_chunks = [b"\x30" + _length(len(inner) + len(ciphertext)) + inner]
        tail = (ciphertext,)
    suffix = pieces.auth_attrs + pieces.mac + pieces.unauth_attrs
    front = pieces.version + pieces.originator_info + pieces.recipient_infos
    body_length = len(front) + sum(len(c) for c in body_chunks) + sum(len(c) for c in tail) + len(suffix)
    sequence_head = b"\x30" + _length(body_length)
    explicit_head = b"\xa0" + _length(len(sequence_head) + body_length)
    oid = core.ObjectIdentifier(_OID_AUTH_ENVELOPED).dump()
    outer_length = len(oid) + len(explicit_head) + len(sequence_head) + body_length
    prefix = b"\x30" + _length(outer_length) + oid + explicit_head + sequence_head + front + b"".join(body_chunks)
    if ciphertext is None:
        return (prefix + suffix,)
    return (prefix, ciphertext, suffix)


def _parse(pieces: _Pieces, ciphertext: bytes | memoryview) -> CmsSealedBid:
    try:
        algorithm = algos.EncryptionAlgorithm.load(pieces.content_algorithm)
        if algorithm["algorithm"].dotted != _OID_AES256_GCM:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"content encryption {algorithm['algorithm'].dotted}")
        params = _GcmParameters.load(algorithm["parameters"].dump())
        nonce, tag_length = params["nonce"].native, int(params["icv_len"].native)
        content_type = core.ObjectIdentifier.load(pieces.content_type).dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(f"content encryption: {exc}") from None
    if content_type != _OID_DATA:
        raise _malformed(f"content type {content_type}: id-data expected")
    if not 12 <= tag_length <= _TAG_BYTES or len(nonce) < 12:  # noqa: PLR2004 - RFC 5084 bounds
        raise _malformed("GCM nonce or tag length")
    sources = {
        "key-delivery": _attributes(_key_delivery_context(pieces.recipient_infos)),
        "authenticated": _attributes(pieces.auth_attrs),
        "unauthenticated": _attributes(pieces.unauth_attrs),
    }
    values: dict[str, bytes] = {}
    binding_source = ""
    for source, found in sources.items():
        repeated = set(values) & set(found)
        if repeated:
            raise _malformed(f"attributes {sorted(repeated)} appear twice")
        values |= found
        if OID_TENDER in found:
            binding_source = source
    binding_authenticated = binding_source in {"key-delivery", "authenticated"}
    return CmsSealedBid(
        pieces=pieces,
        binding=_binding_from(values),
        binding_authenticated=binding_authenticated,
        escrow=_escrow_from(values),
        share_envelopes=_share_envelopes(values),
        nonce=nonce,
        tag_length=tag_length,
        ciphertext=ciphertext,
    )


def _key_delivery_context(recipient_infos: bytes) -> bytes:
    """The binding attributes a ggzy envelope carries in its key delivery: the KARI ``ukm`` or the
    RSA-OAEP label (id-pSpecified), the same DER in every RecipientInfo; empty when there is none.
    """
    found: set[bytes] = set()
    try:
        for info in cms.RecipientInfos.load(recipient_infos):
            if info.name == "kari":
                ukm = info.chosen["ukm"].native
                found.add(bytes(ukm or b""))
            elif info.name == "ktri" and info.chosen["key_encryption_algorithm"]["algorithm"].native == "rsaes_oaep":
                label = info.chosen["key_encryption_algorithm"]["parameters"]["p_source_algorithm"]["parameters"]
                found.add(bytes(label.native or b""))
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(f"recipient infos: {exc}") from None
    if len(found) > 1:
        raise _malformed("the recipients carry different binding contexts")
    context = found.pop() if found else b""
    if context and context[:1] != b"\x31":
        return b""  # another tool's ukm or label: not a ggzy binding
    return context


def is_cms(prefix: bytes) -> bool:
    """Whether the bytes start like a DER SEQUENCE (a CMS ContentInfo) rather than a v1 envelope."""
    return prefix[:1] == b"\x30"


def _parsed(reader: _Reader, size: int, ciphertext: Callable[[_Pieces], bytes | memoryview]) -> CmsSealedBid:
    """Walk and parse; whatever the ASN.1 layer throws at hostile bytes becomes a named refusal."""
    try:
        pieces = _walk(reader, size)
        return _parse(pieces, ciphertext(pieces))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise _malformed(f"{type(exc).__name__}: {exc}") from None


def from_bytes(data: bytes | memoryview) -> CmsSealedBid:
    """Parse an envelope; the ciphertext stays a view into ``data`` (no copy)."""
    view = memoryview(data)
    return _parsed(
        _Reader(view), len(view), lambda p: view[p.ciphertext_offset : p.ciphertext_offset + p.ciphertext_length]
    )


def read_header(stream: BinaryIO, offset: int, size: int) -> dict[str, Any]:
    """The cleartext header of an envelope stored at ``offset`` in ``stream``; never reads the ciphertext."""
    return _parsed(_Reader(stream=stream, base=offset), size, lambda _p: b"").header()


def from_header(header: dict[str, Any], ciphertext: bytes | memoryview = b"") -> CmsSealedBid:
    """An envelope from a header (`CmsSealedBid.header`): only its ``cms`` member is trusted."""
    try:
        detached = base64.b64decode(header["cms"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise _malformed("the header carries no detached CMS object") from None
    return _parsed(_Reader(detached), len(detached), lambda _p: ciphertext)


def _build(
    plaintext: bytes, cek: bytes, recipients: Sequence[x509.Certificate], context: list[bytes], unauth: list[bytes]
) -> CmsSealedBid:
    nonce = os.urandom(12)
    sealed = AESGCM(cek).encrypt(nonce, plaintext, None)
    view = memoryview(sealed)
    gcm = algos.EncryptionAlgorithm(
        {"algorithm": _OID_AES256_GCM, "parameters": _GcmParameters({"nonce": nonce, "icv_len": _TAG_BYTES})}
    )
    context_der = _set_of(context)
    pieces = _Pieces(
        version=core.Integer(0).dump(),
        originator_info=b"",
        recipient_infos=_set_of([recipient_info(cek, r, context_der) for r in recipients]),
        content_type=core.ObjectIdentifier(_OID_DATA).dump(),
        content_algorithm=gcm.dump(),
        ciphertext_offset=0,
        ciphertext_length=len(sealed) - _TAG_BYTES,
        auth_attrs=b"",
        mac=core.OctetString(bytes(view[-_TAG_BYTES:])).dump(),
        unauth_attrs=(b"\xa2" + _set_of(unauth)[1:]) if unauth else b"",
    )
    return _parse(pieces, view[:-_TAG_BYTES])


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _escrow_parts(
    cek: bytes, binding: BidBinding, holders: Sequence[x509.Certificate], threshold_k: int
) -> tuple[bytes, bytes]:
    if not 1 <= threshold_k <= len(holders):
        msg = "threshold must be between 1 and the number of key holders"
        raise ValueError(msg)
    shares = threshold.split(cek, threshold_k, len(holders))
    envelopes = [
        _build(
            share.to_bytes(),
            os.urandom(32),
            [holder],
            [*_binding_attributes(binding), _attribute(OID_SHARE_INDEX, core.Integer(share.index).dump())],
            [],
        ).to_bytes()
        for share, holder in zip(shares, holders, strict=True)
    ]
    policy = EscrowPolicy(
        threshold=threshold_k,
        holders=tuple(_fingerprint(h) for h in holders),
        share_digests=tuple(share_digest(s) for s in shares),
    )
    return _escrow_attribute(policy), _shares_attribute(envelopes)


def seal(
    plaintext: bytes,
    binding: BidBinding,
    *,
    bidder: x509.Certificate,
    holders: Sequence[x509.Certificate] = (),
    threshold_k: int = 0,
) -> CmsSealedBid:
    """Seal ``plaintext`` for ``bidder`` (and k of ``holders``), the binding (and the escrow policy)
    in the key delivery's context (KARI ``ukm`` / OAEP label), the share envelopes unauthenticated.
    """
    cek = os.urandom(32)
    context = _binding_attributes(binding)
    unauth: list[bytes] = []
    if holders:
        escrow, shares = _escrow_parts(cek, binding, holders, threshold_k)
        context.append(escrow)
        unauth.append(shares)
    return _build(plaintext, cek, [bidder], context, unauth)


def bind(
    data: bytes,
    binding: BidBinding,
    *,
    key: UnwrapKey | None = None,
    holders: Sequence[x509.Certificate] = (),
    threshold_k: int = 0,
) -> bytes:
    """Bind an AuthEnvelopedData made by another tool (e.g. ``openssl cms -encrypt -aes-256-gcm``)
    to a bid: add the binding (and, with the bidder's ``key`` to unwrap the CEK, the escrow shares)
    as unauthenticated attributes; see the module docstring for why that is safe in a container.
    Refuses an envelope that is already bound or that does not open with the CEK.
    """
    view = memoryview(data)
    pieces = _walk(_Reader(view), len(view))
    present = _attributes(pieces.auth_attrs) | _attributes(pieces.unauth_attrs)
    if OID_TENDER in present:
        raise _malformed("the envelope is already bound")
    added = _binding_attributes(binding)
    if holders:
        if key is None:
            msg = "escrow needs the bidder's key to unwrap the content key"
            raise ValueError(msg)
        cek = unwrap_cek(pieces.recipient_infos, key)
        added.extend(_escrow_parts(cek, binding, holders, threshold_k))
    existing: list[bytes] = []
    if pieces.unauth_attrs:
        reader = _Reader(pieces.unauth_attrs)
        _, position, length = _head(reader, 0, len(pieces.unauth_attrs))
        while position < len(pieces.unauth_attrs):
            _, content, element = _head(reader, position, len(pieces.unauth_attrs))
            existing.append(reader.read(position, content + element - position))
            position = content + element
        del length
    unauth = b"\xa2" + _set_of([*existing, *added])[1:]
    rebound = _Pieces(**{**pieces.__dict__, "unauth_attrs": unauth})
    start = pieces.ciphertext_offset
    sealed = _parse(rebound, view[start : start + pieces.ciphertext_length])
    if holders:
        decrypt(sealed, cek)  # the key the shares split must be the envelope's key
    return sealed.to_bytes()


def decrypt(sealed: CmsSealedBid, cek: bytes) -> bytes:
    """Decrypt and authenticate (ciphertext, authenticated attributes, tag) with the CEK."""
    if len(cek) != 32:  # noqa: PLR2004 - AES-256
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "the content key has the wrong length")
    mac = sealed.mac
    if len(mac) != sealed.tag_length:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "the GCM tag has the wrong length")
    decryptor = Cipher(algorithms.AES(cek), modes.GCM(sealed.nonce, mac, min_tag_length=sealed.tag_length)).decryptor()
    aad = sealed.aad()
    if aad:
        decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(sealed.ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "AES-GCM authentication failed") from None


def unwrap_content_key(sealed: CmsSealedBid, key: UnwrapKey) -> bytes:
    cek = unwrap_cek(sealed.pieces.recipient_infos, key)
    if len(cek) != 32:  # noqa: PLR2004 - AES-256
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "the unwrapped content key has the wrong length")
    return cek


def release_share(sealed: CmsSealedBid, holder: x509.Certificate, key: UnwrapKey) -> threshold.Share:
    """A key holder's client: open its own share envelope and check the share against its digest."""
    fingerprint = _fingerprint(holder)
    if fingerprint not in sealed.holder_fingerprints:
        raise Refused(Reason.NOT_A_RECIPIENT, "this certificate is not a key holder of the sealed bid")
    position = sealed.holder_fingerprints.index(fingerprint)
    if position >= len(sealed.share_envelopes):
        raise Refused(Reason.BAD_SHARE, f"share {position + 1} is missing from the envelope")
    envelope = from_bytes(sealed.share_envelopes[position])
    if envelope.binding != sealed.binding:
        raise Refused(Reason.BINDING_MISMATCH, "the share is sealed for another bid")
    share = threshold.Share.from_bytes(decrypt(envelope, unwrap_content_key(envelope, key)))
    if share.index != position + 1 or share_digest(share) != sealed.share_digests[position]:
        raise Refused(Reason.BAD_SHARE, f"share {position + 1} does not match its recorded digest")
    return share
