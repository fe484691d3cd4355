"""What the platform answers the bidder client with: the signed receipt and an upload's state."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from certs.errors import Refused
from certs.sign.cades import verify_detached


@dataclass(frozen=True)
class Receipt:
    """The platform's signed receipt: the exact bytes signed and the detached CAdES signature."""

    receipt_no: str
    record: dict[str, Any]
    receipt: bytes
    signature: bytes

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Receipt:
        return cls(
            receipt_no=str(data["receiptNo"]),
            record=dict(data.get("record") or {}),
            receipt=base64.b64decode(data["receipt"], validate=True),
            signature=base64.b64decode(data["signature"], validate=True),
        )

    def save(self, directory: Path) -> tuple[Path, Path]:
        """Write ``<receiptNo>.json`` (the exact signed bytes) and ``<receiptNo>.p7s`` (DER), so
        ``openssl cms -verify -binary -inform DER -in R.p7s -content R.json -CAfile root.pem
        -purpose any`` checks them without this tool.
        """
        directory.mkdir(parents=True, exist_ok=True)
        stem = Path(self.receipt_no).name  # a receipt number is never a path
        json_path, p7s_path = directory / f"{stem}.json", directory / f"{stem}.p7s"
        json_path.write_bytes(self.receipt)
        p7s_path.write_bytes(self.signature)
        return json_path, p7s_path

    def verify(
        self, trust_roots: Sequence[x509.Certificate], *, expected: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """`verify_receipt` over the exact bytes received (never over ``record``, which is a convenience)."""
        return verify_receipt(self.receipt, self.signature, trust_roots, expected=expected)


@dataclass(frozen=True)
class UploadState:
    id: str
    offset: int
    size: int
    status: str
    refusal: Any = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> UploadState:
        return cls(
            id=str(data["id"]),
            offset=int(data.get("offset", 0)),
            size=int(data.get("size", 0)),
            status=str(data.get("status", "")),
            refusal=data.get("refusal"),
        )


class ReceiptInvalid(Exception):
    """The platform's receipt does not verify; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _issuer_of(certificate: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return candidate
    return None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def chain_to_roots(
    leaf: x509.Certificate,
    shipped: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: datetime,
    *,
    max_depth: int = 5,
) -> list[x509.Certificate]:
    """Walk from ``leaf`` through ``shipped`` certificates to one of ``roots``: every link's signature,
    every issuer a CA, every certificate valid at ``at``. Revocation is not checked here (a bidder
    has no CRL source offline); the receipt's timestamp fixes the time that counts.
    """
    chain = [leaf]
    current = leaf
    for _ in range(max_depth + 1):
        if not current.not_valid_before_utc <= at <= current.not_valid_after_utc:
            raise ReceiptInvalid(f"{current.subject.rfc4514_string()} was not valid at {at.isoformat()}")
        if any(current == root for root in roots):
            return chain
        issuer = _issuer_of(current, roots) or _issuer_of(current, [c for c in shipped if c not in chain])
        if issuer is None:
            raise ReceiptInvalid(f"no trusted issuer for {current.subject.rfc4514_string()}")
        if not _is_ca(issuer):
            raise ReceiptInvalid(f"{issuer.subject.rfc4514_string()} is not a CA")
        chain.append(issuer)
        current = issuer
    raise ReceiptInvalid("the certificate chain is too long")


def verify_receipt(
    receipt_bytes: bytes,
    signature_der: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    expected: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify the platform's receipt: CAdES-B-T signature over the exact bytes, signer and TSA chained
    to ``trust_roots``, and (when given) each ``expected`` field equal. Returns the parsed record.
    """
    if not trust_roots:
        raise ReceiptInvalid("no trust roots given")

    def validate_tsa(certificate: x509.Certificate, shipped: tuple[x509.Certificate, ...], at: datetime) -> None:
        chain_to_roots(certificate, shipped, trust_roots, at)

    try:
        verified = verify_detached(receipt_bytes, signature_der, validate_tsa=validate_tsa, require_timestamp=True)
    except Refused as refusal:
        raise ReceiptInvalid(f"signature: {refusal.reason}: {refusal.text}") from None
    except ReceiptInvalid as invalid:
        raise ReceiptInvalid(f"timestamp authority: {invalid.reason}") from None
    at = verified.best_signature_time
    if at is None:  # pragma: no cover - require_timestamp guarantees a time
        raise ReceiptInvalid("the receipt carries no time")
    chain_to_roots(verified.signer_certificate, verified.certificates, trust_roots, at)
    try:
        record = json.loads(receipt_bytes)
    except ValueError:
        raise ReceiptInvalid("the receipt is not JSON") from None
    if not isinstance(record, dict):
        raise ReceiptInvalid("the receipt is not a JSON object")
    for key, value in (expected or {}).items():
        if record.get(key) != value:
            raise ReceiptInvalid(f"{key} is {record.get(key)!r}, expected {value!r}")
    return record


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ReceiptInvalid(f"not PEM certificates: {exc}") from None
