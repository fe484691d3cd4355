"""What the bidding pages share: paths, refusals for the upload script, uploads, display helpers.
Pages use cookie sessions and CSRF and take forms through the kernel's one form path
(`trading.kernel.web.forms.submit`) with bidding's label table (`bidding.web.labels`); times are
shown in China Standard Time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import UploadFile

from bidding.models import TenderStatus
from bidding.web.labels import BIDDING
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import refusals
from trading.kernel.web.forms import REQUIRED, rule_text
from trading.kernel.web.i18n import gettext
from trading.kernel.web.templating import local_time

PREFIX: Final = "/bidding"
TENDERS: Final = f"{PREFIX}/tenders"
MANAGE: Final = f"{PREFIX}/manage"
CHUNK_BYTES: Final = 8 * 1024 * 1024
"""What the page's script sends per PATCH (the API accepts up to `MAX_CHUNK_BYTES`)."""
MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
"""A signed tender document or clarification posted through the management form."""
PUBLIC_LIST_STATUSES: Final = (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.OPENING, TenderStatus.FAILED)
"""The stages 交易公告 lists and filters by (never drafts; a cancellation is not a stage to browse)."""


def path_to(request: Request[Any, Any, Any], name: str, **parameters: Any) -> str:
    """The path of the named route (what templates get from ``url_for``), for redirects."""
    return request.app.route_reverse(name, **parameters)


# --- refusals for the upload script -------------------------------------------------------------


def problem_json(exc: DomainError) -> Response[Any]:
    """A refusal for the page's script: field and rule (codes, for machines), the service's message,
    and what the page shows: a translated text, the field's label and the message's details only
    where they are in the reader's language.
    """
    label = BIDDING.fields.get(exc.field or "")
    body = {
        "field": exc.field,
        "rule": exc.rule,
        "message": exc.message,
        "text": rule_text(BIDDING, exc.field, exc.rule, exc.message, code=exc.code),
        "fieldLabel": gettext(label) if label else None,
        "details": refusals.translated(exc.message),
        **{key: value for key, value in exc.extra.items() if key == "offset"},
    }
    return Response(body, status_code=exc.status_code, media_type="application/json")


# --- uploads -----------------------------------------------------------------------------------


async def read_upload(value: Any) -> tuple[str, str, bytes] | None:
    """(filename, media type, bytes) of an uploaded file field, or None when none was chosen."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.filename, value.content_type or "application/octet-stream", await value.read()


async def signed_upload(form: Any) -> tuple[tuple[str, str, bytes], bytes]:
    """The document and its detached signature from a multipart form, or a refusal naming the field."""
    document = await read_upload(form.get("file"))
    signature = await read_upload(form.get("signature"))
    missing = [
        {"field": name, "rule": "required", "message": REQUIRED}
        for name, value in (("file", document), ("signature", signature))
        if value is None
    ]
    if missing:
        raise ValidationFailed(REQUIRED, field=missing[0]["field"], rule="required", extra={"errors": missing})
    assert document is not None  # noqa: S101 - refused above otherwise
    assert signature is not None  # noqa: S101
    return document, signature[2]


# --- display -----------------------------------------------------------------------------------


def display_time(value: datetime | None) -> str:
    """A stored time for a datetime-local field (UTC+08:00); never raises on extreme values."""
    return local_time(value, "%Y-%m-%dT%H:%M") if value else ""


def attachment(data: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}"},
    )
