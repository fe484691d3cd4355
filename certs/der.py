"""A strict, minimal DER reader for the few fixed shapes verified many times over (CMS SignedData, TSTInfo).

asn1crypto's object model builds a Python object per node and re-checks each on access, which made
reading a CAdES signature and its timestamp token cost several times the signature checks themselves.
This reader only walks tag-length-value triples over the exact octets received: single-byte tags,
definite lengths in their minimal form (DER, X.690 §10.1), every child inside its parent. It never
guesses: whatever it does not recognise raises `DerError`, and its callers (`certs.cms`,
`certs.tsa.client`) then hand the bytes to the asn1crypto path, which decides and names the refusal.
So this module can make an accepted signature cheaper, never make a refused one accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

SEQUENCE: Final = 0x30
SET: Final = 0x31
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
OBJECT_IDENTIFIER: Final = 0x06
UTC_TIME: Final = 0x17
GENERALIZED_TIME: Final = 0x18
BOOLEAN: Final = 0x01

_MULTI_BYTE_TAG: Final = 0x1F
_LONG_FORM: Final = 0x80
_MAX_LENGTH_OCTETS: Final = 4


class DerError(ValueError):
    """The octets are not in the shape this reader accepts (the full parser decides then)."""


Node = tuple[int, int, int, int]
"""(tag, offset of the tag, start of the contents, end of the contents)."""


def node(data: bytes, offset: int, end: int) -> Node:
    """The TLV at ``offset``, which must end by ``end``."""
    if offset + 2 > end:
        raise DerError("truncated")
    tag = data[offset]
    if tag & _MULTI_BYTE_TAG == _MULTI_BYTE_TAG:
        raise DerError("multi-byte tag")
    length = data[offset + 1]
    start = offset + 2
    if length & _LONG_FORM:
        count = length & 0x7F
        if count == 0 or count > _MAX_LENGTH_OCTETS or start + count > end or data[start] == 0:
            raise DerError("length not in DER form")
        length = int.from_bytes(data[start : start + count], "big")
        if length < _LONG_FORM:
            raise DerError("length not in DER form")
        start += count
    if start + length > end:
        raise DerError("truncated")
    return tag, offset, start, start + length


def only(data: bytes, tag: int) -> Node:
    """The single TLV making up all of ``data``, of ``tag``."""
    found = node(data, 0, len(data))
    if found[0] != tag or found[3] != len(data):
        raise DerError("not one value of the expected type")
    return found


def children(data: bytes, parent: Node) -> list[Node]:
    """The TLVs inside ``parent``'s contents, which they must fill exactly (`node`'s rules, inlined:
    this loop is most of the reader's time).
    """
    found = []
    offset, end = parent[2], parent[3]
    while offset < end:
        if offset + 2 > end:
            raise DerError("truncated")
        tag = data[offset]
        length = data[offset + 1]
        start = offset + 2
        if tag & _MULTI_BYTE_TAG == _MULTI_BYTE_TAG:
            raise DerError("multi-byte tag")
        if length & _LONG_FORM:
            count = length & 0x7F
            if count == 0 or count > _MAX_LENGTH_OCTETS or start + count > end or data[start] == 0:
                raise DerError("length not in DER form")
            length = int.from_bytes(data[start : start + count], "big")
            if length < _LONG_FORM:
                raise DerError("length not in DER form")
            start += count
        stop = start + length
        if stop > end:
            raise DerError("truncated")
        found.append((tag, offset, start, stop))
        offset = stop
    return found


def attributes(data: bytes, parent: Node) -> list[tuple[bytes, list[Node]]]:
    """A SET OF Attribute (RFC 5652 §5.3) as (the type's OBJECT IDENTIFIER with tag and length, its values):
    each attribute a SEQUENCE of exactly an OBJECT IDENTIFIER and a SET, everything filling its parent.
    """
    found = []
    for attribute in children(data, parent):
        if attribute[0] != SEQUENCE:
            raise DerError("an attribute is a SEQUENCE")
        end = attribute[3]
        kind = node(data, attribute[2], end)
        values = node(data, kind[3], end)
        if kind[0] != OBJECT_IDENTIFIER or values[0] != SET or values[3] != end:
            raise DerError("an attribute is a type and a SET of values")
        found.append((data[kind[1] : kind[3]], children(data, values)))
    return found


def expect(child: Node, tag: int) -> Node:
    if child[0] != tag:
        raise DerError(f"expected tag {tag:#x}, found {child[0]:#x}")
    return child


def tlv(data: bytes, child: Node) -> bytes:
    """The whole encoding of ``child`` (tag, length and contents)."""
    return data[child[1] : child[3]]


def contents(data: bytes, child: Node) -> bytes:
    return data[child[2] : child[3]]


def integer(data: bytes, child: Node) -> int:
    """A DER INTEGER (minimal two's complement)."""
    value = contents(data, expect(child, INTEGER))
    if not value or (len(value) > 1 and (value[0], value[1] & 0x80) in {(0, 0), (0xFF, 0x80)}):
        raise DerError("INTEGER not in DER form")
    return int.from_bytes(value, "big", signed=True)


def oid(dotted: str) -> bytes:
    """The DER encoding (tag and length included) of an OBJECT IDENTIFIER, to compare octets with."""
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray()
    for arc in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return bytes((OBJECT_IDENTIFIER, len(body))) + bytes(body)


@lru_cache(maxsize=256)
def dotted(encoded: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's DER (tag and length included; minimal arcs)."""
    body = contents(encoded, only(encoded, OBJECT_IDENTIFIER))
    if not body or body[-1] & 0x80:
        raise DerError("OBJECT IDENTIFIER not in DER form")
    arcs: list[int] = []
    value = 0
    fresh = True
    for octet in body:
        if fresh and octet == 0x80:  # noqa: PLR2004 - a leading 0x80 pads an arc (not DER)
            raise DerError("OBJECT IDENTIFIER not in DER form")
        value = (value << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


_UTC_TIME_LENGTH: Final = 13  # YYMMDDHHMMSSZ
_GENERALIZED_TIME_LENGTH: Final = 15  # YYYYMMDDHHMMSSZ
_UTC_TIME_PIVOT: Final = 50  # RFC 5280 §4.1.2.5.1: YY < 50 is 20YY
_ZULU: Final = ord("Z")


def time(data: bytes, child: Node) -> datetime:
    """A UTCTime ``YYMMDDHHMMSSZ`` or GeneralizedTime ``YYYYMMDDHHMMSSZ`` (the DER forms RFC 5280 uses);
    anything else (fractions of a second, offsets) is left to the full parser.
    """
    tag, _, start, stop = child
    size = stop - start
    if not (
        (tag == UTC_TIME and size == _UTC_TIME_LENGTH) or (tag == GENERALIZED_TIME and size == _GENERALIZED_TIME_LENGTH)
    ):
        raise DerError("time not in DER form")
    digits = data[start : stop - 1]
    if data[stop - 1] != _ZULU or not digits.isdigit() or not digits.isascii():
        raise DerError("time not in DER form")
    if tag == UTC_TIME:
        yy = int(digits[0:2])
        year, rest = (2000 + yy if yy < _UTC_TIME_PIVOT else 1900 + yy), digits[2:]
    else:
        year, rest = int(digits[0:4]), digits[4:]
    try:
        return datetime(
            year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]), int(rest[8:10]), tzinfo=UTC
        )
    except ValueError:
        raise DerError("not a time") from None
