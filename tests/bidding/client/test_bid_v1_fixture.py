"""Containers sealed in the first envelope format (``GGZYBID1`` header + HPKE/RSA-OAEP wraps) still
open after the move to CMS: the fixture in ``tests/fixtures/bid_v1`` was sealed by ``ggzy bid seal``
before the change (with its test keys beside it) and must keep opening the way the opening opens
bids — content keys unwrapped on the bidder's side, or k of n key holders' shares.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bidding.client import format as fmt
from bidding.client.sdk import content_keys, holder_shares, read_built
from bidding.opening.decryption import StoredBid, envelope_headers, open_with_escrow, open_with_key, price_summary_of
from certs.envelope.threshold import Share

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bid_v1"


def _stored() -> tuple[StoredBid, dict[str, Any]]:
    meta = json.loads((FIXTURE / "bid-v1.json").read_text())
    built = read_built(FIXTURE / "bid-v1.ggzy")
    assert built.sha256 == meta["sha256"]
    parts = {
        kind: {
            "name": name,
            "offset": built.layout.entries[name].offset,
            "size": built.layout.entries[name].size,
            "sha256": built.entry_sha256[name],
        }
        for kind, name in fmt.PART_NAMES.items()
    }
    stored = StoredBid(
        path=FIXTURE / "bid-v1.ggzy",
        parts=parts,
        manifest=built.manifest,
        tender=meta["tender"],
        lot=meta["lot"],
        bidder=meta["bidder"],
        deadline=datetime.fromisoformat(meta["deadline"]),
    )
    return stored, meta


def _key(name: str) -> Any:
    return serialization.load_pem_private_key((FIXTURE / name).read_bytes(), None)


def test_old_format_container_still_opens_with_the_bidders_content_keys() -> None:
    stored, meta = _stored()
    headers = envelope_headers(stored)
    assert all(h.get("version") == 1 for h in headers.values())
    envelope = {"parts": {kind: {"header": header} for kind, header in headers.items()}}
    keys = content_keys(
        envelope, _key("bidder-enc.key.pem"), tender=meta["tender"], lot=meta["lot"], bidder=meta["bidder"]
    )
    price = open_with_key(stored, fmt.PRICE_SUMMARY, keys[fmt.PRICE_SUMMARY])
    assert price_summary_of(price.plaintext, stored)["totalPrice"] == "12340000.50"
    package = open_with_key(stored, fmt.PACKAGE, keys[fmt.PACKAGE])
    assert package.sha256 == stored.manifest["contentSha256"][fmt.PACKAGE]


def test_old_format_container_still_opens_with_k_of_n_key_holders_shares() -> None:
    stored, meta = _stored()
    headers = envelope_headers(stored)
    envelope = {"parts": {kind: {"header": header} for kind, header in headers.items()}}
    released: dict[str, list[Share]] = {kind: [] for kind in fmt.PART_NAMES}
    for index in (1, 3):
        holder = x509.load_pem_x509_certificate((FIXTURE / f"holder{index}.cert.pem").read_bytes())
        shares = holder_shares(
            envelope,
            holder,
            _key(f"holder{index}.key.pem"),
            tender=meta["tender"],
            lot=meta["lot"],
            bidder=meta["bidder"],
        )
        for kind, share in shares.items():
            released[kind].append(Share.from_bytes(base64.b64decode(share)))
    price = open_with_escrow(stored, fmt.PRICE_SUMMARY, released[fmt.PRICE_SUMMARY])
    assert price.sha256 == stored.manifest["contentSha256"][fmt.PRICE_SUMMARY]
    open_with_escrow(stored, fmt.PACKAGE, released[fmt.PACKAGE])
