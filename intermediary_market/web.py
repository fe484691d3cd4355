"""Marketplace pages: the public marketplace and selection results, the owner's and the
intermediary's workspaces.

The public pages show what the public API shows (the seed only once the selection is decided).
Forms carry the CSRF token; a refused form is re-rendered with status 422 and the rule's message;
a form that succeeds redirects (303).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.models import AnnouncementStatus
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import AnnouncementCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.models import Organisation

Form = dict[str, str]
UNPROCESSABLE = 422
MARKET = "/market"
OWNER = "/market/owner"
INTERMEDIARY = "/market/intermediary"
DISPLAY_TZ = timezone(timedelta(hours=8), "UTC+08:00")
"""Times typed into forms and shown on pages are China Standard Time; storage stays UTC."""

METHOD_LABELS: dict[SelectionMethod, str] = {
    SelectionMethod.DIRECT: N_("Direct selection"),
    SelectionMethod.RANDOM: N_("Random selection (lottery)"),
    SelectionMethod.LOWEST_PRICE: N_("Lowest price"),
    SelectionMethod.REFERENCE_PRICE: N_("Reference price"),
    SelectionMethod.MERIT: N_("Merit (panel review)"),
}
FUNDING_LABELS: dict[FundingType, str] = {
    FundingType.STATE: N_("State-funded"),
    FundingType.SOCIAL: N_("Socially funded"),
}
STATUS_LABELS: dict[AnnouncementStatus, str] = {
    AnnouncementStatus.OPEN: N_("Open for registration"),
    AnnouncementStatus.SELECTED: N_("Selected"),
    AnnouncementStatus.FAILED: N_("Failed"),
}
FIELD_LABELS: dict[str, str] = {
    "project_name": N_("Project"),
    "item_code": N_("Service item"),
    "method": N_("Selection method"),
    "funding": N_("Funding"),
    "budget": N_("Budget (yuan)"),
    "price_min": N_("Minimum price (yuan)"),
    "price_max": N_("Maximum price (yuan)"),
    "max_level": N_("Lowest accepted qualification level"),
    "time_limit_days": N_("Time limit (days)"),
    "registration_opens": N_("Registration opens"),
    "registration_closes": N_("Registration closes"),
    "price": N_("Price (yuan)"),
}
BAD_NUMBER = N_("Enter a number.")
BAD_TIME = N_("Enter a date and time.")
BAD_CHOICE = N_("Choose an option from the list.")
CONTEXT_LABELS = {"methods": METHOD_LABELS, "fundings": FUNDING_LABELS, "statuses": STATUS_LABELS}


async def provide_market(db_session: NamedDependency[AsyncSession]) -> MarketService:
    return MarketService(db_session)


async def organisation_names(session: AsyncSession, ids: Iterable[object]) -> dict[str, str]:
    """``str(id) → name`` of the organisations named in ``ids`` (strings or UUIDs)."""
    wanted = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return {}
    rows = await session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return {str(row_id): name for row_id, name in rows.all()}


def _errors(exc: DomainError) -> list[FieldError]:
    label = i18n.gettext(FIELD_LABELS[exc.field]) if exc.field in FIELD_LABELS else None
    return [FieldError(exc.field, i18n.gettext(exc.message), label)]


def _field_error(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=name, rule="format")


def _decimal(form: Form, name: str, *, required: bool = True) -> Decimal | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise _field_error(name, BAD_NUMBER) from None


def _int(form: Form, name: str) -> int:
    try:
        return int(form.get(name, "").strip())
    except ValueError:
        raise _field_error(name, BAD_NUMBER) from None


def _time(form: Form, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise _field_error(name, BAD_TIME) from None
    return value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ)


def announcement_from_form(form: Form) -> AnnouncementCreate:
    """The form's fields as an announcement; a malformed field raises ``ValidationFailed`` naming it."""
    try:
        method = SelectionMethod(form.get("method", ""))
    except ValueError:
        raise _field_error("method", BAD_CHOICE) from None
    try:
        funding = FundingType(form.get("funding", ""))
    except ValueError:
        raise _field_error("funding", BAD_CHOICE) from None
    project = form.get("project_name", "").strip()
    if not project:
        raise ValidationFailed(N_("This field is required."), field="project_name", rule="required")
    budget = _decimal(form, "budget")
    assert budget is not None  # noqa: S101 - required
    return AnnouncementCreate(
        project_name=project,
        item_code=form.get("item_code", ""),
        method=method,
        funding=funding,
        budget=budget,
        time_limit_days=_int(form, "time_limit_days"),
        registration_opens=_time(form, "registration_opens"),
        registration_closes=_time(form, "registration_closes"),
        max_level=_int(form, "max_level"),
        price_min=_decimal(form, "price_min", required=False),
        price_max=_decimal(form, "price_max", required=False),
    )


class MarketPages(Controller):
    """The public marketplace and the published results."""

    path = MARKET
    include_in_schema = False
    dependencies = {"market": Provide(provide_market)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="intermediary_market.marketplace")
    async def marketplace(
        self,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Service items and announcements, newest first (public)."""
        announcements = list(await market.announcements())
        names = await organisation_names(db_session, (a.winner_organisation_id for a in announcements))
        return await page(
            request,
            "intermediary_market/marketplace.html",
            {"items": await market.items(), "announcements": announcements, "names": names, **CONTEXT_LABELS},
        )

    @get("/selections/{announcement_id:uuid}", name="intermediary_market.result")
    async def result(
        self,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """One selection: while open, the seed's commitment; once decided, the seed, the
        registrants and the computation, so anyone can recompute the result (public).
        """
        announcement = await market.announcement(announcement_id)
        decided = announcement.status is not AnnouncementStatus.OPEN
        computation = dict(announcement.computation or {}) if decided else {}
        registrations = list(await market.registrations(announcement.id)) if decided else []
        names = await organisation_names(
            db_session,
            [
                announcement.owner_organisation_id,
                announcement.winner_organisation_id,
                *(r.organisation_id for r in registrations),
                *(computation.get("excluded") or {}),
            ],
        )
        details = {
            key: value
            for key, value in computation.items()
            if key not in {"seed", "seed_sha256", "registrants", "excluded", "method"}
        }
        return await page(
            request,
            "intermediary_market/result.html",
            {
                "announcement": announcement,
                "decided": decided,
                "computation": computation,
                "details": details,
                "registrations": registrations,
                "names": names,
                "display_tz": DISPLAY_TZ,
                **CONTEXT_LABELS,
            },
        )


class OwnerPages(Controller):
    """The project owner's workspace: publish announcements, run the draw."""

    path = OWNER
    include_in_schema = False
    dependencies = {"market": Provide(provide_market)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="intermediary_market.owner", opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE))
    async def workspace(
        self, request: Request[Any, Any, Any], market: NamedDependency[MarketService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        return await self._page(request, market, actor, {}, [])

    @post(
        "/announcements",
        name="intermediary_market.owner_publish",
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def publish(
        self,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        form = {key: value for key, value in data.items() if key != "_csrf_token"}
        try:
            announcement = await market.announce(announcement_from_form(form), actor=actor)
        except DomainError as exc:
            if exc.status_code >= 500:  # noqa: PLR2004 - only client errors belong on the form
                raise
            return await self._page(request, market, actor, form, _errors(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{MARKET}/selections/{announcement.id}", status_code=303)

    @post(
        "/announcements/{announcement_id:uuid}/draw",
        name="intermediary_market.owner_draw",
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def draw(
        self,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        try:
            await market.draw(announcement_id, actor=actor)
        except DomainError as exc:
            if exc.status_code >= 500 or exc.status_code in {403, 404}:  # noqa: PLR2004
                raise
            return await self._page(request, market, actor, {}, _errors(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{MARKET}/selections/{announcement_id}", status_code=303)

    async def _page(
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
                "labels": FIELD_LABELS,
                "items": await market.items(),
                "announcements": own,
                **CONTEXT_LABELS,
            },
            status_code=status_code,
        )


class IntermediaryPages(Controller):
    """The intermediary's workspace: register for open announcements."""

    path = INTERMEDIARY
    include_in_schema = False
    dependencies = {"market": Provide(provide_market)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="intermediary_market.intermediary", opt=requires(MarketPermission.REGISTRATION_CREATE))
    async def workspace(
        self,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await self._page(request, market, actor, [])

    @post(
        "/announcements/{announcement_id:uuid}/registrations",
        name="intermediary_market.intermediary_register",
        opt=requires(MarketPermission.REGISTRATION_CREATE),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        try:
            price = _decimal(data, "price", required=False)
            await market.register(announcement_id, price=price, actor=actor)
        except DomainError as exc:
            if exc.status_code >= 500 or exc.status_code in {403, 404}:  # noqa: PLR2004
                raise
            return await self._page(request, market, actor, _errors(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{INTERMEDIARY}?registered={announcement_id}", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        errors: list[FieldError],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        open_ones = list(await market.announcements(status=AnnouncementStatus.OPEN))
        registered: set[uuid.UUID] = set()
        for announcement in open_ones:
            if actor.organisation_id is not None and await market.repo.registration(
                announcement.id, actor.organisation_id
            ):
                registered.add(announcement.id)
        return await page(
            request,
            "intermediary_market/intermediary.html",
            {
                "announcements": open_ones,
                "registered": registered,
                "errors": errors,
                "labels": FIELD_LABELS,
                "display_tz": DISPLAY_TZ,
                **CONTEXT_LABELS,
            },
            status_code=status_code,
        )


CONTROLLERS = (MarketPages, OwnerPages, IntermediaryPages)
PUBLIC_PATHS = (MARKET, f"{MARKET}/selections/{{announcement_id}}")
