"""The report's pages, in Chinese with the English switch.

* ``/evaluation/reports`` (``evaluation:report:read``): the evaluations whose report the
  signed-in member signs or signed (linked from the shell's navigation for experts).
* ``/evaluation/e/{id}/report`` (``evaluation:report:read``: current members; admins and
  supervisors see the progress only): who answered how, the current revision to download, the
  ``ggzy bid sign-report`` command, the upload of the signed revision and the refusal with (or
  without) dissent in writing.
* ``/evaluation/e/{id}/report.pdf``: the current revision, for the members; for everyone once the
  result is published (public route; the service decides).
* ``/evaluation/e/{id}/result``: the published result (candidates, scores, committee names, the
  report's digest); 404 before publication (public route).

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import SessionState
from bidding.evaluation.report import repository
from bidding.evaluation.report.data import METHOD_LABELS, local_time, money, points
from bidding.evaluation.report.policies import ReportPermission
from bidding.evaluation.report.service import (
    MAX_REPORT_BYTES,
    ReportStatus,
    refuse_report,
    report_pdf,
    report_status,
    sign_report,
)
from bidding.evaluation.report.web_labels import ANSWER_LABELS, LABELS
from bidding.evaluation.results import result_of
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.settings import Settings
from trading.kernel.storage import Store, open_store
from trading.kernel.web.forms import FieldError, read_form, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

REPORT: Final = "evaluation.report"
REPORTS: Final = "evaluation.reports"
RESULT: Final = "evaluation.result"
CHOOSE_PDF = N_("Choose the signed report (a PDF file) to upload.")
PUBLIC_PATHS: Final = frozenset({"/evaluation/e/{evaluation_id}/report.pdf", "/evaluation/e/{evaluation_id}/result"})


def _store(request: Request[Any, Any, Any]) -> tuple[Settings, Store]:
    settings: Settings = request.app.state.settings
    return settings, open_store(settings)


def _report_context(request: Request[Any, Any, Any], status: ReportStatus, **extra: Any) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    pdf_url = request.app.route_reverse("evaluation.report_pdf", evaluation_id=status.evaluation_id)
    command = (
        f"ggzy bid sign-report --p12 my-signing.p12 --in report.pdf --out report-signed.pdf --tsa {base}/api/v1/tsa"
    )
    return {
        "status": status,
        "answer_labels": ANSWER_LABELS,
        "pdf_url": pdf_url,
        "command": command,
        "download": f"curl -o report.pdf {base}{pdf_url}",
        "signing": status.state is SessionState.REPORT_SIGNING,
        "my_answer": next((a for a in status.answers if a.member_id == status.me), None),
        "local_time": local_time,
        "errors": [],
        "form": {},
        **extra,
    }


class ReportPages(Controller):
    path = "/evaluation"

    @get("/reports", name=REPORTS, opt=requires(ReportPermission.READ))
    async def reports(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        rows = await repository.evaluations_of_user(db_session, actor.user_id) if actor.user_id else []
        return await page(request, "evaluation/report/list.html", {"rows": rows, "local_time": local_time})

    @get("/e/{evaluation_id:uuid}/report", name=REPORT, opt=requires(ReportPermission.READ))
    async def report(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        status = await report_status(db_session, actor, evaluation_id)
        return await page(request, "evaluation/report/report.html", _report_context(request, status))

    @get("/e/{evaluation_id:uuid}/report.pdf", name="evaluation.report_pdf")
    async def report_file(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        _, store = _store(request)
        pdf = await report_pdf(db_session, store, actor, evaluation_id)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="report.pdf"', "Cache-Control": "no-store"},
        )

    async def _answer(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        work: Any,
    ) -> Response[Any]:
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

    @post(
        "/e/{evaluation_id:uuid}/report/signatures",
        name="evaluation.report_sign",
        request_max_body_size=MAX_REPORT_BYTES + 64 * 1024,
        opt=requires(ReportPermission.SIGN),
    )
    async def sign(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Upload the current revision with one's own incremental signature appended."""
        settings, store = _store(request)

        async def work() -> object:
            form = await read_form(request)
            upload = form.get("pdf")
            data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
            if not data:
                raise ValidationFailed(CHOOSE_PDF, field="pdf", rule="required")
            return await sign_report(
                db_session, settings, store=store, actor=actor, evaluation_id=evaluation_id, pdf=data
            )

        return await self._answer(request, db_session, actor, evaluation_id, work)

    @post(
        "/e/{evaluation_id:uuid}/report/refusal", name="evaluation.report_refuse", opt=requires(ReportPermission.SIGN)
    )
    async def refuse(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Refuse to sign, with dissent in writing (printed in the report) or without (agreement)."""

        async def work() -> object:
            form = await read_form(request)
            return await refuse_report(db_session, actor, evaluation_id, str(form.get("dissent") or ""))

        return await self._answer(request, db_session, actor, evaluation_id, work)

    @get("/e/{evaluation_id:uuid}/result", name=RESULT)
    async def result(
        self,
        *,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The published result: public once every member answered the report, 404 before."""
        evaluation = await repository.evaluation(db_session, evaluation_id)
        published = await result_of(db_session, evaluation) if evaluation is not None else None
        if evaluation is None or published is None:
            raise NotFound("the result is not published", field="evaluation", rule="results-published")
        tender = await repository.tender(db_session, evaluation.tender_id)
        context = {
            "result": published,
            "tender": tender,
            "method_label": METHOD_LABELS.get(published.method, published.method),
            "pdf_url": request.app.route_reverse("evaluation.report_pdf", evaluation_id=evaluation_id),
            "local_time": local_time,
            "money": money,
            "points": points,
        }
        return await page(request, "evaluation/report/result.html", context)


CONTROLLERS = (ReportPages,)
