"""The tenderee's (or agency's) pages: drafts, signed documents, publication (each failing rule
named), clarification and extension, answers to objections. Every form goes through the kernel's
`submit` (savepoint, 303 on success, the page again with 422 naming each field and rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import provide_objections, provide_tenders
from bidding.models import DocumentKind, Tender, TenderStatus
from bidding.objections import DocumentObjections
from bidding.policies import BiddingPermission
from bidding.rules import tender_types
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, guarded
from bidding.web.common import MANAGE, MAX_DOCUMENT_BYTES, display_time, path_to, signed_upload
from bidding.web.forms import AnswerForm, DraftForm, ExtensionForm, answers_from, tender_from_form
from bidding.web.labels import BIDDING, TEMPLATE_LABELS
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, field_errors, read_form, submit
from trading.kernel.web.pages import page

Refusal = Callable[[list[FieldError]], Awaitable[Response[Any]]]


class ManagePages(Controller):
    """The tenderee's (or agency's) tenders: drafts, signed documents, publication, clarifications,
    deadline extensions.
    """

    path = MANAGE
    include_in_schema = False
    dependencies = {  # noqa: RUF012 - Litestar reads it
        "tenders": Provide(provide_tenders),
        "objections": Provide(provide_objections),
    }

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
        return await page(request, "bidding/manage_list.html", {"tenders": own, **TEMPLATE_LABELS})

    @get("/new", name="bidding.manage_new", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE))
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._draft_form(request, {}, ["cash", "guarantee"], [])

    @post("/new", name="bidding.manage_create", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE))
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[DraftForm],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Create a draft; every malformed or rule-breaking field is shown next to it."""

        async def create_draft() -> Tender:
            return await tenders.create_draft(actor, tender_from_form(data))

        return await submit(
            db_session,
            create_draft,
            labels=BIDDING,
            redirect=lambda tender: path_to(request, "bidding.manage_tender", code=tender.project_code),
            refusal=lambda errors: self._draft_form(request, data.shown(), data.security(), errors),
        )

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
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """One own tender: documents, what still blocks publication, questions, clarifications."""
        return await _TenderPage(request, code, tenders, objections, actor).render([], "")

    @post(
        "/tenders/{code:str}/documents",
        name="bidding.manage_document",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def add_document(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Attach a signed document (file and detached .p7s) to a draft."""
        form = await read_form(request)

        async def add_document() -> None:
            (filename, media_type, content), signature = await signed_upload(form)
            kind = next((k for k in DocumentKind if k.value == form.get("kind")), DocumentKind.TENDER_DOCUMENT)
            title = str(form.get("title", ""))
            tender = await tenders.tender(code)
            await tenders.add_document(actor, tender, kind, title, filename, media_type, content, signature)

        tender_page = _TenderPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            add_document,
            labels=BIDDING,
            redirect=path_to(request, "bidding.manage_tender", code=code),
            refusal=tender_page.refused("document"),
        )

    @post(
        "/tenders/{code:str}/publish",
        name="bidding.manage_publish",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def publish(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish the draft: one refusal lists every rule it breaks."""

        async def publish() -> Tender:
            return await tenders.publish(actor, await tenders.tender(code))

        tender_page = _TenderPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            publish,
            labels=BIDDING,
            redirect=path_to(request, "bidding.tender", code=code),
            refusal=tender_page.refused("publish"),
        )

    @post(
        "/tenders/{code:str}/clarifications",
        name="bidding.manage_clarify",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def clarify(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish a signed clarification, answering questions and possibly moving the deadline."""
        form = await read_form(request)

        async def clarify() -> None:
            parser = FieldParser()
            new_deadline = parser.time("deadline", str(form.get("deadline", "")))
            answers = answers_from(parser, form.items())
            parser.done()
            (filename, media_type, content), signature = await signed_upload(form)
            tender = await tenders.tender(code)
            title = str(form.get("title", ""))
            await tenders.clarify(
                actor,
                tender,
                title,
                filename,
                content,
                signature,
                answers=answers,
                new_deadline=new_deadline,
                media_type=media_type,
            )

        tender_page = _TenderPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            clarify,
            labels=BIDDING,
            redirect=path_to(request, "bidding.manage_tender", code=code),
            refusal=tender_page.refused("clarification"),
        )

    @post(
        "/tenders/{code:str}/extension",
        name="bidding.manage_extend",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def extend(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ExtensionForm],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Move the deadline later, with a reason."""

        async def extend() -> None:
            parser = FieldParser()
            new_deadline = parser.time("deadline", data.deadline, required=True)
            parser.done()
            assert new_deadline is not None  # noqa: S101 - refused above otherwise
            await tenders.extend(actor, await tenders.tender(code), new_deadline, data.reason)

        tender_page = _TenderPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            extend,
            labels=BIDDING,
            redirect=path_to(request, "bidding.manage_tender", code=code),
            refusal=tender_page.refused("extension"),
        )

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
        data: FormBody[AnswerForm],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Answer an objection to the documents (实施条例 Art. 22); the deadline moves by the time it was pending."""

        async def answer() -> None:
            await objections.answer(actor, await tenders.tender(code), objection_id, data.answer)

        tender_page = _TenderPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            answer,
            labels=BIDDING,
            redirect=path_to(request, "bidding.manage_tender", code=code) + "#document-objections",
            refusal=tender_page.refused("objection"),
        )

    @staticmethod
    async def _draft_form(
        request: Request[Any, Any, Any],
        form: Mapping[str, str],
        security: list[str],
        errors: list[FieldError],
    ) -> Response[Any]:
        context = {"form": form, "security": security, "errors": errors, "tender_types": tender_types()}
        return await page(request, "bidding/manage_new.html", {**context, **TEMPLATE_LABELS})


class _TenderPage:
    """The management page of one tender, rendered on its own or again around a refused form."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        code: str,
        tenders: TenderService,
        objections: DocumentObjections,
        actor: Actor,
    ) -> None:
        self.request, self.code, self.tenders, self.objections, self.actor = request, code, tenders, objections, actor

    def refused(self, failed_form: str) -> Refusal:
        """The page with ``failed_form``'s errors shown at that form (`submit` sets the 422)."""

        async def render(errors: list[FieldError]) -> Response[Any]:
            return await self.render(errors, failed_form)

        return render

    async def render(self, errors: list[FieldError], failed_form: str) -> Response[Any]:
        tenders, actor = self.tenders, self.actor
        view = await tenders.detail(self.code, actor)
        if not tenders.owns(actor, view.tender):
            raise NotFound("no such tender", field="code", rule="exists")
        now = await clock.now(tenders.session)
        blocking: list[FieldError] = []
        if view.tender.status is TenderStatus.DRAFT:
            pending, _ = await tenders.publication_errors(view.tender, now)
            if pending.items:
                blocking = field_errors(DomainError("", extra={"errors": pending.items}), BIDDING)
        context = {
            "tender": view.tender,
            "lots": view.lots,
            "documents": view.documents,
            "questions": await tenders.questions_for_owner(actor, view.tender),
            "document_objections": await self.objections.for_owner(actor, view.tender),
            "blocking": blocking,
            "errors": errors,
            "failed_form": failed_form,
            "server_time": now,
            "deadline_local": display_time(view.tender.deadline),
        }
        return await page(self.request, "bidding/manage_tender.html", {**context, **TEMPLATE_LABELS})
