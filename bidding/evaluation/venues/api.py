"""The venue catalogue and the session on the API (``/api/v1/evaluation``): the catalogue for whoever
chooses venues (``evaluation:venue:read``), its changes for centre admins
(``evaluation:venue:manage``), and for a committee member the seat challenge and the sign-in with
the certificate-login answer over the seat's statement (``evaluation:session:attend``).
Errors are problem+json naming the field and the rule.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Seat, Venue, VenueOwner
from bidding.evaluation.session.policies import SessionPermission
from bidding.evaluation.session.seating import Seating
from bidding.evaluation.session.views import SessionViews
from bidding.evaluation.venues.service import VenueCatalogue, VenueInput
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.settings import Settings


class SeatRead(msgspec.Struct):
    id: uuid.UUID
    label: str
    active: bool

    @classmethod
    def of(cls, seat: Seat) -> SeatRead:
        return cls(seat.id, seat.label, seat.active)


class VenueRead(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    region_code: str
    owner: VenueOwner
    platform: str
    address: str
    certificate_pem: str | None
    active: bool
    seats: list[SeatRead]

    @classmethod
    def of(cls, venue: Venue, seats: list[Seat]) -> VenueRead:
        return cls(
            venue.id,
            venue.code,
            venue.name,
            venue.region_code,
            venue.owner,
            venue.platform,
            venue.address,
            venue.certificate_pem,
            venue.active,
            [SeatRead.of(s) for s in seats],
        )


class VenueCreate(msgspec.Struct):
    code: str
    name: str
    region_code: str
    owner: str
    platform: str = ""
    address: str = ""
    certificate_pem: str = ""
    seats: list[str] = msgspec.field(default_factory=list)


class SeatChallengeRead(msgspec.Struct):
    challenge: dict[str, str]
    seat: uuid.UUID
    statement: str
    """Base64 of the exact bytes to sign (canonical JSON naming evaluation, seat and nonce)."""


class SignedInRead(msgspec.Struct):
    member: uuid.UUID
    seat: uuid.UUID | None
    signed_in_at: datetime | None
    certificate_sha256: str | None


class VenueApi(Controller):
    path = "/evaluation/venues"
    tags = ["evaluation"]

    @get("/", operation_id="evaluation_list_venues", opt=requires(SessionPermission.VENUE_READ))
    async def list_venues(self, db_session: NamedDependency[AsyncSession]) -> list[VenueRead]:
        """Every venue of the catalogue with its seats (own venues first)."""
        catalogue = VenueCatalogue(db_session)
        venues = await catalogue.venues()
        seats = await catalogue.repo.seats([v.id for v in venues])
        return [VenueRead.of(v, [s for s in seats if s.venue_id == v.id]) for v in venues]

    @get("/{venue_id:uuid}", operation_id="evaluation_get_venue", opt=requires(SessionPermission.VENUE_READ))
    async def get_venue(self, venue_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]) -> VenueRead:
        """One venue and its seats."""
        catalogue = VenueCatalogue(db_session)
        return VenueRead.of(await catalogue.venue(venue_id), await catalogue.seats(venue_id))

    @post("/", operation_id="evaluation_create_venue", opt=requires(SessionPermission.VENUE_MANAGE))
    async def create_venue(
        self, data: JSONBody[VenueCreate], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> VenueRead:
        """Add a venue (and its seats) to the catalogue; the certificate must parse as PEM."""
        catalogue = VenueCatalogue(db_session)
        venue = await catalogue.create(
            VenueInput(
                data.code, data.name, data.region_code, data.owner, data.platform, data.address, data.certificate_pem
            ),
            actor=actor,
        )
        for label in data.seats:
            await catalogue.add_seat(venue.id, label, actor=actor)
        return VenueRead.of(venue, await catalogue.seats(venue.id))


class SessionApi(Controller):
    path = "/evaluation/e/{evaluation_id:uuid}"
    tags = ["evaluation"]

    @get("/progress", operation_id="evaluation_session_progress", opt=requires(SessionPermission.SESSION_LIST))
    async def progress(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The session's progress (members, host, supervisors): state, time left, sign-ins; no names."""
        return await SessionViews(db_session).progress_for(actor, evaluation_id)

    @post(
        "/seat/challenges",
        operation_id="evaluation_seat_challenge",
        opt=requires(SessionPermission.SESSION_ATTEND),
        status_code=201,
    )
    async def seat_challenge(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> SeatChallengeRead:
        """A one-time challenge for the member's own seat and the statement to sign."""
        settings: Settings = request.app.state.settings
        issued = await Seating(db_session, settings).challenge(
            actor, evaluation_id, origin=request.headers.get("origin")
        )
        return SeatChallengeRead(
            issued.challenge.to_dict(), issued.seat_id, base64.b64encode(issued.statement).decode()
        )

    @post("/seat/sign-in", operation_id="evaluation_seat_sign_in", opt=requires(SessionPermission.SESSION_ATTEND))
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[dict[str, Any]],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> SignedInRead:
        """Sign in at the seat: ``seat`` and the certificate-login answer (``nonce``, ``certificate``,
        ``chain``, ``signature``) over the seat's statement, or ``nonce`` and ``cades`` (base64).
        """
        settings: Settings = request.app.state.settings
        member = await Seating(db_session, settings).sign_in(actor, evaluation_id, data)
        return SignedInRead(member.id, member.seat_id, member.signed_in_at, member.sign_in_certificate_sha256)


CONTROLLERS = (VenueApi, SessionApi)
