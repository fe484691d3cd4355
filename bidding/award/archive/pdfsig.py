"""The signatures embedded in a PDF, found with the standard library (no PDF library offline).

A PAdES signature (and a document timestamp) is a dictionary whose ``/ByteRange [0 a b c]``
names the signed bytes: everything but the gap ``a … b``, which holds ``/Contents <hex>``, the
CMS (or RFC 3161 token) in hexadecimal, zero-padded. So the signed bytes and the CMS are found
from the byte range alone: the gap must be exactly one hex string, and the CMS is its DER
prefix. Each range must start at 0; the one that reaches furthest must end at the end of the
file, or bytes were appended that no signature covers. What the CMS says is checked by the
caller with `certs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_BYTE_RANGE: Final = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_HEX: Final = re.compile(rb"[0-9A-Fa-f\s]*")
_LONG_FORM: Final = 0x80


class PdfSignatureError(ValueError):
    """A signature dictionary whose byte range or contents cannot be what it claims."""


@dataclass(frozen=True, slots=True)
class PdfSignature:
    byte_range: tuple[int, int, int, int]
    contents: bytes
    """The DER of the CMS SignedData (signature or timestamp token), padding removed."""

    def signed_bytes(self, pdf: bytes) -> bytes:
        start, length, second, second_length = self.byte_range
        return pdf[start : start + length] + pdf[second : second + second_length]

    @property
    def end(self) -> int:
        return self.byte_range[2] + self.byte_range[3]


def _der_length(der: bytes) -> int:
    """The length of the DER value at the start of ``der`` (tag, length and content)."""
    if len(der) < 2:  # noqa: PLR2004 - tag and length
        raise PdfSignatureError("the signature's contents are empty")
    first = der[1]
    if first < _LONG_FORM:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 4 or len(der) < 2 + count:  # noqa: PLR2004 - at most 4 length octets
        raise PdfSignatureError("the signature's contents are not DER")
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def signatures(pdf: bytes) -> list[PdfSignature]:
    """Every signature dictionary's byte range and CMS, in file order (`PdfSignatureError` when one
    cannot be read).
    """
    found: list[PdfSignature] = []
    seen: set[tuple[int, int, int, int]] = set()
    for match in _BYTE_RANGE.finditer(pdf):
        byte_range = (int(match[1]), int(match[2]), int(match[3]), int(match[4]))
        if byte_range in seen:
            continue
        seen.add(byte_range)
        start, length, second, second_length = byte_range
        if start != 0 or second <= length or second + second_length > len(pdf):
            raise PdfSignatureError(f"byte range {list(byte_range)} does not fit the file")
        gap = pdf[length:second]
        if not (gap.startswith(b"<") and gap.endswith(b">") and _HEX.fullmatch(gap[1:-1])):
            raise PdfSignatureError(f"byte range {list(byte_range)}: the gap is not one hex string")
        raw = bytes.fromhex(gap[1:-1].decode("ascii"))
        size = _der_length(raw)
        if size > len(raw) or raw[size:].strip(b"\x00"):
            raise PdfSignatureError(f"byte range {list(byte_range)}: the contents are not one DER value")
        found.append(PdfSignature(byte_range, raw[:size]))
    return found


def uncovered_tail(pdf: bytes, found: list[PdfSignature]) -> int:
    """How many bytes at the end of the file no signature covers (0 for an unsigned file)."""
    if not found:
        return 0
    return len(pdf) - max(signature.end for signature in found)
