"""The award stage's API for the bidder's client (``ggzy bid object --stage publicity``).

* ``GET /api/v1/award/tenders/{code}/publicity``: the opened publicities (engineering) and GP result
  announcements a bidder may object to (award id, lot group, ``stage``: ``publicity`` or
  ``announcement``, the SHA-256 of the signed content, its period, ``closed`` once objections are no
  longer taken): what the client signs over (``ggzy bid object --stage publicity|announcement``);
* ``POST /api/v1/award/tenders/{code}/objections``: file an objection (the text, the award, the
  detached CAdES signature over `format.award_objection_statement`, base64);
* ``GET /api/v1/award/tenders/{code}/objections/mine``: the bidder's objections, their progress and answers.

Refusals are the kernel's 4xx naming the field and the rule (`objections` decides them all).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, objections, publicity
from bidding.award.lookups import award_of, tender_of
from bidding.award.models import AwardObjection, PublicityKind
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.settings import Settings

PREFIX: Final = "/award/tenders"


class ObjectionCreate(msgspec.Struct, rename="camel"):
    award: str
    text: str
    signature: str


def _objection(row: AwardObjection) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "award": str(row.award_id),
        "text": row.text,
        "signerSha256": row.signer_sha256,
        "filedAt": row.filed_at.isoformat(),
        "answerDue": row.answer_due.isoformat(),
        "answer": row.answer,
        "answeredAt": row.answered_at.isoformat() if row.answered_at else None,
        "late": row.late,
    }


class AwardObjectionsApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get(
        "/{code:str}/publicity",
        operation_id="award_publicity",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def publicity(self, code: FromPath[str], db_session: NamedDependency[AsyncSession]) -> list[dict[str, Any]]:
        """The tender's opened publicities and GP result announcements: what an objection is signed
        over (``stage``: ``publicity`` or ``announcement``; ``closed``: objections no longer taken).
        """
        tender = await tender_of(db_session, code)
        now = await clock.now(db_session)
        shown, calendar = [], await load_calendar(db_session)
        for award in await publicity.awards_of_tender(db_session, tender.id):
            opened = await publicity.current_publicity(db_session, award.id)
            if opened is not None:
                closed = opened.closed_at is not None
                if opened.kind is PublicityKind.RESULT:
                    closed = now >= announcement.objections_until(award, opened, calendar)
                shown.append(
                    {
                        "award": str(award.id),
                        "tender": tender.project_code,
                        "lotGroup": award.lot_group,
                        "stage": objections.stage_of(award),
                        "contentSha256": opened.content_sha256,
                        "openedAt": opened.opened_at.isoformat(),
                        "closesAt": opened.closes_at.isoformat(),
                        "closed": closed,
                    }
                )
        return shown

    @post(
        "/{code:str}/objections",
        operation_id="award_object",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def file(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ObjectionCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """异议 to the candidates' publicity, signed by the bidder (during the publicity)."""
        settings: Settings = request.app.state.settings
        award = await award_of(db_session, await tender_of(db_session, code), data.award)
        row = await objections.file_objection(
            db_session, settings, actor, award.id, text=data.text, signature=data.signature
        )
        return _objection(row)

    @get(
        "/{code:str}/objections/mine",
        operation_id="award_objections_mine",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def mine(
        self, code: FromPath[str], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[dict[str, Any]]:
        """Our organisation's objections to the tender's result, with their progress and answers."""
        tender = await tender_of(db_session, code)
        rows = []
        for award in await publicity.awards_of_tender(db_session, tender.id):
            rows += [_objection(o) for o in await objections.mine(db_session, actor, award.id)]
        return rows


CONTROLLERS: list[ControllerRouterHandler] = [AwardObjectionsApi]
