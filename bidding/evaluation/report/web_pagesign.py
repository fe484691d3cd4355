"""The report signed in the page (``static/js/pki/sign-pdf.js``), beside the upload of ``web.py``.

* ``POST /evaluation/e/{id}/report/page-signature/prepare`` (``evaluation:report:sign``): form field
  ``certificate`` (the page's KeyHolder certificate, DER base64) → JSON `prepared_json` (what the
  page signs), or JSON ``{"errors": [{field, rule, message}]}`` with the refusal's status.
* ``POST /evaluation/e/{id}/report/page-signature`` (``evaluation:report:sign``): form fields
  ``prepared`` and ``signature`` (the CMS, base64) → the kernel's form path (`submit`: 303 back to
  the report, or the report page again with the refusal naming field and rule).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.report.page_signing import finish_report_signature, prepare_report_signature
from bidding.evaluation.report.policies import ReportPermission
from bidding.evaluation.report.service import report_status
from bidding.evaluation.report.web import REPORT, _report_context, _store
from bidding.evaluation.report.web_labels import FIELD_LABELS, RULE_MESSAGES
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError
from trading.kernel.web.forms import FieldError, Labels, field_errors, read_form, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.pdf_signing import prepared_json, read_certificate, read_cms

PREPARE: Final = "evaluation.report_page_prepare"
FINISH: Final = "evaluation.report_page_sign"
LABELS: Final = Labels(
    fields={
        **FIELD_LABELS,
        "prepared": N_("Prepared signature"),
        "signature": N_("Signature made in the page"),
        "certificate": N_("Signing certificate"),
    },
    rules=RULE_MESSAGES,
)


class ReportPageSigning(Controller):
    path = "/evaluation"

    @post("/e/{evaluation_id:uuid}/report/page-signature/prepare", name=PREPARE, opt=requires(ReportPermission.SIGN))
    async def prepare(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Prepare the current revision for the signature the page is about to make."""
        _, store = _store(request)
        try:
            form = await read_form(request)
            certificate = read_certificate(str(form.get("certificate") or ""))
            prepared = await prepare_report_signature(
                db_session, store, actor=actor, evaluation_id=evaluation_id, certificate=certificate
            )
        except DomainError as exc:
            errors = [{"field": e.field, "rule": e.rule, "message": e.message} for e in field_errors(exc, LABELS)]
            return Response({"errors": errors}, status_code=exc.status_code, headers={"Cache-Control": "no-store"})
        return Response(prepared_json(prepared), status_code=200, headers={"Cache-Control": "no-store"})

    @post("/e/{evaluation_id:uuid}/report/page-signature", name=FINISH, opt=requires(ReportPermission.SIGN))
    async def finish(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Finish the page's signature; the signed revision is checked and stored as an upload is."""
        settings, store = _store(request)

        async def work() -> object:
            form = await read_form(request)
            return await finish_report_signature(
                db_session,
                settings,
                store,
                actor=actor,
                evaluation_id=evaluation_id,
                prepared_id=str(form.get("prepared") or ""),
                signature_cms=read_cms(str(form.get("signature") or "")),
            )

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            status = await report_status(db_session, actor, evaluation_id)
            return await page(request, "evaluation/report/report.html", _report_context(request, status, errors=errors))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(REPORT, evaluation_id=evaluation_id) + "#answers",
            refusal=refusal,
        )


CONTROLLERS = (ReportPageSigning,)
