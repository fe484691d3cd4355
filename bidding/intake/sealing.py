"""The checks of a sealed container that need no database (they run in a worker thread, outside
any transaction): its structure, its digests in one pass, the signed manifest naming this tender,
lot and bidder, and each envelope's cleartext header bound to them and to the deadline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bidding.client import format as container_format
from bidding.errors import (
    BidRefused,
)
from bidding.intake.digests import StreamedDigests
from certs.envelope.sealed_bid import BidBinding
from certs.errors import Refused
from certs.sign.cades import DetachedSignature, verify_detached


@dataclass(frozen=True)
class TenderSnapshot:
    """What the checks outside the transaction compare against (re-checked inside it)."""

    tender_id: uuid.UUID
    code: str
    lot_id: uuid.UUID
    lot_code: str
    bidder_organisation_id: uuid.UUID
    bidder_uscc: str
    bidder_name: str
    deadline: datetime
    max_package_bytes: int
    holder_fingerprints: tuple[str, ...]
    threshold: int
    declared_sha256: str = ""
    """The digest the bidder announced when starting the upload; the received bytes must match it."""
    security_forms: frozenset[str] | None = None
    """The forms of bid security the lot accepts when it requires one (None: it requires none, so
    the manifest's ``guarantee.form`` is not checked). Fixed once the tender is published."""


@dataclass
class CheckedContainer:
    """A container that passed every check that needs no database."""

    container_sha256: str
    container_size: int
    manifest: bytes
    manifest_sha256: str
    signature: bytes
    signed: DetachedSignature
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)


def check_container(path: Path, snapshot: TenderSnapshot, streamed: StreamedDigests | None = None) -> CheckedContainer:
    """Every check that needs no database (runs in a worker thread). ``streamed``: the digests
    computed while the bytes were received, used when they cover this file's layout exactly.
    """
    try:
        layout = container_format.inspect_container(path, max_package_bytes=snapshot.max_package_bytes)
        known = _streamed_digests(path, layout, streamed)
        container_sha256, digests = known or container_format.digest_parts(path, layout)
        if snapshot.declared_sha256 and container_sha256 != snapshot.declared_sha256:
            raise BidRefused(
                f"the received bytes have SHA-256 {container_sha256}, not the declared {snapshot.declared_sha256}",
                field="sha256",
                rule="declared-digest",
            )
        with path.open("rb") as stream:
            manifest_bytes = layout.read_small(stream, container_format.MANIFEST)
            signature = layout.read_small(stream, container_format.SIGNATURE)
            manifest = container_format.parse_manifest(manifest_bytes)
            _check_manifest(manifest, snapshot)
            parts = _check_parts(manifest, layout, digests, stream, snapshot)
    except container_format.ContainerRefused as refusal:
        raise BidRefused(refusal.message, field=refusal.field, rule=refusal.rule) from None
    size = path.stat().st_size
    try:
        signed = verify_detached(manifest_bytes, signature)
    except Refused as refusal:
        raise BidRefused(
            f"the manifest signature does not verify: {refusal.text}", field="signature", rule=refusal.reason.value
        ) from None
    return CheckedContainer(
        container_sha256=container_sha256,
        container_size=size,
        manifest=manifest_bytes,
        manifest_sha256=digests[container_format.MANIFEST],
        signature=signature,
        signed=signed,
        parts=parts,
    )


def _streamed_digests(
    path: Path, layout: container_format.ContainerLayout, streamed: StreamedDigests | None
) -> tuple[str, dict[str, str]] | None:
    """The container's and each entry's SHA-256 from the digests taken while receiving, when every
    entry of the central directory's layout is an entry hashed there at the same offset and size
    and the whole file went through; None otherwise (then the file is hashed in one pass).
    """
    if streamed is None or streamed.size != path.stat().st_size:
        return None
    digests: dict[str, str] = {}
    for name, entry in layout.entries.items():
        found = streamed.entries.get(entry.offset)
        if found is None or found.size != entry.size:
            return None
        digests[name] = found.sha256
    return streamed.sha256, digests


def _check_manifest(manifest: dict[str, Any], snapshot: TenderSnapshot) -> None:
    expected = {
        "tender": snapshot.code,
        "lot": snapshot.lot_code,
        "bidder": snapshot.bidder_uscc,
    }
    for key, value in expected.items():
        if manifest.get(key) != value:
            raise BidRefused(
                f"the manifest names {key} {manifest.get(key)!r}, this upload is for {value!r}",
                field=f"manifest.{key}",
                rule="matches-upload",
            )
    # The lot's published security terms (issue 17): the signed manifest names the form of the
    # bid's security, and a form the lot does not accept would be no security at all.
    form = (manifest.get("guarantee") or {}).get("form")
    if snapshot.security_forms is not None and form not in snapshot.security_forms:
        raise BidRefused(
            f"lot {snapshot.lot_code} accepts bid security as {', '.join(sorted(snapshot.security_forms))}, "
            f"not {form!r}",
            field="manifest.guarantee.form",
            rule="security_form_not_accepted",
        )


def _check_parts(
    manifest: dict[str, Any],
    layout: container_format.ContainerLayout,
    digests: dict[str, str],
    stream: Any,
    snapshot: TenderSnapshot,
) -> dict[str, dict[str, Any]]:
    parts: dict[str, dict[str, Any]] = {}
    bindings: list[BidBinding] = []
    for kind, name in container_format.PART_NAMES.items():
        declared = manifest["parts"][kind]
        entry = layout.entries[name]
        if declared.get("sha256") != digests[name] or declared.get("size") != entry.size:
            raise BidRefused(
                f"{name} does not match the digest or size in the signed manifest",
                field=f"parts.{kind}",
                rule="digest-mismatch",
            )
        header = container_format.envelope_header(stream, entry)
        if header is None:
            raise BidRefused(
                f"{name} is not a sealed envelope: unencrypted bids are refused (Order 20 Art. 26)",
                field=f"parts.{kind}",
                rule="not-sealed",
            )
        binding = container_format.envelope_binding(header)
        bindings.append(binding)
        differing = [
            key
            for key, value in (
                ("tender", snapshot.code),
                ("lot", snapshot.lot_code),
                ("bidder", snapshot.bidder_uscc),
            )
            if getattr(binding, key) != value
        ]
        if binding.deadline != snapshot.deadline:
            differing.append("deadline")
        if differing:
            raise BidRefused(
                f"{name} is sealed for another {', '.join(differing)}; seal it for this tender again",
                field=f"parts.{kind}",
                rule="binding-mismatch",
            )
        recipients = tuple(h.get("recipient") for h in header.get("holders", []))
        if snapshot.holder_fingerprints and (
            recipients != snapshot.holder_fingerprints or header.get("threshold") != snapshot.threshold
        ):
            raise BidRefused(
                f"{name} is not split among this tender's key holders ({snapshot.threshold} of "
                f"{len(snapshot.holder_fingerprints)})",
                field=f"parts.{kind}",
                rule="key-holders",
            )
        parts[kind] = {"name": name, "offset": entry.offset, "size": entry.size, "sha256": digests[name]}
    if bindings[0].manifest_sha256 != bindings[1].manifest_sha256:
        raise BidRefused("the two envelopes belong to different packages", field="parts", rule="binding-mismatch")
    return parts
