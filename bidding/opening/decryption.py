"""Opening a stored bid container at the opening: with the content keys bidders send, or with the
key holders' shares. Pure file and crypto work (no database), run in a worker thread.

What is checked, and why it costs one hashing pass over the plaintext and none over the ciphertext:
AES-GCM authenticates the ciphertext under the content key (in the first format also the binding,
as associated data; in CMS the binding rides in the key delivery and is checked here against the
receipt, and its manifest digest against the opened package), and the plaintext's SHA-256
must equal the signed manifest's ``contentSha256``, which the receipt acknowledged. Together they
prove the opened bytes are the ones the bidder sealed, so for the first format hashing the stored
ciphertext again would prove nothing more: it is hashed only when opening fails, to tell a changed
file (``digest-mismatch``) from a wrong key. A CMS part is also hashed after it opens, because GCM
does not cover its recipient infos and attributes (a changed escrow share envelope would otherwise
go unnoticed): one more SHA-256 pass over the stored part. The inner manifest (bound by digest) must list files that
are in the package with their sizes; each file's own digest is checked where a file is read.

Both envelope formats open here (`certs.envelope.sealed_bid.parse`): CMS AuthEnvelopedData
(issue 12, including envelopes written by other tools and bound with ``ggzy bid bind``) and the
first ``GGZYBID1`` format of containers sealed before.

Every check names its rule:

* ``digest-mismatch`` — the part's bytes in the store are not those the receipt acknowledged
  (``BidVersion.parts[...]["sha256"]``);
* ``binding-mismatch`` — the envelope is bound to another tender, lot, bidder or deadline than the
  receipt names;
* ``wrong-key`` — the content key does not authenticate the ciphertext (AES-GCM), or is not a key;
* ``content-mismatch`` — the plaintext's SHA-256 is not the signed manifest's ``contentSha256``, or
  the package's inner manifest does not match the binding or its files;
* ``bad-share`` / ``not-enough-shares`` — a share that is not this bid's, or fewer than k.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from bidding.client import format as fmt
from bidding.client.sdk import ContentMismatch, check_package
from certs.envelope.cms_env import CmsSealedBid
from certs.envelope.sealed_bid import (
    BidBinding,
    Sealed,
    content_key_from_shares,
    open_with_content_key,
    parse,
    share_digest,
)
from certs.envelope.threshold import Share
from certs.errors import Reason, Refused


class OpenFailed(Exception):
    """Opening a part failed; ``field`` and ``rule`` name why."""

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class StoredBid:
    """What the opening needs of a bid version: where its container is and what was acknowledged."""

    path: Path | Callable[[], AbstractContextManager[BinaryIO]]
    """The container's file, or an opener of it (`trading.kernel.storage.Store.open_file`)."""
    parts: Mapping[str, Mapping[str, Any]]
    """``BidVersion.parts``: ``{kind: {"name", "offset", "size", "sha256"}}``."""
    manifest: Mapping[str, Any]
    tender: str
    lot: str
    bidder: str
    deadline: datetime

    def binding(self, manifest_sha256: str) -> BidBinding:
        return BidBinding(self.tender, self.lot, self.bidder, self.deadline, manifest_sha256)


def _container(stored: StoredBid) -> AbstractContextManager[BinaryIO]:
    return stored.path.open("rb") if isinstance(stored.path, Path) else stored.path()


def _entry(stored: StoredBid, kind: str) -> fmt.EntryRange:
    part = stored.parts[kind]
    return fmt.EntryRange(str(part["name"]), int(part["offset"]), int(part["size"]))


def envelope_headers(stored: StoredBid) -> dict[str, dict[str, Any]]:
    """Each part's cleartext envelope header (wrapped keys, binding), read without the ciphertext."""
    headers: dict[str, dict[str, Any]] = {}
    with _container(stored) as stream:
        for kind in fmt.PART_NAMES:
            header = fmt.envelope_header(stream, _entry(stored, kind))
            if header is None:  # pragma: no cover - intake refuses unsealed parts
                msg = f"{kind} is not a sealed envelope"
                raise OpenFailed(msg, field=f"parts.{kind}", rule="not-sealed")
            headers[kind] = header
    return headers


@dataclass(frozen=True)
class OpenedPart:
    """A part opened and checked: its plaintext, the plaintext's SHA-256 and the content key that
    opened it (kept for the package, so it is opened again from the sealed container when read,
    instead of storing a second, plaintext copy).
    """

    plaintext: bytes
    sha256: str
    content_key: bytes


def _read_part(stored: StoredBid, kind: str) -> bytes:
    entry = _entry(stored, kind)
    with _container(stored) as stream:
        stream.seek(entry.offset)
        data = stream.read(entry.size)
    if len(data) != entry.size:
        raise _changed(kind)
    return data


def _changed(kind: str) -> OpenFailed:
    msg = f"the stored {kind} is not the one the receipt acknowledged (SHA-256 differs)"
    return OpenFailed(msg, field=f"parts.{kind}", rule="digest-mismatch")


def _expected(stored: StoredBid, sealed: Sealed, kind: str) -> BidBinding:
    expected = stored.binding(sealed.binding.manifest_sha256)
    if sealed.binding != expected:
        differing = [k for k, v in expected.to_dict().items() if sealed.binding.to_dict().get(k) != v]
        msg = f"the {kind} envelope is bound to another {', '.join(differing)} than the receipt names"
        raise OpenFailed(msg, field=f"parts.{kind}", rule="binding-mismatch")
    return expected


def _open(
    stored: StoredBid, kind: str, content_key: Callable[[Sealed, BidBinding], bytes], key_field: str
) -> OpenedPart:
    """Read, parse, open with the key ``content_key`` gives and check one part. When any step fails
    and the stored bytes differ from the acknowledged ones, that is the cause named.
    """
    data = _read_part(stored, kind)
    try:
        try:
            sealed = parse(data)
        except Refused as refusal:
            raise OpenFailed(f"{kind}: {refusal.text}", field=f"parts.{kind}", rule=refusal.reason.value) from None
        binding = _expected(stored, sealed, kind)
        dek = content_key(sealed, binding)
        try:
            plaintext = open_with_content_key(sealed, dek, binding)
        except Refused as refusal:
            if refusal.reason is Reason.TAMPERED_CIPHERTEXT:
                msg = f"the content key does not open the {kind}: not this envelope's key"
                raise OpenFailed(msg, field=key_field, rule="wrong-key") from None
            raise OpenFailed(refusal.text, field=key_field, rule=refusal.reason.value) from None
    except OpenFailed:
        if hashlib.sha256(data).hexdigest() != stored.parts[kind]["sha256"]:
            raise _changed(kind) from None
        raise
    if isinstance(sealed, CmsSealedBid) and hashlib.sha256(data).hexdigest() != stored.parts[kind]["sha256"]:
        # GCM covers only the ciphertext of a CMS part: its recipients and attributes (escrow share
        # envelopes, a bound binding) are checked against the receipt's digest of the whole part.
        raise _changed(kind)
    digest = hashlib.sha256(plaintext).hexdigest()
    if digest != stored.manifest["contentSha256"][kind]:
        msg = f"the decrypted {kind} does not match the signed manifest's contentSha256"
        raise OpenFailed(msg, field=f"parts.{kind}", rule="content-mismatch")
    if kind == fmt.PACKAGE:
        check_inner_manifest(plaintext, binding, stored.manifest)
    return OpenedPart(plaintext, digest, dek)


def check_inner_manifest(plaintext: bytes, binding: BidBinding, manifest: Mapping[str, Any]) -> None:
    """The inner manifest is the one the envelopes are bound to, names the price summary sealed with
    it, and every file it lists is in the package with the listed size (read from the ZIP directory).
    """
    try:
        opened = check_package(plaintext, binding)
        with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
        for listed in opened.manifest["files"]:
            if sizes.get(str(listed["name"])) != listed["size"]:
                msg = f"{listed['name']} is missing from the package or has another size than listed"
                raise OpenFailed(msg, field="package.files", rule="content-mismatch")
    except (ContentMismatch, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise OpenFailed(f"the package: {error}", field="parts.package", rule="content-mismatch") from None
    if opened.manifest.get("priceSummarySha256") != manifest["contentSha256"][fmt.PRICE_SUMMARY]:
        raise OpenFailed("the package names another price summary", field="parts.package", rule="content-mismatch")


def open_with_key(stored: StoredBid, kind: str, dek: bytes) -> OpenedPart:
    """Open one part with the content key a bidder sent; checked against receipt, binding, manifest."""
    return _open(stored, kind, lambda _sealed, _binding: dek, "contentKey")


def check_share(stored: StoredBid, kind: str, header: Mapping[str, Any], share: Share, position: int) -> None:
    """A released share is the one recorded for key holder ``position`` (0-based) in this envelope."""
    digests = header.get("shareDigests") or []
    if share.index != position + 1 or position >= len(digests) or share_digest(share) != digests[position]:
        msg = f"the {kind} share is not key holder {position + 1}'s share of this bid"
        raise OpenFailed(msg, field=f"shares.{kind}", rule="bad-share")
    del stored


def open_with_escrow(stored: StoredBid, kind: str, shares: Sequence[Share]) -> OpenedPart:
    """Open one part with k of n key holders' shares; checked against receipt, binding, manifest."""

    def recombined(sealed: Sealed, binding: BidBinding) -> bytes:
        try:
            return content_key_from_shares(sealed, shares, binding)
        except Refused as refusal:
            raise OpenFailed(refusal.text, field=f"shares.{kind}", rule=refusal.reason.value) from None

    return _open(stored, kind, recombined, f"shares.{kind}")


def reopen_package(stored: StoredBid, dek: bytes, sha256: str) -> bytes:
    """An opened package's plaintext, for those who read it after the opening: decrypted again from
    the sealed container with the content key recorded at the opening, and checked against the
    digest recorded then.
    """
    opened = open_with_key(stored, fmt.PACKAGE, dek)
    if opened.sha256 != sha256:  # pragma: no cover - the manifest pins it; a changed record would show here
        raise OpenFailed("the package is not the one opened", field="parts.package", rule="content-mismatch")
    return opened.plaintext


def price_summary_of(plaintext: bytes, stored: StoredBid) -> dict[str, Any]:
    """The decrypted 开标一览表 as read out: it names this tender, lot and bidder."""
    try:
        summary = json.loads(plaintext)
    except ValueError:
        raise OpenFailed(
            "the price summary is not JSON", field="parts.price-summary", rule="content-mismatch"
        ) from None
    if not isinstance(summary, dict) or (summary.get("tender"), summary.get("lot"), summary.get("bidder")) != (
        stored.tender,
        stored.lot,
        stored.bidder,
    ):
        raise OpenFailed(
            "the price summary names another tender, lot or bidder",
            field="parts.price-summary",
            rule="content-mismatch",
        )
    summary.pop("salt", None)  # only there to hide the digest; not part of what is read out
    return summary
