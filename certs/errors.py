"""Typed refusals: every "no" from `certs` names a machine reason and says why in words.

`certs` has no HTTP: `trading/` maps a `Reason` to its own status codes, messages and
translations. The reason codes are stable strings (stored in verification reports and audit
entries); the human text is English, for logs and for people reading a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class Indication(StrEnum):
    """ETSI EN 319 102-1 main indications."""

    PASSED = "PASSED"
    INDETERMINATE = "INDETERMINATE"
    FAILED = "FAILED"


class Reason(StrEnum):
    """Why something was refused. The value is the stable machine code."""

    # certificates and paths
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation-unknown"
    UNKNOWN_ISSUER = "unknown-issuer"
    CA_NOT_RECOGNISED = "ca-not-recognised"
    CA_NOT_RECOGNISED_FOR_USAGE = "ca-not-recognised-for-usage"
    CA_NOT_RECOGNISED_FOR_REGION = "ca-not-recognised-for-region"
    CA_NOT_RECOGNISED_FOR_INDUSTRY = "ca-not-recognised-for-industry"
    CA_WITHDRAWN = "ca-withdrawn"
    BAD_SIGNATURE = "bad-signature"
    WRONG_KEY_USAGE = "wrong-key-usage"
    INVALID_PATH = "invalid-path"
    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    ALGORITHM_NOT_ACCEPTED = "algorithm-not-accepted"
    MALFORMED = "malformed"
    # identity, login and credentials
    IDENTITY_UNMAPPED = "identity-unmapped"
    CHALLENGE_UNKNOWN = "challenge-unknown"
    CHALLENGE_EXPIRED = "challenge-expired"
    CHALLENGE_REUSED = "challenge-reused"
    CHALLENGE_WRONG_ORIGIN = "challenge-wrong-origin"
    CREDENTIAL_INVALID = "credential-invalid"
    CREDENTIAL_EXPIRED = "credential-expired"
    # envelopes
    TAMPERED_CIPHERTEXT = "tampered-ciphertext"
    BINDING_MISMATCH = "binding-mismatch"
    NOT_A_RECIPIENT = "not-a-recipient"
    NOT_ENOUGH_SHARES = "not-enough-shares"
    BAD_SHARE = "bad-share"
    COMMITMENT_MISMATCH = "commitment-mismatch"
    # documents and timestamps
    DIGEST_MISMATCH = "digest-mismatch"
    TIMESTAMP_INVALID = "timestamp-invalid"
    TIMESTAMP_MISSING = "timestamp-missing"
    # trust lists
    LIST_FORGED = "trust-list-forged"
    LIST_EXPIRED = "trust-list-expired"
    LIST_ROLLED_BACK = "trust-list-rolled-back"
    LIST_REPLAYED = "trust-list-sequence-reused"
    LIST_INVALID = "trust-list-invalid"
    PEER_NOT_RECOGNISED = "peer-list-not-recognised"


_TEXT: Mapping[Reason, str] = MappingProxyType(
    {
        Reason.EXPIRED: "the certificate has expired",
        Reason.NOT_YET_VALID: "the certificate is not yet valid",
        Reason.REVOKED: "the certificate has been revoked",
        Reason.REVOCATION_UNKNOWN: "no fresh revocation status is available, so the certificate is not accepted",
        Reason.UNKNOWN_ISSUER: "the certificate was issued by an unknown CA",
        Reason.CA_NOT_RECOGNISED: "the issuing CA is not recognised by the trust list",
        Reason.CA_NOT_RECOGNISED_FOR_USAGE: "the issuing CA is recognised, but not for this usage",
        Reason.CA_NOT_RECOGNISED_FOR_REGION: "the issuing CA is recognised, but not for this region",
        Reason.CA_NOT_RECOGNISED_FOR_INDUSTRY: "the issuing CA is recognised, but not for this industry",
        Reason.CA_WITHDRAWN: "the issuing CA has been withdrawn from the trust list",
        Reason.BAD_SIGNATURE: "the signature does not verify",
        Reason.WRONG_KEY_USAGE: "the certificate may not be used for this purpose",
        Reason.INVALID_PATH: "the certificate chain is not valid",
        Reason.UNSUPPORTED_ALGORITHM: "the algorithm is not supported",
        Reason.ALGORITHM_NOT_ACCEPTED: "the algorithm is not accepted by the validation policy",
        Reason.MALFORMED: "the data is malformed",
        Reason.IDENTITY_UNMAPPED: "no organisation or person can be read from the certificate",
        Reason.CHALLENGE_UNKNOWN: "the login challenge is unknown",
        Reason.CHALLENGE_EXPIRED: "the login challenge has expired",
        Reason.CHALLENGE_REUSED: "the login challenge has already been used",
        Reason.CHALLENGE_WRONG_ORIGIN: "the login challenge was issued for another site",
        Reason.CREDENTIAL_INVALID: "the electronic credential is not valid",
        Reason.CREDENTIAL_EXPIRED: "the electronic credential has expired",
        Reason.TAMPERED_CIPHERTEXT: "the sealed bid has been altered or the key is wrong",
        Reason.BINDING_MISMATCH: "the sealed bid belongs to another tender, lot or bidder",
        Reason.NOT_A_RECIPIENT: "this key cannot open the sealed bid",
        Reason.NOT_ENOUGH_SHARES: "not enough key shares to open the sealed bid",
        Reason.BAD_SHARE: "a key share is not one of the shares sealed with the bid",
        Reason.COMMITMENT_MISMATCH: "the bid does not match its commitment",
        Reason.DIGEST_MISMATCH: "the signed data has been altered",
        Reason.TIMESTAMP_INVALID: "the timestamp is not valid",
        Reason.TIMESTAMP_MISSING: "the timestamp is missing",
        Reason.LIST_FORGED: "the trust list is not signed by a pinned operator",
        Reason.LIST_EXPIRED: "the trust list has passed its next-update time",
        Reason.LIST_ROLLED_BACK: "the trust list is older than one already loaded",
        Reason.LIST_REPLAYED: "the trust list reuses a sequence number with different content",
        Reason.LIST_INVALID: "the trust list document is not valid",
        Reason.PEER_NOT_RECOGNISED: "the peer trust list is not recognised",
    }
)

# What each refusal means in ETSI terms: a failure of the object itself, or a verdict that could
# change with more or later information.
_FAILED: frozenset[Reason] = frozenset(
    {
        Reason.REVOKED,
        Reason.BAD_SIGNATURE,
        Reason.DIGEST_MISMATCH,
        Reason.TAMPERED_CIPHERTEXT,
        Reason.BINDING_MISMATCH,
        Reason.COMMITMENT_MISMATCH,
        Reason.LIST_FORGED,
        Reason.MALFORMED,
        Reason.WRONG_KEY_USAGE,
        Reason.BAD_SHARE,
        Reason.CREDENTIAL_INVALID,
    }
)


def describe(reason: Reason) -> str:
    """The plain-language text of ``reason``."""
    return _TEXT[reason]


def indication_of(reason: Reason) -> Indication:
    """FAILED for a refusal about the object itself, INDETERMINATE for one about its context."""
    return Indication.FAILED if reason in _FAILED else Indication.INDETERMINATE


class Refused(Exception):
    """A refusal: ``reason`` for machines, ``text`` for people, ``details`` naming the evidence.

    ``at`` carries the date that belongs to the reason when there is one (the revocation date of a
    revoked certificate, the expiry of an expired one, the withdrawal of a CA).
    """

    def __init__(
        self,
        reason: Reason,
        detail: str | None = None,
        *,
        at: datetime | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.at = at
        self.details: Mapping[str, str] = MappingProxyType(dict(details or {}))
        super().__init__(self.text)

    @property
    def text(self) -> str:
        base = describe(self.reason)
        if self.at is not None:
            base = f"{base} ({self.at.isoformat()})"
        return f"{base}: {self.detail}" if self.detail else base

    @property
    def indication(self) -> Indication:
        return indication_of(self.reason)

    def __repr__(self) -> str:
        return f"Refused({self.reason.value!r}, {self.detail!r})"
