"""The ``ggzy-archive/1`` format: names, paths and the canonical JSON both sides agree on.

Standard library only: the offline verifier (`bidding.award.verify`) reads it on machines without
the platform. The format is documented in ``docs/archive.md``; change it only by adding a new
format tag, never in place, since archives are kept for at least 15 years.
"""

from __future__ import annotations

import json
from typing import Any, Final

FORMAT: Final = "ggzy-archive/1"
MANIFEST: Final = "manifest.json"
MANIFEST_SIGNATURE: Final = "manifest.sig.json"
"""The platform key's signature over the exact bytes of ``manifest.json`` (``{"algorithm",
"key_id", "value"}``, value base64), the same key and algorithms as the ledger's checkpoints."""
PLATFORM_KEY: Final = "keys/platform.pem"
CHECKPOINTS: Final = "ledger/checkpoints.json"
"""A JSON array of the covering checkpoints, each as ``published_checkpoint`` gives it out."""

# File kinds. Documents carry signatures; the rest is what checks them.
TENDER_DOCUMENT: Final = "tender-document"
CLARIFICATION: Final = "clarification"
AMENDMENT: Final = "amendment"
RECEIPT: Final = "receipt"
BID_MANIFEST: Final = "bid-manifest"
OPENING_RECORD: Final = "opening-record"
EVALUATION_REPORT: Final = "evaluation-report"
SIGNATURE: Final = "signature"
LEDGER_CHAIN: Final = "ledger-chain"
LEDGER_CHECKPOINTS: Final = "ledger-checkpoints"
PLATFORM_PUBLIC_KEY: Final = "platform-key"
CERTIFICATE: Final = "certificate"
NOT_DOCUMENTS: Final = frozenset({SIGNATURE, LEDGER_CHAIN, LEDGER_CHECKPOINTS, PLATFORM_PUBLIC_KEY, CERTIFICATE})

# How a document is signed (``files[].signatures[].type``).
CADES_DETACHED: Final = "cades-detached"
"""A detached CMS signature over the file's bytes, in the file named by ``path``."""
PADES: Final = "pades"
"""Signatures embedded in the PDF (``count`` of them, document timestamps included)."""


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 kept: the ledger's canonical JSON for JSON-typed values
    (``trading.ledger.encoding`` states it; ``tests/bidding/award`` checks they agree).
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def chain_path(chain: str) -> str:
    """``project:CODE`` → ``ledger/project.CODE.jsonl`` (a chain name is letters, digits, ``.-_:``)."""
    return f"ledger/{chain.replace(':', '.')}.jsonl"
