"""The project owner's workspace (``/market/owner``): publish announcements for all four methods,
enter the panel's scores for a merit selection, run the draw, and after the result file the
contract, follow the delivery clock, confirm completion and rate the intermediary.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
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
from intermediary_market.web.labels import BAD_CHOICE, BAD_NUMBER, CONTEXT_LABELS
from intermediary_market.web.parsing import (
    UNPROCESSABLE,
    Form,
    clean,
    client_error,
    errors_of,
    field_error,
    form_decimal,
    form_int,
    form_text,
    form_time,
    form_uuid,
    in_savepoint,
)
from intermediary_market.web.paths import MARKET, OWNER
from intermediary_market.web.views import clock_view
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web.forms import FieldError
from trading.kernel.web.pages import page

_SCORE_SEPARATORS = re.compile(r"[\s,;，；、]+")


def announcement_from_form(form: Form) -> AnnouncementCreate:
    """The form's fields as an announcement; a malformed field raises ``ValidationFailed`` naming it."""
    try:
        method = SelectionMethod(form.get("method", ""))
    except ValueError:
        raise field_error("method", BAD_CHOICE) from None
    try:
        funding = FundingType(form.get("funding", ""))
    except ValueError:
        raise field_error("funding", BAD_CHOICE) from None
    project = form_text(form, "project_name")
    budget = form_decimal(form, "budget")
    assert budget is not None  # noqa: S101 - required
    return AnnouncementCreate(
        project_name=project,
        item_code=form.get("item_code", ""),
        method=method,
        funding=funding,
        budget=budget,
        time_limit_days=form_int(form, "time_limit_days"),
        registration_opens=form_time(form, "registration_opens"),
        registration_closes=form_time(form, "registration_closes"),
        max_level=form_int(form, "max_level"),
        price_min=form_decimal(form, "price_min", required=False),
        price_max=form_decimal(form, "price_max", required=False),
        direct_organisation_id=(
            form_uuid(form, "direct_organisation_id", required=False) if method is SelectionMethod.DIRECT else None
        ),
    )


def panel_scores_from_form(form: Form) -> PanelScores:
    organisation_id = form_uuid(form, "organisation_id")
    assert organisation_id is not None  # noqa: S101 - required
    parts = [part for part in _SCORE_SEPARATORS.split(form.get("scores", "").strip()) if part]
    if not parts:
        raise ValidationFailed("enter the panel's scores", field="scores", rule="required")
    try:
        scores = [Decimal(part) for part in parts]
    except InvalidOperation:
        raise field_error("scores", BAD_NUMBER) from None
    if not all(score.is_finite() for score in scores):
        raise field_error("scores", BAD_NUMBER)
    return PanelScores(organisation_id=organisation_id, scores=scores)


def rating_from_form(form: Form) -> RatingCreate:
    values = {name: form_int(form, name) for name in credit.RATING_DIMENSIONS}
    return RatingCreate(**values)


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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        form = clean(data)
        try:
            announcement = await in_savepoint(db_session, market.announce(announcement_from_form(form), actor=actor))
        except DomainError as exc:
            if exc.status_code >= 500:  # noqa: PLR2004 - only client errors belong on the form
                raise
            return await self._workspace(request, market, actor, form, errors_of(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{MARKET}/selections/{announcement.id}", status_code=303)

    @get(
        "/announcements/{announcement_id:uuid}",
        name="intermediary_market.owner_announcement",
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
        try:
            await in_savepoint(db_session, market.draw(announcement_id, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request, market, actor, announcement_id, errors_of(exc), failed="draw", status_code=UNPROCESSABLE
            )
        return Redirect(f"{MARKET}/selections/{announcement_id}", status_code=303)

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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """择优: the panel's scores for one registrant."""
        form = clean(data)
        try:
            scores = panel_scores_from_form(form)
            await in_savepoint(db_session, market.enter_panel_scores(announcement_id, scores, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request,
                market,
                actor,
                announcement_id,
                errors_of(exc),
                failed=f"scores-{form.get('organisation_id', '')}",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{OWNER}/announcements/{announcement_id}", status_code=303)

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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """合同备案: the committed time limit starts running."""
        form = clean(data)
        try:
            await in_savepoint(
                db_session, deliveries.file_contract(announcement_id, form.get("contract_no", ""), actor=actor)
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request,
                market,
                actor,
                announcement_id,
                errors_of(exc),
                failed="contract",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{OWNER}/announcements/{announcement_id}", status_code=303)

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
        try:
            await in_savepoint(db_session, deliveries.confirm_completion(announcement_id, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request, market, actor, announcement_id, errors_of(exc), failed="completion", status_code=UNPROCESSABLE
            )
        return Redirect(f"{OWNER}/announcements/{announcement_id}", status_code=303)

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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Rate the selected intermediary: four scores from 0 to 100, within the rating window."""
        form = clean(data)
        try:
            await in_savepoint(db_session, market.rate(announcement_id, rating_from_form(form), actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request,
                market,
                actor,
                announcement_id,
                errors_of(exc),
                failed="rating",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{OWNER}/announcements/{announcement_id}", status_code=303)

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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """File a complaint against the selected intermediary (decided by the regulator)."""
        form = clean(data)
        try:
            await in_savepoint(
                db_session, ComplaintService(db_session).file(announcement_id, form.get("text", ""), actor=actor)
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._announcement(
                request,
                market,
                actor,
                announcement_id,
                errors_of(exc),
                failed="complaint",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{OWNER}/announcements/{announcement_id}#complaints", status_code=303)

    # --- rendering -------------------------------------------------------------------------------

    async def _workspace(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        form: Form,
        errors: list[FieldError],
        *,
        status_code: int = 200,
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
            status_code=status_code,
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
        form: Form | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        announcement: Announcement = await market.announcement(announcement_id)
        assert_own_organisation(actor, announcement.owner_organisation_id, "manage this announcement")
        session = market.session
        now = await clock.now(session)
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
            [announcement.winner_organisation_id, *(r.organisation_id for r in registrations)],
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
            status_code=status_code,
        )
