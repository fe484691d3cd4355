"""The complaint pages (投诉), in Chinese with the English switch.

* ``/bidding/supervision/complaints`` (supervisory departments): the queue, grouped: pending
  acceptance (with its due instant, overdue marked), accepted (decision due), decided or not
  accepted, and the tenders under the supervisor's suspension; each links to the tender's page.
  Linked from the supervisor's navigation and dashboard.
* ``/bidding/supervision/tenders/{code}/complaints``: the tender's complaints with the objection
  they follow, and the forms of the supervisor's acts (accept, not accept, suspend, resume,
  dismiss, uphold → re-evaluation or re-tender), each signed in the page (`/static/js/pki/`,
  the statement fetched from ``…/complaints/statement``) or with a pasted signature. The award's
  journal with the acts an upheld complaint voided.
* ``/bidding/tenders/{code}/publicity/complaints`` (the bidder, linked from 我的异议): its
  complaints and their progress, and the form to complain after each of its objections.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule). The supervisor's
pages refuse anyone else with 403 before reading a form.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import complaints, objections, publicity
from bidding.award.errors import AwardRefused
from bidding.award.lookups import award_of, tender_of
from bidding.award.models import Award, AwardObjection, AwardStep, Complaint
from bidding.award.signed_act import submit_act, submit_award_act
from bidding.award.states import TERMINAL, ComplaintState
from bidding.award.web_labels import LABELS
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, guarded
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody
from trading.kernel.web.pages import page
from trading.parties.models import Organisation

QUEUE: Final = "award.complaints_queue"
SUPERVISE: Final = "award.complaints_supervise"
ACT: Final = "award.complaint_act"
ACT_STATEMENT: Final = "award.complaint_act_statement"
MINE: Final = "award.complaints"
COMPLAIN: Final = "award.complain"
COMPLAINT_STATEMENT: Final = "award.complaint_statement"
SUPERVISOR_ACTS: Final = tuple(complaints.Act)


@dataclass
class ActForm:
    complaint: str = ""
    act: str = ""
    text: str = ""
    signature: str = ""


@dataclass
class ComplaintForm:
    award: str = ""
    objection: str = ""
    complaint: str = ""
    signature: str = ""


@dataclass(frozen=True)
class TenderComplaints:
    """One award of a tender as the supervisor's page shows it."""

    award: Award
    complaints: tuple[tuple[Complaint, AwardObjection | None, str], ...]
    steps: tuple[AwardStep, ...]
    ended: bool


@dataclass(frozen=True)
class Mine:
    """One objection of the bidder, its complaints and whether it may complain now."""

    award: Award
    objection: AwardObjection
    complaints: tuple[Complaint, ...]
    deadline: datetime | None = None
    may_complain: bool = False
    why_not: str = ""


def _complaint_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("no such complaint", field="complaint", rule="exists") from None


async def _complaint_of(db_session: AsyncSession, tender: Tender, value: str) -> Complaint:
    complaint = await db_session.get(Complaint, _complaint_id(value))
    award = await db_session.get(Award, complaint.award_id) if complaint is not None else None
    if complaint is None or award is None or award.tender_id != tender.id:
        raise NotFound("no such complaint", field="complaint", rule="exists")
    return complaint


async def _run_act(
    db_session: AsyncSession, settings: Settings, actor: Actor, complaint: Complaint, data: ActForm
) -> object:
    try:
        act = complaints.Act(data.act)
    except ValueError:
        raise AwardRefused(f"{data.act!r} is not an act on a complaint", field="act", rule="choice") from None
    args = (db_session, settings, actor, complaint.id, data.text, data.signature)
    if act is complaints.Act.ACCEPT:
        return await complaints.accept_complaint(*args)
    if act is complaints.Act.REJECT:
        return await complaints.reject_complaint(*args)
    if act is complaints.Act.SUSPEND:
        return await complaints.suspend_award(*args)
    if act is complaints.Act.RESUME:
        return await complaints.resume_award(*args)
    return await complaints.decide_complaint(
        db_session, settings, actor, complaint.id, act.value, data.text, data.signature
    )


class ComplaintPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get(
        "/supervision/complaints",
        name=QUEUE,
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def queue(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The supervisor's complaints queue and the suspended tenders."""
        await complaints.require_supervisor(db_session, actor)
        rows = await complaints.queue(db_session)
        context = {
            "pending": [r for r in rows if r.complaint.state is ComplaintState.FILED],
            "accepted": [r for r in rows if r.complaint.state is ComplaintState.ACCEPTED],
            "closed": [r for r in rows if r.complaint.state not in complaints.OPEN_STATES],
            "suspended": await complaints.suspended_awards(db_session),
            **LABELS,
            "server_time": await clock.now(db_session),
        }
        return await page(request, "award/complaints_queue.html", context)

    @get(
        "/supervision/tenders/{code:str}/complaints",
        name=SUPERVISE,
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def supervise(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """A tender's complaints, their objections, the award's journal and the supervisor's forms."""
        await complaints.require_supervisor(db_session, actor)
        return await _SupervisorPage(request, db_session, code).render([], {})

    @post(
        "/supervision/tenders/{code:str}/complaints/statement",
        name=ACT_STATEMENT,
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
        status_code=200,
    )
    async def act_statement(
        self,
        *,
        code: FromPath[str],
        data: FormBody[ActForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the supervisor signs for the act (nothing stored)."""
        await complaints.require_supervisor(db_session, actor)
        complaint = await _complaint_of(db_session, await tender_of(db_session, code), data.complaint)
        statement = await complaints.act_statement(db_session, complaint, data.act, data.text)
        return Response(statement, media_type="application/json")

    @post(
        "/supervision/tenders/{code:str}/complaints/act",
        name=ACT,
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def act(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ActForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """One signed act of the supervisor on a complaint of the tender."""
        await complaints.require_supervisor(db_session, actor)
        settings: Settings = request.app.state.settings
        tender = await tender_of(db_session, code)
        shown = _SupervisorPage(request, db_session, code)

        async def run() -> object:
            complaint = await _complaint_of(db_session, tender, data.complaint)
            return await _run_act(db_session, settings, actor, complaint, data)

        return await submit_act(
            request,
            db_session,
            run,
            back=SUPERVISE,
            code=code,
            done=f"done={data.act}",
            refusal=lambda errors: shown.render(
                errors, {"complaint": data.complaint, "act": data.act, "text": data.text}
            ),
        )

    @get(
        "/tenders/{code:str}/publicity/complaints",
        name=MINE,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def mine(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The bidder's complaints with their progress, and the form after each of its objections."""
        return await _BidderPage(request, db_session, actor, code).render([], {})

    @post(
        "/tenders/{code:str}/publicity/complaint-statement",
        name=COMPLAINT_STATEMENT,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
        status_code=200,
    )
    async def complaint_statement(
        self,
        *,
        code: FromPath[str],
        data: FormBody[ComplaintForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to complain (nothing stored: filing checks all)."""
        award = await award_of(db_session, await tender_of(db_session, code), data.award)
        if actor.organisation_id is None:
            raise NotFound("no organisation to complain for", field="organisation", rule="exists")
        organisation = await db_session.get_one(Organisation, actor.organisation_id)
        statement = await complaints.complaint_statement(
            db_session, award, organisation, data.objection, data.complaint
        )
        return Response(statement, media_type="application/json")

    @post(
        "/tenders/{code:str}/publicity/complaints",
        name=COMPLAIN,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def complain(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ComplaintForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """File the bidder's signed complaint to the supervisory department."""
        settings: Settings = request.app.state.settings
        bidder_page = _BidderPage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: complaints.file_complaint(
                db_session, settings, actor, award.id, data.objection, text=data.complaint, signature=data.signature
            ),
            code=code,
            award=data.award,
            back=MINE,
            done="filed=1",
            refusal=lambda errors: bidder_page.render(
                errors, {"objection": data.objection, "complaint": data.complaint, "signature": data.signature}
            ),
        )


@dataclass(frozen=True)
class _SupervisorPage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        shown = []
        for award in await publicity.awards_of_tender(self.db_session, tender.id):
            rows = []
            for complaint in await complaints.complaints_of(self.db_session, award.id):
                objection = (
                    await self.db_session.get(AwardObjection, complaint.objection_id)
                    if complaint.objection_id
                    else None
                )
                organisation = await self.db_session.get_one(Organisation, complaint.organisation_id)
                rows.append((complaint, objection, organisation.name))
            steps = tuple(await publicity.steps_of(self.db_session, award.id))
            shown.append(TenderComplaints(award, tuple(rows), steps, award.state in TERMINAL))
        context = {
            "tender": tender,
            "shown": shown,
            "errors": errors,
            "values": values,
            "done": self.request.query_params.get("done", ""),
            "supervisor_acts": SUPERVISOR_ACTS,
            **LABELS,
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/complaints_supervise.html", context)


@dataclass(frozen=True)
class _BidderPage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        if not await objections.is_bidder(self.db_session, tender.id, self.actor.organisation_id):
            raise PermissionDenied(
                "only a bidder of this tender complains about its result", field="code", rule="complaint_by_bidder"
            )
        calendar = await load_calendar(self.db_session)
        now = await clock.now(self.db_session)
        shown = []
        for award in await publicity.awards_of_tender(self.db_session, tender.id):
            filed = await complaints.mine(self.db_session, self.actor, award.id)
            for objection in await objections.mine(self.db_session, self.actor, award.id):
                theirs = tuple(c for c in filed if c.objection_id == objection.id)
                deadline: datetime | None = None
                why_not = ""
                try:
                    deadline = complaints.deadline_of(award, objection, calendar)
                except AwardRefused as exc:
                    why_not = exc.rule or ""
                open_one = any(c.state in complaints.OPEN_STATES for c in theirs)
                waiting = objection.answered_at is None and now < objection.answer_due
                may = (
                    deadline is not None
                    and now < deadline
                    and not waiting
                    and not open_one
                    and award.state not in TERMINAL
                )
                shown.append(Mine(award, objection, theirs, deadline, may, why_not))
        context = {
            "tender": tender,
            "shown": shown,
            "errors": errors,
            "values": values,
            "filed": self.request.query_params.get("filed") == "1",
            "server_time": now,
            **LABELS,
        }
        return await page(self.request, "award/complaints.html", context)


CONTROLLERS = (ComplaintPages,)
