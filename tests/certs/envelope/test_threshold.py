from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certs.envelope import threshold
from certs.envelope.threshold import PRIME, Share, combine, split
from certs.errors import Reason, Refused


def test_known_answer_with_fixed_coefficients() -> None:
    coefficients = iter([5, 7])
    shares = split(b"\x2a", 3, 4, randbelow=lambda _bound: next(coefficients))
    s = 0x012A  # the marker byte 0x01 followed by the secret
    for share in shares:
        x = share.index
        assert int.from_bytes(share.value, "big") == (s + 5 * x + 7 * x * x) % PRIME
    assert combine(shares[1:]) == b"\x2a"


def test_leading_zero_bytes_survive() -> None:
    secret = b"\x00\x00\x01" + bytes(29)
    assert combine(split(secret, 2, 3)[:2]) == secret


@given(
    secret=st.binary(min_size=1, max_size=64),
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_threshold_subset_recombines(secret: bytes, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=n))
    shares = split(secret, k, n)
    subset = data.draw(st.lists(st.sampled_from(shares), min_size=k, max_size=n, unique_by=lambda s: s.index))
    assert combine(subset) == secret


@given(secret=st.binary(min_size=16, max_size=64), n=st.integers(min_value=2, max_value=7), data=st.data())
def test_fewer_than_threshold_do_not_reveal_the_secret(secret: bytes, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=2, max_value=n))
    shares = split(secret, k, n)
    subset = data.draw(st.lists(st.sampled_from(shares), min_size=1, max_size=k - 1, unique_by=lambda s: s.index))
    assert _combine_or_reason(subset, secret) in {"different", Reason.NOT_ENOUGH_SHARES}


def _combine_or_reason(shares: list[Share], secret: bytes | None = None) -> object:
    try:
        rebuilt = combine(shares)
    except Refused as refusal:
        return refusal.reason
    return "same" if rebuilt == secret else "different"


@given(index=st.integers(min_value=1, max_value=255), value=st.integers(min_value=0, max_value=PRIME - 1))
def test_share_serialisation_round_trips(index: int, value: int) -> None:
    share_bytes = bytes([index]) + value.to_bytes(66, "big")
    assert Share.from_bytes(share_bytes).to_bytes() == share_bytes


def test_every_three_of_five_recombine_and_no_two_do() -> None:
    secret = bytes(range(32))
    shares = split(secret, 3, 5)
    for trio in itertools.combinations(shares, 3):
        assert combine(list(trio)) == secret
    for pair in itertools.combinations(shares, 2):
        assert _combine_or_reason(list(pair), secret) in {"different", Reason.NOT_ENOUGH_SHARES}


def test_duplicate_and_malformed_shares_are_refused() -> None:
    shares = split(b"k" * 32, 2, 3)
    with pytest.raises(Refused) as info:
        combine([shares[0], shares[0]])
    assert info.value.reason is Reason.BAD_SHARE
    with pytest.raises(Refused):
        Share(0, bytes(66))
    with pytest.raises(Refused):
        Share.from_bytes(b"\x01")
    with pytest.raises(Refused):
        combine([])


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="threshold"):
        threshold.split(b"k", 4, 3)
    with pytest.raises(ValueError, match="secret"):
        threshold.split(b"", 1, 1)
