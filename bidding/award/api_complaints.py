"""Complaints (投诉) in the API, for the bidder's client (``ggzy bid complain``).

* ``GET /api/v1/award/tenders/{code}/complaints/mine``: our objections to the tender's result, each
  with what a complaint after it is signed over (award, lot group, objection id), its window
  (``complaintDeadline``, or why none: ``windowRule``) and our complaints with their progress
  (state, acceptance, decision);
* ``POST /api/v1/award/tenders/{code}/complaints``: file a complaint (the award, the objection, the
  text, the detached CAdES signature over `format.award_complaint_statement`, base64).

Refusals are the kernel's 4xx naming the field and the rule (`complaints` decides them all).
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

from bidding.award import complaints, objections, publicity
from bidding.award.errors import AwardRefused
from bidding.award.lookups import award_of, tender_of
from bidding.award.models import Complaint
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.settings import Settings

PREFIX: Final = "/award/tenders"


class ComplaintCreate(msgspec.Struct, rename="camel"):
    award: str
    objection: str
    text: str
    signature: str


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def complaint_json(row: Complaint) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "award": str(row.award_id),
        "objection": str(row.objection_id) if row.objection_id else None,
        "text": row.text,
        "signerSha256": row.signer_sha256,
        "filedAt": row.filed_at.isoformat(),
        "state": row.state.value,
        "acceptanceDue": row.acceptance_due.isoformat(),
        "acceptedAt": _iso(row.accepted_at),
        "acceptanceNote": row.acceptance_note,
        "decisionDue": _iso(row.decision_due),
        "decision": row.decision.value if row.decision else None,
        "decisionText": row.decision_text,
        "decidedAt": _iso(row.decided_at),
    }


class AwardComplaintsApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get(
        "/{code:str}/complaints/mine",
        operation_id="award_complaints_mine",
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def mine(
        self,
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> list[dict[str, Any]]:
        """Our objections to the tender's result, each with its complaint window and our complaints."""
        calendar = await load_calendar(db_session)
        tender = await tender_of(db_session, code)
        rows = []
        for award in await publicity.awards_of_tender(db_session, tender.id):
            filed = await complaints.mine(db_session, actor, award.id)
            for objection in await objections.mine(db_session, actor, award.id):
                deadline, rule = None, None
                try:
                    deadline = complaints.deadline_of(award, objection, calendar).isoformat()
                except AwardRefused as exc:
                    rule = exc.rule
                rows.append(
                    {
                        "objection": str(objection.id),
                        "award": str(award.id),
                        "tender": tender.project_code,
                        "lotGroup": award.lot_group,
                        "awardState": award.state.value,
                        "answeredAt": _iso(objection.answered_at),
                        "answerDue": objection.answer_due.isoformat(),
                        "complaintDeadline": deadline,
                        "windowRule": rule,
                        "complaints": [complaint_json(c) for c in filed if c.objection_id == objection.id],
                    }
                )
        return rows

    @post(
        "/{code:str}/complaints",
        operation_id="award_complain",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def file(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ComplaintCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """投诉 to the supervisory department after our objection, signed by us."""
        settings: Settings = request.app.state.settings
        award = await award_of(db_session, await tender_of(db_session, code), data.award)
        row = await complaints.file_complaint(
            db_session, settings, actor, award.id, data.objection, text=data.text, signature=data.signature
        )
        return complaint_json(row)


CONTROLLERS: list[ControllerRouterHandler] = [AwardComplaintsApi]
