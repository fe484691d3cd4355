"""The ledger's services: append an entry, sign a checkpoint, list entries, verify everything.

Every function runs in the caller's transaction and never commits; whoever opened the transaction
commits (the request boundary, a job's unit of work).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from certs import keys
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.ledger import encoding, timestamping
from trading.ledger.errors import (
    LedgerChainDamaged,
    LedgerCursorInvalid,
    LedgerDataNotCanonical,
    LedgerEncodingMismatch,
    LedgerFieldInvalid,
    SigningKeyUnusable,
)
from trading.ledger.models import (
    PLATFORM_CHAIN,
    PROJECT_CHAIN_PREFIX,
    SEALED_CHAIN_PREFIX,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerUnsealedChain,
    LedgerWithheldChain,
)
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.verification import verify_ledger
from trading.ledger.verification_report import Problem, VerificationReport

CHECKPOINT_TASK = "ledger.checkpoint_chains"
"""The checkpoint job's task name (``trading.ledger.tasks``): enqueued by name, never imported."""

__all__ = [
    "EntryFilter",
    "Problem",
    "VerificationReport",
    "append_entry",
    "chain_for",
    "create_checkpoint",
    "decode_cursor",
    "disclose_chain",
    "encode_cursor",
    "latest_published_checkpoint",
    "list_entries",
    "platform_private_key",
    "platform_public_keys",
    "preimage_of",
    "published_checkpoint",
    "published_checkpoint_number",
    "request_checkpoint",
    "unseal_chain",
    "verify_ledger",
    "withhold_chain",
]

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_SUBJECT_TYPE = re.compile(r"[a-z][a-z0-9_.]*")
# 统一交易标识码: no national format is fixed (domain-rules §10.1), so accept the characters such
# codes are made of and nothing that could confuse a chain name.
_PROJECT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LIMITS = {"action": 100, "subject_type": 60, "subject_id": 200, "project_code": 64, "actor": 150, "client_ip": 64}
MAX_CHECKPOINT_NUMBER = 2**63 - 1
"""Checkpoint numbers are int64; larger ones exist nowhere (and would overflow the query)."""
MAX_SUMMARY_BYTES = 4096
"""Summaries are shown on the ledger page; anything larger belongs in ``data`` (digested)."""


def chain_for(project_code: str | None, *, sealed: bool = False) -> str:
    """``project:<统一交易标识码>`` for a trading project's records, ``platform`` for the rest;
    ``sealed:<统一交易标识码>`` for the project's records that stay hidden until it is unsealed.
    """
    if project_code is None:
        if sealed:
            raise LedgerFieldInvalid("a sealed entry belongs to a project", field="project_code", rule="required")
        return PLATFORM_CHAIN
    if not _PROJECT_CODE.fullmatch(project_code) or len(project_code) > _LIMITS["project_code"]:
        raise LedgerFieldInvalid(
            f"project code {project_code!r} must be 1–64 letters, digits, '.', '_' or '-'",
            field="project_code",
            rule="project_code",
        )
    return f"{SEALED_CHAIN_PREFIX if sealed else PROJECT_CHAIN_PREFIX}{project_code}"


def _check_text(field: str, value: str, pattern: re.Pattern[str] | None = None) -> None:
    if not value or len(value) > _LIMITS[field]:
        raise LedgerFieldInvalid(f"{field} must be 1–{_LIMITS[field]} characters", field=field, rule="length")
    if encoding.has_control_characters(value):
        raise LedgerFieldInvalid(f"{field} must not contain control characters", field=field, rule="no_control")
    if pattern is not None and not pattern.fullmatch(value):
        raise LedgerFieldInvalid(f"{field} {value!r} does not match {pattern.pattern}", field=field, rule="format")


def preimage_of(entry: LedgerEntry) -> bytes:
    """The bytes ``entry.entry_hash`` covers (:func:`encoding.entry_preimage` over its columns)."""
    return entry.preimage()


async def append_entry(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    data: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
    project_code: str | None = None,
    sealed: bool = False,
) -> LedgerEntry:
    """Record a state change in the caller's transaction (Order 20 Art. 49: time, IP, who, what).

    ``action`` names the change (``"parties.user_registered"``); ``subject_type``/``subject_id``
    name the record it changed. ``data`` is the change itself: only its SHA-256 over canonical JSON
    is stored, so confidential content never reaches the ledger, yet whoever holds the data can
    prove it is what was recorded. ``summary`` is a small non-confidential dict that is stored and
    shown to supervisors. ``project_code`` (统一交易标识码) puts the entry on that project's chain,
    otherwise on the platform chain. ``sealed`` puts it on the project's sealed chain instead:
    entries whose actor alone would reveal who bid or downloaded before the deadline (Order 20
    Art. 21, 27). Readers see them only after `unseal_chain`; verification covers them always.

    The chain's head row stays locked until the caller's transaction ends, so appends to one chain
    queue up while other chains proceed; if the caller rolls back, the entry and the head move
    vanish together. Writes in the caller's transaction and never commits. On SQLite the caller's
    unit of work must hold the write lock (``transaction(..., lock=True)``, as the web boundary
    does for unsafe methods); otherwise a concurrent append fails instead of waiting.
    """
    chain = chain_for(project_code, sealed=sealed)
    _check_text("action", action, _ACTION)
    _check_text("subject_type", subject_type, _SUBJECT_TYPE)
    _check_text("subject_id", subject_id)
    _check_text("actor", actor.label)
    for field, value in (("actor_user_id", actor.user_id), ("organisation_id", actor.organisation_id)):
        if value == encoding.NIL_UUID:  # it stands for "absent" in the hashed encoding
            raise LedgerFieldInvalid(f"{field} must not be the nil UUID", field=field, rule="not_nil")
    client_ip = actor.client_ip or None
    if client_ip is not None:
        _check_text("client_ip", client_ip)
    try:
        digest = encoding.data_digest(data)
    except encoding.NotCanonical as exc:
        raise LedgerDataNotCanonical(f"data: {exc}", field="data", rule="canonical_json") from exc
    try:
        summary_json = encoding.canonical_json(summary if summary is not None else {}).decode()
    except encoding.NotCanonical as exc:
        raise LedgerDataNotCanonical(f"summary: {exc}", field="summary", rule="canonical_json") from exc
    if len(summary_json.encode()) > MAX_SUMMARY_BYTES:
        raise LedgerFieldInvalid(
            f"summary is larger than {MAX_SUMMARY_BYTES} bytes; put the detail in data",
            field="summary",
            rule="max_size",
        )

    repository = LedgerRepository(session)
    entry = LedgerEntry(
        id=uuid7(),
        chain=chain,
        actor_kind=str(actor.kind),
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        organisation_id=actor.organisation_id,
        client_ip=client_ip,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data_digest=digest,
        summary_json=summary_json,
    )
    # The time is the platform clock's. When that clock is the database's own now() (production),
    # PostgreSQL stamps the entry inside the append statement: the same value (the transaction's
    # start) without a round trip of its own. Any other clock (tests move time) is read here,
    # before the head is locked, since the lock is held until the caller commits.
    if not (repository.stamps_time_itself and isinstance(clock.get_clock(), clock.DatabaseClock)):
        entry.occurred_at = await clock.now(session)
    await repository.append(entry)
    # The database computed the hash on PostgreSQL; the reference encoding must agree before this
    # transaction may commit, or no outside verifier could ever check the entry.
    if encoding.sha256(entry.preimage()) != entry.entry_hash:
        msg = f"ledger entry {entry.id}: the stored hash disagrees with the reference encoding"
        raise LedgerEncodingMismatch(msg)
    return entry


# --- checkpoints ---------------------------------------------------------------------------------


def platform_private_key(settings: Settings) -> keys.PrivateKey:
    try:
        return keys.load_private_key(settings.secret("signing_key"))
    except keys.UnusableKey as exc:
        raise SigningKeyUnusable(str(exc)) from exc


def platform_public_keys(settings: Settings) -> list[keys.PublicKey]:
    """The keys checkpoints are verified against: today the current platform key only.

    Key rotation will add the retired public keys here (from settings); verification never trusts
    the public key a checkpoint row carries, since whoever can write the row can write that too.
    """
    return [platform_private_key(settings).public_key()]


async def create_checkpoint(session: AsyncSession, *, private_key: keys.PrivateKey) -> LedgerCheckpoint | None:
    """Sign the heads of every chain that moved since the previous checkpoint; ``None`` if none did.

    Format 2 (``encoding``): each head lists every entry hash since the chain's previous
    checkpoint, so the checkpoints together commit to every entry and verification names a
    rewritten entry at its own seq. Each checkpoint also signs the previous checkpoint's digest,
    so the newest one commits to every head ever signed: an outsider who keeps a copy of it
    (``published_checkpoint``) can later prove that nothing before it vanished or changed.
    Still-sealed chains are signed through the ``sealed`` digest only (their counts are secret
    until the deadline), and so are withheld chains not yet disclosed (``withhold_chain``: a
    draft's very existence is not public). The digest is timestamped by the platform TSA when one is plugged in.

    Concurrent runs are serialised (advisory lock on PostgreSQL, the write lock on SQLite), so a
    beat tick, a milestone and a manual run never sign the same state twice. Only flushes.
    """
    repository = LedgerRepository(session)
    await repository.lock_checkpointing()
    moved = await repository.unsigned_heads()
    if not moved:
        return None
    previous = await repository.last_checkpoint()
    number = previous.number + 1 if previous is not None else 1
    previous_digest = bytes(previous.digest) if previous is not None else encoding.GENESIS_HASH
    created_at = await clock.now(session)
    unsealed = await repository.unsealed_among([chain for chain in moved if chain.startswith(SEALED_CHAIN_PREFIX)])
    withheld = await repository.withheld_among([chain for chain in moved if chain.startswith(PROJECT_CHAIN_PREFIX)])
    heads: dict[str, Any] = {}
    sealed_heads: dict[str, Any] = {}
    for chain, (seq, head_hash, signed_seq) in moved.items():
        rows = await repository.entry_hashes(chain, signed_seq + 1, seq)
        # Sign only what the entries themselves say: a head row that ran ahead of its chain, or
        # a chain with a hole, is damage to report (``ggzy ledger verify``), not a state to seal.
        if [row_seq for row_seq, _ in rows] != list(range(signed_seq + 1, seq + 1)) or rows[-1][1] != head_hash:
            msg = f"chain {chain}: entries {signed_seq + 1}…{seq} do not end at the head; run ggzy ledger verify"
            raise LedgerChainDamaged(msg)
        head = {
            "seq": seq,
            "hash": head_hash.hex(),
            "from": signed_seq + 1,
            "hashes": encoding.join_hashes([h for _, h in rows]),
        }
        still_sealed = (chain.startswith(SEALED_CHAIN_PREFIX) and chain not in unsealed) or chain in withheld
        (sealed_heads if still_sealed else heads)[chain] = head
    sealed_digest = encoding.sha256(encoding.sealed_heads_message(sealed_heads)) if sealed_heads else None
    message = encoding.checkpoint_message_v2(
        number=number, created_at=created_at, previous=previous_digest, heads=heads, sealed=sealed_digest
    )
    digest = encoding.sha256(message)
    signature = keys.sign(private_key, message)
    checkpoint = LedgerCheckpoint(
        number=number,
        created_at=created_at,
        heads=heads,
        previous_digest=previous_digest,
        digest=digest,
        algorithm=signature.algorithm,
        key_id=signature.key_id,
        public_key_pem=keys.public_key_pem(private_key).decode(),
        signature=signature.value,
        format=2,
        sealed_heads=sealed_heads or None,
        timestamp_token=await timestamping.timestamp_digest(session, digest),
    )
    await repository.save_checkpoint(checkpoint, {chain: seq for chain, (seq, _, _) in moved.items()})
    return checkpoint


def request_checkpoint(session: AsyncSession, *, milestone: str, project_code: str | None = None) -> None:
    """Ask for a checkpoint once the caller's transaction commits (a legal milestone was reached).

    Called at each milestone whose record must not stay in the unwitnessed tail until the next
    beat tick: the bid deadline (``unseal_chain``), the opening's close and, when it exists, the
    award (``ledger.request_checkpoint(session, milestone="award", project_code=...)``). The job is
    idempotent: a milestone that finds nothing new signs nothing.
    """
    tasks.enqueue(session, CHECKPOINT_TASK, milestone=milestone, project_code=project_code)


def published_checkpoint(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """What anyone may keep of a format-2 checkpoint (``CHECKPOINT.json``).

    Everything the signature covers (so an outsider can check it with the platform's public key
    alone), the digest, the signature and the TSA token. Never ``sealed_heads``: only their digest.
    """
    sealed_heads = checkpoint.sealed_heads or {}
    return {
        "type": encoding.CHECKPOINT_TYPE_V2,
        "number": checkpoint.number,
        "created_at": encoding.iso_utc(checkpoint.created_at),
        "previous": bytes(checkpoint.previous_digest).hex(),
        "heads": checkpoint.heads,
        "sealed": encoding.sha256(encoding.sealed_heads_message(sealed_heads)).hex() if sealed_heads else None,
        "digest": bytes(checkpoint.digest).hex(),
        "signature": {
            "algorithm": checkpoint.algorithm,
            "key_id": checkpoint.key_id,
            "value": base64.b64encode(bytes(checkpoint.signature)).decode(),
        },
        "public_key_pem": checkpoint.public_key_pem,
        "timestamp_token": base64.b64encode(bytes(checkpoint.timestamp_token)).decode()
        if checkpoint.timestamp_token
        else None,
    }


async def latest_published_checkpoint(session: AsyncSession) -> LedgerCheckpoint | None:
    """The newest checkpoint that may be published (format 2; format 1 signed sealed heads openly)."""
    return await LedgerRepository(session).last_checkpoint(format_at_least=2)


async def published_checkpoint_number(session: AsyncSession, number: int) -> LedgerCheckpoint | None:
    """Checkpoint ``number`` if it may be published (format 2), else ``None``."""
    if not 1 <= number <= MAX_CHECKPOINT_NUMBER:
        return None
    checkpoint = await LedgerRepository(session).checkpoint(number)
    return checkpoint if checkpoint is not None and checkpoint.format >= 2 else None  # noqa: PLR2004 - the format


# --- reading -------------------------------------------------------------------------------------


def encode_cursor(entry: LedgerEntry) -> str:
    raw = f"{encoding.iso_utc(entry.occurred_at)}|{entry.seq}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, seq, entry_id = raw.split("|")
        return datetime.fromisoformat(when), int(seq), uuid.UUID(entry_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise LedgerCursorInvalid("cursor is not one this API returned", field="cursor", rule="cursor") from exc


async def list_entries(
    session: AsyncSession,
    actor: Actor,
    filters: EntryFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[Sequence[LedgerEntry], str | None]:
    """A page of entries, newest first, and the cursor of the next page (``None`` at the end)."""
    before = decode_cursor(cursor) if cursor else None
    rows = await LedgerRepository(session).list_entries(actor, filters, limit=limit + 1, before=before)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return page, next_cursor


async def unseal_chain(session: AsyncSession, project_code: str, now: datetime) -> bool:
    """Let readers see the project's sealed chain from now on; idempotent (True the first time).

    The bid deadline is a legal milestone: a checkpoint follows the caller's commit.
    """
    chain = chain_for(project_code, sealed=True)
    if await session.get(LedgerUnsealedChain, chain) is not None:
        return False
    session.add(LedgerUnsealedChain(chain=chain, unsealed_at=now))
    await session.flush()
    # Until now the chain was signed only through the sealed digest; the deadline's checkpoint
    # publishes its whole history, so outsiders can check the bids' and downloads' records too.
    await LedgerRepository(session).republish_chain(chain)
    request_checkpoint(session, milestone="deadline", project_code=project_code)
    return True


async def withhold_chain(session: AsyncSession, project_code: str, now: datetime) -> bool:
    """Keep the project's chain out of public checkpoints until `disclose_chain`; True the first time.

    For a project that is not public yet (a draft tender): its entries are still chained, signed
    (through the ``sealed`` digest, like a still-sealed chain) and verified, but no public
    checkpoint names the chain or its length. Call it before the project's first entry; a chain
    withheld once is never withheld again after its disclosure.
    """
    chain = chain_for(project_code)
    if await session.get(LedgerWithheldChain, chain) is not None:
        return False
    session.add(LedgerWithheldChain(chain=chain, withheld_at=now))
    await session.flush()
    return True


async def disclose_chain(session: AsyncSession, project_code: str, now: datetime) -> bool:
    """End `withhold_chain`: the next checkpoint publishes the chain's whole history from seq 1.

    True if the chain was withheld until now; False if it never was (public as ever) or already
    disclosed. No checkpoint is requested: the withheld entries are already signed (through the
    sealed digest), so the next beat tick's checkpoint is soon enough to publish them.
    """
    chain = chain_for(project_code)
    withheld = await session.get(LedgerWithheldChain, chain)
    if withheld is None or withheld.disclosed_at is not None:
        return False
    withheld.disclosed_at = now
    await session.flush()
    # Until now the chain was signed only through the sealed digest; re-signing it from seq 1
    # lets outsiders check the draft's records too, now that the project is public.
    await LedgerRepository(session).republish_chain(chain)
    return True
