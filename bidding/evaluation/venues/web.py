"""The venue catalogue's pages (``/evaluation/venues``), for centre admins (supervisors and hosts
read): the list with a form for a new venue, and each venue's page (edit, seats added and
deactivated). Forms go the kernel's way (`submit`: 303, or 422 naming field and rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import VenueOwner
from bidding.evaluation.session.policies import SessionPermission
from bidding.evaluation.session.web_labels import LABELS, OWNER_LABELS
from bidding.evaluation.venues.service import VenueCatalogue, VenueInput
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page


@dataclass
class VenueForm:
    code: str = ""
    name: str = ""
    region_code: str = ""
    owner: str = "own"
    platform: str = ""
    address: str = ""
    certificate_pem: str = ""
    active: str = ""

    def input(self) -> VenueInput:
        return VenueInput(
            self.code, self.name, self.region_code, self.owner, self.platform, self.address, self.certificate_pem
        )


@dataclass
class SeatForm:
    label: str = ""


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "owner_labels": OWNER_LABELS,
        "owners": [o.value for o in VenueOwner],
        "labels": LABELS.fields,
        "errors": [],
        "failed": "",
        "form": {},
        **extra,
    }


class VenuePages(Controller):
    path = "/evaluation/venues"
    include_in_schema = False

    async def _list(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        errors: list[FieldError] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        catalogue = VenueCatalogue(db_session)
        return await page(
            request,
            "evaluation/venues/list.html",
            _context(
                venues=await catalogue.venues(),
                seat_counts=await catalogue.seat_counts(),
                manages=actor.has(SessionPermission.VENUE_MANAGE),
                errors=errors or [],
                form=form or {},
            ),
            status_code=422 if errors else 200,
        )

    @get("/", name="evaluation.venues", opt=requires(SessionPermission.VENUE_READ))
    async def venues(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The catalogue: the centre's own venues and peers', with their seats."""
        return await self._list(request, db_session, actor)

    @post("/", name="evaluation.venue_create", opt=requires(SessionPermission.VENUE_MANAGE))
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[VenueForm],
    ) -> Response[Any]:
        """Add a venue to the catalogue."""

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._list(request, db_session, actor, errors, asdict(data))

        return await submit(
            db_session,
            lambda: VenueCatalogue(db_session).create(data.input(), actor=actor),
            redirect=lambda venue: request.app.route_reverse("evaluation.venue", venue_id=venue.id),
            refusal=refusal,
            labels=LABELS,
        )

    async def _venue(  # noqa: PLR0917 - one page's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        venue_id: uuid.UUID,
        errors: list[FieldError] | None = None,
        failed: str = "",
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        catalogue = VenueCatalogue(db_session)
        venue = await catalogue.venue(venue_id)
        return await page(
            request,
            "evaluation/venues/venue.html",
            _context(
                venue=venue,
                seats=await catalogue.seats(venue_id),
                manages=actor.has(SessionPermission.VENUE_MANAGE),
                errors=errors or [],
                failed=failed,
                form=form or {},
            ),
            status_code=422 if errors else 200,
        )

    @get("/{venue_id:uuid}", name="evaluation.venue", opt=requires(SessionPermission.VENUE_READ))
    async def venue(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        venue_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """One venue: its details, certificate and seats."""
        return await self._venue(request, db_session, actor, venue_id)

    async def _post(  # noqa: PLR0917 - one form's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        venue_id: uuid.UUID,
        action: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, Any],
    ) -> Response[Any]:
        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._venue(request, db_session, actor, venue_id, errors, failed, form)

        return await submit(
            db_session,
            action,
            redirect=request.app.route_reverse("evaluation.venue", venue_id=venue_id),
            refusal=refusal,
            labels=LABELS,
        )

    @post("/{venue_id:uuid}", name="evaluation.venue_update", opt=requires(SessionPermission.VENUE_MANAGE))
    async def update(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        venue_id: FromPath[uuid.UUID],
        data: FormBody[VenueForm],
    ) -> Response[Any]:
        """Edit the venue (name, region, owner, platform, address, certificate, in use)."""
        return await self._post(
            request,
            db_session,
            actor,
            venue_id,
            lambda: VenueCatalogue(db_session).update(venue_id, data.input(), active=bool(data.active), actor=actor),
            "venue",
            asdict(data),
        )

    @post("/{venue_id:uuid}/seats", name="evaluation.seat_add", opt=requires(SessionPermission.VENUE_MANAGE))
    async def add_seat(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        venue_id: FromPath[uuid.UUID],
        data: FormBody[SeatForm],
    ) -> Response[Any]:
        """Add a seat."""
        return await self._post(
            request,
            db_session,
            actor,
            venue_id,
            lambda: VenueCatalogue(db_session).add_seat(venue_id, data.label, actor=actor),
            "seat",
            asdict(data),
        )

    @post(
        "/{venue_id:uuid}/seats/{seat_id:uuid}/deactivate",
        name="evaluation.seat_deactivate",
        opt=requires(SessionPermission.VENUE_MANAGE),
    )
    async def deactivate_seat(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        venue_id: FromPath[uuid.UUID],
        seat_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Take a seat out of use (it stays on record)."""
        return await self._post(
            request,
            db_session,
            actor,
            venue_id,
            lambda: VenueCatalogue(db_session).deactivate_seat(venue_id, seat_id, actor=actor),
            "seats",
            {},
        )


CONTROLLERS = (VenuePages,)
