"""The contract and the notices signed in the page (``static/js/pki/sign-pdf.js``), beside the uploads.

Each has two routes, as the evaluation report's (`bidding.evaluation.report.web_pagesign`):

* prepare (POST, form field ``certificate``, DER base64) → JSON `prepared_json`, or JSON
  ``{"errors": [{field, rule, message}]}`` with the refusal's status;
* finish (POST, fields ``prepared`` and ``signature``) → the kernel's form path (`submit`: 303 back
  to the page, or the page again with the refusal naming field and rule).

Contract: the winner at ``/bidding/tenders/{code}/contract/page-signature[/prepare]``, the tenderee
at ``/bidding/manage/tenders/{code}/contract/page-signature[/prepare]``. Notices: the tenderee at
``/bidding/manage/tenders/{code}/notices/drafts/{draft_id}/page-signature[/prepare]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import page_signing
from bidding.award import web_contract as contract_pages
from bidding.award import web_notices as notice_pages
from bidding.award.web_contract import _award as contract_award
from bidding.award.web_contract import _Page as ContractPage
from bidding.award.web_contract import _store
from bidding.award.web_contract import _tender as contract_tender
from bidding.award.web_notices import _draft_of
from bidding.award.web_notices import _ManagePage as NoticesPage
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError
from trading.kernel.web.forms import FieldError, Labels, field_errors, read_form, submit
from trading.kernel.web.i18n import N_
from trading.parties.pdf_signing import PreparedSignature, prepared_json, read_certificate, read_cms

WINNER_PREPARE: Final = "award.contract_winner_page_prepare"
WINNER_FINISH: Final = "award.contract_winner_page_sign"
TENDEREE_PREPARE: Final = "award.contract_tenderee_page_prepare"
TENDEREE_FINISH: Final = "award.contract_tenderee_page_sign"
NOTICE_PREPARE: Final = "award.notice_page_prepare"
NOTICE_FINISH: Final = "award.notice_page_sign"
LABELS: Final = Labels(
    fields={
        "prepared": N_("Prepared signature"),
        "signature": N_("Signature made in the page"),
        "certificate": N_("Signing certificate"),
    }
)


async def _prepared(
    request: Request[Any, Any, Any],
    prepare: Callable[[Callable[[], Awaitable[Any]]], Awaitable[PreparedSignature]],
) -> Response[Any]:
    """``prepare`` checks who may sign what before it reads the certificate (``read``)."""

    async def read() -> Any:
        form = await read_form(request)
        return read_certificate(str(form.get("certificate") or ""))

    try:
        prepared = await prepare(read)
    except DomainError as exc:
        errors = [{"field": e.field, "rule": e.rule, "message": e.message} for e in field_errors(exc, LABELS)]
        return Response({"errors": errors}, status_code=exc.status_code, headers={"Cache-Control": "no-store"})
    return Response(prepared_json(prepared), status_code=200, headers={"Cache-Control": "no-store"})


class AwardPageSigning(Controller):
    path = "/bidding"
    include_in_schema = False

    async def _contract_prepare(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str
    ) -> Response[Any]:
        _, store = _store(request)

        async def prepare(read: Callable[[], Awaitable[Any]]) -> PreparedSignature:
            tender = await contract_tender(db_session, code)
            award = await contract_award(db_session, tender)
            await page_signing.contract_turn(db_session, actor, award.id)
            return await page_signing.prepare_contract_signature(
                db_session, store, actor=actor, award_id=award.id, certificate=await read()
            )

        return await _prepared(request, prepare)

    async def _contract_finish(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str
    ) -> Response[Any]:
        settings, store = _store(request)
        shown = ContractPage(request, db_session, actor, code)

        async def work() -> object:
            form = await read_form(request)
            tender = await contract_tender(db_session, code)
            award = await contract_award(db_session, tender)
            return await page_signing.finish_contract_signature(
                db_session,
                settings,
                store,
                actor=actor,
                award_id=award.id,
                prepared_id=str(form.get("prepared") or ""),
                signature_cms=read_cms(str(form.get("signature") or "")),
            )

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await shown.render(errors, {})

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(contract_pages.PAGE, code=code) + "?done=signed",
            refusal=refusal,
        )

    @post(
        "/tenders/{code:str}/contract/page-signature/prepare",
        name=WINNER_PREPARE,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def winner_prepare(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Prepare the contract for the winner's signature in the page."""
        return await self._contract_prepare(request, db_session, actor, code)

    @post(
        "/tenders/{code:str}/contract/page-signature",
        name=WINNER_FINISH,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def winner_finish(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Finish the winner's signature made in the page; stored as an upload is."""
        return await self._contract_finish(request, db_session, actor, code)

    @post(
        "/manage/tenders/{code:str}/contract/page-signature/prepare",
        name=TENDEREE_PREPARE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tenderee_prepare(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Prepare the winner-signed contract for the tenderee's signature in the page."""
        return await self._contract_prepare(request, db_session, actor, code)

    @post(
        "/manage/tenders/{code:str}/contract/page-signature",
        name=TENDEREE_FINISH,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tenderee_finish(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Finish the tenderee's signature made in the page: the contract is complete."""
        return await self._contract_finish(request, db_session, actor, code)

    @post(
        "/manage/tenders/{code:str}/notices/drafts/{draft_id:str}/page-signature/prepare",
        name=NOTICE_PREPARE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def notice_prepare(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Prepare a notice's draft for the tenderee's signature (with its e-seal) in the page."""
        _, store = _store(request)

        async def prepare(read: Callable[[], Awaitable[Any]]) -> PreparedSignature:
            draft = await _draft_of(db_session, code, draft_id)
            await page_signing.unsigned_draft(db_session, actor, draft.id)
            return await page_signing.prepare_notice_signature(
                db_session, store, actor=actor, draft_id=draft.id, certificate=await read()
            )

        return await _prepared(request, prepare)

    @post(
        "/manage/tenders/{code:str}/notices/drafts/{draft_id:str}/page-signature",
        name=NOTICE_FINISH,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def notice_finish(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Finish the tenderee's signature on a notice made in the page; the last one issues them."""
        settings, store = _store(request)
        managed = NoticesPage(request, db_session, actor, code)

        async def work() -> object:
            form = await read_form(request)
            draft = await _draft_of(db_session, code, draft_id)
            return await page_signing.finish_notice_signature(
                db_session,
                settings,
                store,
                actor=actor,
                draft_id=draft.id,
                prepared_id=str(form.get("prepared") or ""),
                signature_cms=read_cms(str(form.get("signature") or "")),
            )

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(notice_pages.MANAGE, code=code) + "?signed=1",
            refusal=managed.render,
        )


CONTROLLERS = (AwardPageSigning,)
