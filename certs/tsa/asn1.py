"""RFC 3161 structures asn1crypto gets slightly wrong."""

from __future__ import annotations

from asn1crypto import cms, core, tsp  # type: ignore[import-untyped]


class TimeStampResp(core.Sequence):  # type: ignore[misc]
    """``TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }``.

    asn1crypto's own class makes the token mandatory, so rejections could be neither built nor read.
    """

    # a list: asn1crypto completes the field tuples in place
    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]
