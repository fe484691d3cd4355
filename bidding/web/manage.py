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
from trading.kernel.auth.roles import Role
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, field_errors, read_form, submit
from trading.kernel.web.pages import page


class ManagedTender:
    """One own tender's management page and its forms: each form's work goes through the kernel's
    `submit` and, refused, the page is rendered again with the errors at that form.
    """

    def __init__(  # noqa: PLR0917 - what Litestar injects, kept together for the forms
        self,
        request: Request[Any, Any, Any],
        code: str,
        tenders: TenderService,
        objections: DocumentObjections,
        actor: Actor,
        db_session: AsyncSession,
    ) -> None:
        self.request, self.code, self.tenders, self.objections = request, code, tenders, objections
        self.actor, self.db_session = actor, db_session

    async def tender(self) -> Tender:
        return await self.tenders.tender(self.code)

    async def submit(
        self, action: Callable[[], Awaitable[Any]], form: str, *, redirect: str | None = None
    ) -> Response[Any]:
        """Run ``action`` for ``form``; success goes to ``redirect`` (else back to this page)."""

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self.render(errors, form)

        return await submit(
            self.db_session,
            action,
            labels=BIDDING,
            redirect=redirect or path_to(self.request, "bidding.manage_tender", code=self.code),
            refusal=refused,
        )

    async def render(self, errors: list[FieldError], failed_form: str) -> Response[Any]:
        tenders, actor = self.tenders, self.actor
        view = await tenders.detail(self.code, actor)
        if not tenders.owns(actor, view.tender):
            raise NotFound("no such tender", field="code", rule="exists")
        now = await clock.now(self.db_session)
        blocking: list[FieldError] = []
        if view.tender.status is TenderStatus.DRAFT:
            pending, _ = await tenders.publication_errors(view.tender, now)
            if pending.items:
                blocking = field_errors(DomainError("", extra={"errors": pending.items}), BIDDING)
        context = {
            "tender": view.tender,
            "parties": await tenders.parties_of([view.tender]),
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


async def provide_managed(  # noqa: PLR0917 - Litestar injects each by name
    request: Request[Any, Any, Any],
    code: FromPath[str],
    tenders: NamedDependency[TenderService],
    objections: NamedDependency[DocumentObjections],
    actor: NamedDependency[Actor],
    db_session: NamedDependency[AsyncSession],
) -> ManagedTender:
    return ManagedTender(
        request=request, code=code, tenders=tenders, objections=objections, actor=actor, db_session=db_session
    )


class ManagePages(Controller):
    """The tenderee's (or agency's) tenders: drafts, signed documents, publication, clarifications,
    deadline extensions.
    """

    path = MANAGE
    include_in_schema = False
    dependencies = {
        "tenders": Provide(provide_tenders),
        "objections": Provide(provide_objections),
        "managed": Provide(provide_managed),
    }

    @get("/", name="bidding.manage", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWN))
    async def manage(
        self, request: Request[Any, Any, Any], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The organisation's tenders (drafts included): its own, and those an agency runs for a
        tenderee (shown to both), each with its tenderee and agency.
        """
        own = await tenders.owned(actor)
        context = {"tenders": own, "parties": await tenders.parties_of(own)}
        return await page(request, "bidding/manage_list.html", {**context, **TEMPLATE_LABELS})

    @get("/new", name="bidding.manage_new", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE))
    async def new(
        self, request: Request[Any, Any, Any], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        return await self._draft_form(request, tenders, actor, {}, ["cash", "guarantee"], [])

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
            refusal=lambda errors: self._draft_form(request, tenders, actor, data.shown(), data.security(), errors),
        )

    @get(
        "/tenders/{code:str}",
        name="bidding.manage_tender",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tender(self, managed: NamedDependency[ManagedTender]) -> Response[Any]:
        """One own tender: documents, what still blocks publication, questions, clarifications."""
        return await managed.render([], "")

    @post(
        "/tenders/{code:str}/documents",
        name="bidding.manage_document",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def add_document(self, managed: NamedDependency[ManagedTender]) -> Response[Any]:
        """Attach a signed document (file and detached .p7s) to a draft."""
        form = await read_form(managed.request)

        async def add_document() -> None:
            (filename, media_type, content), signature = await signed_upload(form)
            kind = next((k for k in DocumentKind if k.value == form.get("kind")), DocumentKind.TENDER_DOCUMENT)
            title = str(form.get("title", ""))
            tender = await managed.tender()
            await managed.tenders.add_document(
                managed.actor, tender, kind, title, filename, media_type, content, signature
            )

        return await managed.submit(add_document, "document")

    @post(
        "/tenders/{code:str}/publish",
        name="bidding.manage_publish",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def publish(self, managed: NamedDependency[ManagedTender]) -> Response[Any]:
        """Publish the draft: one refusal lists every rule it breaks; published, the public page."""

        async def publish() -> Tender:
            return await managed.tenders.publish(managed.actor, await managed.tender())

        public_page = path_to(managed.request, "bidding.tender", code=managed.code)
        return await managed.submit(publish, "publish", redirect=public_page)

    @post(
        "/tenders/{code:str}/clarifications",
        name="bidding.manage_clarify",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def clarify(self, managed: NamedDependency[ManagedTender]) -> Response[Any]:
        """Publish a signed clarification, answering questions and possibly moving the deadline."""
        form = await read_form(managed.request)

        async def clarify() -> None:
            parser = FieldParser()
            new_deadline = parser.time("deadline", str(form.get("deadline", "")))
            answers = answers_from(parser, form.items())
            parser.done()
            (filename, media_type, content), signature = await signed_upload(form)
            await managed.tenders.clarify(
                managed.actor,
                await managed.tender(),
                str(form.get("title", "")),
                filename,
                content,
                signature,
                answers=answers,
                new_deadline=new_deadline,
                media_type=media_type,
            )

        return await managed.submit(clarify, "clarification")

    @post(
        "/tenders/{code:str}/extension",
        name="bidding.manage_extend",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def extend(self, data: FormBody[ExtensionForm], managed: NamedDependency[ManagedTender]) -> Response[Any]:
        """Move the deadline later, with a reason."""

        async def extend() -> None:
            parser = FieldParser()
            new_deadline = parser.time("deadline", data.deadline, required=True)
            parser.done()
            assert new_deadline is not None  # noqa: S101 - refused above otherwise
            await managed.tenders.extend(managed.actor, await managed.tender(), new_deadline, data.reason)

        return await managed.submit(extend, "extension")

    @post(
        "/tenders/{code:str}/document-objections/{objection_id:uuid}/answer",
        name="bidding.manage_answer_objection",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def answer_objection(
        self, objection_id: FromPath[uuid.UUID], data: FormBody[AnswerForm], managed: NamedDependency[ManagedTender]
    ) -> Response[Any]:
        """Answer an objection to the documents (实施条例 Art. 22); the deadline moves by the time it was pending."""

        async def answer() -> None:
            await managed.objections.answer(managed.actor, await managed.tender(), objection_id, data.answer)

        own_page = path_to(managed.request, "bidding.manage_tender", code=managed.code)
        return await managed.submit(answer, "objection", redirect=own_page + "#document-objections")

    @staticmethod
    async def _draft_form(  # noqa: PLR0917 - the form's one renderer
        request: Request[Any, Any, Any],
        tenders: TenderService,
        actor: Actor,
        form: Mapping[str, str],
        security: list[str],
        errors: list[FieldError],
    ) -> Response[Any]:
        context = {
            "form": form,
            "security": security,
            "errors": errors,
            "tender_types": tender_types(),
            # 招标人: the acting organisation (a tenderee) and those that mandated it (an agency).
            "tenderees": await tenders.tenderee_choices(actor),
            "acts_as_agency": Role.AGENCY in actor.roles,
        }
        return await page(request, "bidding/manage_new.html", {**context, **TEMPLATE_LABELS})
