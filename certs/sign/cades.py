"""Detached CAdES signatures (CMS, ETSI EN 319 122) over files and structured records.

A signature is CAdES-B-B (content-type, message-digest, signing-certificate-v2, signing-time: the
caller's time or, when none is given, the signer's clock) built from asn1crypto's CMS structures, and
becomes CAdES-B-T when a TSA is given: an RFC 3161 token over the signature value is added as the
unsigned ``signature-time-stamp`` attribute. The result is a DER ``.p7s`` that
``openssl cms -verify -binary -inform DER -in x.p7s -content x.bin -CAfile root.pem -purpose any``
accepts.

Structured records (receipts, opening records, trust lists) are signed as their canonical JSON
bytes (sorted keys, no spaces, UTF-8); verifiers check the exact bytes received and never
re-serialise before verifying.

`verify_detached` checks integrity and the timestamp; `certs.sign.verify` adds trust (path
validation, revocation, trust list) and produces the `VerificationReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from certs import cms
from certs.algorithms import SignatureAlgorithm
from certs.canonical import canonical_json
from certs.errors import Reason, Refused
from certs.tsa import client as tsa_client

SIGNATURE_TIMESTAMP = "signature_time_stamp_token"
_CLOCK_SKEW = timedelta(minutes=5)


async def sign_detached(
    data: bytes,
    identity: cms.SigningIdentity,
    *,
    signing_time: datetime | None = None,
    tsa: tsa_client.TsaTransport | None = None,
) -> bytes:
    """A detached CAdES signature (DER) over ``data``; B-T when ``tsa`` is given.

    The signed attributes always include ``signing-time`` (CAdES-B-B): ``signing_time`` when the
    caller states one (a record's own time, the database clock), else the signer's clock now.
    """
    when = signing_time if signing_time is not None else datetime.now(UTC)
    prepared = cms.prepare_signature(identity, content=data, detached=True, signing_time=when)
    if tsa is None:
        return prepared.finish()
    token = await tsa_client.timestamp(tsa, prepared.signature.value)
    return prepared.finish([cms.attribute_der(SIGNATURE_TIMESTAMP, token)])


@dataclass(frozen=True)
class SignedRecord:
    """A structured record as the exact bytes signed, with its detached signature."""

    data: bytes
    signature: bytes

    def record(self) -> Any:
        import json  # noqa: PLC0415 - only readers of the record need it

        return json.loads(self.data)


async def sign_record(
    record: Mapping[str, Any],
    identity: cms.SigningIdentity,
    *,
    signing_time: datetime | None = None,
    tsa: tsa_client.TsaTransport | None = None,
) -> SignedRecord:
    """Sign the canonical JSON of ``record`` (no floats: amounts are strings or integers)."""
    data = canonical_json(record)
    return SignedRecord(data, await sign_detached(data, identity, signing_time=signing_time, tsa=tsa))


@dataclass(frozen=True)
class DetachedSignature:
    """A cryptographically valid detached signature (trust not yet decided)."""

    signer_certificate: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    algorithm: SignatureAlgorithm
    signing_time: datetime | None
    timestamp: tsa_client.Timestamp | None

    @property
    def best_signature_time(self) -> datetime | None:
        """The time the signature provably existed: the timestamp's, else the claimed signing time."""
        if self.timestamp is not None:
            return self.timestamp.gen_time
        return self.signing_time


def verify_detached(
    data: bytes,
    signature: bytes,
    *,
    validate_tsa: tsa_client.ValidateTsa | None = None,
    require_timestamp: bool = False,
) -> DetachedSignature:
    """Check ``signature`` over ``data``: digest, signature value, signer binding and timestamp.

    Refuses with ``digest-mismatch`` (data altered), ``bad-signature``, ``malformed``,
    ``timestamp-invalid`` or ``timestamp-missing``.
    """
    signed = cms.verify_signed_data(signature, detached_content=data)
    if signed.content_type != "data":
        raise Refused(Reason.MALFORMED, f"a detached signature covers data, not {signed.content_type}")
    tokens = cms.unsigned_attribute_der(signed, SIGNATURE_TIMESTAMP)
    stamp = None
    if tokens:
        stamp = tsa_client.verify_token(tokens[0], data=signed.signature.value, validate_tsa=validate_tsa)
        if signed.signing_time is not None and stamp.gen_time + _CLOCK_SKEW < signed.signing_time:
            raise Refused(Reason.TIMESTAMP_INVALID, "the timestamp is earlier than the claimed signing time")
    elif require_timestamp:
        raise Refused(Reason.TIMESTAMP_MISSING, "a timestamped (CAdES-B-T) signature is required")
    return DetachedSignature(
        signer_certificate=signed.signer_certificate,
        certificates=signed.certificates,
        algorithm=signed.algorithm,
        signing_time=signed.signing_time,
        timestamp=stamp,
    )
