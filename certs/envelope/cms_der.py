"""DER for AuthEnvelopedData, by hand where streaming needs it: walking an envelope down to its
encrypted content without reading the ciphertext (`walk`), and writing it back in slices (`encode`).

Definite-length DER only: indefinite-length BER (``openssl cms -stream``) is refused by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, Final

from asn1crypto import core  # type: ignore[import-untyped]

from certs.errors import Reason, Refused

OID_AUTH_ENVELOPED: Final = "1.2.840.113549.1.9.16.1.23"
_HEADER_LIMIT: Final = 256 * 1024
# DER identifier octets used while walking the envelope
SEQUENCE: Final = 0x30
_OID: Final = 0x06
_CONTEXT_0: Final = 0xA0
_PRIMITIVE_0: Final = 0x80
_LONG_FORM: Final = 0x80
_HIGH_TAG: Final = 0x1F


def malformed(text: str) -> Refused:
    return Refused(Reason.MALFORMED, f"CMS envelope: {text}")


def der_length(n: int) -> bytes:
    if n < _LONG_FORM:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, *contents: bytes) -> bytes:
    body = b"".join(contents)
    return bytes([tag]) + der_length(len(body)) + body


def set_of(elements: Sequence[bytes]) -> bytes:
    """DER SET OF: elements sorted by their encodings (X.690 §11.6)."""
    return tlv(0x31, *sorted(elements))


class Reader:
    """Random access to the envelope's bytes: in memory (a view, no copies) or a seekable stream."""

    def __init__(self, data: bytes | memoryview | None = None, stream: BinaryIO | None = None, base: int = 0) -> None:
        self.view = memoryview(data) if data is not None else None
        self.stream = stream
        self.base = base

    def read(self, offset: int, size: int) -> bytes:
        if self.view is not None:
            chunk = bytes(self.view[offset : offset + size])
        else:
            assert self.stream is not None  # noqa: S101 - one of the two is given
            self.stream.seek(self.base + offset)
            chunk = self.stream.read(size)
        if len(chunk) != size:
            raise malformed("truncated")
        return chunk


def head(reader: Reader, offset: int, end: int) -> tuple[int, int, int]:
    """(tag, content offset, content length) of the TLV at ``offset``; definite lengths only."""
    if offset + 2 > end:
        raise malformed("truncated")
    first = reader.read(offset, 2)
    tag, octet = first[0], first[1]
    if tag & _HIGH_TAG == _HIGH_TAG:
        raise malformed("high tag numbers are not used in an envelope")
    if octet == _LONG_FORM:
        raise malformed("indefinite-length (BER streaming) encoding; write DER (no -stream)")
    if octet < _LONG_FORM:
        start, length = offset + 2, octet
    else:
        count = octet & 0x7F
        if count > 8:  # noqa: PLR2004 - no envelope is longer than 2**64 bytes
            raise malformed("length too long")
        length = int.from_bytes(reader.read(offset + 2, count), "big")
        start = offset + 2 + count
    if start + length > end:
        raise malformed("an element runs past its container")
    return tag, start, length


@dataclass(frozen=True)
class Pieces:
    """The top-level elements of an AuthEnvelopedData, raw DER, and where the ciphertext lies."""

    version: bytes
    originator_info: bytes
    recipient_infos: bytes
    content_type: bytes
    content_algorithm: bytes
    ciphertext_offset: int
    ciphertext_length: int
    auth_attrs: bytes
    mac: bytes
    unauth_attrs: bytes


def walk(reader: Reader, size: int) -> Pieces:  # noqa: C901, PLR0912, PLR0915 - one pass over a fixed grammar
    tag, start, length = head(reader, 0, size)
    if tag != SEQUENCE or start + length != size:
        raise malformed("not one DER ContentInfo")
    tag, oid_start, oid_length = head(reader, start, size)
    oid = core.ObjectIdentifier.load(reader.read(start, oid_start + oid_length - start)).dotted
    if oid != OID_AUTH_ENVELOPED:
        raise malformed(f"content type {oid} is not AuthEnvelopedData (RFC 5083)")
    tag, inner, inner_length = head(reader, oid_start + oid_length, size)
    if tag != _CONTEXT_0:
        raise malformed("no [0] content")
    tag, position, body_length = head(reader, inner, inner + inner_length)
    if tag != SEQUENCE:
        raise malformed("AuthEnvelopedData is not a SEQUENCE")
    end = position + body_length
    raw: dict[str, bytes] = {}
    ciphertext = (0, 0)
    header_bytes = 0
    order = ("version", "originator", "recipients", "content", "auth", "mac", "unauth")
    expected = {0x02: "version", 0xA0: "originator", 0x31: "recipients", 0x30: "content", 0xA1: "auth", 0x04: "mac"}
    expected[0xA2] = "unauth"
    last = -1
    while position < end:
        tag, content, length = head(reader, position, end)
        name = expected.get(tag)
        if name is None or order.index(name) <= last:
            raise malformed(f"unexpected element (tag 0x{tag:02x}) in AuthEnvelopedData")
        last = order.index(name)
        if name == "content":
            c_end = content + length
            t1, s1, l1 = head(reader, content, c_end)
            t2, s2, l2 = head(reader, s1 + l1, c_end)
            if t1 != _OID or t2 != SEQUENCE:
                raise malformed("authEncryptedContentInfo")
            raw["content_type"] = reader.read(content, s1 + l1 - content)
            raw["algorithm"] = reader.read(s1 + l1, s2 + l2 - (s1 + l1))
            after = s2 + l2
            if after < c_end:
                t3, s3, l3 = head(reader, after, c_end)
                if t3 == _CONTEXT_0:
                    raise malformed("constructed (BER) encrypted content; write DER")
                if t3 != _PRIMITIVE_0 or s3 + l3 != c_end:
                    raise malformed("encryptedContent")
                ciphertext = (s3, l3)
        else:
            element = content + length - position
            header_bytes += element
            if header_bytes > _HEADER_LIMIT:
                raise malformed("the cleartext part is too long")
            raw[name] = reader.read(position, element)
        position = content + length
    for needed in ("version", "recipients", "content_type", "mac"):
        if needed not in raw:
            raise malformed(f"{needed} missing")
    return Pieces(
        version=raw["version"],
        originator_info=raw.get("originator", b""),
        recipient_infos=raw["recipients"],
        content_type=raw["content_type"],
        content_algorithm=raw["algorithm"],
        ciphertext_offset=ciphertext[0],
        ciphertext_length=ciphertext[1],
        auth_attrs=raw.get("auth", b""),
        mac=raw["mac"],
        unauth_attrs=raw.get("unauth", b""),
    )


def encode(pieces: Pieces, ciphertext: bytes | memoryview | None) -> tuple[bytes | memoryview, ...]:
    content_head = pieces.content_type + pieces.content_algorithm
    if ciphertext is None:
        encrypted_content = tlv(0x30, content_head)
        tail: tuple[bytes | memoryview, ...] = ()
        body_chunks: list[bytes] = [encrypted_content]
    else:
        inner = content_head + b"\x80" + der_length(len(ciphertext))
        body_chunks = [b"\x30" + der_length(len(inner) + len(ciphertext)) + inner]
        tail = (ciphertext,)
    suffix = pieces.auth_attrs + pieces.mac + pieces.unauth_attrs
    front = pieces.version + pieces.originator_info + pieces.recipient_infos
    body_length = len(front) + sum(len(c) for c in body_chunks) + sum(len(c) for c in tail) + len(suffix)
    sequence_head = b"\x30" + der_length(body_length)
    explicit_head = b"\xa0" + der_length(len(sequence_head) + body_length)
    oid = core.ObjectIdentifier(OID_AUTH_ENVELOPED).dump()
    outer_length = len(oid) + len(explicit_head) + len(sequence_head) + body_length
    prefix = b"\x30" + der_length(outer_length) + oid + explicit_head + sequence_head + front + b"".join(body_chunks)
    if ciphertext is None:
        return (prefix + suffix,)
    return (prefix, ciphertext, suffix)
