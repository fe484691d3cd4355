"""A uniform verification report, in ETSI terms, with the evidence the verdict rests on.

Every verifier in `certs` can express its result as a `VerificationReport`: the ETSI indication
(PASSED / INDETERMINATE / FAILED), the refusal reason when there is one, the signature algorithm,
the signer, the signing and timestamp times, the trust-list sequence number used, and the
evidence (CRLs, OCSP responses, timestamp tokens) that `trading/` stores next to the signature.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from certs.errors import Indication, Reason, Refused, describe


@dataclass(frozen=True, slots=True)
class Evidence:
    """One item the verdict rests on: ``kind`` is ``crl``, ``ocsp``, ``timestamp`` or ``trust-list``."""

    kind: str
    description: str
    der: bytes = b""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


@dataclass(frozen=True, slots=True)
class VerificationReport:
    indication: Indication
    reason: Reason | None = None
    message: str = ""
    algorithm: str | None = None
    signer: str | None = None
    signer_certificate_sha256: str | None = None
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    trust_list_sequence: int | None = None
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.indication is Indication.PASSED

    @classmethod
    def refused(cls, refusal: Refused, **known: Any) -> VerificationReport:
        """The report of a refusal, keeping whatever was learnt before it (algorithm, signer, …)."""
        return cls(indication=refusal.indication, reason=refusal.reason, message=refusal.text, **known)

    @classmethod
    def passed_with(cls, **known: Any) -> VerificationReport:
        return cls(indication=Indication.PASSED, message="valid", **known)

    def raise_for_refusal(self) -> None:
        """Raise the refusal this report records (no-op for a PASSED report)."""
        if self.reason is not None:
            raise Refused(self.reason, self.message or describe(self.reason))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (times in RFC 3339, evidence as base64 DER) for storage beside the signature."""
        return {
            "indication": self.indication.value,
            "reason": self.reason.value if self.reason else None,
            "message": self.message,
            "algorithm": self.algorithm,
            "signer": self.signer,
            "signerCertificateSha256": self.signer_certificate_sha256,
            "signingTime": self.signing_time.isoformat() if self.signing_time else None,
            "timestampTime": self.timestamp_time.isoformat() if self.timestamp_time else None,
            "trustListSequence": self.trust_list_sequence,
            "evidence": [
                {"kind": e.kind, "description": e.description, "der": base64.b64encode(e.der).decode()}
                for e in self.evidence
            ],
        }
