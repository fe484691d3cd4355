"""What the platform answers the bidder client with: the signed receipt and an upload's state."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from bidding.client.sdk import verify_receipt


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
