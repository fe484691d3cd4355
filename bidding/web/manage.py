"""The tenderee's (or agency's) pages: drafts, signed documents, publication (each failing rule
named), clarification and extension.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import provide_tenders
from bidding.models import (
    DocumentKind,
    Tender,
    TenderStatus,
)
from bidding.objections import DocumentObjections
from bidding.policies import BiddingPermission
from bidding.rules import tender_types
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, guarded
from bidding.web.common import (
    BAD_CHOICE,
    LABELS,
    MANAGE,
    MAX_DOCUMENT_BYTES,
    REQUIRED,
    TENDERS,
    UNPROCESSABLE,
    FormProblemList,
    display_time,
    field_errors,
    is_client_error,
    parse_time,
    read_upload,
    tender_from_form,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.web.forms import FieldError, read_form
from trading.kernel.web.pages import page

# --- the tenderee and the agency -----------------------------------------------------------------


class ManagePages(Controller):
    """The tenderee's (or agency's) tenders: drafts, signed documents, publication, clarifications,
    deadline extensions.
    """

    path = MANAGE
    include_in_schema = False
    dependencies = {"tenders": Provide(provide_tenders)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="bidding.manage", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWN))
    async def manage(
        self, request: Request[Any, Any, Any], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The organisation's own tenders (drafts included)."""
        own: list[Tender] = []
        cursor: str | None = None
        while True:  # every own tender, a page of the search at a time
            found = await tenders.search(actor, limit=100, cursor=cursor)
            own += [t for t in found.items if tenders.owns(actor, t)]
            cursor = found.next_cursor
            if cursor is None:
                break
        return await page(request, "bidding/manage_list.html", {"tenders": own, **LABELS})

    @get("/new", name="bidding.manage_new", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE))
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._draft_form(request, {}, ["cash", "guarantee"], [])

    @post("/new", name="bidding.manage_create", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE))
    async def create(
        self,
        request: Request[Any, Any, Any],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Create a draft; every malformed or rule-breaking field is shown next to it."""
        raw = await read_form(request)
        form = {key: value for key, value in raw.items() if isinstance(value, str) and key != "_csrf_token"}
        security = [str(value) for value in raw.getall("bidSecurityForms", [])]
        try:
            data = tender_from_form(form, security)
            async with db_session.begin_nested():
                tender = await tenders.create_draft(actor, data)
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._draft_form(request, form, security, field_errors(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{MANAGE}/tenders/{tender.project_code}", status_code=303)

    @get(
        "/tenders/{code:str}",
        name="bidding.manage_tender",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tender(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """One own tender: documents, what still blocks publication, questions, clarifications."""
        return await self._tender_page(
            request, code, tenders=tenders, actor=actor, db_session=db_session, errors=[], failed_form=""
        )

    @post(
        "/tenders/{code:str}/documents",
        name="bidding.manage_document",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Attach a signed document (file and detached .p7s) to a draft."""
        form = await read_form(request)
        try:
            document, signature = await _signed_upload(form)
            kind = next((k for k in DocumentKind if k.value == form.get("kind")), DocumentKind.TENDER_DOCUMENT)
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.add_document(
                    actor, tender, kind, str(form.get("title", "")), document[0], document[1], document[2], signature
                )
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="document",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    @post(
        "/tenders/{code:str}/publish",
        name="bidding.manage_publish",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def publish(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish the draft: one refusal lists every rule it breaks."""
        try:
            async with db_session.begin_nested():
                await tenders.publish(actor, await tenders.tender(code))
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="publish",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{TENDERS}/{code}", status_code=303)

    @post(
        "/tenders/{code:str}/clarifications",
        name="bidding.manage_clarify",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def clarify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish a signed clarification, answering questions and possibly moving the deadline."""
        form = await read_form(request)
        try:
            problems = FormProblemList()
            new_deadline = parse_time(form, "deadline", problems)
            answers: dict[uuid.UUID, str] = {}
            for key, value in form.items():
                if key.startswith("answer-") and isinstance(value, str) and value.strip():
                    try:
                        answers[uuid.UUID(key.removeprefix("answer-"))] = value
                    except ValueError:
                        problems.add("answers", "format", BAD_CHOICE)
            problems.raise_if_any()
            document, signature = await _signed_upload(form)
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.clarify(
                    actor,
                    tender,
                    str(form.get("title", "")),
                    document[0],
                    document[2],
                    signature,
                    answers=answers,
                    new_deadline=new_deadline,
                    media_type=document[1],
                )
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="clarification",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    @post(
        "/tenders/{code:str}/extension",
        name="bidding.manage_extend",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def extend(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Move the deadline later, with a reason."""
        form = await read_form(request)
        try:
            problems = FormProblemList()
            new_deadline = parse_time(form, "deadline", problems)
            if new_deadline is None and not problems.items:
                problems.add("deadline", "required", REQUIRED)
            problems.raise_if_any()
            assert new_deadline is not None  # noqa: S101 - refused above otherwise
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.extend(actor, tender, new_deadline, str(form.get("reason", "")))
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="extension",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    @post(
        "/tenders/{code:str}/document-objections/{objection_id:uuid}/answer",
        name="bidding.manage_answer_objection",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def answer_objection(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        objection_id: FromPath[uuid.UUID],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Answer an objection to the documents (实施条例 Art. 22); the deadline moves by the time it was pending."""
        form = await read_form(request)
        try:
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await DocumentObjections(db_session, tenders.settings).answer(
                    actor, tender, objection_id, str(form.get("answer", ""))
                )
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="objection",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}#document-objections", status_code=303)

    async def _draft_form(
        self,
        request: Request[Any, Any, Any],
        form: Mapping[str, str],
        security: list[str],
        errors: list[FieldError],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        return await page(
            request,
            "bidding/manage_new.html",
            {
                "form": form,
                "security": security,
                "errors": errors,
                "tender_types": tender_types(),
                **LABELS,
            },
            status_code=status_code,
        )

    async def _tender_page(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        tenders: TenderService,
        actor: Actor,
        db_session: AsyncSession,
        errors: list[FieldError],
        failed_form: str,
        status_code: int = 200,
    ) -> Response[Any]:
        view = await tenders.detail(code, actor)
        if not tenders.owns(actor, view.tender):
            raise NotFound("no such tender", field="code", rule="exists")
        now = await clock.now(db_session)
        blocking: list[FieldError] = []
        if view.tender.status is TenderStatus.DRAFT:
            pending, _ = await tenders.publication_errors(view.tender, now)
            if pending.items:
                blocking = field_errors(DomainError("", extra={"errors": pending.items}))
        return await page(
            request,
            "bidding/manage_tender.html",
            {
                "tender": view.tender,
                "lots": view.lots,
                "documents": view.documents,
                "questions": await tenders.questions_for_owner(actor, view.tender),
                "document_objections": await DocumentObjections(db_session, tenders.settings).for_owner(
                    actor, view.tender
                ),
                "blocking": blocking,
                "errors": errors,
                "failed_form": failed_form,
                "server_time": now,
                "deadline_local": display_time(view.tender.deadline),
                **LABELS,
            },
            status_code=status_code,
        )


async def _signed_upload(form: Any) -> tuple[tuple[str, str, bytes], bytes]:
    """The document and its detached signature from a multipart form, or a refusal naming the field."""
    problems = FormProblemList()
    document = await read_upload(form.get("file"))
    signature = await read_upload(form.get("signature"))
    if document is None:
        problems.add("file", "required", REQUIRED)
    if signature is None:
        problems.add("signature", "required", REQUIRED)
    problems.raise_if_any()
    assert document is not None  # noqa: S101 - refused above otherwise
    assert signature is not None  # noqa: S101
    return document, signature[2]
