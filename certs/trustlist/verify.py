"""Loading a trust list: the consumer checks of reference §7.9, in order, failing closed.

1. The CAdES signature verifies over the exact bytes received and the signer is one of the
   **pinned** operator certificates (configured out of band, never taken from the list) —
   otherwise the list is *forged*.
2. The signature carries a valid RFC 3161 timestamp (the TSA check is the caller's hook).
3. The document parses and validates (unknown critical fields refuse it).
4. The sequence number is not lower than the highest seen for that operator (*rolled back*), and
   an equal number comes with identical bytes (*sequence reused*). The high-water mark lives in a
   `SequenceStore` that `trading/` persists.
5. ``now`` is before ``nextUpdate`` (*expired*).
6. The validation-policy digest matches the policy in use, when one is configured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography import x509

from certs.errors import Reason, Refused
from certs.sign import cades
from certs.trustlist.model import TrustList, document_sha256, fingerprint
from certs.tsa.client import Timestamp, ValidateTsa


class SequenceStore(Protocol):
    """The highest sequence number (and its document digest) accepted per list series."""

    def highest(self, series: str) -> tuple[int, str] | None: ...

    def record(self, series: str, sequence: int, sha256: str) -> None: ...


@dataclass
class MemorySequenceStore:
    """An in-memory `SequenceStore` (tests, one-off tools)."""

    seen: dict[str, tuple[int, str]] = field(default_factory=dict)

    def highest(self, series: str) -> tuple[int, str] | None:
        return self.seen.get(series)

    def record(self, series: str, sequence: int, sha256: str) -> None:
        current = self.seen.get(series)
        if current is None or sequence > current[0]:
            self.seen[series] = (sequence, sha256)


@dataclass(frozen=True)
class VerifiedTrustList:
    """A list that passed every check, with the evidence: exact bytes, signature, signer, timestamp."""

    trust_list: TrustList
    document: bytes
    signature: bytes
    signer: x509.Certificate
    timestamp: Timestamp

    @property
    def sha256(self) -> str:
        return document_sha256(self.document)

    @property
    def sequence(self) -> int:
        return self.trust_list.sequence


def load_trust_list(
    document: bytes,
    signature: bytes,
    *,
    pinned: Sequence[x509.Certificate],
    now: datetime,
    store: SequenceStore,
    policy_sha256: str | None = None,
    validate_tsa: ValidateTsa | None = None,
) -> VerifiedTrustList:
    """Verify and accept a published list; raises `Refused` naming the failed check."""
    signed = _operator_signature(document, signature, pinned, validate_tsa)
    trust_list = _parse(document)
    digest = document_sha256(document)
    previous = store.highest(trust_list.operator_key)
    if previous is not None:
        if trust_list.sequence < previous[0]:
            raise Refused(Reason.LIST_ROLLED_BACK, f"sequence {trust_list.sequence} after {previous[0]}")
        if trust_list.sequence == previous[0] and digest != previous[1]:
            raise Refused(Reason.LIST_REPLAYED, f"sequence {trust_list.sequence} was already used for other content")
    if now >= trust_list.next_update:
        raise Refused(
            Reason.LIST_EXPIRED, f"next update was due {trust_list.next_update.isoformat()}", at=trust_list.next_update
        )
    if trust_list.issued > now:
        raise Refused(Reason.LIST_INVALID, f"issued in the future ({trust_list.issued.isoformat()})")
    if policy_sha256 is not None and trust_list.policy_sha256 != policy_sha256:
        raise Refused(Reason.LIST_INVALID, "the list names another validation policy than the one in use")
    store.record(trust_list.operator_key, trust_list.sequence, digest)
    assert signed.timestamp is not None  # noqa: S101 - require_timestamp=True guarantees it
    return VerifiedTrustList(trust_list, document, signature, signed.signer_certificate, signed.timestamp)


def _operator_signature(
    document: bytes, signature: bytes, pinned: Sequence[x509.Certificate], validate_tsa: ValidateTsa | None
) -> cades.DetachedSignature:
    try:
        signed = cades.verify_detached(document, signature, validate_tsa=validate_tsa, require_timestamp=True)
    except Refused as refusal:
        if refusal.reason in {Reason.TIMESTAMP_MISSING, Reason.TIMESTAMP_INVALID}:
            raise
        raise Refused(Reason.LIST_FORGED, f"signature: {refusal.text}") from None
    if fingerprint(signed.signer_certificate) not in {fingerprint(c) for c in pinned}:
        signer = signed.signer_certificate.subject.rfc4514_string()
        raise Refused(Reason.LIST_FORGED, f"signed by {signer}, not a pinned operator")
    return signed


def _parse(document: bytes) -> TrustList:
    try:
        data = json.loads(document)
    except ValueError as exc:
        raise Refused(Reason.LIST_INVALID, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused(Reason.LIST_INVALID, "the document is not a JSON object")
    return TrustList.from_dict(data)
