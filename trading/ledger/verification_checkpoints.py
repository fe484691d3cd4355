"""Checkpoints, and an outsider's copies of them, checked on their own terms (numbering, links,
digests, signatures with the given platform keys, TSA tokens), and what each one claims about the
entry hashes of each chain, for `verification` to hold against the entries.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from certs import keys
from certs.errors import Refused
from trading.ledger import encoding, timestamping
from trading.ledger.errors import CheckpointFileInvalid
from trading.ledger.models import LedgerCheckpoint
from trading.ledger.repository import LedgerRepository
from trading.ledger.verification_report import Problem, VerificationReport


@dataclass(slots=True)
class Claim:
    """What one checkpoint (or an outsider's copy of one) signed about seqs ``first`` … ``seq``."""

    first: int
    seq: int
    hashes: bytes
    """The signed entry hashes of ``first`` … ``seq``, 32 bytes each (format 1: the head's only)."""
    source: str
    checkpoint: int
    reported: bool = False
    """A rewrite changes every later hash too: only the first difference per claim is reported."""

    def expected(self, lo: int, hi: int) -> bytes:
        return self.hashes[(lo - self.first) * encoding.HASH_SIZE : (hi - self.first + 1) * encoding.HASH_SIZE]


async def verify_checkpoints(
    repository: LedgerRepository, trusted: dict[str, keys.PublicKey], report: VerificationReport
) -> tuple[dict[str, list[Claim]], dict[int, bytes]]:
    """Check every checkpoint on its own terms; return what each one claims about each chain, and
    each checkpoint's digest by number (to hold an outsider's copies against).
    """
    claims: dict[str, list[Claim]] = {}
    digests: dict[int, bytes] = {}
    expected_number = 1
    previous_digest = encoding.GENESIS_HASH
    async for checkpoint in repository.checkpoints():
        number = checkpoint.number
        report.checkpoints_checked += 1
        report.latest_checkpoint = number
        digests[number] = bytes(checkpoint.digest)
        if number != expected_number:
            report.add(
                Problem(
                    "checkpoint_gap", f"expected checkpoint {expected_number}, found {number}", None, None, None, number
                )
            )
        if bytes(checkpoint.previous_digest) != previous_digest:
            report.add(
                Problem(
                    "checkpoint_link",
                    "previous_digest is not the digest of the checkpoint before it",
                    checkpoint=number,
                )
            )
        source = f"checkpoint {number}"
        signed = _parse_heads(checkpoint.heads, source, number)
        sealed = _parse_heads(checkpoint.sealed_heads or {}, source, number)
        # The digest and signature are checked whatever the heads hold: an edited head shows as
        # a broken digest (and signature), besides being malformed or failing against the entries.
        message = _message_of(checkpoint)
        if encoding.sha256(message) != bytes(checkpoint.digest):
            report.add(
                Problem("checkpoint_digest", "the digest does not match the checkpoint's content", checkpoint=number)
            )
        signature = keys.Signature(checkpoint.algorithm, checkpoint.key_id, bytes(checkpoint.signature))
        _check_signature(trusted, signature, message, report, number=number, what="checkpoint")
        if checkpoint.timestamp_token is not None:
            _check_timestamp(bytes(checkpoint.timestamp_token), bytes(checkpoint.digest), number, report)
        if signed is None or sealed is None:
            report.add(Problem("checkpoint_heads", "the signed heads are malformed", checkpoint=number))
        else:
            for chain, claim in (*signed, *sealed):
                claims.setdefault(chain, []).append(claim)
        previous_digest = bytes(checkpoint.digest)
        expected_number = number + 1
    return claims, digests


def _message_of(checkpoint: LedgerCheckpoint) -> bytes:
    """The bytes the checkpoint's signature covers, rebuilt from its columns (``b""`` if it cannot be)."""
    try:
        if checkpoint.format == 1:
            return encoding.checkpoint_message(
                number=checkpoint.number,
                created_at=checkpoint.created_at,
                previous=bytes(checkpoint.previous_digest),
                heads=checkpoint.heads,
            )
        sealed_heads = checkpoint.sealed_heads or {}
        return encoding.checkpoint_message_v2(
            number=checkpoint.number,
            created_at=checkpoint.created_at,
            previous=bytes(checkpoint.previous_digest),
            heads=checkpoint.heads,
            sealed=encoding.sha256(encoding.sealed_heads_message(sealed_heads)) if sealed_heads else None,
        )
    except (encoding.NotCanonical, TypeError, ValueError):
        return b""


def _check_signature(
    trusted: dict[str, keys.PublicKey],
    signature: keys.Signature,
    message: bytes,
    report: VerificationReport,
    *,
    number: int,
    what: str,
) -> None:
    key = trusted.get(signature.key_id)
    if key is None:
        report.add(
            Problem(
                f"{what}_unknown_key",
                f"signed by key {signature.key_id[:16]}…, which is not a trusted platform key",
                checkpoint=number,
            )
        )
    elif not keys.verify(key, signature, message):
        report.add(
            Problem(f"{what}_signature", "the signature does not verify with the platform key", checkpoint=number)
        )


def _check_timestamp(
    token: bytes, digest: bytes, number: int, report: VerificationReport, what: str = "checkpoint"
) -> None:
    try:
        timestamping.timestamp_time(token, digest)
    except Refused as refusal:
        report.add(Problem(f"{what}_timestamp", f"the TSA token does not hold: {refusal.text}", checkpoint=number))
    except ValueError as exc:  # an unparseable token
        report.add(Problem(f"{what}_timestamp", f"the TSA token cannot be read: {exc}", checkpoint=number))
    else:
        report.timestamped += 1


def verify_copy(
    copy: Mapping[str, Any],
    trusted: dict[str, keys.PublicKey],
    digests: dict[int, bytes],
    claims: dict[str, list[Claim]],
    report: VerificationReport,
) -> None:
    """Check an outsider's copy of a checkpoint, hold it against the database, add its claims."""
    try:
        number = copy["number"]
        if copy.get("type") != encoding.CHECKPOINT_TYPE_V2 or not isinstance(number, int):
            raise CheckpointFileInvalid("not a ggzy-ledger-checkpoint/2", field="type", rule="type")
        sealed = copy["sealed"]
        message = encoding.checkpoint_message_v2(
            number=number,
            created_at=datetime.fromisoformat(copy["created_at"]),
            previous=bytes.fromhex(copy["previous"]),
            heads=copy["heads"],
            sealed=bytes.fromhex(sealed) if sealed is not None else None,
        )
        digest = bytes.fromhex(copy["digest"])
        raw_signature = copy["signature"]
        signature = keys.Signature(
            raw_signature["algorithm"], raw_signature["key_id"], base64.b64decode(raw_signature["value"], validate=True)
        )
        token = copy.get("timestamp_token")
        token_bytes = base64.b64decode(token, validate=True) if token else None
    except (KeyError, TypeError, ValueError, binascii.Error, encoding.NotCanonical) as exc:
        msg = f"the checkpoint copy cannot be read: {exc}"
        raise CheckpointFileInvalid(msg, field="checkpoint", rule="format") from exc
    report.copies_checked.append(number)
    what = "copy"
    if encoding.sha256(message) != digest:
        report.add(Problem("copy_digest", "your copy's digest does not match its content", checkpoint=number))
        return
    _check_signature(trusted, signature, message, report, number=number, what=what)
    if token_bytes is not None:
        _check_timestamp(token_bytes, digest, number, report, what)
    stored = digests.get(number)
    if stored is None:
        latest = f"its latest is checkpoint {max(digests)}" if digests else "it has no checkpoint at all"
        report.add(
            Problem(
                "checkpoint_missing",
                f"your copy of checkpoint {number} is not in the database ({latest}): checkpoints were deleted",
                checkpoint=number,
            )
        )
    elif stored != digest:
        report.add(
            Problem(
                "checkpoint_replaced",
                f"the database's checkpoint {number} is not the one you hold: the checkpoints were rewritten",
                checkpoint=number,
            )
        )
    signed = _parse_heads(copy["heads"], f"your copy of checkpoint {number}", number)
    if signed is None:
        report.add(Problem("copy_heads", "your copy's heads are malformed", checkpoint=number))
        return
    for chain, claim in signed:
        claims.setdefault(chain, []).append(claim)


def _parse_heads(raw: Any, source: str, number: int) -> list[tuple[str, Claim]] | None:
    """Claims from signed heads: format 1 ``{seq, hash}``, format 2 also ``{from, hashes}``."""
    if not isinstance(raw, Mapping):
        return None
    result = []
    try:
        for chain, head in raw.items():
            seq, digest = head["seq"], bytes.fromhex(head["hash"])
            first = head.get("from", seq)
            hashes = encoding.split_hashes(head["hashes"]) if "hashes" in head else digest
            if (
                not isinstance(seq, int)
                or not isinstance(first, int)
                or not 1 <= first <= seq
                or len(digest) != encoding.HASH_SIZE
                or len(hashes) != (seq - first + 1) * encoding.HASH_SIZE
                or not hashes.endswith(digest)
            ):
                return None
            result.append((chain, Claim(first, seq, hashes, source, number)))
    except (KeyError, TypeError, ValueError):
        return None
    return result


def check_signed_seqs(signed: dict[str, int], claims: dict[str, list[Claim]], report: VerificationReport) -> None:
    """A head row that says more was signed than any checkpoint signs: checkpoints were deleted.

    (A tamperer can reset the head rows too; only an outsider's copy survives that.)
    """
    for chain, signed_seq in signed.items():
        reached = max((claim.seq for claim in claims.get(chain, ())), default=0)
        if signed_seq > reached:
            report.add(
                Problem(
                    "checkpoint_missing",
                    f"the head row says checkpoints signed seq {signed_seq}, but none in the database "
                    f"signs beyond seq {reached}: checkpoints were deleted",
                    chain,
                )
            )
