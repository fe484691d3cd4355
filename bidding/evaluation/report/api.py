"""The report's JSON API under ``/api/v1/evaluation/e/{id}``, for ``ggzy bid sign-report`` users.

* ``GET …/report.pdf`` — the current revision (members; everyone once published; public route);
* ``POST …/report/signatures`` — the current revision with one's own signature appended (raw
  ``application/pdf``), ``evaluation:report:sign``;
* ``POST …/report/refusal`` — ``{"dissent": "…"}`` (empty: a refusal counted as agreement);
* ``GET …/result`` — the published result (public route; 404 before publication).

Errors are problem+json naming the field and the rule.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.report import repository
from bidding.evaluation.report.policies import ReportPermission
from bidding.evaluation.report.service import MAX_REPORT_BYTES, refuse_report, report_pdf, sign_report
from bidding.evaluation.results import result_of
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store

PREFIX: Final = "/evaluation/e"
PUBLIC_PATHS: Final = frozenset({
    f"/api/v1{PREFIX}/{{evaluation_id}}/report.pdf",
    f"/api/v1{PREFIX}/{{evaluation_id}}/result",
})  # fmt: skip


@dataclass(frozen=True)
class RefusalWrite:
    dissent: str = ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | bool | float):
        return str(value)
    return value


class ReportApi(Controller):
    path = PREFIX
    tags = ["evaluation"]

    @get("/{evaluation_id:uuid}/report.pdf", operation_id="evaluation_report_pdf")
    async def report_file(
        self,
        evaluation_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The report's current revision."""
        settings: Settings = request.app.state.settings
        pdf = await report_pdf(db_session, open_store(settings), actor, evaluation_id)
        return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})

    @post(
        "/{evaluation_id:uuid}/report/signatures",
        operation_id="evaluation_report_sign",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_REPORT_BYTES,
        opt=requires(ReportPermission.SIGN),
    )
    async def sign(
        self,
        evaluation_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The current revision with the member's incremental PAdES signature (raw ``application/pdf``)."""
        settings: Settings = request.app.state.settings
        store = open_store(settings)
        body = await request.body()
        return await sign_report(db_session, settings, store=store, actor=actor, evaluation_id=evaluation_id, pdf=body)

    @post(
        "/{evaluation_id:uuid}/report/refusal",
        operation_id="evaluation_report_refuse",
        status_code=HTTP_201_CREATED,
        opt=requires(ReportPermission.SIGN),
    )
    async def refuse(
        self,
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[RefusalWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """Refuse to sign: with dissent in writing (printed), or without (counted as agreement)."""
        return await refuse_report(db_session, actor, evaluation_id, data.dissent)

    @get("/{evaluation_id:uuid}/result", operation_id="evaluation_result")
    async def result(
        self, evaluation_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]
    ) -> dict[str, Any]:
        """The published result (ranked candidates with scores, committee names, the report's digest)."""
        evaluation = await repository.evaluation(db_session, evaluation_id)
        published = await result_of(db_session, evaluation) if evaluation is not None else None
        if published is None:
            raise NotFound("the result is not published", field="evaluation", rule="results-published")
        answer: dict[str, Any] = _plain(asdict(published))
        return answer


CONTROLLERS = (ReportApi,)
