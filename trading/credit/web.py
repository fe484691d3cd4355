"""Credit pages: the public record of an organisation (``/credit/organisations/{id}``) and the
centre staff's import form (``/credit/imports``): upload a CSV or JSON file, see what was created
or updated, or every bad row when the file is refused (nothing is written then).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.errors import CreditImportRefused
from trading.credit.importing import COLUMNS, ImportFormat, import_records
from trading.credit.models import Activity, CreditKind
from trading.credit.policies import CreditPermission
from trading.credit.service import CreditService
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import refusals
from trading.kernel.web.forms import read_form
from trading.kernel.web.i18n import N_, gettext
from trading.kernel.web.pages import page

PUBLIC_PATHS = frozenset({"/credit/organisations/{organisation_id}"})
UNPROCESSABLE = 422

KIND_LABELS = {
    CreditKind.SERIOUS_VIOLATION: N_("Serious violation"),
    CreditKind.BLACKLIST: N_("Blacklist entry"),
    CreditKind.ADMINISTRATIVE_PENALTY: N_("Administrative penalty"),
    CreditKind.PERFORMANCE_EVALUATION: N_("Performance evaluation"),
    CreditKind.COMMENDATION: N_("Commendation (red list)"),
}
SCOPE_LABELS = {
    Activity.BIDDING.value: N_("Bidding and tendering"),
    Activity.GOVERNMENT_PROCUREMENT.value: N_("Government procurement activities"),
    Activity.INTERMEDIARY_SERVICES.value: N_("Intermediary service selection"),
    Activity.ALL.value: N_("All public resource trading"),
}
CHOOSE_FILE = N_("Choose a CSV or JSON file to import.")
UNKNOWN_FORMAT = N_("The file's name ends in .csv or .json.")
UNKNOWN_KIND = N_("Choose one of the listed record kinds, or none.")
LABEL_REQUIRED = N_("Name the batch (e.g. the export's date and source).")
IMPORT_REFUSED = N_("The file was refused and nothing was imported. Correct every row listed and upload it again.")

_LABELS = {
    "kind_labels": KIND_LABELS,
    "scope_labels": SCOPE_LABELS,
}


async def _upload(request: Request[Any, Any, Any]) -> tuple[bytes, ImportFormat, str, CreditKind | None]:
    form = await read_form(request)
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
    if not data or not isinstance(upload, UploadFile):
        raise ValidationFailed(CHOOSE_FILE, field="file", rule="required")
    suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
    if suffix not in {f.value for f in ImportFormat}:
        raise ValidationFailed(UNKNOWN_FORMAT, field="file", rule="format")
    label = str(form.get("label") or "").strip()
    if not label:
        raise ValidationFailed(LABEL_REQUIRED, field="label", rule="required")
    raw_kind = str(form.get("kind") or "")
    if raw_kind and raw_kind not in {k.value for k in CreditKind}:
        raise ValidationFailed(UNKNOWN_KIND, field="kind", rule="kind")
    kind = CreditKind(raw_kind) if raw_kind else None
    return data, ImportFormat(suffix), label, kind


class CreditPages(Controller):
    path = "/credit"
    include_in_schema = False

    @get("/organisations/{organisation_id:uuid}", name="credit.organisation")
    async def organisation(
        self,
        request: Request[Any, Any, Any],
        organisation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """An organisation's effective credit records (public: 信用信息公示)."""
        service = CreditService(db_session)
        # 信用信息公示 shows what is in force now: not a decision that takes effect later.
        records = await service.records_of(organisation_id, in_force_at=await clock.now(db_session))
        organisation = await service.repo.organisation(organisation_id)
        return await page(
            request, "credit/organisation.html", {"organisation": organisation, "records": records, **_LABELS}
        )

    @get("/imports", name="credit.import_form", opt=requires(CreditPermission.RECORD_MANAGE))
    async def import_form(self, request: Request[Any, Any, Any]) -> Template:
        return await page(request, "credit/import.html", self._context())

    @post("/imports", name="credit.import", opt=requires(CreditPermission.RECORD_MANAGE))
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Template:
        """Import the uploaded file; a refusal lists every bad row and writes nothing."""
        try:
            data, fmt, label, kind = await _upload(request)
            # The request commits a 422 too: the savepoint undoes anything a refusal left flushed.
            async with db_session.begin_nested():
                result = await import_records(db_session, data, fmt, actor=actor, label=label, default_kind=kind)
        except CreditImportRefused as exc:
            listed = exc.extra.get("errors") or [
                {"row": None, "field": exc.field, "rule": exc.rule, "message": exc.message}
            ]
            # Each row's problem in the reader's words; the rule's code stays an attribute.
            rows = [
                {**row, "message": refusals.explain(str(row.get("message", "")), row.get("rule"), row.get("field"))}
                for row in listed
            ]
            context = self._context(refused=True, row_errors=rows, message=gettext(IMPORT_REFUSED))
            return await page(request, "credit/import.html", context, status_code=UNPROCESSABLE)
        except DomainError as exc:
            if exc.status_code >= 500 or exc.status_code in {403, 404}:  # noqa: PLR2004
                raise
            message = refusals.explain(exc.message, exc.rule, exc.field, exc.code)
            context = self._context(refused=True, message=message, field=exc.field)
            return await page(request, "credit/import.html", context, status_code=UNPROCESSABLE)
        return await page(request, "credit/import.html", self._context(result=result))

    @staticmethod
    def _context(**extra: Any) -> dict[str, Any]:
        blank: dict[str, Any] = {"result": None, "refused": False, "row_errors": [], "message": "", "field": None}
        return {"columns": COLUMNS, "kinds": list(CreditKind), **_LABELS, **blank, **extra}


CONTROLLERS = (CreditPages,)
