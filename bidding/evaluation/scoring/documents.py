"""Reading an opened bid's files beside the scoring sheet.

The opened package (the plaintext inner ZIP) comes from the opening hall — decrypted again from the
sealed container with the content key recorded at the opening and checked against the recorded
package digest (`bidding.opening.services.hall.HallView.opened_package`, plugged in by
``trading.server`` as a `PackageSource`, since ``bidding.evaluation`` may not import the opening) —
and is kept in the file store under namespace ``opened`` by that digest, so later reads do not
decrypt again.

Every read checks the file's SHA-256 against the package's inner manifest (``manifest.json``:
``{"files": [{"name", "size", "sha256"}]}``, whose digest the bidder's signed envelopes are bound
to). A mismatch is recorded like any read (``matches_manifest`` false) and the file is not
shown (rule ``manifest_mismatch``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from bidding.evaluation.response.bid import Response
from bidding.evaluation.response.package import response_in_package
from bidding.evaluation.response.reading import FormatError
from bidding.evaluation.scoring.errors import ScoringNotFound, ScoringStateConflict
from bidding.evaluation.scoring.repository import OpenedBid
from trading.kernel.storage import Store

OPENED_NAMESPACE: Final = "opened"
INNER_MANIFEST: Final = "manifest.json"
PDF: Final = "application/pdf"
OCTET: Final = "application/octet-stream"

PackageSource = Callable[[str, str, str], Awaitable[bytes]]
"""(tender code, lot code, bidder USCC) → the opened package's plaintext, checked by the opening."""


@dataclass(frozen=True, slots=True)
class PackageFile:
    name: str
    size: int
    sha256: str

    @property
    def is_pdf(self) -> bool:
        return self.name.lower().endswith(".pdf")

    @property
    def content_type(self) -> str:
        return PDF if self.is_pdf else OCTET


@dataclass(frozen=True, slots=True)
class FileRead:
    """One file as read: its listed entry, the digest of the bytes read, and the bytes when they match."""

    file: PackageFile
    actual_sha256: str
    data: bytes | None

    @property
    def matches(self) -> bool:
        return self.actual_sha256 == self.file.sha256


async def package_bytes(store: Store, source: PackageSource, tender_code: str, bid: OpenedBid) -> bytes:
    """The opened package: from the ``opened`` store when kept, else from the opening (then kept)."""
    if not bid.package_opened or bid.package_sha256 is None:
        raise ScoringStateConflict(
            f"the package of {bid.bidder_name} was not opened", field="opening_bid_id", rule="package_not_opened"
        )
    key = store.key_for(OPENED_NAMESPACE, bid.package_sha256)
    if await asyncio.to_thread(store.exists, key):
        return await store.read_bytes(key)
    data = await source(tender_code, bid.lot_code, bid.bidder_uscc)
    await asyncio.to_thread(store.put, OPENED_NAMESPACE, bid.package_sha256, data)
    return data


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(archive.read(INNER_MANIFEST))
    return manifest


def files_of(package: bytes) -> list[PackageFile]:
    """The files the inner manifest lists, in its order."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        listed = _manifest(archive).get("files", [])
    return [PackageFile(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in listed]


def read_file(package: bytes, name: str) -> FileRead:
    """The named file with its digest checked against the inner manifest (`FileRead.matches`)."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        listed = {str(f["name"]): f for f in _manifest(archive).get("files", [])}
        entry = listed.get(name)
        if entry is None:
            raise ScoringNotFound(f"{name} is not a file of this bid", field="file", rule="listed")
        file = PackageFile(name, int(entry["size"]), str(entry["sha256"]))
        try:
            data = archive.read(name)
        except KeyError:
            data = b""
    actual = hashlib.sha256(data).hexdigest()
    return FileRead(file, actual, data if actual == file.sha256 else None)


def structured_response(package: bytes) -> Response | None:
    """The bidder's structured response sealed in the package (``ggzy-response.json``), if any and readable."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        try:
            return response_in_package(archive.namelist(), archive.read)
        except FormatError:
            return None
