"""The tender JSON API under ``/api/v1/bidding/tenders``.

Public: the search over published tenders and a tender's detail (lots, published documents'
metadata, deadline and ``serverTime`` from the database clock for the countdown). Everything else
needs a bearer token and a permission: tenderees and agencies manage drafts, signed documents,
publication, clarifications, extensions and cancellation; bidders download (each download is
recorded) and ask questions; the downloader list is sealed until the deadline, and a refused
attempt is recorded in the ledger: the refusal is *returned* as problem+json (not raised), so the
request's transaction commits the record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from bidding.deps import provide_objections, provide_tenders
from bidding.models import DocumentKind, TenderCategory, TenderStatus
from bidding.objections import DocumentObjections
from bidding.policies import BiddingPermission
from bidding.schemas import (
    Cancellation,
    ClarificationUpload,
    DeadlineExtension,
    DocumentObjectionAnswer,
    DocumentObjectionCreate,
    DocumentObjectionRead,
    DocumentRead,
    DocumentUpload,
    DownloaderRead,
    DownloadsRead,
    QuestionCreate,
    QuestionRead,
    TenderCreate,
    TenderPage,
    TenderRead,
    TenderSummary,
    TenderUpdate,
)
from bidding.tenders.base import TenderView
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.api.errors import problem_response
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import check_datetime
from trading.kernel.errors import ValidationFailed

PREFIX = "/bidding/tenders"
SIGNATURE_TYPE = "application/pkcs7-signature"
MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


async def _read(view: TenderView, tenders: TenderService) -> TenderRead:
    return TenderRead.of(view.tender, view.lots, view.documents, await clock.now(tenders.session))


def _deadline(raw: str | None) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationFailed("an ISO 8601 time with its offset", field="deadline", rule="datetime") from exc
    if value.tzinfo is None:
        raise ValidationFailed("the deadline needs a UTC offset", field="deadline", rule="datetime")
    return check_datetime("deadline", value)


def _answers(raw: str | None) -> dict[uuid.UUID, str]:
    if raw is None or not raw.strip():
        return {}
    refusal = ValidationFailed(
        'answers is a JSON object {"<question id>": "<answer>"}', field="answers", rule="json_object"
    )
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise refusal from exc
    if not isinstance(parsed, dict) or not all(isinstance(value, str) for value in parsed.values()):
        raise refusal
    try:
        return {uuid.UUID(key): value for key, value in parsed.items()}
    except ValueError as exc:
        raise refusal from exc


def _kind(raw: str) -> DocumentKind:
    try:
        return DocumentKind(raw)
    except ValueError as exc:
        allowed = ", ".join(kind.value for kind in DocumentKind)
        raise ValidationFailed(f"kind is one of {allowed}", field="kind", rule="enum") from exc


class TenderController(Controller):
    path = PREFIX
    tags = ["bidding"]
    dependencies = {"tenders": Provide(provide_tenders), "objections": Provide(provide_objections)}

    # --- public ----------------------------------------------------------------------------------

    @get("/", operation_id="bidding_search_tenders", opt=exposes(Exposure.PUBLIC))
    async def search(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        q: FromQuery[str | None] = None,
        status: FromQuery[TenderStatus | None] = None,
        category: FromQuery[TenderCategory | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> TenderPage:
        """Published tenders, newest first (public); a signed-in tenderee or agency also sees its drafts."""
        page = await tenders.search(actor, q=q, status=status, category=category, limit=limit, cursor=cursor)
        return TenderPage(
            items=[TenderSummary.of(row) for row in page.items],
            next_cursor=page.next_cursor,
            server_time=await clock.now(tenders.session),
        )

    @get("/{code:str}", operation_id="bidding_get_tender", opt=exposes(Exposure.PUBLIC))
    async def detail(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> TenderRead:
        """A tender with its lots, published documents, deadline and the server's time (public)."""
        return await _read(await tenders.detail(code, actor), tenders)

    # --- tenderees and agencies ------------------------------------------------------------------

    @post(
        "/",
        operation_id="bidding_create_tender",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.NONE),
    )
    async def create(
        self, data: JSONBody[TenderCreate], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> TenderRead:
        """Create a draft with its lots (an agency names the tenderee)."""
        tender = await tenders.create_draft(actor, data)
        return await _read(await tenders.detail(tender.project_code, actor), tenders)

    @patch(
        "/{code:str}",
        operation_id="bidding_update_tender",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def update(
        self,
        code: FromPath[str],
        data: JSONBody[TenderUpdate],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> TenderRead:
        """Change a draft; ``lots`` replaces every lot."""
        await tenders.update_draft(actor, code, data)
        return await _read(await tenders.detail(code, actor), tenders)

    @post(
        "/{code:str}/documents",
        operation_id="bidding_add_document",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def add_document(
        self,
        code: FromPath[str],
        data: Annotated[DocumentUpload, MULTIPART],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> DocumentRead:
        """Attach a signed document to a draft (multipart: ``file``, ``signature`` (.p7s DER), ``kind``, ``title``)."""
        tender = await tenders.tender(code)
        document = await tenders.add_document(
            actor,
            tender,
            _kind(data.kind),
            data.title,
            data.file.filename,
            data.file.content_type,
            await data.file.read(),
            await data.signature.read(),
        )
        return DocumentRead.of(document)

    @post(
        "/{code:str}/publication",
        operation_id="bidding_publish_tender",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def publish(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> TenderRead:
        """Publish after every rule check (one 422 lists each broken field and rule)."""
        await tenders.publish(actor, await tenders.tender(code))
        return await _read(await tenders.detail(code, actor), tenders)

    @post(
        "/{code:str}/clarifications",
        operation_id="bidding_clarify_tender",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def clarify(
        self,
        code: FromPath[str],
        data: Annotated[ClarificationUpload, MULTIPART],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> DocumentRead:
        """Publish a signed clarification (multipart: ``file``, ``signature``, ``title``, optional
        ``deadline`` and ``answers`` JSON); one within the clarification period moves the deadline.
        """
        document = await tenders.clarify(
            actor,
            await tenders.tender(code),
            data.title,
            data.file.filename,
            await data.file.read(),
            await data.signature.read(),
            answers=_answers(data.answers),
            new_deadline=_deadline(data.deadline),
            media_type=data.file.content_type,
        )
        return DocumentRead.of(document)

    @post(
        "/{code:str}/extension",
        operation_id="bidding_extend_tender",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def extend(
        self,
        code: FromPath[str],
        data: JSONBody[DeadlineExtension],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> TenderRead:
        """Move the deadline later, with a reason."""
        await tenders.extend(actor, await tenders.tender(code), data.deadline, data.reason)
        return await _read(await tenders.detail(code, actor), tenders)

    @post(
        "/{code:str}/cancellation",
        operation_id="bidding_cancel_tender",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def cancel(
        self,
        code: FromPath[str],
        data: JSONBody[Cancellation],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> TenderRead:
        """Cancel a draft or an open tender, with a reason."""
        await tenders.cancel(actor, await tenders.tender(code), data.reason)
        return await _read(await tenders.detail(code, actor), tenders)

    # --- bidders ---------------------------------------------------------------------------------

    @get(
        "/{code:str}/documents/{document_id:uuid}",
        operation_id="bidding_download_document",
        # The document's own media type (PDF, archive …), not one fixed type.
        responses={
            HTTP_200_OK: ResponseSpec(
                bytes, media_type="*/*", description="The document's bytes", generate_examples=False
            )
        },
        opt=guarded(BiddingPermission.DOCUMENT_DOWNLOAD, Exposure.PARTICIPATION),
    )
    async def download(
        self,
        code: FromPath[str],
        document_id: FromPath[uuid.UUID],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> File:
        """A published document's bytes (bidders; each download is recorded, secretly until the deadline)."""
        document, served = await tenders.download_document(actor, code, document_id)
        return File(
            path=served.path,
            filename=document.filename,
            media_type=document.media_type,
            background=BackgroundTask(served.cleanup) if served.cleanup else None,
        )

    @get(
        "/{code:str}/documents/{document_id:uuid}/signature",
        operation_id="bidding_document_signature",
        opt=guarded(BiddingPermission.DOCUMENT_DOWNLOAD, Exposure.PARTICIPATION),
    )
    async def signature(
        self, code: FromPath[str], document_id: FromPath[uuid.UUID], tenders: NamedDependency[TenderService]
    ) -> Response[bytes]:
        """The document's detached CAdES signature (.p7s, DER) by the tenderee or its agency."""
        document = await tenders.document(await tenders.tender(code), document_id)
        return Response(
            content=document.signature,
            media_type=SIGNATURE_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{document.sha256}.p7s"'},
        )

    @post(
        "/{code:str}/questions",
        operation_id="bidding_ask_question",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def ask(
        self,
        code: FromPath[str],
        data: JSONBody[QuestionCreate],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> QuestionRead:
        """Ask a question (bidders who downloaded the tender document, before the deadline)."""
        return QuestionRead.of(await tenders.ask(actor, await tenders.tender(code), data.text))

    @get(
        "/{code:str}/questions",
        operation_id="bidding_list_questions",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def questions(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> list[QuestionRead]:
        """Every question of the tender, for the tenderee and its agency to answer; never who asked."""
        return [QuestionRead.of(row) for row in await tenders.questions_for_owner(actor, await tenders.tender(code))]

    @get(
        "/{code:str}/questions/mine",
        operation_id="bidding_my_questions",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def my_questions(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> list[QuestionRead]:
        """The caller's organisation's questions on this tender and their answers (bidders)."""
        return [QuestionRead.of(row) for row in await tenders.my_questions(actor, await tenders.tender(code))]

    @post(
        "/{code:str}/document-objections",
        operation_id="bidding_file_document_objection",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def file_document_objection(
        self,
        code: FromPath[str],
        data: JSONBody[DocumentObjectionCreate],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> DocumentObjectionRead:
        """Object to the tender documents (实施条例 Art. 22): signed by the organisation, at least 10 days
        before the deadline; the tender is suspended until the answer.
        """
        return DocumentObjectionRead.of(
            await objections.file(actor, await tenders.tender(code), data.text, data.signature)
        )

    @get(
        "/{code:str}/document-objections",
        operation_id="bidding_list_document_objections",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def document_objections(
        self,
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> list[DocumentObjectionRead]:
        """Every objection to the documents, for the tenderee and its agency to answer; never who objected."""
        return [DocumentObjectionRead.of(row) for row in await objections.for_owner(actor, await tenders.tender(code))]

    @get(
        "/{code:str}/document-objections/mine",
        operation_id="bidding_my_document_objections",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def my_document_objections(
        self,
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> list[DocumentObjectionRead]:
        """The caller's organisation's objections to this tender's documents and their answers."""
        return [DocumentObjectionRead.of(row) for row in await objections.mine(actor, await tenders.tender(code))]

    @post(
        "/{code:str}/document-objections/{objection_id:uuid}/answer",
        operation_id="bidding_answer_document_objection",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def answer_document_objection(  # noqa: PLR0917 - Litestar injects parameters by name
        self,
        code: FromPath[str],
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[DocumentObjectionAnswer],
        tenders: NamedDependency[TenderService],
        objections: NamedDependency[DocumentObjections],
        actor: NamedDependency[Actor],
    ) -> DocumentObjectionRead:
        """Answer an objection (tenderee or agency, within 3 days); the deadline moves by the time it was pending."""
        tender = await tenders.tender(code)
        return DocumentObjectionRead.of(await objections.answer(actor, tender, objection_id, data.answer))

    @get(
        "/{code:str}/downloads",
        operation_id="bidding_list_downloads",
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def downloads(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> Response[DownloadsRead]:
        """Who downloaded, with counts: after the deadline only; before it 403 ``sealed_until_deadline`` (audited)."""
        tender = await tenders.tender(code)
        result = await tenders.downloads(actor, tender)
        if not isinstance(result, list):
            return problem_response(result.problem())
        body = DownloadsRead(
            code=tender.project_code,
            downloaders=[
                DownloaderRead(d.organisation_id, d.name, d.uscc, d.downloads, d.first_download_at) for d in result
            ],
        )
        return Response(content=body)


CONTROLLERS = [TenderController]

PUBLIC_PATHS = frozenset(
    {
        f"/api/v1{PREFIX}",
        f"/api/v1{PREFIX}/{{code}}",
    }
)
"""Path templates as the global guard sees them (``scope["path_template"]``)."""
