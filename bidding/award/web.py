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
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import award as decisions
from bidding.award import publicity, succession
from bidding.award.models import Award, Publicity
from bidding.award.states import AwardEvent, allowed_events
from bidding.models import Tender, TenderStatus
from bidding.policies import BiddingPermission
from bidding.repository.tenders import TenderRepository
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page

PUBLIC: Final = "award.publicity"
MANAGE: Final = "award.publicity_manage"
OPEN: Final = "award.publicity_open"
CONFIRM: Final = "award.confirm"
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


async def _tender(db_session: AsyncSession, code: str) -> Tender:
    tender = await TenderRepository(db_session).by_code(code)
    if tender is None or tender.status is TenderStatus.DRAFT:
        raise NotFound("no such tender", field="code", rule="exists")
    return tender


async def _shown(db_session: AsyncSession, tender: Tender, *, owner: bool) -> list[Shown]:
    shown = []
    for award in await publicity.awards_of_tender(db_session, tender.id):
        opened = await publicity.current_publicity(db_session, award.id)
        statement, may_open, winner, winner_name, confirm = "", False, "", "", ""
        if owner:
            events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
            may_open = AwardEvent.OPEN_PUBLICITY in events
            if may_open:
                statement = (await publicity.statement_for(db_session, award))[0].decode()
            if AwardEvent.CONFIRM_AWARD in events:
                now = succession.current(await decisions.order_of(db_session, award), decisions.dropped_of(award))
                if isinstance(now, succession.Chosen):
                    winner, winner_name = now.winner.bid, now.winner.name
                    confirm = (
                        await decisions.decision_statement(db_session, award, decisions.Decision.CONFIRM, winner)
                    ).decode()
        shown.append(Shown(award, opened, statement, may_open, winner, winner_name, confirm))
    return shown


class PublicityPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get("/tenders/{code:str}/publicity", name=PUBLIC, opt=exposes(Exposure.PUBLIC))
    async def public(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The tender's candidates' publicity (public): only what the tenderee published, signed."""
        tender = await _tender(db_session, code)
        opened = [s for s in await _shown(db_session, tender, owner=False) if s.publicity is not None]
        context = {"tender": tender, "shown": opened, "server_time": await clock.now(db_session)}
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
        tender = await _tender(db_session, code)
        managed = _ManagePage(request, db_session, actor, code)

        async def run() -> Publicity:
            award = await _award_of(db_session, tender, data.award)
            return await publicity.open_publicity(db_session, settings, actor, award.id, data.signature)

        return await submit(
            db_session,
            run,
            redirect=request.app.route_reverse(MANAGE, code=code) + "?opened=1",
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
        tender = await _tender(db_session, code)
        managed = _ManagePage(request, db_session, actor, code)

        async def run() -> Award:
            award = await _award_of(db_session, tender, data.award)
            return await decisions.confirm_award(
                db_session, settings, actor, award.id, bid=data.bid, signature=data.signature
            )

        return await submit(
            db_session,
            run,
            redirect=request.app.route_reverse(MANAGE, code=code) + "?awarded=1",
            refusal=lambda errors: managed.render(errors, {"signature": data.signature}),
        )


async def _award_of(db_session: AsyncSession, tender: Tender, value: str) -> Award:
    try:
        award_id = uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("no such award", field="award", rule="exists") from None
    award = await db_session.get(Award, award_id)
    if award is None or award.tender_id != tender.id:
        raise NotFound("no such award", field="award", rule="exists")
    return award


@dataclass(frozen=True)
class _ManagePage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await _tender(self.db_session, self.code)
        if not publicity.is_tenderee(self.actor, tender):
            raise PermissionDenied("only the tenderee or its agency manages the publicity", field="code", rule="owner")
        context = {
            "tender": tender,
            "shown": await _shown(self.db_session, tender, owner=True),
            "errors": errors,
            "values": values,
            "opened": self.request.query_params.get("opened") == "1",
            "awarded": self.request.query_params.get("awarded") == "1",
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/publicity_manage.html", context)


CONTROLLERS = (PublicityPages,)
