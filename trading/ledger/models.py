"""Ledger tables: entries and checkpoints (append-only), and chain heads (the one mutable table).

The migration ``0001_ledger`` adds the triggers that refuse UPDATE, DELETE (and, on PostgreSQL,
TRUNCATE) on ``ledger_entries`` and ``ledger_checkpoints``; the models only describe columns.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import BigIntPK
from trading.ledger import encoding

PLATFORM_CHAIN = "platform"
PROJECT_CHAIN_PREFIX = "project:"
SEALED_CHAIN_PREFIX = "sealed:"
"""A project's sealed chain: entries that would reveal who bid or downloaded before the deadline.
They are chained, checkpointed and verified like any other, but hidden from every reader until
the project's chain is unsealed (`LedgerUnsealedChain`)."""


class LedgerEntry(UUIDPrimaryKey, Base):
    """One recorded state change. Every column except ``entry_hash`` is covered by it."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # The last line of defence against two appends taking the same place in a chain; the
        # chain-head lock is what normally prevents it.
        UniqueConstraint("chain", "seq"),
        # The listing's keyset order (newest first): time, then seq within a transaction, then id.
        Index("ix_ledger_entries_occurred_at_seq_id", "occurred_at", "seq", "id"),
        Index("ix_ledger_entries_subject", "subject_type", "subject_id"),
    )

    chain: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[uuid.UUID | None]
    actor_label: Mapped[str] = mapped_column(String(150), index=True)
    organisation_id: Mapped[uuid.UUID | None]
    client_ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(200))
    data_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Canonical JSON text, not JSONB: the hash covers these exact bytes, and JSONB would reorder
    # keys and respace them on the way back.
    summary_json: Mapped[str] = mapped_column("summary", Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    def preimage(self) -> bytes:
        """The bytes ``entry_hash`` covers (:func:`trading.ledger.encoding.entry_preimage`)."""
        return encoding.entry_preimage(
            chain=self.chain,
            seq=self.seq,
            entry_id=self.id,
            occurred_at=self.occurred_at,
            actor_kind=self.actor_kind,
            actor_user_id=self.actor_user_id,
            actor_label=self.actor_label,
            organisation_id=self.organisation_id,
            client_ip=self.client_ip,
            action=self.action,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            summary_json=self.summary_json,
            data_digest=self.data_digest,
            prev_hash=self.prev_hash,
        )

    @property
    def summary(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.summary_json)
        return value

    @property
    def project_code(self) -> str | None:
        for prefix in (PROJECT_CHAIN_PREFIX, SEALED_CHAIN_PREFIX):
            if self.chain.startswith(prefix):
                return self.chain.removeprefix(prefix)
        return None


class LedgerChainHead(Base):
    """Where a chain ends: the row appends lock, so each chain has its own queue, not a global one."""

    __tablename__ = "ledger_chain_heads"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    """0 until the first entry; then the last entry's seq."""
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime]
    signed_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """The seq the latest checkpoint signed for this chain (0: never); ``seq > signed_seq`` = moved.
    Reset to 0 when a sealed chain is unsealed, so the next checkpoint publishes it from seq 1."""


class LedgerUnsealedChain(Base):
    """A sealed chain that readers may now see (its tender's deadline passed). Never removed."""

    __tablename__ = "ledger_unsealed_chains"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    unsealed_at: Mapped[datetime]


class LedgerWithheldChain(Base):
    """A project chain kept out of public checkpoints until its project is published.

    A draft tender's records would otherwise reveal, through the public checkpoint's head list,
    that an unpublished project exists and how busy it is. While ``disclosed_at`` is ``None`` the
    chain is signed like a still-sealed one (through the ``sealed`` digest only); disclosure makes
    the next checkpoint publish its whole history. Chains without a row are public as ever.
    """

    __tablename__ = "ledger_withheld_chains"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    withheld_at: Mapped[datetime]
    disclosed_at: Mapped[datetime | None]


class LedgerCheckpoint(Base):
    """A signature by the platform key over the chain heads that moved since the previous one.

    Format 2 (``format == 2``, see ``encoding``): each head lists every entry hash since the
    chain's previous checkpoint; still-sealed chains are kept in ``sealed_heads`` and only their
    digest is signed (and published); the digest is timestamped by the platform TSA.
    """

    __tablename__ = "ledger_checkpoints"

    # Numbered 1, 2, 3 … under a lock; the number is part of the signed message.
    number: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    heads: Mapped[dict[str, Any]]
    """``{chain: {"seq": n, "hash": hex}}`` for the chains that moved since the previous checkpoint."""
    previous_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256 of the signed message (``encoding.checkpoint_message``)."""
    algorithm: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(64))
    public_key_pem: Mapped[str] = mapped_column(Text)
    """Informational: verification trusts only keys it is given, never the one stored here."""
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    format: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    """1: heads only (the first format); 2: per-entry hashes, sealed heads apart, a timestamp."""
    sealed_heads: Mapped[dict[str, Any] | None]
    """Format 2: the heads of chains still sealed when signed (never published; ``sealed`` digest)."""
    timestamp_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Format 2: the platform TSA's RFC 3161 token over ``digest`` (``None`` if the TSA failed)."""
