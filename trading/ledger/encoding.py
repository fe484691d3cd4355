r"""The byte formats the ledger hashes and signs (format version 1). Pure functions, no I/O.

These formats are a contract with every future verifier, inside or outside the platform: change
them only by adding a new version tag, never in place.

Canonical JSON (``data`` digests, stored summaries, checkpoint messages)
    ``json.dumps`` with keys sorted by code point, no whitespace (``","`` and ``":"``), non-ASCII
    characters kept as UTF-8 (not ``\u`` escapes), NaN and infinities refused. Before encoding,
    values are reduced to JSON types: timezone-aware datetimes become ISO-8601 UTC with exactly six
    fractional digits and a ``Z`` (``2026-11-26T10:00:00.000000Z``; naive ones are refused), dates
    ``YYYY-MM-DD``, UUIDs their lowercase hyphenated form, ``Decimal`` its ``str()`` (no
    normalisation: ``1.10`` and ``1.1`` differ, as a price's scale is part of the record), bytes
    standard base64, enums their value, tuples lists. Mapping keys must be strings; sets and any
    other type are refused, because they have no single encoding.

Entry preimage (what ``entry_hash = SHA-256(preimage)`` covers)
    A fixed-width head: ``ENTRY_TAG`` (20 bytes) ‖ seq (int64 big-endian) ‖ id (16 bytes) ‖
    occurred_at (int64 big-endian microseconds since 2000-01-01T00:00:00Z) ‖ actor_user_id (16) ‖
    organisation_id (16) ‖ data_digest (32) ‖ prev_hash (32); then the UTF-8 text ``chain ␟
    actor_kind ␟ actor_label ␟ client_ip ␟ action ␟ subject_type ␟ subject_id ␟ summary`` joined by
    U+001F. An absent UUID is the nil UUID (16 zero bytes; the service refuses a nil UUID as a real
    value), an absent client IP the empty string; ``summary`` is the stored canonical JSON.

    The fixed-width head and the U+001F separator make the encoding unambiguous: text fields may
    not contain control characters (the service refuses them) and canonical JSON escapes every
    one. The integer layouts are PostgreSQL's binary ``int8``/``uuid``/``timestamptz`` formats, so
    the database can assemble the same bytes during verification (see ``repository``) while the
    Python here stays the reference that append uses and that an outside verifier can re-implement.

Checkpoint message (what the platform key signs)
    canonical JSON of ``{"type": CHECKPOINT_TYPE, "number", "created_at", "previous", "heads"}``
    where ``heads`` maps each chain that moved since the previous checkpoint to
    ``{"seq": n, "hash": hex}`` and ``previous`` is the hex digest of the previous checkpoint's
    message (64 zeros for the first). Each checkpoint therefore commits to every head ever signed.

Checkpoint message, format 2 (``CHECKPOINT_TYPE_V2``, written since issue 11)
    canonical JSON of ``{"type": CHECKPOINT_TYPE_V2, "number", "created_at", "previous", "heads",
    "sealed"}``. Each head also names every entry hash since the chain's previous checkpoint:
    ``{"seq": n, "hash": hex, "from": m, "hashes": hex}`` where ``hashes`` is the concatenation of
    the entry hashes of seqs ``m`` … ``n`` (64 hex digits each; the last one equals ``hash``).
    Together the checkpoints thus commit to the hash of every entry, so a verifier can name the
    first entry that differs at its own seq even when the rewritten entries were re-hashed
    consistently (a chain hash alone only says that something before the head changed).

    ``heads`` holds only chains the public may know about. The heads of sealed chains that are
    still sealed (``sealed:<code>`` before the tender's deadline) would reveal how many bids or
    downloads a tender has; they are committed to by ``sealed``, the hex SHA-256 of
    :func:`sealed_heads_message` over those heads (``null`` when no sealed chain moved), and kept
    by the platform next to the checkpoint. Once a chain is unsealed, the next checkpoint names it
    in ``heads`` again from seq 1, so its whole history becomes checkable by anyone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

ENTRY_TAG = b"ggzy-ledger-entry/1\x00"
CHECKPOINT_TYPE = "ggzy-ledger-checkpoint/1"
CHECKPOINT_TYPE_V2 = "ggzy-ledger-checkpoint/2"
SEALED_HEADS_TYPE = "ggzy-ledger-sealed-heads/1"
GENESIS_HASH = bytes(32)
"""``prev_hash`` of every chain's first entry, and ``previous`` of the first checkpoint."""
HASH_SIZE = 32
FIELD_SEPARATOR = "\x1f"
PREV_HASH_OFFSET = len(ENTRY_TAG) + 8 + 16 + 8 + 16 + 16 + HASH_SIZE
"""Where ``prev_hash`` starts inside a preimage: verification checks links without re-parsing."""
TIME_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HEAD = struct.Struct(">q16sq16s16s")
NIL_UUID = uuid.UUID(int=0)

# C0 controls and DEL: they would make the separator ambiguous and have no place in a label.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class NotCanonical(ValueError):
    """A value that has no single canonical JSON encoding."""


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def iso_utc(value: datetime) -> str:
    """``2026-11-26T10:00:00.000000Z``: fixed width, so equal instants always encode equally."""
    if value.tzinfo is None:
        msg = "naive datetime: pass a timezone-aware value"
        raise NotCanonical(msg)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_json_types(value: Any, path: str) -> Any:
    # Order matters: bool is an int, StrEnum is a str.
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"{path}: NaN and infinity have no JSON encoding"
            raise NotCanonical(msg)
        return value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"{path}: mapping keys must be strings, got {type(key).__name__}"
                raise NotCanonical(msg)
            result[key] = _to_json_types(item, f"{path}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [_to_json_types(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return _scalar_to_json(value, path)


def _scalar_to_json(value: Any, path: str) -> Any:
    # datetime before date: a datetime is a date.
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            msg = f"{path}: NaN and infinity have no JSON encoding"
            raise NotCanonical(msg)
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Enum):
        return _to_json_types(value.value, path)
    msg = f"{path}: {type(value).__name__} has no canonical encoding"
    raise NotCanonical(msg)


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (see the module docstring)."""
    reduced = _to_json_types(value, "$")
    try:
        return json.dumps(reduced, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        msg = "$: text that is not valid Unicode"
        raise NotCanonical(msg) from exc


def data_digest(data: Any) -> bytes:
    """SHA-256 of the canonical JSON of ``data`` (``None`` digests the JSON ``null``)."""
    return hashlib.sha256(canonical_json(data)).digest()


def time_to_micros(value: datetime) -> int:
    """Microseconds since 2000-01-01 UTC: PostgreSQL's binary timestamp, exact for every instant."""
    if value.tzinfo is None:
        msg = "naive datetime: pass a timezone-aware value"
        raise NotCanonical(msg)
    return (value - TIME_EPOCH) // _MICROSECOND


def entry_preimage(
    *,
    chain: str,
    seq: int,
    entry_id: uuid.UUID,
    occurred_at: datetime,
    actor_kind: str,
    actor_user_id: uuid.UUID | None,
    actor_label: str,
    organisation_id: uuid.UUID | None,
    client_ip: str | None,
    action: str,
    subject_type: str,
    subject_id: str,
    summary_json: str,
    data_digest: bytes,
    prev_hash: bytes,
) -> bytes:
    """The bytes an entry's hash covers (the reference implementation of the format above)."""
    if len(data_digest) != HASH_SIZE or len(prev_hash) != HASH_SIZE:
        msg = "digests and hashes are 32 bytes"
        raise ValueError(msg)
    text = FIELD_SEPARATOR.join(
        (chain, actor_kind, actor_label, client_ip or "", action, subject_type, subject_id, summary_json)
    )
    head = _HEAD.pack(
        seq,
        entry_id.bytes,
        time_to_micros(occurred_at),
        (actor_user_id or NIL_UUID).bytes,
        (organisation_id or NIL_UUID).bytes,
    )
    return b"".join((ENTRY_TAG, head, data_digest, prev_hash, text.encode()))


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def checkpoint_message(*, number: int, created_at: datetime, previous: bytes, heads: Mapping[str, Any]) -> bytes:
    """The canonical bytes a checkpoint signature covers."""
    return canonical_json(
        {
            "type": CHECKPOINT_TYPE,
            "number": number,
            "created_at": iso_utc(created_at),
            "previous": previous.hex(),
            "heads": heads,
        }
    )


def checkpoint_message_v2(
    *,
    number: int,
    created_at: datetime,
    previous: bytes,
    heads: Mapping[str, Any],
    sealed: bytes | None,
) -> bytes:
    """The canonical bytes a format-2 checkpoint signature covers (see the module docstring)."""
    return canonical_json(
        {
            "type": CHECKPOINT_TYPE_V2,
            "number": number,
            "created_at": iso_utc(created_at),
            "previous": previous.hex(),
            "heads": heads,
            "sealed": sealed.hex() if sealed is not None else None,
        }
    )


def sealed_heads_message(heads: Mapping[str, Any]) -> bytes:
    """The canonical bytes whose SHA-256 a format-2 checkpoint publishes for its sealed heads."""
    return canonical_json({"type": SEALED_HEADS_TYPE, "heads": heads})


def join_hashes(hashes: list[bytes]) -> str:
    """Entry hashes as one hex string (the ``hashes`` field of a format-2 head)."""
    return b"".join(hashes).hex()


def split_hashes(joined: str) -> bytes:
    """The raw bytes of a ``hashes`` field (32 per entry); ``ValueError`` if malformed."""
    raw = bytes.fromhex(joined)
    if len(raw) % HASH_SIZE:
        msg = "hashes must be a whole number of 32-byte hashes"
        raise ValueError(msg)
    return raw
