"""The expert workspace's pages (``/evaluation/e/{id}/…``), in Chinese with the English switch.

* ``/evaluation/workspaces``: the evaluations the user is a current member of (linked from the
  shell's navigation for experts).
* ``/evaluation/e/{id}/workspace``: the bids, the criteria, the member's own sheet, Art. 64 prompts
  and the assistance's advisory findings, submission; the chair's progress link.
* ``/evaluation/e/{id}/bids/{bid}``: the bid's files beside the scoring sheet (a PDF inline in a
  same-origin frame, other files download), its structured response, the review, vote and score
  forms.
* ``/evaluation/e/{id}/bids/{bid}/files/{name}``: one file, checked against the inner manifest and
  recorded; a mismatch answers 409 naming ``manifest_mismatch`` and shows nothing of the file.
* ``/evaluation/e/{id}/progress``: the chair's view of who submitted which sheet.

Membership is checked before any form's savepoint (`Scoring.seat`), so a refusal's ledger record
commits with the 403 page; forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field
and rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import guarantees_flow
from bidding.evaluation.models import Evaluation, Member
from bidding.evaluation.requirementset.labels import ASK_EXPLANATION, advisory_text
from bidding.evaluation.scoring.errors import ScoringForbidden
from bidding.evaluation.scoring.policies import ScoringPermission
from bidding.evaluation.scoring.repository import CURRENT_STATUSES
from bidding.evaluation.scoring.service import Scoring
from bidding.evaluation.scoring.web_labels import (
    CHOOSE_PASS,
    FIELD_LABELS,
    FINDING_LABELS,
    LABELS,
    RESOLUTION_LABELS,
    RULE_MESSAGES,
    STATE_LABELS,
)
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.db.engine import RECORDS_ON_READ
from trading.kernel.storage import open_store
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, submit
from trading.kernel.web.i18n import gettext
from trading.kernel.web.pages import page

WORK: Final = requires(ScoringPermission.WORK)
ENTER: Final = requires(ScoringPermission.ENTER)
WORKSPACE: Final = "evaluation.workspace"
BID: Final = "evaluation.bid"
FORBIDDEN: Final = 403
MISMATCH: Final = 409


@dataclass
class ScoreForm:
    criterion: str = ""
    points: str = ""
    comment: str = ""


@dataclass
class ReviewForm:
    passed: str = ""
    reason: str = ""


def _uuid_or_none(value: str) -> uuid.UUID | None:
    """The bid a form came from; anything else answers on the workspace (the safe default page)."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@dataclass
class ResolveForm:
    points: str = ""
    justification: str = ""
    bid: str = ""  # set by the bid page's inline prompt: answer on that page, not the workspace


@dataclass
class NoteForm:
    note: str = ""


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "labels": FIELD_LABELS,
        "state_labels": STATE_LABELS,
        "finding_labels": FINDING_LABELS,
        "resolution_labels": RESOLUTION_LABELS,
        "advisory_text": advisory_text,
        "ask_explanation": ASK_EXPLANATION,
        "errors": [],
        "form": {},
        **extra,
    }


async def _refused(request: Request[Any, Any, Any], rule: str, status: int) -> Response[Any]:
    """The refusal page: the rule's sentence, ``data-rule`` for tests and scripts."""
    context = _context(rule=rule, message=gettext(RULE_MESSAGES[rule]))
    return await page(request, "evaluation/scoring/refused.html", context, status_code=status)


class ScoringPages(Controller):
    path = "/evaluation"
    include_in_schema = False

    # --- lists ---

    @get("/workspaces", name="evaluation.workspaces", opt=WORK)
    async def workspaces(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        rows = (
            await db_session.execute(
                sa.select(Evaluation, Tender)
                .join(Member, Member.evaluation_id == Evaluation.id)
                .join(Tender, Tender.id == Evaluation.tender_id)
                .where(
                    Member.user_id == actor.user_id,
                    Member.voided_at.is_(None),
                    Member.status.in_(CURRENT_STATUSES),
                )
                .order_by(Evaluation.created_at.desc())
            )
        ).all()
        return await page(request, "evaluation/scoring/workspaces.html", _context(rows=rows))

    @get("/e/{evaluation_id:uuid}/workspace", name=WORKSPACE, opt=ENTER)
    async def workspace(
        self,
        *,
        request: Request[Any, Any, Any],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        return await self._workspace(request, scoring=scoring, actor=actor, evaluation_id=evaluation_id, errors=[])

    async def _workspace(
        self,
        request: Request[Any, Any, Any],
        *,
        scoring: Scoring,
        actor: Actor,
        evaluation_id: uuid.UUID,
        errors: list[FieldError],
        failed: str = "",
    ) -> Response[Any]:
        try:
            workspace = await scoring.workspace(actor, evaluation_id)
        except ScoringForbidden as exc:
            return await _refused(request, str(exc.rule), FORBIDDEN)
        tender = await scoring.repo.tender(workspace.evaluation.tender_id)
        # Issue 17: each bid's security judged again at the evaluation (revocation since the opening).
        securities = await guarantees_flow.statuses_by_bidder(
            scoring.repo.session,
            request.app.state.settings,
            scoring.store or open_store(request.app.state.settings),
            [(line.bid.lot_id, line.bid.organisation_id) for line in workspace.bids],
        )
        context = _context(
            w=workspace,
            tender=tender,
            errors=errors,
            failed=failed,
            securities=securities,
            security_labels=guarantees_flow.STATE_LABELS,
        )
        return await page(request, "evaluation/scoring/workspace.html", context)

    @get("/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}", name=BID, opt=ENTER)
    async def bid(
        self,
        *,
        request: Request[Any, Any, Any],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        opening_bid_id: FromPath[uuid.UUID],
        file: FromQuery[str] = "",
    ) -> Response[Any]:
        return await self._bid(
            request,
            scoring=scoring,
            actor=actor,
            evaluation_id=evaluation_id,
            opening_bid_id=opening_bid_id,
            errors=[],
            file=file,
        )

    async def _bid(
        self,
        request: Request[Any, Any, Any],
        *,
        scoring: Scoring,
        actor: Actor,
        evaluation_id: uuid.UUID,
        opening_bid_id: uuid.UUID,
        errors: list[FieldError],
        file: str = "",
        form: dict[str, Any] | None = None,
        failed: str = "",
    ) -> Response[Any]:
        try:
            workspace = await scoring.workspace(actor, evaluation_id)
            view = await scoring.bid_view(actor, evaluation_id, opening_bid_id)
        except ScoringForbidden as exc:
            return await _refused(request, str(exc.rule), FORBIDDEN)
        tender = await scoring.repo.tender(workspace.evaluation.tender_id)
        shown = next((f for f in view.files if f.name == file), None)
        if shown is None and not file:
            shown = next((f for f in view.files if f.is_pdf), None)
        context = _context(
            w=workspace,
            view=view,
            tender=tender,
            shown=shown,
            errors=errors,
            form=form or {},
            failed=failed,
        )
        return await page(request, "evaluation/scoring/bid.html", context)

    @get(
        "/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}/files/{file_name:str}",
        name="evaluation.document",
        opt={**ENTER, RECORDS_ON_READ: True},
    )
    async def document(
        self,
        *,
        request: Request[Any, Any, Any],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        opening_bid_id: FromPath[uuid.UUID],
        file_name: FromPath[str],
        download: FromQuery[bool] = False,
    ) -> Response[Any]:
        try:
            outcome = await scoring.read_document(actor, evaluation_id, opening_bid_id, file_name)
        except ScoringForbidden as exc:
            return await _refused(request, str(exc.rule), FORBIDDEN)
        if outcome.file.data is None:
            return await _refused(request, "manifest_mismatch", MISMATCH)
        inline = outcome.file.file.is_pdf and not download
        disposition = "inline" if inline else "attachment"
        headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file_name)}"}
        if inline:  # shown in the workspace's same-origin frame (security_headers keeps SAMEORIGIN)
            headers["X-Frame-Options"] = "SAMEORIGIN"
        return Response(outcome.file.data, media_type=outcome.file.file.content_type, headers=headers)

    # --- forms ---

    async def _form(
        self,
        request: Request[Any, Any, Any],
        *,
        db_session: AsyncSession,
        scoring: Scoring,
        actor: Actor,
        evaluation_id: uuid.UUID,
        work: Callable[[], Awaitable[object]],
        bid: uuid.UUID | None,
        failed: str,
        form: dict[str, Any],
    ) -> Response[Any]:
        try:
            await scoring.seat(actor, evaluation_id, failed)  # outside the savepoint: the refusal commits
        except ScoringForbidden as exc:
            return await _refused(request, str(exc.rule), FORBIDDEN)
        if bid is None:
            target = request.app.route_reverse(WORKSPACE, evaluation_id=evaluation_id)
            return await submit(
                db_session,
                work,
                labels=LABELS,
                redirect=f"{target}#{failed}",
                refusal=lambda errors: self._workspace(
                    request, scoring=scoring, actor=actor, evaluation_id=evaluation_id, errors=errors, failed=failed
                ),
            )
        target = request.app.route_reverse(BID, evaluation_id=evaluation_id, opening_bid_id=bid)
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=f"{target}#{failed}",
            refusal=lambda errors: self._bid(
                request,
                scoring=scoring,
                actor=actor,
                evaluation_id=evaluation_id,
                opening_bid_id=bid,
                errors=errors,
                form=form,
                failed=failed,
            ),
        )

    @post("/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}/scores", name="evaluation.score", opt=WORK)
    async def score(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        opening_bid_id: FromPath[uuid.UUID],
        data: FormBody[ScoreForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            criterion = parser.required("criterion", data.criterion, max_length=60)
            points = parser.decimal("points", data.points, digits=3)
            comment = parser.text("comment", data.comment, max_length=2000)
            parser.done()
            assert points is not None  # noqa: S101 - done() refused a missing one
            return await scoring.score(actor, evaluation_id, opening_bid_id, criterion, points, comment=comment)

        return await self._form(
            request, db_session=db_session, scoring=scoring, actor=actor, evaluation_id=evaluation_id, work=work,
            bid=opening_bid_id, failed=f"score-{data.criterion}", form=vars(data),
        )  # fmt: skip

    @post("/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}/votes", name="evaluation.vote", opt=WORK)
    async def vote(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        opening_bid_id: FromPath[uuid.UUID],
        data: FormBody[ScoreForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            criterion = parser.required("criterion", data.criterion, max_length=60)
            points = parser.decimal("points", data.points, digits=3)
            parser.done()
            assert points is not None  # noqa: S101
            return await scoring.vote(actor, evaluation_id, opening_bid_id, criterion, points)

        return await self._form(
            request, db_session=db_session, scoring=scoring, actor=actor, evaluation_id=evaluation_id, work=work,
            bid=opening_bid_id, failed=f"vote-{data.criterion}", form=vars(data),
        )  # fmt: skip

    @post("/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}/reviews", name="evaluation.review", opt=WORK)
    async def review(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        opening_bid_id: FromPath[uuid.UUID],
        data: FormBody[ReviewForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            if data.passed not in {"yes", "no"}:
                parser.add("passed", "required", CHOOSE_PASS)
            reason = parser.text("reason", data.reason, max_length=2000)
            parser.done()
            return await scoring.review(
                actor, evaluation_id, opening_bid_id, passed=data.passed == "yes", reason=reason
            )

        return await self._form(
            request, db_session=db_session, scoring=scoring, actor=actor, evaluation_id=evaluation_id, work=work,
            bid=opening_bid_id, failed="review", form=vars(data),
        )  # fmt: skip

    @post("/e/{evaluation_id:uuid}/submit", name="evaluation.submit_sheet", opt=WORK)
    async def submit_sheet(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        async def work() -> object:
            return await scoring.submit(actor, evaluation_id)

        return await self._form(
            request,
            db_session=db_session,
            scoring=scoring,
            actor=actor,
            evaluation_id=evaluation_id,
            work=work,
            bid=None,
            failed="submit",
            form={},
        )

    @post("/e/{evaluation_id:uuid}/findings/{finding_id:uuid}/resolve", name="evaluation.finding_resolve", opt=WORK)
    async def resolve(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        finding_id: FromPath[uuid.UUID],
        data: FormBody[ResolveForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            points = parser.decimal("points", data.points, digits=3, required=False)
            justification = parser.text("justification", data.justification, max_length=2000)
            parser.done()
            return await scoring.resolve(
                actor, evaluation_id, finding_id, corrected=points, justification=justification
            )

        return await self._form(
            request,
            db_session=db_session,
            scoring=scoring,
            actor=actor,
            evaluation_id=evaluation_id,
            work=work,
            bid=_uuid_or_none(data.bid),
            failed=f"finding-{finding_id}",
            form={},
        )

    @post(
        "/e/{evaluation_id:uuid}/findings/{finding_id:uuid}/acknowledge",
        name="evaluation.finding_acknowledge",
        opt=WORK,
    )
    async def acknowledge(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        finding_id: FromPath[uuid.UUID],
        data: FormBody[NoteForm],
    ) -> Response[Any]:
        async def work() -> object:
            return await scoring.acknowledge(actor, evaluation_id, finding_id, data.note)

        return await self._form(
            request,
            db_session=db_session,
            scoring=scoring,
            actor=actor,
            evaluation_id=evaluation_id,
            work=work,
            bid=None,
            failed=f"finding-{finding_id}",
            form={},
        )

    # --- the chair ---

    @get("/e/{evaluation_id:uuid}/progress", name="evaluation.progress", opt=ENTER)
    async def progress(
        self,
        *,
        request: Request[Any, Any, Any],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        try:
            progress = await scoring.progress(actor, evaluation_id)
        except ScoringForbidden as exc:
            return await _refused(request, str(exc.rule), FORBIDDEN)
        evaluation = await scoring.repo.evaluation(evaluation_id)
        assert evaluation is not None  # noqa: S101 - progress() found it
        bids = {b.id: b for b in await scoring.repo.bids(evaluation)}
        members = {m.id: m for m in await scoring.repo.current_members(evaluation_id)}
        context = _context(progress=progress, evaluation=evaluation, bids=bids, members=members)
        return await page(request, "evaluation/scoring/progress.html", context)


CONTROLLERS = (ScoringPages,)
