"""Public bidding pages: the tender list and search, a tender's detail with the countdown from the
database clock, document downloads (recorded, for bidders), questions, and the server time.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import File
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as fmt
from bidding.deps import provide_objections, provide_tenders
from bidding.evaluation.requirementset import service as requirementset
from bidding.models import (
    TenderCategory,
    TenderStatus,
)
from bidding.objections import DocumentObjections
from bidding.policies import BiddingPermission
from bidding.remedy_plan import remedy_plan
from bidding.tenders import security
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, exposes, guarded
from bidding.web.common import PREFIX, PUBLIC_LIST_STATUSES, TENDERS, attachment, path_to
from bidding.web.forms import ObjectionForm, QuestionForm
from bidding.web.labels import BIDDING, TEMPLATE_LABELS
from bidding.web.stages import has_bid, opening_stages, record_published
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import RECORDS_ON_READ
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page
from trading.parties.models import Organisation

# --- public pages --------------------------------------------------------------------------------


class TenderPages(Controller):
    """Published tenders: the list with search, and one tender with its lots and documents."""

    path = TENDERS
    include_in_schema = False
    dependencies = {
        "tenders": Provide(provide_tenders),
        "objections": Provide(provide_objections),
    }

    @get("/", name="bidding.tenders", opt=exposes(Exposure.PUBLIC))
    async def tender_list(
        self,
        *,
        request: Request[Any, Any, Any],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Tenders in every public stage, newest first, searchable by title or project code and
        filterable by stage (public).
        """
        chosen_category = next((c for c in TenderCategory if c.value == category), None)
        chosen_status = next((s for s in PUBLIC_LIST_STATUSES if s.value == status), None)
        try:
            found = await tenders.search(
                Actor.anonymous(), q=q, status=chosen_status, category=chosen_category, cursor=cursor or None
            )
        except DomainError:  # a stale or forged cursor: show the first page
            found = await tenders.search(Actor.anonymous(), q=q, status=chosen_status, category=chosen_category)
        # Anonymous search on purpose: a tenderee's drafts belong on the management page, not here.
        del actor
        items = [t for t in found.items if t.status in PUBLIC_LIST_STATUSES]
        return await page(
            request,
            "bidding/tender_list.html",
            {
                "tenders": items,
                "stages": await opening_stages(db_session, [t.id for t in items]),
                "next_cursor": found.next_cursor,
                "q": q or "",
                "category": chosen_category.value if chosen_category else "",
                "status": chosen_status.value if chosen_status else "",
                "list_statuses": PUBLIC_LIST_STATUSES,
                "server_time": await clock.now(db_session),
                **TEMPLATE_LABELS,
            },
        )

    @get("/{code:str}", name="bidding.tender", opt=exposes(Exposure.PUBLIC))
    async def tender_detail(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """One tender: lots, documents, the deadline counted down from the database clock (public);
        for a bidder also the downloads, the question form and the published answers.
        """
        return await _DetailPage(request, code, tenders, objections, actor).render([], {})

    @post(
        "/{code:str}/questions",
        name="bidding.ask",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def ask(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[QuestionForm],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """A bidder's question; the answer comes in a clarification published to every downloader."""

        async def ask() -> None:
            await tenders.ask(actor, await tenders.tender(code), data.text)

        detail = _DetailPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            ask,
            labels=BIDDING,
            redirect=path_to(request, "bidding.tender", code=code) + "?asked=1#questions",
            refusal=lambda errors: detail.render(errors, {"text": data.text}),
        )

    @post(
        "/{code:str}/document-objection-statement",
        name="bidding.document_objection_statement",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
        status_code=200,
    )
    async def document_objection_statement(
        self,
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        """The exact bytes the organisation signs to file ``objection`` against the documents
        (``format.document_objection_statement``, its own USCC), for signing in the page. Nothing
        is stored; the objection form checks everything when it is filed.
        """
        tender = await tenders.tender(code)
        if tender.status is TenderStatus.DRAFT:  # a draft is not public: no statement says it exists
            raise NotFound("no such tender", field="code", rule="exists")
        organisation = await db_session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
        if organisation is None:
            raise NotFound("no organisation to object for", field="organisation", rule="exists")
        statement = fmt.document_objection_statement(tender.project_code, organisation.uscc, data.objection)
        return attachment(statement, f"document-objection-{tender.project_code}.json", "application/json")

    @post(
        "/{code:str}/document-objections",
        name="bidding.object_to_documents",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def object_to_documents(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """An objection to the documents (实施条例 Art. 22): the text and its signature by the
        organisation's certificate over ``format.document_objection_statement``.
        """
        signature = data.signature.strip()

        async def file_objection() -> None:
            await objections.file(actor, await tenders.tender(code), data.objection, signature)

        detail = _DetailPage(request, code, tenders, objections, actor)
        return await submit(
            db_session,
            file_objection,
            labels=BIDDING,
            redirect=path_to(request, "bidding.tender", code=code) + "?objected=1#document-objections",
            refusal=lambda errors: detail.render(errors, {"objection": data.objection, "signature": signature}),
        )

    @get(
        "/{code:str}/documents/{document_id:uuid}",
        name="bidding.document",
        opt={**guarded(BiddingPermission.DOCUMENT_DOWNLOAD, Exposure.PARTICIPATION), RECORDS_ON_READ: True},
    )
    async def document(
        self,
        code: FromPath[str],
        document_id: FromPath[uuid.UUID],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> File:
        """The document's bytes; the download is recorded (sealed until the deadline)."""
        document, served = await tenders.download_document(actor, code, document_id)
        return File(
            path=served.path,
            filename=document.filename,
            media_type=document.media_type,
            background=BackgroundTask(served.cleanup) if served.cleanup else None,
        )

    @get(
        "/{code:str}/documents/{document_id:uuid}/signature",
        name="bidding.document_signature",
        opt=guarded(BiddingPermission.DOCUMENT_DOWNLOAD, Exposure.PARTICIPATION),
    )
    async def document_signature(
        self, code: FromPath[str], document_id: FromPath[uuid.UUID], tenders: NamedDependency[TenderService]
    ) -> Response[bytes]:
        """The document's detached CAdES signature (DER), to verify it offline."""
        tender = await tenders.tender(code)
        document = await tenders.document(tender, document_id)
        return attachment(tenders.signature_of(document), f"{document.filename}.p7s", "application/pkcs7-signature")

    @get(
        "/{code:str}/key-holders/{number:int}",
        name="bidding.key_holder",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PUBLIC),
    )
    async def key_holder(
        self,
        code: FromPath[str],
        number: FromPath[int],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """Key holder ``number``'s encryption certificate (PEM): ``ggzy bid seal --key-holder`` takes
        one file per holder, in the tender's order (the server checks that order).
        """
        view = await tenders.detail(code, actor)
        holders = view.tender.key_holders.get("holders", [])
        if not 1 <= number <= len(holders):
            raise NotFound("no such key holder", field="number", rule="exists")
        pem = holders[number - 1]["certificate"].strip() + "\n"
        return attachment(pem.encode(), f"key-holder-{number}.pem", "application/x-pem-file")


class _DetailPage:
    """A published tender's page, rendered on its own or again around a refused form."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        code: str,
        tenders: TenderService,
        objections: DocumentObjections,
        actor: Actor,
    ) -> None:
        self.request, self.code, self.tenders, self.objections, self.actor = request, code, tenders, objections, actor

    async def render(self, errors: list[FieldError], form: dict[str, str]) -> Response[Any]:
        tenders, actor = self.tenders, self.actor
        view = await tenders.detail(self.code, actor)
        if view.tender.status is TenderStatus.DRAFT:
            # Drafts are the owner's business: they preview them on the management page.
            raise NotFound("no such tender", field="code", rule="exists")
        session = tenders.session
        owner = actor.organisation_id is not None and actor.organisation_id in (
            view.tender.tenderee_organisation_id,
            view.tender.agency_organisation_id,
        )
        tenderee = await session.get(Organisation, view.tender.tenderee_organisation_id)
        agency = (
            await session.get(Organisation, view.tender.agency_organisation_id)
            if view.tender.agency_organisation_id
            else None
        )
        answered = [q for q in await tenders.repo.questions(view.tender.id) if q.answer]
        may_ask = actor.has(BiddingPermission.QUESTION_ASK)
        context = {
            "tender": view.tender,
            "tenderee": tenderee,
            "agency": agency,
            "criteria": view.tender.evaluation_criteria.get("criteria", []),
            "remedy_plan": remedy_plan(view.tender.key_holders, view.tender.rules),
            "lots": view.lots,
            # Each lot's bid security as a bidder must give it (issue 17: amount, forms, validity).
            "securities": {lot.code: security.lot_terms(view.tender, lot) for lot in view.lots},
            "security_valid_until": security.validity_end(view.tender),
            "documents": view.documents,
            "requirement_set": await requirementset.published(session, view.tender),
            "answered": answered,
            "my_questions": await tenders.my_questions(actor, view.tender) if may_ask else [],
            "my_objections": await self.objections.mine(actor, view.tender) if may_ask else [],
            "server_time": await clock.now(session),
            "stage": (await opening_stages(session, [view.tender.id])).get(view.tender.id),
            "hall_seat": actor.has(BiddingPermission.OPENING_ATTEND)
            and await has_bid(session, view.tender.id, actor.organisation_id),
            "hall_desk": owner and actor.has(BiddingPermission.OPENING_HOST),
            "record_published": await record_published(session, view.tender.id),
            "can_download": actor.has(BiddingPermission.DOCUMENT_DOWNLOAD),
            "can_ask": may_ask,
            "can_bid": actor.has(BiddingPermission.BID_SUBMIT),
            "errors": errors,
            "form": form,
        }
        return await page(self.request, "bidding/tender_detail.html", {**context, **TEMPLATE_LABELS})


@get(f"{PREFIX}/time", name="bidding.time", include_in_schema=False, opt=exposes(Exposure.NONE))
async def server_time(db_session: NamedDependency[AsyncSession]) -> dict[str, str]:
    """The database clock, polled by the countdown so a wrong computer clock cannot mislead a bidder."""
    return {"now": (await clock.now(db_session)).isoformat()}
