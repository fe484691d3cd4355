"""Chinese party identifiers: 统一社会信用代码 (GB 32100-2015) and 居民身份证号码 (GB 11643-1999).

Both carry a check character; a certificate or credential whose identifier fails it is refused
rather than mapped to a party.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# GB 32100-2015: 31 characters (no I, O, S, V, Z); weights 3^i mod 31.
_USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_USCC_RE: Final = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# GB 11643-1999: weights 2^(17-i) mod 11; check "10X98765432"[sum mod 11].
_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK: Final = "10X98765432"
_ID_RE: Final = re.compile(r"^\d{17}[\dX]$")


def uscc_check_char(first17: str) -> str:
    """The check character completing the 17 leading characters of a USCC."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=4096)
def is_uscc(value: str) -> bool:
    """True for a well-formed 18-character 统一社会信用代码 with a correct check character (cached by the
    exact string: a guarantor's, a tenderee's and a bidder's codes recur in every document they sign).
    """
    if not _USCC_RE.fullmatch(value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def id_number_check_char(first17: str) -> str:
    """The check character completing the 17 leading digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_id_number(value: str) -> bool:
    """True for an 18-character resident ID number with a correct check character."""
    if not _ID_RE.fullmatch(value):
        return False
    return id_number_check_char(value[:17]) == value[17]
