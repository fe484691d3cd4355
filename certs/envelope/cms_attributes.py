"""The binding and escrow attributes a sealed bid carries, and how they are read back.

**Platform attributes** (arc ``2.25.202490350784430039733670305926131377351``, a UUID OID per
ITU-T X.667, ``{arc}.1.x`` binding, ``{arc}.2.x`` escrow), each with exactly one value:

=====================  =========  ==============================================================
OID                    name       value
=====================  =========  ==============================================================
``{arc}.1.1``          tender     UTF8String: 统一交易标识码 (tender code)
``{arc}.1.2``          lot        UTF8String: lot code
``{arc}.1.3``          bidder     UTF8String: bidder USCC
``{arc}.1.4``          deadline   UTF8String: ISO 8601 deadline with UTC offset
``{arc}.1.5``          manifest   OCTET STRING: SHA-256 of the package's inner ``manifest.json``
``{arc}.2.1``          escrow     SEQUENCE { threshold INTEGER, holders SEQUENCE OF OCTET STRING
                                  (certificate SHA-256), shareDigests SEQUENCE OF OCTET STRING }
``{arc}.2.2``          shares     SEQUENCE OF ContentInfo (one AuthEnvelopedData per holder, in
                                  holder order); always unauthenticated
``{arc}.2.3``          index      INTEGER: the share's index (in a share's own envelope)
=====================  =========  ==============================================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from asn1crypto import cms, core  # type: ignore[import-untyped]

from certs.envelope.binding import BidBinding
from certs.envelope.cms_der import SEQUENCE, Reader, head, malformed, set_of, tlv
from certs.errors import Reason, Refused

ARC: Final = "2.25.202490350784430039733670305926131377351"
OID_TENDER: Final = f"{ARC}.1.1"
OID_LOT: Final = f"{ARC}.1.2"
OID_BIDDER: Final = f"{ARC}.1.3"
OID_DEADLINE: Final = f"{ARC}.1.4"
OID_MANIFEST: Final = f"{ARC}.1.5"
OID_ESCROW: Final = f"{ARC}.2.1"
OID_SHARES: Final = f"{ARC}.2.2"
OID_SHARE_INDEX: Final = f"{ARC}.2.3"


def attribute(oid: str, value: bytes) -> bytes:
    return tlv(0x30, core.ObjectIdentifier(oid).dump(), set_of([value]))


def _utf8(text: str) -> bytes:
    return bytes(core.UTF8String(text).dump())


class _Escrow(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("threshold", core.Integer),
        ("holders", core.SequenceOf, {"spec": core.OctetString}),
        ("share_digests", core.SequenceOf, {"spec": core.OctetString}),
    ]


@dataclass(frozen=True)
class EscrowPolicy:
    """Who holds shares of the CEK (certificate SHA-256, in share order), how many open it, and the
    SHA-256 of each share (`binding.share_digest`).
    """

    threshold: int
    holders: tuple[str, ...]
    share_digests: tuple[str, ...]


def binding_attributes(binding: BidBinding) -> list[bytes]:
    return [
        attribute(OID_TENDER, _utf8(binding.tender)),
        attribute(OID_LOT, _utf8(binding.lot)),
        attribute(OID_BIDDER, _utf8(binding.bidder)),
        attribute(OID_DEADLINE, _utf8(binding.deadline.isoformat())),
        attribute(OID_MANIFEST, core.OctetString(bytes.fromhex(binding.manifest_sha256)).dump()),
    ]


def escrow_attribute(policy: EscrowPolicy) -> bytes:
    value = _Escrow(
        {
            "threshold": policy.threshold,
            "holders": [bytes.fromhex(h) for h in policy.holders],
            "share_digests": [bytes.fromhex(d) for d in policy.share_digests],
        }
    )
    return attribute(OID_ESCROW, value.dump())


def shares_attribute(envelopes: Sequence[bytes]) -> bytes:
    return attribute(OID_SHARES, tlv(0x30, *envelopes))


def parse_attributes(der: bytes) -> dict[str, bytes]:
    """``{oid: the single value's DER}`` of a [1]/[2] IMPLICIT SET OF Attribute; refuses repeats."""
    if not der:
        return {}
    try:
        parsed = cms.CMSAttributes.load(b"\x31" + der[1:])
        found: dict[str, bytes] = {}
        for attribute in parsed:
            oid = attribute["type"].dotted
            values = attribute["values"]
            if oid in found or len(values) != 1:
                raise malformed(f"attribute {oid} must appear once with one value")
            found[oid] = values[0].dump()
    except (ValueError, TypeError) as exc:
        raise malformed(f"attributes: {exc}") from None
    return found


def _text(values: dict[str, bytes], oid: str, name: str) -> str:
    if oid not in values:
        raise Refused(Reason.BINDING_MISMATCH, f"the envelope carries no {name} binding attribute ({oid})")
    try:
        return str(core.UTF8String.load(values[oid]).native)
    except ValueError:
        raise malformed(f"the {name} attribute is not a UTF8String") from None


def binding_from(values: dict[str, bytes]) -> BidBinding:
    if OID_MANIFEST not in values:
        raise Refused(Reason.BINDING_MISMATCH, "the envelope carries no manifest binding attribute")
    try:
        manifest = core.OctetString.load(values[OID_MANIFEST]).native
        deadline = datetime.fromisoformat(_text(values, OID_DEADLINE, "deadline"))
    except ValueError:
        raise malformed("the deadline or manifest attribute") from None
    if deadline.tzinfo is None or len(manifest) not in {0, hashlib.sha256().digest_size}:
        raise malformed("the deadline needs its UTC offset and the manifest digest is SHA-256")
    return BidBinding(
        tender=_text(values, OID_TENDER, "tender"),
        lot=_text(values, OID_LOT, "lot"),
        bidder=_text(values, OID_BIDDER, "bidder"),
        deadline=deadline,
        manifest_sha256=manifest.hex(),
    )


def escrow_from(values: dict[str, bytes]) -> EscrowPolicy | None:
    if OID_ESCROW not in values:
        return None
    try:
        escrow = _Escrow.load(values[OID_ESCROW])
        policy = EscrowPolicy(
            threshold=int(escrow["threshold"].native),
            holders=tuple(bytes(h).hex() for h in escrow["holders"].native),
            share_digests=tuple(bytes(d).hex() for d in escrow["share_digests"].native),
        )
    except ValueError:
        raise malformed("the escrow attribute") from None
    if len(policy.holders) != len(policy.share_digests) or not 1 <= policy.threshold <= len(policy.holders):
        raise malformed("the escrow attribute: holders, digests and threshold disagree")
    return policy


def share_envelopes(values: dict[str, bytes]) -> tuple[bytes, ...]:
    if OID_SHARES not in values:
        return ()
    reader = Reader(values[OID_SHARES])
    size = len(values[OID_SHARES])
    tag, position, length = head(reader, 0, size)
    if tag != SEQUENCE:
        raise malformed("the shares attribute is not a SEQUENCE")
    found = []
    while position < length + 2 and position < size:
        _, content, element = head(reader, position, size)
        found.append(reader.read(position, content + element - position))
        position = content + element
    return tuple(found)
