"""RFC 3161 client: build requests, check responses, verify tokens.

The transport is a protocol (`TsaTransport`): `LocalTsa` calls the platform TSA in-process; an HTTP
transport lives in `trading/` (or `HttpTsa` here, on urllib, run in a thread). A token is accepted
only when its CMS signature verifies, the TSA certificate carries the critical ``timeStamping`` EKU
and was valid at ``genTime``, the imprint covers the data, and the nonce echoes the request. Whether
the TSA is *recognised* (its chain and trust-list status) is decided by the caller's ``validate_tsa``
hook, which `certs.pathval` provides.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from asn1crypto import tsp  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certs import cms, der
from certs.errors import Reason, Refused
from certs.percert import per_certificate
from certs.providers import pyca
from certs.tsa.asn1 import TimeStampResp
from certs.tsa.server import TimeStampAuthority


class TsaTransport(Protocol):
    """Sends a DER TimeStampReq to a TSA and returns its DER TimeStampResp."""

    async def request(self, request_der: bytes) -> bytes: ...


class LocalTsa:
    """The platform TSA in-process."""

    def __init__(self, authority: TimeStampAuthority) -> None:
        self.authority = authority

    async def request(self, request_der: bytes) -> bytes:
        return self.authority.respond(request_der)


class HttpTsa:
    """An RFC 3161 TSA over HTTP POST (urllib in a worker thread; the URL comes from configuration)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            msg = "TSA URL must be http(s)"
            raise ValueError(msg)
        self.url = url
        self.timeout = timeout

    async def request(self, request_der: bytes) -> bytes:
        def post() -> bytes:
            req = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
                self.url, data=request_der, headers={"Content-Type": "application/timestamp-query"}, method="POST"
            )
            with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                return bytes(response.read())

        return await asyncio.to_thread(post)


ValidateTsa = Callable[[x509.Certificate, tuple[x509.Certificate, ...], datetime], None]
"""Decides whether a TSA certificate (with the certificates shipped in the token) is trusted at a time."""


@dataclass(frozen=True)
class TimestampRequest:
    der: bytes
    digest_name: str
    digest: bytes
    nonce: int | None


@dataclass(frozen=True)
class Timestamp:
    """A verified timestamp token: when, by whom, over which digest."""

    token: bytes
    gen_time: datetime
    serial_number: int
    policy: str
    digest_name: str
    digest: bytes
    tsa_certificate: x509.Certificate
    certificates: tuple[x509.Certificate, ...]


def make_request(
    data: bytes | None = None,
    *,
    digest: bytes | None = None,
    digest_name: str = "sha256",
    nonce: bool = True,
    cert_req: bool = True,
    policy: str | None = None,
) -> TimestampRequest:
    """A TimeStampReq over ``data`` (or a precomputed ``digest``) with a random 64-bit nonce."""
    if (data is None) == (digest is None):
        msg = "give data or digest"
        raise ValueError(msg)
    value = digest if digest is not None else pyca.digest(data or b"", digest_name)
    nonce_value = secrets.randbits(63) if nonce else None
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": digest_name}, "hashed_message": value},
        "cert_req": cert_req,
    }
    if nonce_value is not None:
        fields["nonce"] = nonce_value
    if policy is not None:
        fields["req_policy"] = policy
    return TimestampRequest(bytes(tsp.TimeStampReq(fields).dump()), digest_name, value, nonce_value)


def token_from_response(response_der: bytes, request: TimestampRequest) -> bytes:
    """The token (DER ContentInfo) of a granted response that answers ``request``."""
    try:
        response = TimeStampResp.load(response_der)
        status = response["status"]["status"].native
    except (ValueError, TypeError) as exc:
        raise Refused(Reason.TIMESTAMP_INVALID, f"malformed TSA response: {exc}") from None
    if status not in {"granted", "granted_with_mods"}:
        text = response["status"]["status_string"].native or []
        raise Refused(Reason.TIMESTAMP_INVALID, f"TSA answered {status}: {'; '.join(text)}")
    token = bytes(response["time_stamp_token"].dump())
    verify_token(token, digest=request.digest, digest_name=request.digest_name)
    info = _tst_info(cms.load_content_info(token)["content"]["encap_content_info"])
    if request.nonce is not None and info["nonce"].native != request.nonce:
        raise Refused(Reason.TIMESTAMP_INVALID, "the TSA response does not echo the request nonce")
    return token


async def timestamp(
    transport: TsaTransport, data: bytes | None = None, *, digest: bytes | None = None, digest_name: str = "sha256"
) -> bytes:
    """Obtain a token over ``data`` (or ``digest``) from ``transport``."""
    request = make_request(data, digest=digest, digest_name=digest_name)
    return token_from_response(await transport.request(request.der), request)


def _tst_info(encap: Any) -> Any:
    """The TSTInfo of a token's EncapsulatedContentInfo."""
    if encap["content_type"].native != "tst_info":
        raise Refused(Reason.TIMESTAMP_INVALID, "the token does not contain a TSTInfo")
    return encap["content"].parsed


def verify_token(
    token: bytes,
    *,
    data: bytes | None = None,
    digest: bytes | None = None,
    digest_name: str | None = None,
    validate_tsa: ValidateTsa | None = None,
) -> Timestamp:
    """Verify a timestamp token over ``data`` (or over a known ``digest``); returns what it attests.

    Refuses with ``timestamp-invalid`` (or the TSA validator's own reason).
    """
    try:
        signed = cms.verify_signed_data(token)
    except Refused as refusal:
        raise Refused(Reason.TIMESTAMP_INVALID, f"token signature: {refusal.text}") from None
    read = _read_tst_info(signed)
    name, hashed_message = read.digest_name, read.digest
    if digest_name is not None and name != digest_name:
        raise Refused(Reason.TIMESTAMP_INVALID, f"token imprint uses {name}, expected {digest_name}")
    expected = digest if digest is not None else (pyca.digest(data, name) if data is not None else None)
    if expected is None or not hmac.compare_digest(hashed_message, expected):
        raise Refused(Reason.TIMESTAMP_INVALID, "the token does not cover this data")
    gen_time = read.gen_time
    tsa_cert = signed.signer_certificate
    _check_tsa_certificate(tsa_cert, gen_time)
    if validate_tsa is not None:
        validate_tsa(tsa_cert, signed.certificates, gen_time)
    return Timestamp(
        token=token,
        gen_time=gen_time,
        serial_number=read.serial_number,
        policy=read.policy,
        digest_name=name,
        digest=hashed_message,
        tsa_certificate=tsa_cert,
        certificates=signed.certificates,
    )


@dataclass(frozen=True)
class _TstInfo:
    """What `verify_token` reads of a TSTInfo."""

    policy: str
    digest_name: str
    digest: bytes
    serial_number: int
    gen_time: datetime


# TSTInfo's fields after genTime, in their order (RFC 3161 §2.4.2): accuracy, ordering, nonce, tsa, extensions
_TST_OPTIONAL_TAGS: Final = (der.SEQUENCE, der.BOOLEAN, der.INTEGER, 0xA0, 0xA1)


def _read_tst_info(signed: cms.VerifiedSignedData) -> _TstInfo:
    """The token's TSTInfo, read with `certs.der` when it has the common form, else with asn1crypto."""
    if signed.content_type == "tst_info":
        try:
            return _read_tst_info_der(signed.content)
        except (der.DerError, ValueError, KeyError):
            pass  # the full parser decides
    return _read_tst_info_parsed(signed.encap_content_info)


def _read_tst_info_parsed(encap: Any) -> _TstInfo:
    """The TSTInfo of an EncapsulatedContentInfo, read with asn1crypto (any form; refuses another content)."""
    info = _tst_info(encap)
    imprint = info["message_imprint"]
    return _TstInfo(
        policy=info["policy"].native,
        digest_name=imprint["hash_algorithm"]["algorithm"].native,
        digest=imprint["hashed_message"].native,
        serial_number=info["serial_number"].native,
        gen_time=info["gen_time"].native,
    )


def _read_tst_info_der(data: bytes) -> _TstInfo:
    for shape in _tst_shapes.get(len(data), ()):
        if all(data.startswith(octets, offset) for offset, octets in shape.fixed):
            return shape.read(data)
    return _read_tst_info_walk(data)


def _read_tst_info_walk(data: bytes) -> _TstInfo:
    fields = der.children(data, der.only(data, der.SEQUENCE))
    version, policy, imprint, serial, gen_time, *rest = fields
    if rest:
        tags = [f[0] for f in rest]
        if tags != [t for t in _TST_OPTIONAL_TAGS if t in tags] or len(set(tags)) != len(tags):
            raise der.DerError("not the common TSTInfo")
    if data[version[2] : version[3]] != b"\x01" or version[0] != der.INTEGER:  # INTEGER 1, the only DER form
        raise der.DerError("not the common TSTInfo")
    algorithm, hashed = der.children(data, der.expect(imprint, der.SEQUENCE))
    read = _TstInfo(
        policy=der.dotted(der.tlv(data, der.expect(policy, der.OBJECT_IDENTIFIER))),
        digest_name=cms.digest_name(der.tlv(data, der.expect(algorithm, der.SEQUENCE))),
        digest=der.contents(data, der.expect(hashed, der.OCTET_STRING)),
        serial_number=der.integer(data, serial),
        gen_time=der.time(data, der.expect(gen_time, der.GENERALIZED_TIME)),
    )
    # the contents that differ from token to token: the imprint, serial, time and the nonce (never read)
    varying = [(hashed[2], hashed[3]), (serial[2], serial[3]), (gen_time[2], gen_time[3])]
    varying += [(f[2], f[3]) for f in rest if f[0] == der.INTEGER]
    fixed, offset = [], 0
    for start, end in sorted(varying):
        fixed.append((offset, data[offset:start]))
        offset = end
    fixed.append((offset, data[offset:]))
    if len(_tst_shapes) >= _TST_SHAPE_CACHE_SIZE:
        _tst_shapes.clear()
    known = _tst_shapes.setdefault(len(data), [])
    del known[_TST_SHAPES_PER_LENGTH - 1 :]
    known.insert(
        0,
        _TstShape(
            tuple(sorted(((at, octets) for at, octets in fixed if octets), key=lambda piece: len(piece[1]))),
            read.policy,
            read.digest_name,
            hashed,
            serial,
            gen_time,
        ),
    )
    return read


# A TSA's TSTInfos differ only inside the imprint's digest, the serial number, genTime and the nonce:
# every tag and length octet and every other value repeat. After `_read_tst_info_walk` accepts one, the
# octets outside those contents are kept (`_TstShape`); a TSTInfo of the same length equal in all of them
# has the same tree (the reader reads only tags and lengths, all among the equal octets), so the policy
# and digest algorithm read from them hold, and the varying contents are read again with the same
# checks (`certs.der.integer`, `certs.der.time`). Anything else: the walk, as before.
_TST_SHAPE_CACHE_SIZE: Final = 256
_TST_SHAPES_PER_LENGTH: Final = 8


@dataclass(frozen=True, slots=True)
class _TstShape:
    fixed: tuple[tuple[int, bytes], ...]
    policy: str
    digest_name: str
    hashed: der.Node
    serial: der.Node
    gen_time: der.Node

    def read(self, data: bytes) -> _TstInfo:
        return _TstInfo(
            policy=self.policy,
            digest_name=self.digest_name,
            digest=der.contents(data, self.hashed),
            serial_number=der.integer(data, self.serial),
            gen_time=der.time(data, self.gen_time),
        )


_tst_shapes: dict[int, list[_TstShape]] = {}


def _check_tsa_certificate(certificate: x509.Certificate, at: datetime) -> None:
    wrong_eku = _tsa_eku_problem(certificate)
    if wrong_eku is not None:
        raise Refused(Reason.TIMESTAMP_INVALID, wrong_eku)
    not_before, not_after = _validity(certificate)
    if not not_before <= at <= not_after:
        raise Refused(Reason.TIMESTAMP_INVALID, "the TSA certificate was not valid at the token's time")


@per_certificate(maxsize=256)
def _validity(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """NotBefore and notAfter, once per certificate (`cryptography` builds both datetimes on every access)."""
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


@per_certificate(maxsize=256)
def _tsa_eku_problem(certificate: x509.Certificate) -> str | None:
    """What is wrong with the certificate's EKU for a TSA, once per certificate (equal by DER): every
    token of a TSA ships the same one.
    """
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return "the TSA certificate has no timeStamping EKU"
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        return "the TSA certificate's EKU must be critical and only timeStamping"
    return None


def clear_caches() -> None:
    """Forget the per-certificate checks cached here and in `certs.cms` (for cold benchmarks)."""
    _tsa_eku_problem.cache_clear()
    _validity.cache_clear()
    _tst_shapes.clear()
    cms.clear_caches()
