"""A built container read again: inspected with the server's rules, its parts opened with the bidder's
key and checked against the signed manifest and the binding.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bidding.client import format as fmt
from bidding.client.problems import ContentMismatch
from certs.envelope.keywrap import UnwrapKey
from certs.envelope.sealed_bid import (
    BidBinding,
    Sealed,
    open_as_bidder,
    parse,
)
from certs.sign.cades import DetachedSignature, verify_detached

INNER_MANIFEST: Final = "manifest.json"


@dataclass(frozen=True)
class InspectedBid:
    """A container as the server sees it before the deadline: structure, manifest, digests, signature."""

    path: Path
    layout: fmt.ContainerLayout
    manifest_bytes: bytes
    manifest: dict[str, Any]
    signature: bytes
    sha256: str
    entry_sha256: dict[str, str]

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def verify_signature(self) -> DetachedSignature:
        """The manifest signature, checked for integrity (trust in the signer is the platform's call)."""
        return verify_detached(self.manifest_bytes, self.signature)

    def check_part_digests(self) -> None:
        for kind, name in fmt.PART_NAMES.items():
            declared = self.manifest["parts"][kind]
            if (
                declared.get("sha256") != self.entry_sha256[name]
                or declared.get("size") != self.layout.entries[name].size
            ):
                raise ContentMismatch(f"{name} does not match the manifest's size or digest")


def read_built(path: Path) -> InspectedBid:
    """Inspect a container with the server's own rules (`format.inspect_container`, `parse_manifest`)."""
    path = Path(path)
    layout = fmt.inspect_container(path, max_package_bytes=max(path.stat().st_size, 1))
    with path.open("rb") as stream:
        manifest_bytes = layout.read_small(stream, fmt.MANIFEST)
        signature = layout.read_small(stream, fmt.SIGNATURE)
    container_sha256, entry_sha256 = fmt.digest_parts(path, layout)
    return InspectedBid(
        path=path,
        layout=layout,
        manifest_bytes=manifest_bytes,
        manifest=fmt.parse_manifest(manifest_bytes),
        signature=signature,
        sha256=container_sha256,
        entry_sha256=entry_sha256,
    )


def read_sealed(container_path: Path, kind: str) -> Sealed:
    """One sealed part (``price-summary`` or ``package``) of a container, parsed (the bytes are read once)."""
    layout = fmt.inspect_container(Path(container_path), max_package_bytes=max(Path(container_path).stat().st_size, 1))
    entry = layout.entries[fmt.PART_NAMES[kind]]
    with Path(container_path).open("rb") as stream:
        stream.seek(entry.offset)
        return parse(stream.read(entry.size))


def expected_binding(tender: str, lot: str, bidder: str, deadline: datetime, manifest_sha256: str = "") -> BidBinding:
    """The binding to open against; an empty ``manifest_sha256`` is taken from the envelope and
    then checked against the inner manifest once the package is open.
    """
    return BidBinding(tender=tender, lot=lot, bidder=bidder, deadline=deadline, manifest_sha256=manifest_sha256)


def _resolve(sealed: Sealed, expected: BidBinding) -> BidBinding:
    if expected.manifest_sha256:
        return expected
    return BidBinding(
        tender=expected.tender,
        lot=expected.lot,
        bidder=expected.bidder,
        deadline=expected.deadline,
        manifest_sha256=sealed.binding.manifest_sha256,
    )


def _manifest_content_sha(container_path: Path, kind: str) -> str:
    return str(read_built(container_path).manifest["contentSha256"][kind])


def open_price_summary(container_path: Path, key: UnwrapKey, expected: BidBinding) -> dict[str, Any]:
    """Decrypt the price summary with the bidder's encryption key; its digest must match the manifest."""
    sealed = read_sealed(container_path, fmt.PRICE_SUMMARY)
    plaintext = open_as_bidder(sealed, key, _resolve(sealed, expected))
    if hashlib.sha256(plaintext).hexdigest() != _manifest_content_sha(container_path, fmt.PRICE_SUMMARY):
        raise ContentMismatch("the price summary does not match the manifest's contentSha256")
    summary: dict[str, Any] = json.loads(plaintext)
    return summary


@dataclass(frozen=True)
class OpenedPackage:
    """The decrypted inner package: its ZIP bytes and inner manifest, checked against the binding."""

    data: bytes
    manifest: dict[str, Any]

    def names(self) -> list[str]:
        return [str(f["name"]) for f in self.manifest["files"]]

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            return archive.read(name)

    def extract(self, directory: Path) -> list[Path]:
        """Write the listed files to ``directory``, each checked against its size and digest."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            for listed in self.manifest["files"]:
                name = Path(str(listed["name"])).name  # never a path outside ``directory``
                target = directory / name
                digest = hashlib.sha256()
                with archive.open(name) as source, target.open("wb") as sink:
                    while chunk := source.read(fmt.CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != listed["sha256"] or target.stat().st_size != listed["size"]:
                    raise ContentMismatch(f"{name} does not match the inner manifest")
                written.append(target)
        return written


def check_package(plaintext: bytes, binding: BidBinding, *, content_sha256: str | None = None) -> OpenedPackage:
    """Check a decrypted package: its digest (when known) and its inner manifest against the binding."""
    if content_sha256 is not None and hashlib.sha256(plaintext).hexdigest() != content_sha256:
        raise ContentMismatch("the package does not match the manifest's contentSha256")
    with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
        inner_manifest = archive.read(INNER_MANIFEST)
    if hashlib.sha256(inner_manifest).hexdigest() != binding.manifest_sha256:
        raise ContentMismatch("the inner manifest is not the one the envelopes are bound to")
    manifest: dict[str, Any] = json.loads(inner_manifest)
    return OpenedPackage(plaintext, manifest)


def open_package(container_path: Path, key: UnwrapKey, expected: BidBinding) -> OpenedPackage:
    """Decrypt the package with the bidder's encryption key and check it against manifest and binding."""
    sealed = read_sealed(container_path, fmt.PACKAGE)
    binding = _resolve(sealed, expected)
    plaintext = open_as_bidder(sealed, key, binding)
    return check_package(plaintext, binding, content_sha256=_manifest_content_sha(container_path, fmt.PACKAGE))
