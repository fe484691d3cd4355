"""What a sealed bid belongs to (tender, lot, bidder, deadline, inner manifest digest), shared by
both envelope formats (`sealed_bid` v1 and `cms_env`), and the digest recorded for each escrow share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from certs.canonical import canonical_json
from certs.envelope import threshold


@dataclass(frozen=True, slots=True)
class BidBinding:
    """What a sealed bid belongs to; authenticated with the ciphertext (AES-GCM associated data or
    CMS authenticated attributes) and bound into every key wrap.
    """

    tender: str
    lot: str
    bidder: str
    deadline: datetime
    manifest_sha256: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "tender": self.tender,
            "lot": self.lot,
            "bidder": self.bidder,
            "deadline": self.deadline.isoformat(),
            "manifestSha256": self.manifest_sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> BidBinding:
        return cls(
            tender=data["tender"],
            lot=data["lot"],
            bidder=data["bidder"],
            deadline=datetime.fromisoformat(data["deadline"]),
            manifest_sha256=data.get("manifestSha256", ""),
        )

    def aad(self) -> bytes:
        return canonical_json(self.to_dict())

    def differing(self, other: BidBinding) -> list[str]:
        """The fields (names as in `to_dict`) in which ``other`` differs from this binding."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [key for key, value in mine.items() if theirs.get(key) != value]


def share_digest(share: threshold.Share) -> str:
    return hashlib.sha256(b"ggzy-bid/1|share|" + share.to_bytes()).hexdigest()
