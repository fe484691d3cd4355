"""The decryption-failure remedy plan (解密失败补救方案, Order 20 Art. 31) and its backup channel.

Order 20 Art. 31 lets the tender documents name what happens when a bid cannot be decrypted; the
plan is part of the public tender data (`bidding.remedy_plan`, in the tender API and page), so a bidder
knows before bidding which remedies it can count on:

* **escrow**: k of n key holders named in the tender release their shares, for a bid the host
  recorded a platform-side incident for (`bidding.opening.services.escrow.KeyEscrow.release_shares`);
* **backup**: the bidder uploads, inside the decryption window, the backup its bid tool generated
  together with the sealed file (domain-rules §1.4: Jiangsu's "备份文件", China Resources' non-encrypted
  file): the part's bytes as they were sealed. `check_backup` accepts a backup only when its SHA-256
  is the ``contentSha256`` of the signed manifest the receipt acknowledged before the deadline, and
  a package only with its inner manifest bound to the sealed envelopes: a backup can open the bid,
  never change it. Pure file and crypto work, run in a worker thread.
"""

from __future__ import annotations

import hashlib
from typing import Final

from bidding.client import format as fmt
from bidding.opening.decryption import (
    OpenedPart,
    OpenFailed,
    StoredBid,
    check_inner_manifest,
    envelope_headers,
    price_summary_of,
)

BACKUP_NAMESPACE: Final = "backups"
"""File-store namespace of backup packages (the plaintext the manifest pins; read by the evaluation)."""
MAX_BACKUP_BYTES: Final = 64 * 1024 * 1024
"""One backup part in one request (the minimal channel; larger packages need the resumable upload)."""


def check_backup(stored: StoredBid, kind: str, content: bytes) -> OpenedPart:
    """A backup of one part: the bytes the signed, receipted manifest pins (``contentSha256``); a
    package also carries the inner manifest its sealed envelope is bound to. No content key opened
    it (``content_key`` is empty).
    """
    digest = hashlib.sha256(content).hexdigest()
    if digest != stored.manifest["contentSha256"][kind]:
        msg = (
            f"the backup {kind} is not the one sealed: its SHA-256 differs from the signed manifest's"
            " contentSha256 the receipt acknowledged"
        )
        raise OpenFailed(msg, field="content", rule="backup-mismatch")
    if kind == fmt.PACKAGE:
        header = envelope_headers(stored)[kind]
        sealed_binding = fmt.envelope_binding(header)
        binding = stored.binding(sealed_binding.manifest_sha256)
        if sealed_binding != binding:
            msg = "the sealed package is bound to another tender, lot, bidder or deadline than the receipt names"
            raise OpenFailed(msg, field=f"parts.{kind}", rule="binding-mismatch")
        check_inner_manifest(content, binding, stored.manifest)
    else:
        price_summary_of(content, stored)
    return OpenedPart(content, digest, b"")
