"""The venue catalogue's rules: each bad field refused by its rule (pure), and on PostgreSQL a
venue edited, a seat deactivated (kept on record, refused twice) and re-activated by its label."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Seat, VenueOwner
from bidding.evaluation.session.errors import VenueMissing, VenueRefused
from bidding.evaluation.venues.service import VenueCatalogue, VenueInput, check_venue
from certs.devpki.pki import DevPki
from trading.kernel.auth.identity import Actor
from trading.ledger.models import LedgerEntry

GOOD = VenueInput("SZ-1", "苏州评标室", "320500", "own")


@pytest.mark.parametrize(
    ("given", "field", "rule"),
    [
        (VenueInput("", "x", "320500", "own"), "code", "required"),
        (VenueInput("a b", "x", "320500", "own"), "code", "format"),
        (VenueInput("SZ-1", " ", "320500", "own"), "name", "required"),
        (VenueInput("SZ-1", "x", "3205", "own"), "region_code", "format"),
        (VenueInput("SZ-1", "x", "990500", "own"), "region_code", "region"),
        (VenueInput("SZ-1", "x", "320500", "mine"), "owner", "choice"),
        (VenueInput("SZ-1", "x", "320500", "peer"), "platform", "peer_platform"),
        (
            VenueInput("SZ-1", "x", "320500", "own", certificate_pem="-----BEGIN CERTIFICATE-----\nAAAA"),
            "certificate_pem",
            "certificate_pem",
        ),
    ],
)
def test_a_bad_field_is_refused_by_its_rule(given: VenueInput, field: str, rule: str) -> None:
    with pytest.raises(VenueRefused) as refused:
        check_venue(given)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_pem_certificate_parses_and_is_fingerprinted(dev_pki: DevPki) -> None:
    pem = dev_pki.org_sign.certificate.public_bytes(Encoding.PEM).decode()
    checked = check_venue(VenueInput("SZ-1", "苏州评标室", "320500", "peer", platform="苏州平台", certificate_pem=pem))
    assert checked.owner is VenueOwner.PEER
    assert checked.certificate_sha256 == dev_pki.org_sign.fingerprint


async def test_venues_are_edited_and_seats_deactivated_but_never_deleted(session: AsyncSession) -> None:
    catalogue = VenueCatalogue(session)
    actor = Actor.system()
    venue = await catalogue.create(GOOD, actor=actor)
    seat = await catalogue.add_seat(venue.id, "A1", actor=actor)
    with pytest.raises(VenueRefused) as taken:
        await catalogue.create(GOOD, actor=actor)
    assert taken.value.rule == "unique"

    edited = await catalogue.update(
        venue.id, VenueInput("SZ-1", "苏州评标二室", "320506", "own"), active=False, actor=actor
    )
    assert (edited.name, edited.region_code, edited.active) == ("苏州评标二室", "320506", False)

    await catalogue.deactivate_seat(venue.id, seat.id, actor=actor)
    with pytest.raises(VenueRefused) as twice:
        await catalogue.deactivate_seat(venue.id, seat.id, actor=actor)
    assert twice.value.rule == "active"
    again = await catalogue.add_seat(venue.id, "A1", actor=actor)
    assert again.id == seat.id
    assert again.active
    assert await session.scalar(sa.select(sa.func.count()).select_from(Seat)) == 1
    other = await catalogue.create(VenueInput("SZ-2", "另一评标室", "320500", "own"), actor=actor)
    with pytest.raises(VenueMissing):
        await catalogue.deactivate_seat(other.id, seat.id, actor=actor)
    actions = set(await session.scalars(sa.select(LedgerEntry.action).where(LedgerEntry.action.like("evaluation.%"))))
    assert {
        "evaluation.venue_created",
        "evaluation.venue_updated",
        "evaluation.seat_added",
        "evaluation.seat_deactivated",
    } <= actions
