"""Containers for the submission tests: sealed containers (good and deliberately broken) and bidders'
API clients. Broken containers are assembled by hand so each breaks exactly one rule.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx

from bidding.client import format as container_format
from bidding.client.sdk import BuiltBid, PriceSummary, build_container_async
from bidding.client.transport import BidClient
from certs.canonical import canonical_json
from certs.devpki.pki import Identity
from certs.sign.cades import sign_detached
from tests.bidding.factories import Party
from tests.trading.parties.factories import api_token

MARKER = "MARKER-7f3a-CONFIDENTIAL-PRICE"
"""Put into every bid's plaintext: it must never appear outside the envelopes."""


async def bid_client(http: httpx.AsyncClient, party: Party) -> BidClient:
    return BidClient(str(http.base_url), await api_token(http, party.account), http=http)


async def build(
    directory: Path,
    party: Party,
    *,
    tender: str,
    lot: str,
    deadline: datetime,
    price: str = "987654.32",
    content: bytes | None = None,
    signer: Identity | None = None,
    name: str = "bid.zip",
    guarantee: dict[str, str] | None = None,
) -> BuiltBid:
    """A sealed, signed container for ``party`` (its plaintext carries `MARKER`)."""
    files = directory / f"{name}.files"
    files.mkdir(parents=True, exist_ok=True)
    document = files / "technical-proposal.txt"
    document.write_bytes(content if content is not None else f"技术标 {MARKER} {party.name}\n".encode() * 200)
    assert party.encrypt is not None
    return await build_container_async(
        directory / name,
        tender=tender,
        lot=lot,
        bidder_uscc=party.uscc,
        deadline=deadline,
        files=[document],
        price_summary=PriceSummary(
            tender=tender,
            lot=lot,
            bidder=party.uscc,
            total_price=Decimal(price),
            duration_days=365,
            items=((f"{MARKER} 土建", Decimal(price)),),
        ),
        guarantee=guarantee or {"form": "cash", "reference": ""},
        signer=(signer or party.sign).signing(),
        bidder_encryption=party.encrypt.certificate,
    )


def rezip(
    source: Path,
    target: Path,
    *,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    compress: tuple[str, ...] = (),
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A copy of a container with entries replaced, dropped, compressed or added."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, original.read(info.filename))
            method = zipfile.ZIP_DEFLATED if info.filename in compress else zipfile.ZIP_STORED
            out.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return target


async def resigned(
    source: Path, target: Path, manifest: dict[str, object], signer: Identity, parts: dict[str, bytes] | None = None
) -> Path:
    """A container whose manifest is rewritten (and properly re-signed) around ``parts``."""
    data = canonical_json(manifest)
    signature = await sign_detached(data, signer.signing())
    replace = {container_format.MANIFEST: data, container_format.SIGNATURE: signature, **(parts or {})}
    return rezip(source, target, replace=replace)


def manifest_of(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, object] = json.loads(archive.read(container_format.MANIFEST))
    return manifest


def part(path: Path, kind: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(container_format.PART_NAMES[kind])


def describe(data: bytes) -> dict[str, object]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
