"""The project owner's workspace (``/market/owner``): publish announcements for all four methods,
enter the panel's scores for a merit selection, run the draw, and after the result file the
contract, follow the delivery clock, confirm completion and rate the intermediary.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import credit
from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import Announcement, AnnouncementStatus
from intermediary_market.policies import MarketPermission, assert_own_organisation
from intermediary_market.ratings import RATING_WINDOW
from intermediary_market.schemas import AnnouncementCreate, PanelScores, RatingCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS, LABELS
from intermediary_market.web.parsing import MarketFields, known, path
from intermediary_market.web.paths import OWNER
from intermediary_market.web.views import clock_view
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.forms import BAD_NUMBER, REQUIRED, FieldError, FormBody, submit
from trading.kernel.web.pages import page

_SCORE_SEPARATORS = re.compile(r"[\s,;，；、]+")
ANNOUNCEMENT = "intermediary_market.owner_announcement"


@dataclass
class AnnouncementForm:
    project_name: str = ""
    item_code: str = ""
    method: str = ""
    funding: str = ""
    budget: str = ""
    price_min: str = ""
    price_max: str = ""
    max_level: str = ""
    time_limit_days: str = ""
    registration_opens: str = ""
    registration_closes: str = ""
    direct_organisation_id: str = ""


@dataclass
class PanelScoresForm:
    organisation_id: str = ""
    scores: str = ""


@dataclass
class ContractForm:
    contract_no: str = ""


@dataclass
class RatingForm:
    quality: str = ""
    timeliness: str = ""
    attitude: str = ""
    fees: str = ""


@dataclass
class ComplaintForm:
    text: str = ""


def announcement_from(form: AnnouncementForm) -> AnnouncementCreate:
    """The form's fields as an announcement; malformed fields raise one ``ValidationFailed`` naming each."""
    fields = MarketFields()
    method = fields.choice("method", form.method, SelectionMethod)
    funding = fields.choice("funding", form.funding, FundingType)
    project = fields.required("project_name", form.project_name)
    budget = fields.money("budget", form.budget)
    time_limit_days = fields.whole("time_limit_days", form.time_limit_days)
    opens = fields.time("registration_opens", form.registration_opens, required=True)
    closes = fields.time("registration_closes", form.registration_closes, required=True)
    max_level = fields.whole("max_level", form.max_level)
    price_min = fields.money("price_min", form.price_min, required=False)
    price_max = fields.money("price_max", form.price_max, required=False)
    direct = (
        fields.uuid("direct_organisation_id", form.direct_organisation_id, required=False)
        if method is SelectionMethod.DIRECT
        else None
    )
    fields.done()
    return AnnouncementCreate(
        project_name=project,
        item_code=form.item_code,
        method=known(method),
        funding=known(funding),
        budget=known(budget),
        time_limit_days=known(time_limit_days),
        registration_opens=known(opens),
        registration_closes=known(closes),
        max_level=known(max_level),
        price_min=price_min,
        price_max=price_max,
        direct_organisation_id=direct,
    )


def panel_scores_from(form: PanelScoresForm) -> PanelScores:
    fields = MarketFields()
    organisation_id = fields.uuid("organisation_id", form.organisation_id)
    parts = [part for part in _SCORE_SEPARATORS.split(form.scores.strip()) if part]
    scores: list[Decimal] = []
    if not parts:
        fields.add("scores", "required", REQUIRED)
    try:
        scores = [Decimal(part) for part in parts]
    except InvalidOperation:
        fields.add("scores", "format", BAD_NUMBER)
    if not all(score.is_finite() for score in scores):
        fields.add("scores", "format", BAD_NUMBER)
    fields.done()
    return PanelScores(organisation_id=known(organisation_id), scores=scores)


def rating_from(form: RatingForm) -> RatingCreate:
    fields = MarketFields()
    values = {name: fields.whole(name, getattr(form, name)) for name in credit.RATING_DIMENSIONS}
    fields.done()
    return RatingCreate(**{name: known(value) for name, value in values.items()})


class OwnerPages(Controller):
    """The project owner's workspace."""

    path = OWNER
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="intermediary_market.owner", opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE))
    async def workspace(
        self, *, request: Request[Any, Any, Any], market: NamedDependency[MarketService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        return await self._workspace(request, market, actor, {}, [])

    @post(
        "/announcements",
        name="intermediary_market.owner_publish",
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def publish(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[AnnouncementForm],
    ) -> Response[Any]:
        async def work() -> Announcement:
            return await market.announce(announcement_from(data), actor=actor)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda announcement: path(request, "intermediary_market.result", announcement_id=announcement.id),
            refusal=lambda errors: self._workspace(request, market, actor, vars(data), errors),
        )

    @get(
        "/announcements/{announcement_id:uuid}",
        name=ANNOUNCEMENT,
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def announcement(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """One of the owner's announcements: panel scores, the draw, delivery and the rating."""
        return await self._announcement(request, market, actor, announcement_id)

    @post(
        "/announcements/{announcement_id:uuid}/draw",
        name="intermediary_market.owner_draw",
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def draw(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await submit(
            db_session,
            lambda: market.draw(announcement_id, actor=actor),
            labels=LABELS,
            redirect=path(request, "intermediary_market.result", announcement_id=announcement_id),
            refusal=lambda errors: self._announcement(request, market, actor, announcement_id, errors, failed="draw"),
        )

    @post(
        "/announcements/{announcement_id:uuid}/panel-scores",
        name="intermediary_market.owner_panel_scores",
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def panel_scores(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[PanelScoresForm],
    ) -> Response[Any]:
        """择优: the panel's scores for one registrant."""

        async def work() -> object:
            return await market.enter_panel_scores(announcement_id, panel_scores_from(data), actor=actor)

        return await self._submit(
            request, db_session, market, actor, announcement_id, work, f"scores-{data.organisation_id}", vars(data)
        )

    @post(
        "/announcements/{announcement_id:uuid}/contract",
        name="intermediary_market.owner_contract",
        opt=requires(MarketPermission.DELIVERY_MANAGE),
    )
    async def file_contract(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[ContractForm],
    ) -> Response[Any]:
        """合同备案: the committed time limit starts running."""

        async def work() -> object:
            return await deliveries.file_contract(announcement_id, data.contract_no, actor=actor)

        return await self._submit(request, db_session, market, actor, announcement_id, work, "contract", vars(data))

    @post(
        "/announcements/{announcement_id:uuid}/completion",
        name="intermediary_market.owner_completion",
        opt=requires(MarketPermission.DELIVERY_MANAGE),
    )
    async def confirm_completion(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        async def work() -> object:
            return await deliveries.confirm_completion(announcement_id, actor=actor)

        return await self._submit(request, db_session, market, actor, announcement_id, work, "completion", {})

    @post(
        "/announcements/{announcement_id:uuid}/rating",
        name="intermediary_market.owner_rating",
        opt=requires(MarketPermission.RATING_CREATE),
    )
    async def rate(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[RatingForm],
    ) -> Response[Any]:
        """Rate the selected intermediary: four scores from 0 to 100, within the rating window."""

        async def work() -> object:
            return await market.rate(announcement_id, rating_from(data), actor=actor)

        return await self._submit(request, db_session, market, actor, announcement_id, work, "rating", vars(data))

    @post(
        "/announcements/{announcement_id:uuid}/complaints",
        name="intermediary_market.owner_complaint",
        opt=requires(MarketPermission.COMPLAINT_FILE),
    )
    async def complain(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[ComplaintForm],
    ) -> Response[Any]:
        """File a complaint against the selected intermediary (decided by the regulator)."""

        async def work() -> object:
            return await ComplaintService(db_session).file(announcement_id, data.text, actor=actor)

        return await self._submit(
            request, db_session, market, actor, announcement_id, work, "complaint", vars(data), anchor="#complaints"
        )

    # --- submitting and rendering ----------------------------------------------------------------

    async def _submit(  # noqa: PLR0917 - the announcement page's one form path
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        market: MarketService,
        actor: Actor,
        announcement_id: uuid.UUID,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, str],
        *,
        anchor: str = "",
    ) -> Response[Any]:
        """A form of the announcement page: back to the page (303), or the page with the refusal
        next to the form named ``failed`` (422).
        """
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=path(request, ANNOUNCEMENT, announcement_id=announcement_id) + anchor,
            refusal=lambda errors: self._announcement(
                request, market, actor, announcement_id, errors, failed=failed, form=form
            ),
        )

    async def _workspace(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        form: dict[str, str],
        errors: list[FieldError],
    ) -> Response[Any]:
        own = [a for a in await market.announcements() if a.owner_organisation_id == actor.organisation_id]
        return await page(
            request,
            "intermediary_market/owner.html",
            {
                "form": form,
                "errors": errors,
                "items": await market.items(),
                "directory": await market.directory(),
                "announcements": own,
                **CONTEXT_LABELS,
            },
        )

    async def _announcement(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        announcement_id: uuid.UUID,
        errors: list[FieldError] | None = None,
        *,
        failed: str = "",
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        announcement: Announcement = await market.announcement(announcement_id)
        assert_own_organisation(actor, announcement.owner_organisation_id, "manage this announcement")
        now = await clock.now(market.session)
        registrations = list(await market.registrations(announcement.id))
        delivery = await market.repo.delivery(announcement.id)
        rating = await market.repo.rating_for(announcement.id)
        complaints = [c for c in await market.repo.complaints() if c.announcement_id == announcement.id]
        rating_open = (
            announcement.status is AnnouncementStatus.SELECTED
            and announcement.decided_at is not None
            and now <= announcement.decided_at + RATING_WINDOW
            and rating is None
        )
        names = await market.repo.organisation_names(
            [announcement.winner_organisation_id, *(r.organisation_id for r in registrations)]
        )
        return await page(
            request,
            "intermediary_market/owner_announcement.html",
            {
                "announcement": announcement,
                "registrations": registrations,
                "delivery": delivery,
                "clock": clock_view(delivery, now) if delivery is not None else None,
                "rating": rating,
                "complaints": complaints,
                "rating_open": rating_open,
                "dimensions": credit.RATING_DIMENSIONS,
                "names": names,
                "now": now,
                "errors": errors or [],
                "failed": failed,
                "form": form or {},
                **CONTEXT_LABELS,
            },
        )
