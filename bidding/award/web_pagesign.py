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
from bidding.award.contract_view import contract_award_by_code
from bidding.award.lookups import settings_and_store
from bidding.award.signed_act import Refusal, submit_act
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError
from trading.kernel.web.forms import Labels, field_errors, read_form
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


async def _finished(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    finish: Callable[[str, str], Awaitable[object]],
    *,
    back: str,
    code: str,
    done: str,
    refusal: Refusal,
) -> Response[Any]:
    """The finish step's form path: ``finish(prepared, signature)`` gets the form's two fields as
    sent (the route finds what it signs first, then decodes the signature), through `submit_act`.
    """

    async def run() -> object:
        form = await read_form(request)
        return await finish(str(form.get("prepared") or ""), str(form.get("signature") or ""))

    return await submit_act(request, db_session, run, back=back, code=code, done=done, refusal=refusal, labels=LABELS)


class AwardPageSigning(Controller):
    path = "/bidding"
    include_in_schema = False

    async def _contract_prepare(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str
    ) -> Response[Any]:
        _, store = settings_and_store(request)

        async def prepare(read: Callable[[], Awaitable[Any]]) -> PreparedSignature:
            award = await contract_award_by_code(db_session, code)
            await page_signing.contract_turn(db_session, actor, award.id)
            return await page_signing.prepare_contract_signature(
                db_session, store, actor=actor, award_id=award.id, certificate=await read()
            )

        return await _prepared(request, prepare)

    async def _contract_finish(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str
    ) -> Response[Any]:
        settings, store = settings_and_store(request)
        shown = contract_pages.ContractPage(request, db_session, actor, code)

        async def finish(prepared: str, signature: str) -> object:
            award = await contract_award_by_code(db_session, code)
            return await page_signing.finish_contract_signature(
                db_session,
                settings,
                store,
                actor=actor,
                award_id=award.id,
                prepared_id=prepared,
                signature_cms=read_cms(signature),
            )

        return await _finished(
            request,
            db_session,
            finish,
            back=contract_pages.PAGE,
            code=code,
            done="done=signed",
            refusal=lambda errors: shown.render(errors, {}),
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
        _, store = settings_and_store(request)

        async def prepare(read: Callable[[], Awaitable[Any]]) -> PreparedSignature:
            draft = await notice_pages.draft_of(db_session, code, draft_id)
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
        settings, store = settings_and_store(request)
        managed = notice_pages.ManagePage(request, db_session, actor, code)

        async def finish(prepared: str, signature: str) -> object:
            draft = await notice_pages.draft_of(db_session, code, draft_id)
            return await page_signing.finish_notice_signature(
                db_session,
                settings,
                store,
                actor=actor,
                draft_id=draft.id,
                prepared_id=prepared,
                signature_cms=read_cms(signature),
            )

        return await _finished(
            request, db_session, finish, back=notice_pages.MANAGE, code=code, done="signed=1", refusal=managed.render
        )


CONTROLLERS = (AwardPageSigning,)
