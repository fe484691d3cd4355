"""The printable receipt (递交回执): one signed receipt as a Chinese PDF for the bidder's files.

The PDF is a reading copy, not the evidence: the evidence is the receipt's exact JSON bytes and the
platform's detached signature over them (`bidding.receipts`), which the PDF names by digest and
tells the reader how to verify offline. Rendered on request with the kernel renderer (WeasyPrint
with the CJK fonts, like the opening record in `bidding.opening.record`) and not stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bidding.intake.base import Receipt

TEMPLATE: Final = "bidding/receipt_pdf.html"
CHINA: Final = timezone(timedelta(hours=8))
KIND_TITLES: Final = {
    "submission": "投标文件递交回执",
    "withdrawal": "投标文件撤回回执",
    "revocation": "投标文件撤销回执",
}
PART_NAMES: Final = {"package": "投标文件", "price-summary": "开标一览表（报价）"}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _local(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value or "")


@dataclass(frozen=True, slots=True)
class RootReference:
    """Where the platform's root certificate is published and its SHA-256 fingerprint, printed so
    that the reader fetches the right file and can compare it.
    """

    url: str
    sha256: str


def receipt_html(receipt: Receipt, *, tender_title: str, root: RootReference | None = None) -> str:
    """The receipt's HTML (Chinese): its fields, the digests of its signed bytes and how to verify."""
    record = receipt.record
    kind = str(record.get("kind", "submission"))
    return _env.get_template(TEMPLATE).render(
        title=KIND_TITLES.get(kind, KIND_TITLES["submission"]),
        record=record,
        tender_title=tender_title,
        parts=[(PART_NAMES.get(kind, kind), part) for kind, part in sorted((record.get("parts") or {}).items())],
        received_at=_local(record.get("receivedAt")),
        deadline=_local(record.get("deadline")) if record.get("deadline") else "",
        receipt_sha256=hashlib.sha256(receipt.receipt).hexdigest(),
        signature_sha256=hashlib.sha256(receipt.signature).hexdigest(),
        root=root,
    )


def render_receipt(receipt: Receipt, *, tender_title: str, root: RootReference | None = None) -> bytes:
    """The PDF (blocking: call it in a thread)."""
    # Imported here: WeasyPrint is heavy, and web processes import this module for its routes.
    from trading.kernel.pdf.render import render_pdf  # noqa: PLC0415

    return render_pdf(receipt_html(receipt, tender_title=tender_title, root=root))
