"""A committee ready for its session, built from rows: a tender run by an agency, an evaluation
with a main and a sub venue (seats from the catalogue service), experts with accounts and personal
certificates of the development PKI, a committee draw whose published result lists members and
reserves, and confirmed members in the drawn order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import (
    CommitteeDraw,
    Evaluation,
    EvaluationVenue,
    Member,
    MemberKind,
    MemberStatus,
    Seat,
    SessionState,
    VenueRole,
)
from bidding.evaluation.pool.models import Expert
from bidding.evaluation.session.seating import Seating, seat_statement
from bidding.evaluation.venues.service import VenueCatalogue, VenueInput
from certs.auth.challenge import LoginResponse
from certs.devpki.authority import Identity, Profile
from certs.devpki.names import make_id_number, person_name
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.pool.factories import opened_tender
from tests.trading.parties.certificates.helpers import account
from tests.trading.parties.factories import Account, create_account, new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import OrganisationKind, User

_SEED = iter(range(500, 1000))


@dataclass
class Expertise:
    account: Account
    identity: Identity
    expert_id: uuid.UUID
    person_id: uuid.UUID
    name: str

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=ActorKind.USER,
            user_id=self.account.user_id,
            username=self.account.username,
            organisation_id=self.account.organisation_id,
            roles=frozenset({Role.EXPERT}),
        )


@dataclass
class Committee:
    evaluation_id: uuid.UUID
    host: Account
    host_actor: Actor
    experts: list[Expertise]
    """Members first (drawn order), then the reserves."""
    members: list[uuid.UUID]
    seats: list[uuid.UUID]
    draw_id: uuid.UUID
    extra: dict[str, Any] = field(default_factory=dict)


def personal_identity(pki: DevPki, name: str, id_number: str) -> Identity:
    now = pki.now
    return pki.jiangsu_ca.issue(
        person_name(name, id_number, "江苏省"),
        profile=Profile.SIGN,
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=365),
    )


async def build_committee(
    maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki, *, size: int = 5, reserves: int = 2
) -> Committee:
    host = await create_account(maker, settings, Role.AGENCY)
    host_actor = Actor(
        kind=ActorKind.USER,
        user_id=host.user_id,
        username=host.username,
        organisation_id=host.organisation_id,
        roles=frozenset({Role.AGENCY}),
    )
    centre = new_uscc()
    experts: list[Expertise] = []
    for n in range(size + reserves):
        id_number = make_id_number(next(_SEED))
        name = f"评标专家{n + 1}"
        acct = await account(
            maker,
            settings,
            uscc=centre,
            name="测试交易中心",
            role=Role.EXPERT,
            kind=OrganisationKind.TRADING_CENTRE,
            id_number=id_number,
        )
        async with maker() as session:
            user = await session.get(User, acct.user_id)
            assert user is not None
            assert user.person_id is not None
            now = await clock.now(session)
            expert = Expert(
                id=uuid7(),
                person_id=user.person_id,
                user_id=user.id,
                name=name,
                region_code="320100",
                home_library="本平台",
                employer_uscc=new_uscc(),
                employer_name="某设计院",
                created_at=now,
                updated_at=now,
            )
            session.add(expert)
            await session.commit()
        experts.append(Expertise(acct, personal_identity(pki, name, id_number), expert.id, user.person_id, name))

    async with maker() as session:
        now = await clock.now(session)
        tender = await opened_tender(session, tenderee_id=host.organisation_id, created_by=host.user_id)
        evaluation = Evaluation(
            id=uuid7(),
            tender_id=tender.id,
            lot_ids={"lots": []},
            host_organisation_id=host.organisation_id,
            method="gp-comprehensive",
            method_version="1",
            settings={},
            committee_spec={"size": size},
            state=SessionState.PREPARING,
            state_entered_at=now,
            created_by=host.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(evaluation)
        catalogue = VenueCatalogue(session)
        admin = Actor.system()
        main = await catalogue.create(
            VenueInput(f"M{uuid.uuid4().hex[:8]}", "中心一号评标室", "320100", "own", address="南京市"), actor=admin
        )
        sub = await catalogue.create(
            VenueInput(
                f"S{uuid.uuid4().hex[:8]}", "合肥分中心评标室", "340100", "peer", platform="安徽省公共资源交易平台"
            ),
            actor=admin,
        )
        seats: list[Seat] = []
        for venue, count in ((main, (size + 1) // 2 + 1), (sub, size)):
            for k in range(count):
                seats.append(await catalogue.add_seat(venue.id, f"{k + 1}号", actor=admin))  # noqa: PERF401 - awaited in order
        session.add_all(
            [
                EvaluationVenue(evaluation_id=evaluation.id, venue_id=main.id, role=VenueRole.MAIN),
                EvaluationVenue(evaluation_id=evaluation.id, venue_id=sub.id, role=VenueRole.SUB),
            ]
        )
        ids = [str(e.expert_id) for e in experts]
        draw = CommitteeDraw(
            id=uuid7(),
            evaluation_id=evaluation.id,
            operator_id=host.user_id,
            spec={"groups": []},
            rules_version="test",
            seed_commitment="0" * 64,
            committed_at=now,
            seed="seed",
            candidate_list_sha256="1" * 64,
            candidates={"candidates": ids},
            excluded={"excluded": []},
            result={
                "draw_seed": "seed",
                "groups": [{"key": "experts", "members": ids[:size], "reserves": ids[size:], "eligible": len(ids)}],
                "declined": [],
                "committee": ids[:size],
            },
            drawn_at=now,
        )
        session.add(draw)
        await session.flush()
        members: list[Member] = []
        for position, expertise in enumerate(experts[:size]):
            member = Member(
                id=uuid7(),
                evaluation_id=evaluation.id,
                kind=MemberKind.EXPERT,
                expert_id=expertise.expert_id,
                person_id=expertise.person_id,
                user_id=expertise.account.user_id,
                name=expertise.name,
                draw_id=draw.id,
                group_code="experts",
                draw_position=position,
                status=MemberStatus.CONFIRMED,
                answered_at=now,
                created_at=now + timedelta(microseconds=position),
            )
            members.append(member)
        session.add_all(members)
        await session.commit()
    return Committee(evaluation.id, host, host_actor, experts, [m.id for m in members], [s.id for s in seats], draw.id)


async def seat_everyone(maker: async_sessionmaker[AsyncSession], settings: Settings, committee: Committee) -> None:
    async with maker() as session:
        seating = Seating(session, settings)
        for member_id, seat_id in zip(committee.members, committee.seats, strict=False):
            await seating.assign_seat(committee.host_actor, committee.evaluation_id, member_id, seat_id)
        await session.commit()


def answer(challenge: Any, identity: Identity, seat_id: uuid.UUID, statement: bytes) -> dict[str, Any]:
    """What the expert's certificate middleware sends back: the statement signed, plus the seat."""
    signer = identity.signing().signer
    response = LoginResponse(challenge.nonce, identity.certificate, signer.sign(statement), identity.chain[:-1])
    return {**response.to_dict(), "seat": str(seat_id)}


async def sign_in(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    committee: Committee,
    index: int,
    *,
    seat_id: uuid.UUID | None = None,
) -> Member:
    expertise = committee.experts[index]
    async with maker() as session:
        seating = Seating(session, settings)
        issued = await seating.challenge(expertise.actor, committee.evaluation_id)
        await session.commit()
    async with maker() as session:
        seating = Seating(session, settings)
        if seat_id is not None and seat_id != issued.seat_id:
            statement = seat_statement(committee.evaluation_id, seat_id, issued.challenge)
        else:
            statement = issued.statement
        payload = answer(issued.challenge, expertise.identity, seat_id or issued.seat_id, statement)
        member = await seating.sign_in(expertise.actor, committee.evaluation_id, payload)
        await session.commit()
    return member
