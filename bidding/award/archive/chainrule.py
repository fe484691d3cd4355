"""The ledger's chain and checkpoint rules, restated on the standard library for the archive.

The offline verifier may use the standard library and `certs` only, so it cannot import
`trading.ledger`. This module restates, from the documented format of ``trading.ledger.encoding``
(format 1 entries, format 2 checkpoints), exactly what the archive needs:

* decoding an entry's preimage (the fixed-width head and the U+001F-separated text);
* a chain's rule: ``SHA-256(preimage) == hash``, seqs 1, 2, 3 … without gaps, each entry's
  ``prev_hash`` the previous entry's hash (32 zero bytes for seq 1), the chain name inside the
  preimage the chain's own;
* a checkpoint copy's message (canonical JSON) and what its heads claim about each chain.

``tests/bidding/award/test_chainrule.py`` proves it agrees with `trading.ledger.verification` and
`trading.ledger.encoding` on real chains. Signatures over checkpoints are checked by the caller
with `certs.keys`.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bidding.award.archive.format import canonical_json

ENTRY_TAG: Final = b"ggzy-ledger-entry/1\x00"
CHECKPOINT_TYPE_V2: Final = "ggzy-ledger-checkpoint/2"
HASH_SIZE: Final = 32
GENESIS_HASH: Final = bytes(HASH_SIZE)
_HEAD: Final = struct.Struct(">q16sq16s16s")
_TEXT_AT: Final = len(ENTRY_TAG) + _HEAD.size + 2 * HASH_SIZE
PREV_HASH_OFFSET: Final = len(ENTRY_TAG) + _HEAD.size + HASH_SIZE
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
_TEXT_FIELDS: Final = 8


class Malformed(ValueError):
    """Bytes that are not an entry preimage, or a checkpoint copy that cannot be read."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One decoded entry preimage."""

    seq: int
    entry_id: uuid.UUID
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    data_digest: bytes
    prev_hash: bytes
    chain: str
    actor_kind: str
    actor_label: str
    client_ip: str
    action: str
    subject_type: str
    subject_id: str
    summary_json: str


def _optional(raw: bytes) -> uuid.UUID | None:
    return None if raw == bytes(16) else uuid.UUID(bytes=raw)


def decode_entry(preimage: bytes) -> Entry:
    """The fields of an entry preimage; `Malformed` when it is not one."""
    if not preimage.startswith(ENTRY_TAG) or len(preimage) < _TEXT_AT:
        raise Malformed("not a ggzy-ledger-entry/1 preimage")
    seq, entry_id, micros, user, organisation = _HEAD.unpack_from(preimage, len(ENTRY_TAG))
    at = len(ENTRY_TAG) + _HEAD.size
    try:
        text = preimage[_TEXT_AT:].decode()
    except UnicodeDecodeError as exc:
        raise Malformed("the entry's text is not UTF-8") from exc
    fields = text.split("\x1f", _TEXT_FIELDS - 1)
    if len(fields) != _TEXT_FIELDS:
        raise Malformed("the entry's text does not have its eight fields")
    chain, actor_kind, actor_label, client_ip, action, subject_type, subject_id, summary_json = fields
    return Entry(
        seq=seq,
        entry_id=uuid.UUID(bytes=entry_id),
        occurred_at=_EPOCH + timedelta(microseconds=micros),
        actor_user_id=_optional(user),
        organisation_id=_optional(organisation),
        data_digest=preimage[at : at + HASH_SIZE],
        prev_hash=preimage[PREV_HASH_OFFSET : PREV_HASH_OFFSET + HASH_SIZE],
        chain=chain,
        actor_kind=actor_kind,
        actor_label=actor_label,
        client_ip=client_ip,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        summary_json=summary_json,
    )


@dataclass(frozen=True, slots=True)
class Problem:
    """What failed, and where: the first one a report names is the first in checking order."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def check_chain(chain: str, entries: Iterable[tuple[int, bytes, bytes]]) -> tuple[list[Problem], list[Entry]]:
    """Check ``(seq, hash, preimage)`` rows of one chain, in order, from seq 1.

    Returns the problems (each naming the seq) and the decoded entries. An entry whose preimage
    cannot be decoded is named and the walk goes on from its stored hash.
    """
    problems: list[Problem] = []
    decoded: list[Entry] = []
    expected_seq, prev = 1, GENESIS_HASH
    for seq, stored, preimage in entries:
        where = f"ledger {chain} seq {seq}"
        if seq != expected_seq:
            gap = "repeats an earlier seq" if seq < expected_seq else f"seq {expected_seq} is missing before it"
            problems.append(Problem(where, gap))
        if hashlib.sha256(preimage).digest() != stored:
            problems.append(Problem(where, "the entry's hash does not match its content (the entry was changed)"))
        try:
            entry = decode_entry(preimage)
        except Malformed as exc:
            problems.append(Problem(where, str(exc)))
        else:
            decoded.append(entry)
            if entry.seq != seq:
                problems.append(Problem(where, f"the entry's content says seq {entry.seq}"))
            if entry.chain != chain:
                problems.append(Problem(where, f"the entry's content names chain {entry.chain!r}"))
            if entry.prev_hash != prev:
                problems.append(Problem(where, "prev_hash is not the previous entry's hash (the chain is broken)"))
        expected_seq, prev = seq + 1, stored
    return problems, decoded


@dataclass(frozen=True, slots=True)
class Claim:
    """What one checkpoint signed about one chain: the hashes of seqs ``first`` … ``seq``."""

    number: int
    first: int
    seq: int
    hashes: bytes

    def hash_at(self, seq: int) -> bytes:
        offset = (seq - self.first) * HASH_SIZE
        return self.hashes[offset : offset + HASH_SIZE]


def checkpoint_message(copy: Mapping[str, Any]) -> bytes:
    """The bytes a format-2 checkpoint's signature covers, from its published copy."""
    try:
        if copy["type"] != CHECKPOINT_TYPE_V2:
            raise Malformed(f"not a {CHECKPOINT_TYPE_V2}")
        return canonical_json(
            {
                "type": CHECKPOINT_TYPE_V2,
                "number": copy["number"],
                "created_at": copy["created_at"],
                "previous": copy["previous"],
                "heads": copy["heads"],
                "sealed": copy["sealed"],
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(f"the checkpoint cannot be read: {exc}") from exc


def claims(copy: Mapping[str, Any]) -> dict[str, Claim]:
    """Each chain's claim in a checkpoint copy's heads (`Malformed` if they are malformed)."""
    result: dict[str, Claim] = {}
    try:
        number = copy["number"]
        for chain, head in copy["heads"].items():
            seq, head_hash = head["seq"], bytes.fromhex(head["hash"])
            first = head.get("from", seq)
            hashes = bytes.fromhex(head["hashes"]) if "hashes" in head else head_hash
            if (
                not isinstance(seq, int)
                or not isinstance(first, int)
                or not 1 <= first <= seq
                or len(hashes) != (seq - first + 1) * HASH_SIZE
                or not hashes.endswith(head_hash)
            ):
                raise Malformed(f"checkpoint {number}: the head of {chain} is malformed")
            result[chain] = Claim(number, first, seq, hashes)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Malformed(f"the checkpoint's heads cannot be read: {exc}") from exc
    return result


def check_claims(chain: str, hashes: Mapping[int, bytes], chain_claims: Iterable[Claim]) -> list[Problem]:
    """Every hash a checkpoint signed for ``chain`` against the archive's entries, and the head.

    The chain's last entry must be signed by some checkpoint: with the links checked, that one
    signed hash fixes every entry before it. The first differing seq of each claim is named.
    """
    problems: list[Problem] = []
    last = max(hashes, default=0)
    head_signed = False
    for claim in chain_claims:
        for seq in range(claim.first, claim.seq + 1):
            actual = hashes.get(seq)
            if actual is None:
                if seq > last:
                    problems.append(
                        Problem(
                            f"ledger {chain} seq {seq}",
                            f"checkpoint {claim.number} signed it, the archive ends at seq {last}",
                        )
                    )
                    break
                continue
            if actual != claim.hash_at(seq):
                problems.append(
                    Problem(
                        f"ledger {chain} seq {seq}",
                        f"the entry differs from the hash checkpoint {claim.number} signed (the entry was changed)",
                    )
                )
                break
        head_signed = head_signed or claim.seq == last
    if last and not head_signed:
        problems.append(
            Problem(f"ledger {chain} seq {last}", "no checkpoint in the archive signs the chain's last entry")
        )
    return problems
