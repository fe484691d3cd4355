"""The award notices' JSON API (中标通知书, 中标结果通知书), over `bidding.award.notices` only.

The tender's owners (tenderee, its agency), ``bidding:tender:manage``:

* ``GET /api/v1/award/tenders/{code}/notices``: every award of the tender with its live drafts
  (recipient, kind, digest, signed or not) and its issued notices with their read status;
* ``POST …/notices/drafts`` ``{"award": id}``: draft the notices of a confirmed award
  (`notices.prepare_drafts`: the live drafts when they still name the winner);
* ``GET …/notices/drafts/{draft_id}/draft.pdf``: the draft to sign (once signed, the signed revision);
* ``POST …/notices/drafts/{draft_id}/signature``: the draft with the tenderee's incremental PAdES
  signature appended, as a raw ``application/pdf`` body (`notices.sign_notice`; the last one issues).

The recipients (bidders), ``bidding:bid:submit``:

* ``GET /api/v1/award/notices``: 我的通知, the notices issued to the caller's organisation;
* ``GET /api/v1/award/notices/{notice_id}/notice.pdf``: the signed notice; the first download by a
  user of the recipient records the read receipt (`notices.open_notice`, as the page does).
  Another organisation's notice: 404.

Refusals are the kernel's 4xx (problem+json) naming the field and the rule, decided by the service.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import notices, publicity
from bidding.award.lookups import award_of, notice_draft_of, settings_and_store, tender_of
from bidding.award.models import Award, AwardNotice, AwardNoticeDraft
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import PermissionDenied
from trading.parties.models import Organisation

PREFIX: Final = "/award"


class DraftCreate(msgspec.Struct, rename="camel"):
    award: str


def _pdf(data: bytes, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _draft(row: AwardNoticeDraft, names: dict[uuid.UUID, Organisation]) -> dict[str, Any]:
    recipient = names[row.recipient_organisation_id]
    return {
        "id": str(row.id),
        "kind": row.kind.value,
        "title": notices.TITLES[row.kind],
        "recipient": {"name": recipient.name, "uscc": recipient.uscc},
        "sha256": row.sha256,
        "signedSha256": row.signed_sha256,
        "signedAt": row.signed_at.isoformat() if row.signed_at else None,
    }


def _notice(row: AwardNotice, recipient: Organisation) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "kind": row.kind.value,
        "title": notices.TITLES[row.kind],
        "recipient": {"name": recipient.name, "uscc": recipient.uscc},
        "sha256": row.sha256,
        "signerSha256": row.signer_sha256,
        "issuedAt": row.issued_at.isoformat(),
        "read": row.read_at is not None,
        "readAt": row.read_at.isoformat() if row.read_at else None,
    }


async def _owned_tender(db_session: AsyncSession, actor: Actor, code: str) -> Tender:
    tender = await tender_of(db_session, code)
    if not publicity.is_tenderee(actor, tender):
        raise PermissionDenied("only the tenderee or its agency issues the notices", field="code", rule="owner")
    return tender


async def _organisations(db_session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    return {i: await db_session.get_one(Organisation, i) for i in ids}


class AwardNoticesApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get(
        "/tenders/{code:str}/notices",
        operation_id="award_notices",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def manage(
        self, code: FromPath[str], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[dict[str, Any]]:
        """The tender's awards with their notice drafts and issued notices (read status)."""
        tender = await _owned_tender(db_session, actor, code)
        shown = []
        for award in await publicity.awards_of_tender(db_session, tender.id):
            drafts = await notices.drafts_of(db_session, award.id)
            issued = await notices.notices_of(db_session, award.id)
            names = await _organisations(
                db_session,
                {d.recipient_organisation_id for d in drafts} | {n.recipient_organisation_id for n in issued},
            )
            shown.append(
                {
                    "award": str(award.id),
                    "lotGroup": award.lot_group,
                    "state": award.state.value,
                    "drafts": [_draft(d, names) for d in drafts],
                    "notices": [_notice(n, names[n.recipient_organisation_id]) for n in issued],
                }
            )
        return shown

    @post(
        "/tenders/{code:str}/notices/drafts",
        operation_id="award_notices_draft",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def draft(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[DraftCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> list[dict[str, Any]]:
        """Draft the award notice and the result notices of a confirmed award (to sign)."""
        _, store = settings_and_store(request)
        award = await award_of(db_session, await tender_of(db_session, code), data.award)
        drafts = await notices.prepare_drafts(db_session, store, actor, award.id)
        names = await _organisations(db_session, {d.recipient_organisation_id for d in drafts})
        return [_draft(d, names) for d in drafts]

    @get(
        "/tenders/{code:str}/notices/drafts/{draft_id:uuid}/draft.pdf",
        operation_id="award_notice_draft_pdf",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def draft_pdf(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The draft to sign with ``ggzy bid sign-notice`` (once signed: the signed revision)."""
        _, store = settings_and_store(request)
        draft = await notice_draft_of(db_session, await tender_of(db_session, code), draft_id)
        return _pdf(await notices.draft_pdf(db_session, store, actor, draft.id), f"notice-{draft.id}.pdf")

    @post(
        "/tenders/{code:str}/notices/drafts/{draft_id:uuid}/signature",
        operation_id="award_notice_sign",
        status_code=HTTP_201_CREATED,
        request_max_body_size=notices.MAX_PDF_BYTES + 64 * 1024,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def sign(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        draft_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The draft with the tenderee's signature appended (raw ``application/pdf``); the last one
        signed issues the award's notices.
        """
        settings, store = settings_and_store(request)
        draft = await notice_draft_of(db_session, await tender_of(db_session, code), draft_id)
        body = await request.body()
        signed = await notices.sign_notice(db_session, settings, store, actor, draft.id, body)
        award = await db_session.get_one(Award, signed.award_id)
        names = await _organisations(db_session, {signed.recipient_organisation_id})
        return _draft(signed, names) | {"issued": signed.notice_id is not None, "awardState": award.state.value}

    @get("/notices", operation_id="award_notices_mine", opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN))
    async def mine(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[dict[str, Any]]:
        """我的通知: the notices issued to the caller's organisation, newest first."""
        shown = []
        for delivered in await notices.delivered_to(db_session, actor.organisation_id):
            recipient = await db_session.get_one(Organisation, delivered.notice.recipient_organisation_id)
            shown.append(
                _notice(delivered.notice, recipient)
                | {"tender": delivered.tender.project_code, "tenderTitle": delivered.tender.title}
            )
        return shown

    @get(
        "/notices/{notice_id:uuid}/notice.pdf",
        operation_id="award_notice_pdf",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def open(
        self,
        request: Request[Any, Any, Any],
        notice_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The signed notice; the recipient's first download records the read receipt."""
        _, store = settings_and_store(request)
        notice = await notices.open_notice(db_session, actor, notice_id)
        return _pdf(await notices.notice_pdf(store, notice), f"notice-{notice.id}.pdf")


CONTROLLERS: list[ControllerRouterHandler] = [AwardNoticesApi]
