"""Bid commitments and the Merkle root over all of a tender's bids at the deadline.

A commitment is ``SHA-256("ggzy-bid-commitment/1" ‖ salt ‖ SHA-256(envelope))``: it is returned in
the signed, timestamped receipt at submission and reveals nothing about the bid (the envelope is
ciphertext and the salt is random). At the deadline the platform publishes the Merkle root over all
commitments of the tender, and each bidder's receipt gets an inclusion proof, so any later
substitution, addition or removal of a bid is evident.

The tree is the one of RFC 9162 (Certificate Transparency v2) §2.1: leaf hash
``SHA-256(0x00 ‖ leaf)``, node hash ``SHA-256(0x01 ‖ left ‖ right)``, the left subtree holding the
largest power of two smaller than the number of leaves. The domain-separation bytes make a leaf
impossible to pass off as an inner node.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from certs.errors import Reason, Refused

_DOMAIN: Final = b"ggzy-bid-commitment/1"


@dataclass(frozen=True, slots=True)
class Commitment:
    """The commitment value and the salt that opens it (kept by the platform until the opening)."""

    value: bytes
    salt: bytes

    @property
    def hex(self) -> str:
        return self.value.hex()


def commit(envelope: bytes, *, salt: bytes | None = None) -> Commitment:
    """Commit to a sealed bid's bytes."""
    salt = salt if salt is not None else os.urandom(32)
    return Commitment(_commitment_value(envelope, salt), salt)


def _commitment_value(envelope: bytes, salt: bytes) -> bytes:
    return hashlib.sha256(_DOMAIN + salt + hashlib.sha256(envelope).digest()).digest()


def check_commitment(envelope: bytes, commitment: Commitment) -> None:
    """Refuse (commitment-mismatch) when ``envelope`` is not the committed bid."""
    if not hmac.compare_digest(_commitment_value(envelope, commitment.salt), commitment.value):
        raise Refused(Reason.COMMITMENT_MISMATCH, "the envelope differs from the one committed at submission")


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_root(hashes[:k]), _root(hashes[k:]))


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle root over ``leaves`` (commitment values, in submission order); SHA-256("") when empty."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _root([leaf_hash(leaf) for leaf in leaves])


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that the leaf at ``index`` is in the tree of ``size`` leaves: the audit path, bottom up."""

    index: int
    size: int
    path: tuple[bytes, ...]

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "size": self.size, "path": [p.hex() for p in self.path]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> InclusionProof:
        path = data["path"]
        if not isinstance(path, list):
            raise Refused(Reason.MALFORMED, "inclusion proof path must be a list")
        return cls(int(str(data["index"])), int(str(data["size"])), tuple(bytes.fromhex(str(p)) for p in path))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> InclusionProof:
    """The audit path for ``leaves[index]``."""
    if not 0 <= index < len(leaves):
        msg = "leaf index out of range"
        raise IndexError(msg)
    hashes = [leaf_hash(leaf) for leaf in leaves]
    path: list[bytes] = []

    def walk(lo: int, hi: int, m: int) -> None:
        # the subtree hashes[lo:hi] contains leaf m; record siblings from the bottom up
        if hi - lo == 1:
            return
        k = _split(hi - lo)
        if m - lo < k:
            walk(lo, lo + k, m)
            path.append(_root(hashes[lo + k : hi]))
        else:
            walk(lo + k, hi, m)
            path.append(_root(hashes[lo : lo + k]))

    walk(0, len(hashes), index)
    return InclusionProof(index, len(leaves), tuple(path))


def verify_inclusion(leaf: bytes, proof: InclusionProof, root: bytes) -> None:
    """Refuse (commitment-mismatch) unless ``leaf`` is at ``proof.index`` of the tree with ``root``.

    The check follows RFC 9162 §2.1.3.2.
    """
    if not 0 <= proof.index < proof.size:
        raise Refused(Reason.COMMITMENT_MISMATCH, "inclusion proof index outside the tree")
    fn, sn = proof.index, proof.size - 1
    r = leaf_hash(leaf)
    for p in proof.path:
        if sn == 0:
            raise Refused(Reason.COMMITMENT_MISMATCH, "inclusion proof longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not hmac.compare_digest(r, root):
        raise Refused(Reason.COMMITMENT_MISMATCH, "the bid is not in the published Merkle root")
