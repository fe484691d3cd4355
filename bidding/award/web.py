"""The candidates' publicity pages, in Chinese with the English switch.

* ``/bidding/tenders/{code}/publicity`` (public): every opened publicity of the tender with what
  its signed content says (candidates in rank order, prices, scores, the committee's names, the
  report's SHA-256) and its period; nothing before the tenderee opened it. Linked from the
  tender's public page.
* ``/bidding/manage/tenders/{code}/publicity`` (the tender's owners: tenderee or agency): each
  award's state and the instant the publicity is due, the exact statement to sign, signed in the
  page (`/static/js/pki/`) or with any CA client (the signature pasted), and the form that opens
  the publicity; after it closed, the same for confirming the first remaining candidate (定标,
  ``/bidding/manage/tenders/{code}/award``). Linked from the tender's manage page.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import award as decisions
from bidding.award import complaints, objections, publicity, succession
from bidding.award.errors import AwardRefused
from bidding.award.lookups import award_of, tender_of
from bidding.award.models import Award, AwardObjection, AwardStep, Publicity, PublicityKind
from bidding.award.signed_act import submit_act, submit_award_act
from bidding.award.states import AwardEvent, allowed_events
from bidding.award.web_labels import LABELS
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody
from trading.kernel.web.pages import page
from trading.parties.models import Organisation

PUBLIC: Final = "award.publicity"
MANAGE: Final = "award.publicity_manage"
OPEN: Final = "award.publicity_open"
CONFIRM: Final = "award.confirm"
OBJECTIONS: Final = "award.objections"
OBJECT: Final = "award.object"
OBJECTION_STATEMENT: Final = "award.objection_statement"
ANSWER: Final = "award.answer_objection"
ANSWER_STATEMENT: Final = "award.answer_statement"
PUBLIC_PATHS: Final = frozenset({"/bidding/tenders/{code}/publicity"})


@dataclass
class OpenForm:
    award: str = ""
    signature: str = ""


@dataclass
class ConfirmForm:
    award: str = ""
    bid: str = ""
    signature: str = ""


@dataclass
class ObjectionForm:
    award: str = ""
    objection: str = ""
    signature: str = ""


@dataclass
class AnswerForm:
    award: str = ""
    objection_id: str = ""
    answer: str = ""
    signature: str = ""


@dataclass(frozen=True)
class Shown:
    """One award as the pages show it."""

    award: Award
    publicity: Publicity | None
    statement: str = ""
    may_open: bool = False
    winner: str = ""
    """The first remaining candidate's bid, when the award may be confirmed now."""
    winner_name: str = ""
    confirm_statement: str = ""
    objections: tuple[AwardObjection, ...] = ()
    """The owners' page: every objection; the bidder's page: its own."""
    may_object: bool = False
    steps: tuple[AwardStep, ...] = ()
    """The journal, when an upheld complaint voided the award (its void acts marked)."""
    revoked: decisions.RevokedWinner | None = None
    """The owners' page: the winner to confirm, or confirmed, revoked its bid (the tenderee chooses)."""


async def _shown(db_session: AsyncSession, tender: Tender, *, owner: bool) -> list[Shown]:
    shown = []
    for award in await publicity.awards_of_tender(db_session, tender.id):
        opened = await complaints.shown_publicity(db_session, award.id)
        statement, may_open, winner, winner_name, confirm = "", False, "", "", ""
        if owner:
            events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
            may_open = AwardEvent.OPEN_PUBLICITY in events
            if may_open:
                statement = (await publicity.statement_for(db_session, award))[0].decode()
            if AwardEvent.CONFIRM_AWARD in events:
                try:
                    order = await decisions.order_of(db_session, award)
                except AwardRefused:  # 评定分离: the order is fixed first (the decisions page)
                    order = succession.Order(succession.AwardRule.RANKED, ())
                gone = [*decisions.dropped_of(award), *await decisions.revoked_of(db_session, order)]
                now = succession.current(order, gone)  # a revoked candidate is never offered
                if isinstance(now, succession.Chosen):
                    winner, winner_name = now.winner.bid, now.winner.name
                    confirm = (
                        await decisions.decision_statement(db_session, award, decisions.Decision.CONFIRM, winner)
                    ).decode()
        listed = tuple(await objections.objections_of(db_session, award.id)) if owner else ()
        journal = await complaints.voided_journal(db_session, award)
        revoked = await decisions.revoked_winner(db_session, award) if owner else None
        shown.append(
            Shown(
                award, opened, statement, may_open, winner, winner_name, confirm, listed, steps=journal, revoked=revoked
            )
        )
    return shown


class PublicityPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get("/tenders/{code:str}/publicity", name=PUBLIC, opt=exposes(Exposure.PUBLIC))
    async def public(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The tender's candidates' publicity (public): only what the tenderee published, signed."""
        tender = await tender_of(db_session, code)
        opened = [
            s
            for s in await _shown(db_session, tender, owner=False)
            if s.publicity is not None and s.publicity.kind is PublicityKind.CANDIDATES
        ]
        actor = await current_actor(request)
        bidder = await objections.is_bidder(db_session, tender.id, actor.organisation_id)
        context = {
            "tender": tender,
            "shown": opened,
            "bidder": bidder,
            "server_time": await clock.now(db_session),
            **LABELS,
        }
        return await page(request, "award/publicity.html", context)

    @get(
        "/manage/tenders/{code:str}/publicity",
        name=MANAGE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def manage(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The tenderee's (or agency's) publicity page: state, due instant, the statement to sign."""
        return await _ManagePage(request, db_session, actor, code).render([], {})

    @post(
        "/manage/tenders/{code:str}/publicity",
        name=OPEN,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def open(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[OpenForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Open the publicity with the tenderee's signature over the statement shown."""
        settings: Settings = request.app.state.settings
        managed = _ManagePage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: publicity.open_publicity(db_session, settings, actor, award.id, data.signature),
            code=code,
            award=data.award,
            back=MANAGE,
            done="opened=1",
            refusal=lambda errors: managed.render(errors, {"signature": data.signature}),
        )

    @post(
        "/manage/tenders/{code:str}/award",
        name=CONFIRM,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def confirm(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ConfirmForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Confirm the winner (定标) with the tenderee's signature over the decision shown."""
        settings: Settings = request.app.state.settings
        managed = _ManagePage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: decisions.confirm_award(
                db_session, settings, actor, award.id, bid=data.bid, signature=data.signature
            ),
            code=code,
            award=data.award,
            back=MANAGE,
            done="awarded=1",
            refusal=lambda errors: managed.render(errors, {"signature": data.signature}),
        )


class ObjectionPages(Controller):
    """The bidder's objections (我的异议) to the publicity and the owners' signed answers."""

    path = "/bidding"
    include_in_schema = False

    @get(
        "/tenders/{code:str}/publicity/objections",
        name=OBJECTIONS,
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
        """The bidder's objections with their progress and answers, and the form while the publicity is open."""
        return await _BidderPage(request, db_session, actor, code).render([], {})

    @post(
        "/tenders/{code:str}/publicity/objection-statement",
        name=OBJECTION_STATEMENT,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
        status_code=200,
    )
    async def objection_statement(
        self,
        *,
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to file ``objection`` (nothing stored: filing checks all)."""
        tender = await tender_of(db_session, code)
        award = await award_of(db_session, tender, data.award)
        if actor.organisation_id is None:
            raise NotFound("no organisation to object for", field="organisation", rule="exists")
        organisation = await db_session.get_one(Organisation, actor.organisation_id)
        statement = await objections.objection_statement(db_session, award, organisation, data.objection)
        return Response(statement, media_type="application/json")

    @post(
        "/tenders/{code:str}/publicity/objections",
        name=OBJECT,
        opt=guarded(BiddingPermission.QUESTION_ASK, Exposure.PARTICIPATION),
    )
    async def file(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """File the bidder's objection with its signature over the statement."""
        settings: Settings = request.app.state.settings
        bidder_page = _BidderPage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: objections.file_objection(
                db_session, settings, actor, award.id, text=data.objection, signature=data.signature
            ),
            code=code,
            award=data.award,
            back=OBJECTIONS,
            done="filed=1",
            refusal=lambda errors: bidder_page.render(
                errors, {"objection": data.objection, "signature": data.signature}
            ),
        )

    @post(
        "/manage/tenders/{code:str}/publicity/answer-statement",
        name=ANSWER_STATEMENT,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
        status_code=200,
    )
    async def answer_statement(
        self,
        *,
        code: FromPath[str],
        data: FormBody[AnswerForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the tenderee signs to answer with ``answer`` (nothing stored)."""
        tender = await tender_of(db_session, code)
        if not publicity.is_tenderee(actor, tender):
            raise PermissionDenied("only the tenderee or its agency answers objections", field="code", rule="owner")
        objection = await _objection_of(db_session, tender, data.objection_id)
        statement = await objections.answer_statement(db_session, objection, data.answer)
        return Response(statement, media_type="application/json")

    @post(
        "/manage/tenders/{code:str}/publicity/answer",
        name=ANSWER,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def answer(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[AnswerForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Answer an objection with the tenderee's signature over the statement."""
        settings: Settings = request.app.state.settings
        tender = await tender_of(db_session, code)
        managed = _ManagePage(request, db_session, actor, code)

        async def run() -> AwardObjection:
            objection = await _objection_of(db_session, tender, data.objection_id)
            return await objections.answer_objection(
                db_session,
                settings,
                actor,
                objection.award_id,
                objection_id=objection.id,
                answer=data.answer,
                signature=data.signature,
            )

        return await submit_act(
            request,
            db_session,
            run,
            back=MANAGE,
            code=code,
            done="answered=1",
            refusal=lambda errors: managed.render(errors, {"answer": data.answer}),
        )


async def _objection_of(db_session: AsyncSession, tender: Tender, value: str) -> AwardObjection:
    try:
        objection_id = uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("no such objection", field="objection_id", rule="exists") from None
    objection = await db_session.get(AwardObjection, objection_id)
    award = await db_session.get(Award, objection.award_id) if objection is not None else None
    if objection is None or award is None or award.tender_id != tender.id:
        raise NotFound("no such objection", field="objection_id", rule="exists")
    return objection


@dataclass(frozen=True)
class _ManagePage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        if not publicity.is_tenderee(self.actor, tender):
            raise PermissionDenied("only the tenderee or its agency manages the publicity", field="code", rule="owner")
        context = {
            "tender": tender,
            "shown": await _shown(self.db_session, tender, owner=True),
            "errors": errors,
            "values": values,
            "opened": self.request.query_params.get("opened") == "1",
            "awarded": self.request.query_params.get("awarded") == "1",
            "answered": self.request.query_params.get("answered") == "1",
            "server_time": await clock.now(self.db_session),
            **LABELS,
        }
        return await page(self.request, "award/publicity_manage.html", context)


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
                "only a bidder of this tender objects to its result", field="code", rule="objection_by_bidder"
            )
        shown = []
        for item in await _shown(self.db_session, tender, owner=False):
            if item.publicity is None:
                continue
            award = item.award
            events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
            mine = tuple(await objections.mine(self.db_session, self.actor, item.award.id))
            shown.append(replace(item, objections=mine, may_object=AwardEvent.FILE_OBJECTION in events))
        context = {
            "tender": tender,
            "shown": shown,
            "errors": errors,
            "values": values,
            "filed": self.request.query_params.get("filed") == "1",
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/objections.html", context)


CONTROLLERS = (PublicityPages, ObjectionPages)
