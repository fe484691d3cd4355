"""One-time challenges for certificate and QR login, and the evidence a certificate decision keeps.

certs' `ChallengeStore` protocol is synchronous while the platform's database is not, so
`DbChallengeStore` wraps one challenge row that the caller has already read (and locked) in its
transaction: `consume` marks it used in memory and the caller's flush writes it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from datetime import datetime
from typing import Any, Final

from certs.auth.challenge import Challenge
from certs.auth.credentials import Credential, CredentialKind
from certs.errors import Reason, Refused
from certs.pathval.identity import Party
from certs.pathval.validate import ValidatedPath
from certs.trustlist.model import fingerprint
from trading.parties.certificates.revocation import describe_evidence
from trading.parties.certificates.trust import Refusal
from trading.parties.models import ChallengePurpose, LoginChallenge

ORIGIN: Final = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class DbChallengeStore:
    """certs' `ChallengeStore` over one challenge row, locked in the caller's transaction.

    The row is read (``SELECT … FOR UPDATE``) before certs runs, because certs calls the store
    synchronously; `consume` marks it used in memory and the caller's flush writes it. A challenge
    of another purpose, or issued to another user, is as unknown as a nonce never issued.
    """

    def __init__(
        self,
        row: LoginChallenge | None,
        purpose: ChallengePurpose,
        now: datetime,
        *,
        user_id: uuid.UUID | None = None,
    ) -> None:
        self.row = row
        self.purpose = purpose
        self.now = now
        self.user_id = user_id
        self.consumed = False

    def matches(self) -> bool:
        row = self.row
        return (
            row is not None
            and row.purpose is self.purpose
            and (self.purpose is not ChallengePurpose.BIND or row.user_id == self.user_id)
        )

    def put(self, challenge: Challenge) -> None:
        del challenge
        msg = "challenges are issued by CertificateService.issue_challenge"
        raise TypeError(msg)

    def consume(self, nonce: str) -> Challenge:
        row = self.row
        if row is None or row.nonce != nonce or not self.matches():
            raise Refused(Reason.CHALLENGE_UNKNOWN, "no such challenge was issued")
        if row.used_at is not None:
            raise Refused(Reason.CHALLENGE_REUSED, "the challenge was answered before", at=row.used_at)
        row.used_at = self.now
        self.consumed = True
        return Challenge(row.nonce, row.origin, row.purpose.value, row.issued_at, row.expires_at)

    def settle(self, refusal: Refusal) -> bool:
        """After a refusal: use the challenge up if it was not (it answers once); True if this attempt did."""
        row = self.row
        if row is None or not self.matches():
            return False
        if row.used_at is None:
            row.used_at = self.now
            self.consumed = True
        if self.consumed and row.purpose is ChallengePurpose.QR_LOGIN and row.verified_at is None:
            row.refusal = refusal.reason
        return self.consumed


def credential_kind(credential: Credential) -> CredentialKind:
    """Which credential the holder presents, from its (still unverified) type; verification checks it."""
    try:
        declared = json.loads(credential.document)["type"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused(Reason.MALFORMED, f"credential document: {exc}") from None
    for kind in CredentialKind:
        if kind.type_uri == declared:
            return kind
    raise Refused(Reason.CREDENTIAL_INVALID, f"unknown credential type {declared!r}")


def new_browser_secret() -> str:
    """The secret a browser keeps (cookie) to collect the session its QR code earned."""
    return secrets.token_urlsafe(32)


def path_evidence(path: ValidatedPath, party: Party, algorithm: str | None) -> dict[str, Any]:
    """What a certificate decision rests on, for the ledger entry's digested data (rule 3, §1.3)."""
    recognition = path.recognition
    return {
        "certificate_sha256": fingerprint(path.leaf),
        "chain_sha256": [fingerprint(certificate) for certificate in path.chain],
        "ca": recognition.service.name,
        "trust_list": {
            "source": recognition.source,
            "sequence": recognition.list_sequence,
            "sha256": recognition.list_sha256,
        },
        "revocation": describe_evidence(path.revocation),
        "algorithm": algorithm,
        "party_kind": party.kind,
        "validated_at": path.at.isoformat(),
    }
