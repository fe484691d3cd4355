"""The requirement set's pages (in Chinese with the English switch) and its download.

* ``/bidding/manage/tenders/{code}/requirements`` (the tenderee or its agency, while a draft): the
  stored set (format, SHA-256, counts), the upload form (``ggzy-requirements/1`` JSON) and the
  bill-of-quantities import (.xlsx/.csv); refusals name field and rule (``data-rule``), nothing
  stored. Linked from the tender's management page.
* ``/bidding/tenders/{code}/requirements`` (public once published): the SHA-256 and the downloads;
  ``…/requirements.json`` the document's exact bytes; ``…/response-schema.json`` the JSON Schema
  of the structured response bidders seal (``ggzy bid seal --response``). Linked from the tender's
  public page.
* ``/api/v1/bidding/tenders/{code}/requirements``: the same bytes for the client, with the digest
  in ``X-Content-SHA256``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import provide_tenders
from bidding.evaluation.requirementset import service
from bidding.evaluation.requirementset.labels import REQUIREMENTS
from bidding.evaluation.response.bid import response_schema
from bidding.models import Tender, TenderStatus
from bidding.policies import BiddingPermission
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, exposes, guarded
from bidding.web.common import MANAGE, TENDERS, attachment, path_to, read_upload
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.web.forms import FieldError, read_form, submit
from trading.kernel.web.pages import page

MAX_BYTES: Final = 16 * 1024 * 1024
MANAGE_PAGE: Final = "evaluation.requirements_manage"
PUBLIC_PAGE: Final = "evaluation.requirements_public"
API_PATH: Final = "/bidding/tenders/{code:str}/requirements"
PUBLIC_PATHS: Final = (
    f"{TENDERS}/{{code}}/requirements",
    f"{TENDERS}/{{code}}/requirements.json",
    f"{TENDERS}/{{code}}/response-schema.json",
)
API_PUBLIC_PATHS: Final = ("/api/v1/bidding/tenders/{code}/requirements",)


async def _owned(tenders: TenderService, code: str, actor: Actor) -> Tender:
    tender = await tenders.tender(code)
    if not tenders.owns(actor, tender):
        raise NotFound("no such tender", field="code", rule="exists")
    return tender


async def _published(db_session: AsyncSession, tenders: TenderService, code: str) -> service.Published:
    tender = await tenders.tender(code)
    published = await service.published(db_session, tender)
    if published is None:
        raise NotFound("the tender publishes no requirement set", field="code", rule="exists")
    return published


def _summary(published: service.Published | None) -> dict[str, Any] | None:
    if published is None:
        return None
    doc = published.requirements
    return {
        "format": published.record.format,
        "sha256": published.sha256,
        "uploaded_at": published.record.uploaded_at,
        "qualifications": len(doc.qualifications),
        "star_items": len(doc.star_items),
        "criteria": doc.criteria,
        "bill": len(doc.bill),
        "lot": doc.lot,
    }


def _required_file() -> ValidationFailed:
    return ValidationFailed("choose a file", field="file", rule="file_required")


class RequirementPages(Controller):
    include_in_schema = False
    dependencies = {"tenders": Provide(provide_tenders)}

    async def _render(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        tender: Tender,
        errors: list[FieldError],
        failed_form: str,
    ) -> Response[Any]:
        stored = await service.stored(db_session, tender.id)
        return await page(
            request,
            "evaluation/requirementset/manage.html",
            {
                "tender": tender,
                "summary": _summary(stored),
                "editable": tender.status is TenderStatus.DRAFT,
                "errors": errors,
                "failed_form": failed_form,
            },
            status_code=422 if errors else 200,
        )

    @get(
        f"{MANAGE}/tenders/{{code:str}}/requirements",
        name=MANAGE_PAGE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def manage(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The tender's requirement set: what is stored, the upload and bill-import forms."""
        return await self._render(request, db_session, await _owned(tenders, code, actor), [], "")

    async def _form(  # noqa: PLR0917 - what Litestar injected, handed on together
        self,
        request: Request[Any, Any, Any],
        code: str,
        tenders: TenderService,
        actor: Actor,
        db_session: AsyncSession,
        form_name: str,
    ) -> Response[Any]:
        tender = await _owned(tenders, code, actor)
        form = await read_form(request)

        async def act() -> None:
            upload = await read_upload(form.get("file"))
            if upload is None:
                raise _required_file()
            filename, _media, content = upload
            if form_name == "bill":
                await service.import_bill_into(db_session, tender, content, filename=filename, actor=actor)
            else:
                await service.upload(db_session, tender, content, actor=actor)

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._render(request, db_session, tender, errors, form_name)

        return await submit(
            db_session,
            act,
            labels=REQUIREMENTS,
            redirect=path_to(request, MANAGE_PAGE, code=code),
            refusal=refused,
        )

    @post(
        f"{MANAGE}/tenders/{{code:str}}/requirements",
        name="evaluation.requirements_upload",
        request_max_body_size=MAX_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Upload (or replace, while a draft) the ``ggzy-requirements/1`` document."""
        return await self._form(request, code, tenders, actor, db_session, "requirements")

    @post(
        f"{MANAGE}/tenders/{{code:str}}/requirements/bill",
        name="evaluation.requirements_bill",
        request_max_body_size=MAX_BYTES,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def bill(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Import the 工程量清单 from Excel (or CSV) into the stored set's bill."""
        return await self._form(request, code, tenders, actor, db_session, "bill")

    @get(f"{TENDERS}/{{code:str}}/requirements", name=PUBLIC_PAGE, opt=exposes(Exposure.PUBLIC))
    async def public(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The published set's SHA-256 and downloads (the document and the response's schema)."""
        published = await _published(db_session, tenders, code)
        tender = await tenders.tender(code)
        return await page(
            request, "evaluation/requirementset/public.html", {"tender": tender, "summary": _summary(published)}
        )

    @get(
        f"{TENDERS}/{{code:str}}/requirements.json",
        name="evaluation.requirements_download",
        opt=exposes(Exposure.PUBLIC),
    )
    async def download(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The published ``ggzy-requirements/1`` document, byte for byte."""
        published = await _published(db_session, tenders, code)
        response = attachment(published.record.document, f"{code}-requirements.json", service.MEDIA_TYPE)
        response.headers["X-Content-SHA256"] = published.sha256
        return response

    @get(
        f"{TENDERS}/{{code:str}}/response-schema.json",
        name="evaluation.response_schema",
        opt=exposes(Exposure.PUBLIC),
    )
    async def schema(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The JSON Schema of the structured response (``ggzy-response/1``) bidders build against the set."""
        await _published(db_session, tenders, code)
        body = json.dumps(response_schema(), ensure_ascii=False, indent=2).encode()
        return attachment(body, "ggzy-response.schema.json", service.MEDIA_TYPE)


class RequirementApi(Controller):
    dependencies = {"tenders": Provide(provide_tenders)}
    tags = ["bidding"]

    @get(
        API_PATH,
        name="api.evaluation.requirements",
        operation_id="bidding_get_tender_requirements",
        opt=exposes(Exposure.PUBLIC),
    )
    async def requirements(
        self, code: FromPath[str], tenders: NamedDependency[TenderService], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The tender's published requirement set (exact bytes; SHA-256 in ``X-Content-SHA256``)."""
        published = await _published(db_session, tenders, code)
        return Response(
            published.record.document,
            media_type=service.MEDIA_TYPE,
            headers={"X-Content-SHA256": published.sha256},
        )


CONTROLLERS = (RequirementPages,)
API_CONTROLLERS = (RequirementApi,)
