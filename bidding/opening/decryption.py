"""Opening a stored bid container at the opening: with the content keys bidders send, or with the
key holders' shares. Pure file and crypto work (no database), run in a worker thread.

Every check names its rule:

* ``digest-mismatch`` — the part's bytes in the store are not those the receipt acknowledged
  (``BidVersion.parts[...]["sha256"]``), or a decrypted package's files do not match its inner
  manifest;
* ``binding-mismatch`` — the envelope is bound to another tender, lot, bidder or deadline than the
  receipt names;
* ``wrong-key`` — the content key does not authenticate the ciphertext (AES-GCM), or is not a key;
* ``content-mismatch`` — the plaintext's SHA-256 is not the signed manifest's ``contentSha256``;
* ``bad-share`` / ``not-enough-shares`` — a share that is not this bid's, or fewer than k.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bidding.client import format as fmt
from bidding.client.sdk import ContentMismatch, check_package
from certs.envelope.sealed_bid import (
    BidBinding,
    SealedBid,
    open_with_content_key,
    open_with_shares,
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

    path: Path
    parts: Mapping[str, Mapping[str, Any]]
    """``BidVersion.parts``: ``{kind: {"name", "offset", "size", "sha256"}}``."""
    manifest: Mapping[str, Any]
    tender: str
    lot: str
    bidder: str
    deadline: datetime

    def binding(self, manifest_sha256: str) -> BidBinding:
        return BidBinding(self.tender, self.lot, self.bidder, self.deadline, manifest_sha256)


def _entry(stored: StoredBid, kind: str) -> fmt.EntryRange:
    part = stored.parts[kind]
    return fmt.EntryRange(str(part["name"]), int(part["offset"]), int(part["size"]))


def envelope_headers(stored: StoredBid) -> dict[str, dict[str, Any]]:
    """Each part's cleartext envelope header (wrapped keys, binding), read without the ciphertext."""
    headers: dict[str, dict[str, Any]] = {}
    with stored.path.open("rb") as stream:
        for kind in fmt.PART_NAMES:
            header = fmt.envelope_header(stream, _entry(stored, kind))
            if header is None:  # pragma: no cover - intake refuses unsealed parts
                msg = f"{kind} is not a sealed envelope"
                raise OpenFailed(msg, field=f"parts.{kind}", rule="not-sealed")
            headers[kind] = header
    return headers


def _read_part(stored: StoredBid, kind: str) -> SealedBid:
    """The part's bytes, checked against the digest the receipt acknowledged, parsed."""
    entry = _entry(stored, kind)
    with stored.path.open("rb") as stream:
        stream.seek(entry.offset)
        data = stream.read(entry.size)
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != stored.parts[kind]["sha256"]:
        msg = f"the stored {kind} is not the one the receipt acknowledged (SHA-256 differs)"
        raise OpenFailed(msg, field=f"parts.{kind}", rule="digest-mismatch")
    try:
        return SealedBid.from_bytes(data)
    except Refused as refusal:
        raise OpenFailed(f"{kind}: {refusal.text}", field=f"parts.{kind}", rule=refusal.reason.value) from None


def _expected(stored: StoredBid, sealed: SealedBid, kind: str) -> BidBinding:
    expected = stored.binding(sealed.binding.manifest_sha256)
    if sealed.binding != expected:
        differing = [k for k, v in expected.to_dict().items() if sealed.binding.to_dict().get(k) != v]
        msg = f"the {kind} envelope is bound to another {', '.join(differing)} than the receipt names"
        raise OpenFailed(msg, field=f"parts.{kind}", rule="binding-mismatch")
    return expected


def _checked_plaintext(stored: StoredBid, kind: str, plaintext: bytes, binding: BidBinding) -> bytes:
    if hashlib.sha256(plaintext).hexdigest() != stored.manifest["contentSha256"][kind]:
        msg = f"the decrypted {kind} does not match the signed manifest's contentSha256"
        raise OpenFailed(msg, field=f"parts.{kind}", rule="content-mismatch")
    if kind == fmt.PACKAGE:
        check_inner_files(plaintext, binding, stored.manifest)
    return plaintext


def check_inner_files(plaintext: bytes, binding: BidBinding, manifest: Mapping[str, Any]) -> None:
    """The inner manifest is the one the envelopes are bound to, every listed file is there with its
    size and digest, and it names the price summary that was sealed with it.
    """
    try:
        opened = check_package(plaintext, binding)
        with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
            for listed in opened.manifest["files"]:
                data = archive.read(str(listed["name"]))
                if len(data) != listed["size"] or hashlib.sha256(data).hexdigest() != listed["sha256"]:
                    msg = f"{listed['name']} does not match the inner manifest"
                    raise OpenFailed(msg, field="package.files", rule="digest-mismatch")
    except (ContentMismatch, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise OpenFailed(f"the package: {error}", field="parts.package", rule="content-mismatch") from None
    if opened.manifest.get("priceSummarySha256") != manifest["contentSha256"][fmt.PRICE_SUMMARY]:
        raise OpenFailed("the package names another price summary", field="parts.package", rule="content-mismatch")


def open_with_key(stored: StoredBid, kind: str, dek: bytes) -> bytes:
    """Open one part with the content key a bidder sent; checked against receipt, binding, manifest."""
    sealed = _read_part(stored, kind)
    binding = _expected(stored, sealed, kind)
    try:
        plaintext = open_with_content_key(sealed, dek, binding)
    except Refused as refusal:
        if refusal.reason is Reason.TAMPERED_CIPHERTEXT:
            msg = f"the content key does not open the {kind}: not this envelope's key"
            raise OpenFailed(msg, field="contentKey", rule="wrong-key") from None
        raise OpenFailed(refusal.text, field="contentKey", rule=refusal.reason.value) from None
    return _checked_plaintext(stored, kind, plaintext, binding)


def check_share(stored: StoredBid, kind: str, header: Mapping[str, Any], share: Share, position: int) -> None:
    """A released share is the one recorded for key holder ``position`` (0-based) in this envelope."""
    digests = header.get("shareDigests") or []
    if share.index != position + 1 or position >= len(digests) or share_digest(share) != digests[position]:
        msg = f"the {kind} share is not key holder {position + 1}'s share of this bid"
        raise OpenFailed(msg, field=f"shares.{kind}", rule="bad-share")
    del stored


def open_with_escrow(stored: StoredBid, kind: str, shares: Sequence[Share]) -> bytes:
    """Open one part with k of n key holders' shares; checked against receipt, binding, manifest."""
    sealed = _read_part(stored, kind)
    binding = _expected(stored, sealed, kind)
    try:
        plaintext = open_with_shares(sealed, shares, binding)
    except Refused as refusal:
        raise OpenFailed(refusal.text, field=f"shares.{kind}", rule=refusal.reason.value) from None
    return _checked_plaintext(stored, kind, plaintext, binding)


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
