"""The venue catalogue: create and edit venues (region code GB/T 2260, own or a peer's with its
platform, address, the venue's signing certificate as PEM, checked to parse), add seats and
deactivate them. Centre admins keep it; every change is on the ledger (platform chain, subject
``evaluation.venue``). A venue or seat is never deleted (evaluations point at them).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Seat, Venue, VenueOwner
from bidding.evaluation.session.errors import VenueMissing, VenueRefused
from bidding.evaluation.session.repository import SessionRepository
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.ledger.service import append_entry
from trading.parties.identifiers import InvalidIdentifier, validate_region_code

CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
LABEL: Final = re.compile(r"[^\x00-\x1f\x7f]{1,40}")
MAX_NAME: Final = 200
MAX_ADDRESS: Final = 300
MAX_PLATFORM: Final = 200
MAX_PEM: Final = 20_000


@dataclass(frozen=True, slots=True)
class VenueInput:
    code: str
    name: str
    region_code: str
    owner: str
    platform: str = ""
    address: str = ""
    certificate_pem: str = ""


@dataclass(frozen=True, slots=True)
class VenueChecked:
    code: str
    name: str
    region_code: str
    owner: VenueOwner
    platform: str
    address: str
    certificate_pem: str | None
    certificate_sha256: str | None


def check_venue(given: VenueInput) -> VenueChecked:
    """Every field checked, or `VenueRefused` naming the first bad field and its rule (pure)."""
    code = given.code.strip()
    if not code:
        raise VenueRefused("a venue has a code", field="code", rule="required")
    if not CODE.fullmatch(code):
        raise VenueRefused("letters, digits, '-', '_' and '.', at most 40", field="code", rule="format")
    name = given.name.strip()
    if not name:
        raise VenueRefused("a venue has a name", field="name", rule="required")
    if len(name) > MAX_NAME:
        raise VenueRefused(f"at most {MAX_NAME} characters", field="name", rule="max_length")
    try:
        region = validate_region_code(given.region_code)
    except InvalidIdentifier as exc:
        raise VenueRefused(exc.message, field="region_code", rule=exc.rule or "format") from None
    try:
        owner = VenueOwner(given.owner.strip())
    except ValueError:
        raise VenueRefused("own or a peer's", field="owner", rule="choice") from None
    platform = given.platform.strip()
    if owner is VenueOwner.PEER and not platform:
        raise VenueRefused("a peer's venue names its platform", field="platform", rule="peer_platform")
    if len(platform) > MAX_PLATFORM:
        raise VenueRefused(f"at most {MAX_PLATFORM} characters", field="platform", rule="max_length")
    address = given.address.strip()
    if len(address) > MAX_ADDRESS:
        raise VenueRefused(f"at most {MAX_ADDRESS} characters", field="address", rule="max_length")
    pem, sha256 = _certificate(given.certificate_pem)
    return VenueChecked(code, name, region, owner, platform, address, pem, sha256)


def _certificate(text: str) -> tuple[str | None, str | None]:
    pem = text.strip()
    if not pem:
        return None, None
    if len(pem) > MAX_PEM:
        raise VenueRefused("the certificate is too long", field="certificate_pem", rule="max_length")
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise VenueRefused(
            "not a PEM certificate (-----BEGIN CERTIFICATE-----)", field="certificate_pem", rule="certificate_pem"
        ) from None
    return pem + "\n", fingerprint(certificate)


def check_label(value: str) -> str:
    label = value.strip()
    if not label:
        raise VenueRefused("a seat has a label", field="label", rule="required")
    if not LABEL.fullmatch(label):
        raise VenueRefused("at most 40 characters, no control characters", field="label", rule="format")
    return label


class VenueCatalogue:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = SessionRepository(session)

    async def venues(self, *, active_only: bool = False) -> list[Venue]:
        return await self.repo.venues(active_only=active_only)

    async def seat_counts(self) -> dict[uuid.UUID, int]:
        return await self.repo.seat_counts()

    async def venue(self, venue_id: uuid.UUID, *, lock: bool = False) -> Venue:
        venue = await self.repo.venue(venue_id, lock=lock)
        if venue is None:
            raise VenueMissing("no such venue", field="venue", rule="exists")
        return venue

    async def seats(self, venue_id: uuid.UUID) -> list[Seat]:
        return await self.repo.seats([venue_id])

    async def create(self, given: VenueInput, *, actor: Actor) -> Venue:
        checked = check_venue(given)
        if await self.repo.venue_by_code(checked.code) is not None:
            raise VenueRefused("another venue has this code", field="code", rule="unique")
        now = await clock.now(self.session)
        venue = Venue(
            id=uuid7(),
            code=checked.code,
            name=checked.name,
            region_code=checked.region_code,
            owner=checked.owner,
            platform=checked.platform,
            address=checked.address,
            certificate_pem=checked.certificate_pem,
            active=True,
            created_at=now,
            updated_at=now,
        )
        self.repo.add(venue)
        await self.session.flush()
        await self._record(actor, "evaluation.venue_created", venue, checked.certificate_sha256)
        return venue

    async def update(self, venue_id: uuid.UUID, given: VenueInput, *, active: bool, actor: Actor) -> Venue:
        venue = await self.venue(venue_id, lock=True)
        checked = check_venue(given)
        other = await self.repo.venue_by_code(checked.code)
        if other is not None and other.id != venue.id:
            raise VenueRefused("another venue has this code", field="code", rule="unique")
        venue.code = checked.code
        venue.name = checked.name
        venue.region_code = checked.region_code
        venue.owner = checked.owner
        venue.platform = checked.platform
        venue.address = checked.address
        venue.certificate_pem = checked.certificate_pem
        venue.active = active
        venue.updated_at = await clock.now(self.session)
        await self.session.flush()
        await self._record(actor, "evaluation.venue_updated", venue, checked.certificate_sha256)
        return venue

    async def add_seat(self, venue_id: uuid.UUID, label: str, *, actor: Actor) -> Seat:
        venue = await self.venue(venue_id, lock=True)
        text = check_label(label)
        existing = await self.repo.seat_by_label(venue.id, text)
        if existing is not None and existing.active:
            raise VenueRefused("the venue has a seat with this label", field="label", rule="unique")
        if existing is not None:
            existing.active = True
            seat = existing
        else:
            seat = Seat(id=uuid7(), venue_id=venue.id, label=text, active=True)
            self.repo.add(seat)
        await self.session.flush()
        await self._seat_record(actor, "evaluation.seat_added", venue, seat)
        return seat

    async def deactivate_seat(self, venue_id: uuid.UUID, seat_id: uuid.UUID, *, actor: Actor) -> Seat:
        venue = await self.venue(venue_id, lock=True)
        seat = await self.repo.seat(seat_id)
        if seat is None or seat.venue_id != venue.id:
            raise VenueMissing("no such seat in this venue", field="seat", rule="exists")
        if not seat.active:
            raise VenueRefused("the seat is inactive already", field="seat", rule="active")
        seat.active = False
        await self.session.flush()
        await self._seat_record(actor, "evaluation.seat_deactivated", venue, seat)
        return seat

    async def _record(self, actor: Actor, action: str, venue: Venue, certificate_sha256: str | None) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type="evaluation.venue",
            subject_id=str(venue.id),
            summary={
                "code": venue.code,
                "region": venue.region_code,
                "owner": venue.owner.value,
                "active": venue.active,
                "certificate": certificate_sha256 or "",
            },
            data={"name": venue.name, "platform": venue.platform, "address": venue.address},
        )

    async def _seat_record(self, actor: Actor, action: str, venue: Venue, seat: Seat) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type="evaluation.venue",
            subject_id=str(venue.id),
            summary={"code": venue.code, "seat": str(seat.id), "label": seat.label},
        )
