"""Sealed bids: encrypt once, open with the bidder's key or with any k of n key holders' shares.

Construction (reference §5.5):

1. A fresh 256-bit content key (DEK) encrypts the bid with AES-256-GCM (or SM4-GCM, 128-bit key,
   where GM algorithms are required). The associated data is the canonical JSON of the `BidBinding`
   (tender, lot, bidder USCC, deadline, manifest digest): a ciphertext moved to another tender, lot
   or bidder fails authentication.
2. The DEK is wrapped to the bidder's encryption certificate (`keywrap`), the legal
   "bidder decrypts" path, and split k-of-n with Shamir (`threshold`); each share is wrapped to one
   key holder. Every wrap is bound to the binding through its HPKE ``info`` / OAEP label, and the
   SHA-256 of each share is recorded so a wrong share is named rather than silently breaking the key.
3. The envelope is ``GGZYBID1 ‖ len(header) ‖ header JSON ‖ ciphertext``; opening reads the
   ciphertext through a memoryview, so a 10 MB bid is decrypted without extra copies.

**Two formats.** New envelopes are standard CMS AuthEnvelopedData (`cms_env`, ``version`` 2 in
the header) wherever the algorithms allow (AES-256-GCM content, EC or RSA certificates); the
``GGZYBID1`` format above (version 1) is still written for SM4-GCM / SM2 recipients (no GM/T 0010
envelope yet) and is always read, so containers sealed before the change keep opening. Every
function here takes either (`Sealed`); `parse` and `parse_header` tell them apart.

Nobody can open before holding the bidder's private key or k shares; the platform stores only this
envelope and its commitment (`commitments`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509

from certs.canonical import canonical_json
from certs.envelope import cms_env, keywrap, threshold
from certs.envelope.binding import BidBinding, share_digest
from certs.envelope.keywrap import UnwrapKey, WrappedKey
from certs.errors import Reason, Refused
from certs.providers import pyca, sm2

MAGIC: Final = b"GGZYBID1"
AES_256_GCM: Final = "aes-256-gcm"
SM4_GCM: Final = "sm4-gcm"
_KEY_BYTES: Final = {AES_256_GCM: 32, SM4_GCM: 16}
_HEADER_LEN: Final = struct.Struct(">I")
CMS_HEADER_VERSION: Final = 2

Recipient = x509.Certificate | sm2.Sm2PublicKey

__all__ = [
    "AES_256_GCM",
    "MAGIC",
    "SM4_GCM",
    "BidBinding",
    "Recipient",
    "Sealed",
    "SealedBid",
    "content_key_from_shares",
    "open_as_bidder",
    "open_with_content_key",
    "open_with_shares",
    "parse",
    "parse_header",
    "release_share",
    "seal",
    "seal_v1",
    "share_digest",
    "unwrap_content_key",
]


def _bidder_info(aad: bytes) -> bytes:
    return b"ggzy-bid/1|bidder|" + aad


def _share_info(index: int, aad: bytes) -> bytes:
    return b"ggzy-bid/1|share|%d|" % index + aad


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _wrapped_to_dict(w: WrappedKey) -> dict[str, str]:
    return {"method": w.method, "recipient": w.recipient_sha256, "value": _b64(w.value)}


def _wrapped_from_dict(d: dict[str, str]) -> WrappedKey:
    return WrappedKey(d["method"], d["recipient"], _unb64(d["value"]))


@dataclass(frozen=True)
class SealedBid:
    """A sealed bid: header (binding, wrapped keys, share digests) and ciphertext."""

    binding: BidBinding
    content_algorithm: str
    nonce: bytes
    bidder_key: WrappedKey
    holder_keys: tuple[WrappedKey, ...]
    threshold: int
    share_digests: tuple[str, ...]
    ciphertext: bytes | memoryview

    def header(self) -> dict[str, Any]:
        return {
            "version": 1,
            "content": {"algorithm": self.content_algorithm, "nonce": _b64(self.nonce)},
            "binding": self.binding.to_dict(),
            "bidder": _wrapped_to_dict(self.bidder_key),
            "holders": [_wrapped_to_dict(w) for w in self.holder_keys],
            "threshold": self.threshold,
            "shareDigests": list(self.share_digests),
        }

    def chunks(self) -> tuple[bytes | memoryview, ...]:
        """The envelope in slices (prefix, ciphertext), to be written without joining."""
        header = canonical_json(self.header())
        return (MAGIC + _HEADER_LEN.pack(len(header)) + header, self.ciphertext)

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedBid:
        """Parse an envelope; the ciphertext stays a view into ``data`` (no copy)."""
        view = memoryview(data)
        start = len(MAGIC) + _HEADER_LEN.size
        if len(data) < start or bytes(view[: len(MAGIC)]) != MAGIC:
            raise Refused(Reason.MALFORMED, "not a ggzy sealed bid")
        (length,) = _HEADER_LEN.unpack(view[len(MAGIC) : start])
        try:
            header = json.loads(bytes(view[start : start + length]))
        except ValueError as exc:
            raise Refused(Reason.MALFORMED, f"sealed bid header: {exc}") from None
        return cls.from_header(header, view[start + length :])

    @classmethod
    def from_header(cls, header: Any, ciphertext: bytes | memoryview = b"") -> SealedBid:
        """An envelope from its parsed header (as `header` gives it) and its ciphertext; with no
        ciphertext it serves to unwrap keys only (`unwrap_content_key`, `release_share`).
        """
        try:
            content = header["content"]
            sealed = cls(
                binding=BidBinding.from_dict(header["binding"]),
                content_algorithm=content["algorithm"],
                nonce=_unb64(content["nonce"]),
                bidder_key=_wrapped_from_dict(header["bidder"]),
                holder_keys=tuple(_wrapped_from_dict(h) for h in header["holders"]),
                threshold=int(header["threshold"]),
                share_digests=tuple(header["shareDigests"]),
                ciphertext=ciphertext,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Refused(Reason.MALFORMED, f"sealed bid header: {exc}") from None
        if sealed.content_algorithm not in _KEY_BYTES or header.get("version") != 1:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"content algorithm {sealed.content_algorithm}")
        return sealed


Sealed = SealedBid | cms_env.CmsSealedBid


def parse(data: bytes | memoryview) -> Sealed:
    """An envelope in either format; the ciphertext stays a view into ``data``."""
    if bytes(data[: len(MAGIC)]) == MAGIC:
        return SealedBid.from_bytes(bytes(data) if isinstance(data, memoryview) else data)
    if cms_env.is_cms(bytes(data[:1])):
        return cms_env.from_bytes(data)
    raise Refused(Reason.MALFORMED, "neither a CMS nor a ggzy sealed bid")


def parse_header(header: Sealed | dict[str, Any]) -> Sealed:
    """An envelope from its header as the platform serves it (keys and binding, no ciphertext)."""
    if isinstance(header, SealedBid | cms_env.CmsSealedBid):
        return header
    if isinstance(header, dict) and header.get("version") == CMS_HEADER_VERSION:
        return cms_env.from_header(header)
    return SealedBid.from_header(header)


def seal(
    plaintext: bytes,
    binding: BidBinding,
    *,
    bidder: Recipient,
    holders: Sequence[Recipient] = (),
    threshold_k: int = 0,
    content_algorithm: str = AES_256_GCM,
    legacy: bool = False,
) -> Sealed:
    """Seal ``plaintext`` for ``bidder`` and, when ``holders`` are given, for any ``threshold_k`` of them:
    as CMS (`cms_env`) unless SM algorithms (or ``legacy``) need the ``GGZYBID1`` format.
    """
    certificates = [r for r in (bidder, *holders) if isinstance(r, x509.Certificate)]
    if content_algorithm == AES_256_GCM and not legacy and len(certificates) == 1 + len(holders):
        if holders and not 1 <= threshold_k <= len(holders):
            msg = "threshold must be between 1 and the number of key holders"
            raise ValueError(msg)
        return cms_env.seal(
            plaintext, binding, bidder=certificates[0], holders=certificates[1:], threshold_k=threshold_k
        )
    return seal_v1(
        plaintext, binding, bidder=bidder, holders=holders, threshold_k=threshold_k, content_algorithm=content_algorithm
    )


def seal_v1(
    plaintext: bytes,
    binding: BidBinding,
    *,
    bidder: Recipient,
    holders: Sequence[Recipient] = (),
    threshold_k: int = 0,
    content_algorithm: str = AES_256_GCM,
) -> SealedBid:
    """Seal ``plaintext`` for ``bidder`` and, when ``holders`` are given, for any ``threshold_k`` of them."""
    if content_algorithm not in _KEY_BYTES:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"content algorithm {content_algorithm}")
    if holders and not 1 <= threshold_k <= len(holders):
        msg = "threshold must be between 1 and the number of key holders"
        raise ValueError(msg)
    aad = binding.aad()
    dek = os.urandom(_KEY_BYTES[content_algorithm])
    nonce = os.urandom(12)
    if content_algorithm == AES_256_GCM:
        ciphertext = pyca.aes_gcm_encrypt(dek, nonce, plaintext, aad)
    else:
        ciphertext = pyca.sm4_gcm_encrypt(dek, nonce, plaintext, aad)
    shares = threshold.split(dek, threshold_k, len(holders)) if holders else []
    return SealedBid(
        binding=binding,
        content_algorithm=content_algorithm,
        nonce=nonce,
        bidder_key=keywrap.wrap(dek, bidder, _bidder_info(aad)),
        holder_keys=tuple(
            keywrap.wrap(s.to_bytes(), holder, _share_info(s.index, aad))
            for s, holder in zip(shares, holders, strict=True)
        ),
        threshold=threshold_k if holders else 0,
        share_digests=tuple(share_digest(s) for s in shares),
        ciphertext=ciphertext,
    )


def _check_binding(sealed: Sealed, expected: BidBinding) -> bytes:
    if sealed.binding != expected:
        raise Refused(Reason.BINDING_MISMATCH, f"sealed for another {', '.join(expected.differing(sealed.binding))}")
    return expected.aad()


def _decrypt(sealed: Sealed, dek: bytes, aad: bytes) -> bytes:
    if isinstance(sealed, cms_env.CmsSealedBid):
        return cms_env.decrypt(sealed, dek)
    if len(dek) != _KEY_BYTES[sealed.content_algorithm]:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "the content key has the wrong length")
    if sealed.content_algorithm == AES_256_GCM:
        return pyca.aes_gcm_decrypt(dek, sealed.nonce, sealed.ciphertext, aad)
    return pyca.sm4_gcm_decrypt(dek, sealed.nonce, bytes(sealed.ciphertext), aad)


def open_as_bidder(sealed: Sealed, key: UnwrapKey, expected: BidBinding) -> bytes:
    """Open with the bidder's encryption key, for the tender/lot/bidder the platform expects."""
    dek = unwrap_content_key(sealed, key, expected)
    return _decrypt(sealed, dek, expected.aad())


def unwrap_content_key(sealed_or_header: Sealed | dict[str, Any], key: UnwrapKey, expected: BidBinding) -> bytes:
    """The bidder's client: unwrap the content key (DEK) of an envelope with the bidder's own key.

    Only the header is needed (wrapped keys and binding), so the bidder fetches it from the
    platform and sends back the DEK of *this* envelope alone: its private key never leaves it,
    and the DEK opens nothing else (each envelope has a fresh one).
    """
    sealed = parse_header(sealed_or_header)
    aad = _check_binding(sealed, expected)
    if isinstance(sealed, cms_env.CmsSealedBid):
        if isinstance(key, sm2.Sm2PrivateKey):
            raise Refused(Reason.NOT_A_RECIPIENT, "an SM2 key cannot open a CMS (EC/RSA) envelope")
        try:
            return cms_env.unwrap_content_key(sealed, key)
        except Refused as refusal:
            if refusal.reason is not Reason.NOT_A_RECIPIENT:
                raise
            raise Refused(
                Reason.TAMPERED_CIPHERTEXT, "the bidder's wrapped key does not open: altered, or not this key"
            ) from None
    try:
        dek = keywrap.unwrap(sealed.bidder_key, key, _bidder_info(aad))
    except Refused:
        raise Refused(
            Reason.TAMPERED_CIPHERTEXT, "the bidder's wrapped key does not open: altered, or not this key"
        ) from None
    if len(dek) != _KEY_BYTES[sealed.content_algorithm]:
        raise Refused(Reason.TAMPERED_CIPHERTEXT, "the unwrapped content key has the wrong length")
    return dek


def open_with_content_key(sealed: Sealed, dek: bytes, expected: BidBinding) -> bytes:
    """The platform: open an envelope with the content key the bidder sent.

    Refuses (``tampered-ciphertext``) a key of the wrong length or one that does not
    authenticate the ciphertext (a wrong key and an altered ciphertext look the same to GCM), and
    (``binding-mismatch``) an envelope bound to another tender, lot, bidder or deadline.
    """
    aad = _check_binding(sealed, expected)
    return _decrypt(sealed, dek, aad)


def release_share(
    sealed: Sealed, holder: x509.Certificate | sm2.Sm2PublicKey, key: UnwrapKey, expected: BidBinding
) -> threshold.Share:
    """A key holder's client: unwrap this holder's share (to be sent to the opening) and check its digest."""
    aad = _check_binding(sealed, expected)
    if isinstance(sealed, cms_env.CmsSealedBid):
        if not isinstance(holder, x509.Certificate) or isinstance(key, sm2.Sm2PrivateKey):
            raise Refused(Reason.NOT_A_RECIPIENT, "CMS envelopes hold shares for EC/RSA certificates only")
        return cms_env.release_share(sealed, holder, key)
    fingerprint = (
        keywrap.certificate_sha256(holder)
        if isinstance(holder, x509.Certificate)
        else hashlib.sha256(holder.spki_der()).hexdigest()
    )
    for position, wrapped in enumerate(sealed.holder_keys):
        if wrapped.recipient_sha256 == fingerprint:
            share = threshold.Share.from_bytes(keywrap.unwrap(wrapped, key, _share_info(position + 1, aad)))
            if share.index != position + 1 or share_digest(share) != sealed.share_digests[position]:
                raise Refused(Reason.BAD_SHARE, f"share {position + 1} does not match its recorded digest")
            return share
    raise Refused(Reason.NOT_A_RECIPIENT, "this certificate is not a key holder of the sealed bid")


def content_key_from_shares(sealed: Sealed, shares: Sequence[threshold.Share], expected: BidBinding) -> bytes:
    """The content key (DEK) recombined from key holders' shares: each is checked against its digest;
    at least the threshold are needed. The key is checked by using it (`open_with_content_key`).
    """
    _check_binding(sealed, expected)
    valid: dict[int, threshold.Share] = {}
    for share in shares:
        position = share.index - 1
        if not 0 <= position < len(sealed.share_digests) or share_digest(share) != sealed.share_digests[position]:
            raise Refused(Reason.BAD_SHARE, f"share {share.index} is not one of this bid's shares")
        valid[share.index] = share
    if len(valid) < sealed.threshold:
        raise Refused(Reason.NOT_ENOUGH_SHARES, f"{len(valid)} of the {sealed.threshold} shares needed")
    return threshold.combine(list(valid.values()))


def open_with_shares(sealed: Sealed, shares: Sequence[threshold.Share], expected: BidBinding) -> bytes:
    """Open with key holders' shares: each is checked against its digest; at least the threshold are needed."""
    dek = content_key_from_shares(sealed, shares, expected)
    return _decrypt(sealed, dek, expected.aad())
