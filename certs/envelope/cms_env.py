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

The platform's attributes (OIDs and values) are listed in `cms_attributes`; DER walking is
`cms_der`, key delivery `cms_recipients`.

Parsing walks the DER by hand down to the encrypted content, so the cleartext header (recipients,
attributes, tag) is read without touching the ciphertext (`read_header`), and opening decrypts a
memoryview of the stored bytes. Definite-length DER only: indefinite-length BER (``openssl cms
-stream``) is refused by name.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from asn1crypto import algos, core  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from certs.envelope import threshold
from certs.envelope.binding import BidBinding, share_digest
from certs.envelope.cms_attributes import (
    OID_SHARE_INDEX,
    OID_TENDER,
    EscrowPolicy,
    attribute,
    binding_attributes,
    binding_from,
    escrow_attribute,
    escrow_from,
    parse_attributes,
    share_envelopes,
    shares_attribute,
)
from certs.envelope.cms_der import Pieces, Reader, encode, head, malformed, set_of, walk
from certs.envelope.cms_recipients import UnwrapKey, key_delivery_context, recipient_info, unwrap_cek
from certs.errors import Reason, Refused
from certs.trustlist.model import fingerprint

FORMAT: Final = "cms-authenveloped"
AES_256_GCM: Final = "aes-256-gcm"
_OID_DATA: Final = "1.2.840.113549.1.7.1"
_OID_AES256_GCM: Final = "2.16.840.1.101.3.4.1.46"
_TAG_BYTES: Final = 16


class _GcmParameters(core.Sequence):  # type: ignore[misc]
    _fields = [("nonce", core.OctetString), ("icv_len", core.Integer, {"default": 12})]


@dataclass(frozen=True)
class CmsSealedBid:
    """A parsed AuthEnvelopedData; the ciphertext stays a view into the stored bytes."""

    pieces: Pieces
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
        return encode(self.pieces, self.ciphertext)

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())

    def detached(self) -> bytes:
        """The same ContentInfo with the encrypted content left out (it is OPTIONAL in CMS)."""
        return b"".join(encode(self.pieces, None))

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
            "holders": [{"recipient": holder} for holder in self.holder_fingerprints],
            "threshold": self.threshold,
            "shareDigests": list(self.share_digests),
        }


def _parse(pieces: Pieces, ciphertext: bytes | memoryview) -> CmsSealedBid:
    try:
        algorithm = algos.EncryptionAlgorithm.load(pieces.content_algorithm)
        if algorithm["algorithm"].dotted != _OID_AES256_GCM:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"content encryption {algorithm['algorithm'].dotted}")
        params = _GcmParameters.load(algorithm["parameters"].dump())
        nonce, tag_length = params["nonce"].native, int(params["icv_len"].native)
        content_type = core.ObjectIdentifier.load(pieces.content_type).dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise malformed(f"content encryption: {exc}") from None
    if content_type != _OID_DATA:
        raise malformed(f"content type {content_type}: id-data expected")
    if not 12 <= tag_length <= _TAG_BYTES or len(nonce) < 12:  # noqa: PLR2004 - RFC 5084 bounds
        raise malformed("GCM nonce or tag length")
    sources = {
        "key-delivery": parse_attributes(key_delivery_context(pieces.recipient_infos)),
        "authenticated": parse_attributes(pieces.auth_attrs),
        "unauthenticated": parse_attributes(pieces.unauth_attrs),
    }
    values: dict[str, bytes] = {}
    binding_source = ""
    for source, found in sources.items():
        repeated = set(values) & set(found)
        if repeated:
            raise malformed(f"attributes {sorted(repeated)} appear twice")
        values |= found
        if OID_TENDER in found:
            binding_source = source
    binding_authenticated = binding_source in {"key-delivery", "authenticated"}
    return CmsSealedBid(
        pieces=pieces,
        binding=binding_from(values),
        binding_authenticated=binding_authenticated,
        escrow=escrow_from(values),
        share_envelopes=share_envelopes(values),
        nonce=nonce,
        tag_length=tag_length,
        ciphertext=ciphertext,
    )


def is_cms(prefix: bytes) -> bool:
    """Whether the bytes start like a DER SEQUENCE (a CMS ContentInfo) rather than a v1 envelope."""
    return prefix[:1] == b"\x30"


def _parsed(reader: Reader, size: int, ciphertext: Callable[[Pieces], bytes | memoryview]) -> CmsSealedBid:
    """Walk and parse; whatever the ASN.1 layer throws at hostile bytes becomes a named refusal."""
    try:
        pieces = walk(reader, size)
        return _parse(pieces, ciphertext(pieces))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise malformed(f"{type(exc).__name__}: {exc}") from None


def from_bytes(data: bytes | memoryview) -> CmsSealedBid:
    """Parse an envelope; the ciphertext stays a view into ``data`` (no copy)."""
    view = memoryview(data)
    return _parsed(
        Reader(view), len(view), lambda p: view[p.ciphertext_offset : p.ciphertext_offset + p.ciphertext_length]
    )


def read_header(stream: BinaryIO, offset: int, size: int) -> dict[str, Any]:
    """The cleartext header of an envelope stored at ``offset`` in ``stream``; never reads the ciphertext."""
    return _parsed(Reader(stream=stream, base=offset), size, lambda _p: b"").header()


def from_header(header: dict[str, Any], ciphertext: bytes | memoryview = b"") -> CmsSealedBid:
    """An envelope from a header (`CmsSealedBid.header`): only its ``cms`` member is trusted."""
    try:
        detached = base64.b64decode(header["cms"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise malformed("the header carries no detached CMS object") from None
    return _parsed(Reader(detached), len(detached), lambda _p: ciphertext)


def _build(
    plaintext: bytes, cek: bytes, recipients: Sequence[x509.Certificate], context: list[bytes], unauth: list[bytes]
) -> CmsSealedBid:
    nonce = os.urandom(12)
    sealed = AESGCM(cek).encrypt(nonce, plaintext, None)
    view = memoryview(sealed)
    gcm = algos.EncryptionAlgorithm(
        {"algorithm": _OID_AES256_GCM, "parameters": _GcmParameters({"nonce": nonce, "icv_len": _TAG_BYTES})}
    )
    context_der = set_of(context)
    pieces = Pieces(
        version=core.Integer(0).dump(),
        originator_info=b"",
        recipient_infos=set_of([recipient_info(cek, r, context_der) for r in recipients]),
        content_type=core.ObjectIdentifier(_OID_DATA).dump(),
        content_algorithm=gcm.dump(),
        ciphertext_offset=0,
        ciphertext_length=len(sealed) - _TAG_BYTES,
        auth_attrs=b"",
        mac=core.OctetString(bytes(view[-_TAG_BYTES:])).dump(),
        unauth_attrs=(b"\xa2" + set_of(unauth)[1:]) if unauth else b"",
    )
    return _parse(pieces, view[:-_TAG_BYTES])


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
            [*binding_attributes(binding), attribute(OID_SHARE_INDEX, core.Integer(share.index).dump())],
            [],
        ).to_bytes()
        for share, holder in zip(shares, holders, strict=True)
    ]
    policy = EscrowPolicy(
        threshold=threshold_k,
        holders=tuple(fingerprint(h) for h in holders),
        share_digests=tuple(share_digest(s) for s in shares),
    )
    return escrow_attribute(policy), shares_attribute(envelopes)


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
    context = binding_attributes(binding)
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
    pieces = walk(Reader(view), len(view))
    present = parse_attributes(pieces.auth_attrs) | parse_attributes(pieces.unauth_attrs)
    if OID_TENDER in present:
        raise malformed("the envelope is already bound")
    added = binding_attributes(binding)
    if holders:
        if key is None:
            msg = "escrow needs the bidder's key to unwrap the content key"
            raise ValueError(msg)
        cek = unwrap_cek(pieces.recipient_infos, key)
        added.extend(_escrow_parts(cek, binding, holders, threshold_k))
    existing: list[bytes] = []
    if pieces.unauth_attrs:
        reader = Reader(pieces.unauth_attrs)
        _, position, length = head(reader, 0, len(pieces.unauth_attrs))
        while position < len(pieces.unauth_attrs):
            _, content, element = head(reader, position, len(pieces.unauth_attrs))
            existing.append(reader.read(position, content + element - position))
            position = content + element
        del length
    unauth = b"\xa2" + set_of([*existing, *added])[1:]
    rebound = Pieces(**{**pieces.__dict__, "unauth_attrs": unauth})
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
    holder_fingerprint = fingerprint(holder)
    if holder_fingerprint not in sealed.holder_fingerprints:
        raise Refused(Reason.NOT_A_RECIPIENT, "this certificate is not a key holder of the sealed bid")
    position = sealed.holder_fingerprints.index(holder_fingerprint)
    if position >= len(sealed.share_envelopes):
        raise Refused(Reason.BAD_SHARE, f"share {position + 1} is missing from the envelope")
    envelope = from_bytes(sealed.share_envelopes[position])
    if envelope.binding != sealed.binding:
        raise Refused(Reason.BINDING_MISMATCH, "the share is sealed for another bid")
    share = threshold.Share.from_bytes(decrypt(envelope, unwrap_content_key(envelope, key)))
    if share.index != position + 1 or share_digest(share) != sealed.share_digests[position]:
        raise Refused(Reason.BAD_SHARE, f"share {position + 1} does not match its recorded digest")
    return share
