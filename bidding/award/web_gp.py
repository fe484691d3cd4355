"""The GP result announcement's pages (中标/成交结果公告), in Chinese with the English switch.

* ``/bidding/tenders/{code}/result`` (public): every published result announcement of the tender
  with what its signed content says (the procurement, the winner and price, the candidates, the
  evaluators' names, the report's SHA-256), its term and the end of the 质疑 window; nothing before
  the purchaser published it. Linked from the tender's public page; bidders find their 质疑
  (我的异议, the objections page) from it.
* ``/bidding/manage/tenders/{code}/result`` (the tender's owners: purchaser or agency): each GP
  award's state, the instant the announcement is due, the exact statement to sign (in the page,
  `/static/js/pki/`, or with any CA client, the signature pasted) and the form that publishes it.
  The 质疑 are answered on the owners' publicity page (one machinery, `objections`). Linked from
  the owners' publicity page.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, objections, publicity
from bidding.award.lookups import tender_of
from bidding.award.models import Award, Publicity
from bidding.award.rules import Sector
from bidding.award.signed_act import submit_award_act
from bidding.award.states import AwardEvent, allowed_events
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody
from trading.kernel.web.pages import page

RESULT: Final = "award.result"
RESULT_MANAGE: Final = "award.result_manage"
RESULT_PUBLISH: Final = "award.result_publish"
PUBLIC_PATHS: Final = frozenset({"/bidding/tenders/{code}/result"})


@dataclass
class PublishForm:
    award: str = ""
    signature: str = ""


@dataclass(frozen=True)
class Announced:
    """One GP award as the pages show it."""

    award: Award
    announcement: Publicity | None
    objections_until: datetime | None = None
    statement: str = ""
    may_publish: bool = False


async def _announced(db_session: AsyncSession, tender: Tender, *, owner: bool) -> list[Announced]:
    shown, calendar = [], await load_calendar(db_session)
    for award in await publicity.awards_of_tender(db_session, tender.id):
        if award.sector is not Sector.GOVERNMENT_PROCUREMENT:
            continue
        published = await announcement.announcement_of(db_session, award.id)
        until = announcement.objections_until(award, published, calendar) if published is not None else None
        statement, may_publish = "", False
        if owner and published is None:
            events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
            may_publish = AwardEvent.PUBLISH_ANNOUNCEMENT in events
            if may_publish:
                statement = (await announcement.statement_for(db_session, award))[0].decode()
        shown.append(Announced(award, published, until, statement, may_publish))
    return shown


class ResultPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get("/tenders/{code:str}/result", name=RESULT, opt=exposes(Exposure.PUBLIC))
    async def public(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The tender's result announcements (public): only what the purchaser published, signed."""
        tender = await tender_of(db_session, code)
        shown = [s for s in await _announced(db_session, tender, owner=False) if s.announcement is not None]
        actor = await current_actor(request)
        bidder = await objections.is_bidder(db_session, tender.id, actor.organisation_id)
        context = {"tender": tender, "shown": shown, "bidder": bidder, "server_time": await clock.now(db_session)}
        return await page(request, "award/result.html", context)

    @get(
        "/manage/tenders/{code:str}/result",
        name=RESULT_MANAGE,
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
        """The purchaser's (or agency's) announcement page: state, due instant, the statement to sign."""
        return await _ManagePage(request, db_session, actor, code).render([], {})

    @post(
        "/manage/tenders/{code:str}/result",
        name=RESULT_PUBLISH,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def publish(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[PublishForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Publish the result announcement with the purchaser's signature over the statement shown."""
        settings: Settings = request.app.state.settings
        managed = _ManagePage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: announcement.publish_announcement(db_session, settings, actor, award.id, data.signature),
            code=code,
            award=data.award,
            back=RESULT_MANAGE,
            done="published=1",
            refusal=lambda errors: managed.render(errors, {"signature": data.signature}),
        )


@dataclass(frozen=True)
class _ManagePage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        if not publicity.is_tenderee(self.actor, tender):
            raise PermissionDenied(
                "only the purchaser or its agency publishes the result announcement", field="code", rule="owner"
            )
        context = {
            "tender": tender,
            "shown": await _announced(self.db_session, tender, owner=True),
            "errors": errors,
            "values": values,
            "published": self.request.query_params.get("published") == "1",
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/result_manage.html", context)


CONTROLLERS = (ResultPages,)
