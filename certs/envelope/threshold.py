"""Shamir secret sharing (k of n) over the prime field GF(2^521 − 1).

A sealed bid's content key (32 bytes) is split so that any ``threshold`` of the appointed key
holders can rebuild it and fewer learn nothing. Working in a 521-bit prime field (the Mersenne prime
also used by NIST P-521) lets a whole key of up to 64 bytes be one field element, so there is no
splitting into halves as with 16-byte implementations, and the arithmetic is Python's exact
integers. Shares are indexed 1…255 and carry a 66-byte value.

The secret is encoded as the integer of ``0x01 ‖ secret``: the marker byte keeps leading zero bytes
and makes a recombination from too few or wrong shares almost surely fail to decode. That is a
convenience, not authentication: the content key is authenticated by the AES-GCM tag, and each share
by the digest recorded in the sealed bid (reference §12.21).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from certs.errors import Reason, Refused

PRIME: Final = 2**521 - 1
VALUE_BYTES: Final = 66
MAX_SECRET_BYTES: Final = 64
MAX_SHARES: Final = 255


@dataclass(frozen=True, slots=True)
class Share:
    """One share: its index (the x coordinate, 1…255) and value (the y coordinate, 66 bytes)."""

    index: int
    value: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.index <= MAX_SHARES or len(self.value) != VALUE_BYTES:
            raise Refused(Reason.BAD_SHARE, "a share has an index 1…255 and a 66-byte value")
        if int.from_bytes(self.value, "big") >= PRIME:
            raise Refused(Reason.BAD_SHARE, "share value outside the field")

    def to_bytes(self) -> bytes:
        return bytes([self.index]) + self.value

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        if len(data) != 1 + VALUE_BYTES:
            raise Refused(Reason.BAD_SHARE, "a share is 67 bytes")
        return cls(data[0], bytes(data[1:]))


def split(
    secret: bytes, threshold: int, count: int, *, randbelow: Callable[[int], int] = secrets.randbelow
) -> list[Share]:
    """Split ``secret`` (1–64 bytes) into ``count`` shares, any ``threshold`` of which rebuild it.

    ``randbelow`` draws the polynomial's coefficients; it is injectable only for known-answer tests.
    """
    if not 1 <= len(secret) <= MAX_SECRET_BYTES:
        msg = "secret must be 1 to 64 bytes"
        raise ValueError(msg)
    if not 1 <= threshold <= count <= MAX_SHARES:
        msg = "need 1 <= threshold <= count <= 255"
        raise ValueError(msg)
    coefficients = [int.from_bytes(b"\x01" + secret, "big")] + [randbelow(PRIME) for _ in range(threshold - 1)]
    shares = []
    for x in range(1, count + 1):
        y = 0
        for c in reversed(coefficients):  # Horner's rule
            y = (y * x + c) % PRIME
        shares.append(Share(x, y.to_bytes(VALUE_BYTES, "big")))
    return shares


def combine(shares: Sequence[Share]) -> bytes:
    """Rebuild the secret from shares (at least the threshold; more are harmless).

    Refuses duplicate indices and a result that does not decode. With fewer shares than the
    threshold the result is a different, random-looking value: callers must authenticate it.
    """
    if not shares:
        raise Refused(Reason.NOT_ENOUGH_SHARES, "no shares")
    xs = [s.index for s in shares]
    if len(set(xs)) != len(xs):
        raise Refused(Reason.BAD_SHARE, "the same share was given twice")
    total = 0
    for i, share in enumerate(shares):
        numerator, denominator = 1, 1
        for j, x_j in enumerate(xs):
            if j != i:
                numerator = numerator * -x_j % PRIME
                denominator = denominator * (share.index - x_j) % PRIME
        basis = numerator * pow(denominator, -1, PRIME) % PRIME
        total = (total + int.from_bytes(share.value, "big") * basis) % PRIME
    encoded = total.to_bytes((total.bit_length() + 7) // 8, "big")
    if not encoded or encoded[0] != 1 or len(encoded) > MAX_SECRET_BYTES + 1:
        raise Refused(Reason.NOT_ENOUGH_SHARES, "the shares do not rebuild a key: too few, or not from this bid")
    return encoded[1:]
