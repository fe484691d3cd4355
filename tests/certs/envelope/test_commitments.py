from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certs.envelope.commitments import (
    InclusionProof,
    check_commitment,
    commit,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_inclusion,
)
from certs.errors import Reason, Refused


def test_commitment_hides_and_binds() -> None:
    envelope = b"GGZYBID1" + b"ciphertext" * 10
    c = commit(envelope)
    check_commitment(envelope, c)
    assert commit(envelope).value != c.value  # salted
    with pytest.raises(Refused) as info:
        check_commitment(envelope + b"x", c)
    assert info.value.reason is Reason.COMMITMENT_MISMATCH


def test_known_tree_shapes() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").digest()
    a, b, c = b"a", b"b", b"c"
    assert merkle_root([a]) == leaf_hash(a)
    assert merkle_root([a, b]) == node_hash(leaf_hash(a), leaf_hash(b))
    assert merkle_root([a, b, c]) == node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))


@given(leaves=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True), data=st.data())
def test_every_leaf_has_a_verifying_proof(leaves: list[bytes], data: st.DataObject) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=len(leaves) - 1))
    proof = inclusion_proof(leaves, index)
    verify_inclusion(leaves[index], proof, root)
    assert InclusionProof.from_dict(proof.to_dict()) == proof
    with pytest.raises(Refused):
        verify_inclusion(
            b"\x00" * 31 + b"\x01" if leaves[index] != b"\x00" * 31 + b"\x01" else b"\x02" * 32, proof, root
        )
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        with pytest.raises(Refused):
            verify_inclusion(leaves[index], InclusionProof(other, proof.size, proof.path), root)
        with pytest.raises(Refused):
            verify_inclusion(leaves[index], proof, merkle_root([*leaves[:-1], b"\xff" * 33]))


def test_proof_index_outside_tree_is_refused() -> None:
    with pytest.raises(Refused):
        verify_inclusion(b"a", InclusionProof(3, 2, ()), merkle_root([b"a", b"b"]))
