"""The notices' pages (中标通知书, 中标结果通知书), in Chinese with the English switch.

* ``/bidding/manage/tenders/{code}/notices`` (the tender's owners): once the winner is confirmed,
  the form that drafts the notices; each draft to download, sign with ``ggzy bid sign-notice``
  (the tenderee's certificate, e-seal) and upload; after issuing, each notice with its recipient
  and read status. Linked from the owners' publicity page.
* ``/bidding/notices`` (我的通知): the notices issued to the user's organisation across tenders;
  ``/bidding/notices/{id}`` opens the PDF (the first open records the read receipt). Linked from
  the bidder's dashboard.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import notices, publicity
from bidding.award.lookups import notice_draft_of, settings_and_store, tender_of, uuid_of
from bidding.award.models import Award, AwardNotice, AwardNoticeDraft
from bidding.award.signed_act import submit_act, submit_award_act
from bidding.award.states import AwardEvent, allowed_events
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from trading.kernel.web.forms import FieldError, FormBody, read_form
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.models import Organisation, User

MANAGE: Final = "award.notices_manage"
DRAFT: Final = "award.notices_draft"
DRAFT_PDF: Final = "award.notice_draft_pdf"
SIGN: Final = "award.notice_sign"
OWNER_PDF: Final = "award.notice_owner_pdf"
MINE: Final = "award.my_notices"
PDF: Final = "award.notice_pdf"
CHOOSE_PDF: Final = N_("Choose the signed notice (a PDF file) to upload.")


@dataclass
class DraftForm:
    award: str = ""


@dataclass(frozen=True)
class ShownAward:
    award: Award
    may_draft: bool
    drafts: tuple[AwardNoticeDraft, ...]
    notices: tuple[AwardNotice, ...]


def _pdf(data: bytes, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


class NoticePages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get(
        "/manage/tenders/{code:str}/notices", name=MANAGE, opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER)
    )
    async def manage(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The tenderee's notices: draft, download, upload signed, read status."""
        return await ManagePage(request, db_session, actor, code).render([])

    @post(
        "/manage/tenders/{code:str}/notices", name=DRAFT, opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER)
    )
    async def draft(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[DraftForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Draft the award notice and the result notices of a confirmed award."""
        _, store = settings_and_store(request)
        managed = ManagePage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: notices.prepare_drafts(db_session, store, actor, award.id),
            code=code,
            award=data.award,
            back=MANAGE,
            done="drafted=1",
            refusal=managed.render,
        )

    @get(
        "/manage/tenders/{code:str}/notices/drafts/{draft_id:str}",
        name=DRAFT_PDF,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def draft_pdf(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The draft to sign (or, once signed, the signed revision)."""
        _, store = settings_and_store(request)
        draft = await draft_of(db_session, code, draft_id)
        return _pdf(await notices.draft_pdf(db_session, store, actor, draft.id), f"notice-{draft.id}.pdf")

    @post(
        "/manage/tenders/{code:str}/notices/drafts/{draft_id:str}",
        name=SIGN,
        request_max_body_size=notices.MAX_PDF_BYTES + 64 * 1024,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def sign(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Upload the draft with the tenderee's signature appended (``ggzy bid sign-notice``)."""
        settings, store = settings_and_store(request)
        managed = ManagePage(request, db_session, actor, code)

        async def run() -> object:
            draft = await draft_of(db_session, code, draft_id)
            form = await read_form(request)
            upload = form.get("pdf")
            data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
            if not data:
                raise ValidationFailed(CHOOSE_PDF, field="pdf", rule="required")
            return await notices.sign_notice(db_session, settings, store, actor, draft.id, data)

        return await submit_act(
            request, db_session, run, back=MANAGE, code=code, done="signed=1", refusal=managed.render
        )

    @get(
        "/manage/tenders/{code:str}/notices/{notice_id:str}",
        name=OWNER_PDF,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def owner_pdf(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        notice_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """An issued notice, for the tender's owners (no read receipt)."""
        _, store = settings_and_store(request)
        tender = await tender_of(db_session, code)
        notice, of_tender, _ = await notices.notice_for(db_session, actor, uuid_of(notice_id, "notice"))
        if of_tender.id != tender.id:
            raise NotFound("no such notice", field="notice", rule="exists")
        return _pdf(await notices.notice_pdf(store, notice), f"notice-{notice.id}.pdf")

    @get("/notices", name=MINE, opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN))
    async def mine(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """我的通知: the notices issued to the user's organisation, across tenders."""
        delivered = await notices.delivered_to(db_session, actor.organisation_id)
        context = {"delivered": delivered, "server_time": await clock.now(db_session)}
        return await page(request, "award/notices_mine.html", context)

    @get("/notices/{notice_id:str}", name=PDF, opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN))
    async def open(
        self,
        *,
        request: Request[Any, Any, Any],
        notice_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The notice's PDF; the recipient's first open records the read receipt."""
        _, store = settings_and_store(request)
        notice = await notices.open_notice(db_session, actor, uuid_of(notice_id, "notice"))
        return _pdf(await notices.notice_pdf(store, notice), f"notice-{notice.id}.pdf")


async def draft_of(db_session: AsyncSession, code: str, value: str) -> AwardNoticeDraft:
    """The notice draft a page's path names (``code``, ``draft_id``)."""
    return await notice_draft_of(db_session, await tender_of(db_session, code), uuid_of(value, "draft"))


@dataclass(frozen=True)
class ManagePage:
    """The owners' notices page (also where a page signature's refusal is shown)."""

    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        if not publicity.is_tenderee(self.actor, tender):
            raise PermissionDenied("only the tenderee or its agency issues the notices", field="code", rule="owner")
        shown = []
        names: dict[uuid.UUID, str] = {}
        readers: dict[uuid.UUID, str] = {}
        for award in await publicity.awards_of_tender(self.db_session, tender.id):
            events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
            drafts = tuple(await notices.drafts_of(self.db_session, award.id))
            issued = tuple(await notices.notices_of(self.db_session, award.id))
            recipients = {d.recipient_organisation_id for d in drafts} | {n.recipient_organisation_id for n in issued}
            for organisation_id in recipients:
                names[organisation_id] = (await self.db_session.get_one(Organisation, organisation_id)).name
            for notice in issued:
                if notice.read_by is not None:
                    user = await self.db_session.get_one(User, notice.read_by)
                    readers[notice.id] = user.display_name or user.username
            shown.append(ShownAward(award, AwardEvent.ISSUE_NOTICES in events, drafts, issued))
        context = {
            "tender": tender,
            "shown": shown,
            "names": names,
            "readers": readers,
            "titles": {kind.value: title for kind, title in notices.TITLES.items()},
            "errors": errors,
            "drafted": self.request.query_params.get("drafted") == "1",
            "signed": self.request.query_params.get("signed") == "1",
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/notices_manage.html", context)


CONTROLLERS = (NoticePages,)
