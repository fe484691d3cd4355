"""What the ledger API returns. Hashes and digests travel as lowercase hex."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from trading.kernel.api.schemas import RowRead
from trading.ledger.models import LedgerEntry
from trading.ledger.verification_report import VerificationReport


class EntryRead(RowRead, kw_only=True):
    id: uuid.UUID
    chain: str
    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_user_id: uuid.UUID | None
    actor_label: str
    organisation_id: uuid.UUID | None
    client_ip: str | None
    action: str
    subject_type: str
    subject_id: str
    summary: dict[str, Any]
    data_digest: str
    """SHA-256 of the canonical JSON of the change's data (the data itself is not stored)."""
    prev_hash: str
    entry_hash: str

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> EntryRead:
        digests = ("data_digest", "prev_hash", "entry_hash")
        return cls.of(entry, **{name: bytes(getattr(entry, name)).hex() for name in digests})


class EntryPage(msgspec.Struct, kw_only=True):
    items: list[EntryRead]
    next_cursor: str | None
    """Pass as ``cursor`` to get the next (older) page; ``null`` on the last page."""


class ProblemRead(RowRead, kw_only=True):
    code: str
    message: str
    chain: str | None
    seq: int | None
    entry_id: uuid.UUID | None
    checkpoint: int | None


class VerificationRead(msgspec.Struct, kw_only=True):
    ok: bool
    summary: str
    entries: int
    chains: dict[str, int]
    """Entries per chain; chains still sealed are left out (Order 20 Art. 21)."""
    sealed_chains_intact: bool
    checkpoints_checked: int
    latest_checkpoint: int | None
    problem_count: int
    first_problem: ProblemRead | None
    """The first broken entry (by chain, then seq), or the first bad checkpoint."""
    problems: list[ProblemRead]
    bytes_hashed: int
    elapsed_seconds: float

    @classmethod
    def from_report(cls, report: VerificationReport) -> VerificationRead:
        first = report.first_problem
        return cls(
            ok=report.ok,
            summary=report.summary(),
            entries=report.entries,
            chains=report.chains,
            sealed_chains_intact=report.sealed_chains_intact,
            checkpoints_checked=report.checkpoints_checked,
            latest_checkpoint=report.latest_checkpoint,
            problem_count=report.problem_count,
            first_problem=ProblemRead.of(first) if first else None,
            problems=[ProblemRead.of(p) for p in report.ordered_problems()],
            bytes_hashed=report.bytes_hashed,
            elapsed_seconds=round(report.elapsed_seconds, 3),
        )


class SignedHeadRead(msgspec.Struct, kw_only=True):
    seq: int
    hash: str
    from_: int = msgspec.field(name="from")
    """The first seq whose hash ``hashes`` lists (the chain's previous checkpoint signed the rest)."""
    hashes: str
    """Entry hashes of seqs ``from`` … ``seq``, 64 hex digits each, concatenated."""


class CheckpointSignatureRead(msgspec.Struct, kw_only=True):
    algorithm: str
    key_id: str
    value: str
    """Base64."""


class PublishedCheckpointRead(msgspec.Struct, kw_only=True):
    """A signed checkpoint as anyone may keep it (save as ``CHECKPOINT.json``).

    The signature covers the canonical JSON of ``type``, ``number``, ``created_at``, ``previous``,
    ``heads`` and ``sealed`` (``trading.ledger.encoding``); ``digest`` is its SHA-256 and
    ``timestamp_token`` the platform TSA's RFC 3161 token over that digest (base64 DER). Later,
    ``ggzy ledger verify --against CHECKPOINT.json`` proves the platform still holds every entry
    this checkpoint signed, unchanged.
    """

    type: str
    number: int
    created_at: str
    previous: str
    heads: dict[str, SignedHeadRead]
    sealed: str | None
    """SHA-256 of the heads of chains still sealed (bids, downloads before the deadline)."""
    digest: str
    signature: CheckpointSignatureRead
    public_key_pem: str
    timestamp_token: str | None

    @classmethod
    def from_published(cls, published: dict[str, Any]) -> PublishedCheckpointRead:
        return msgspec.convert(published, cls)
