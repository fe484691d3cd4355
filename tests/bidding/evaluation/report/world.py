"""An evaluation at ``report-signing`` built directly in the tables (until the committee, session
and scoring parts land): a tender with three opened bids, a 7-member committee of experts with
accounts and personal signing certificates from the development PKI bound to them, a main and a
sub venue with seats, a filled `Evaluation.result` (the contracts' shape), a few scores, a review
decision, a resolved Art. 64 finding, a clarification and an incident.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import (
    Clarification,
    ClarificationStatus,
    CommitteeDraw,
    Evaluation,
    EvaluationVenue,
    EventKind,
    Finding,
    FindingSource,
    Member,
    MemberKind,
    MemberStatus,
    Resolution,
    ReviewDecision,
    ReviewStage,
    Score,
    Seat,
    SessionEvent,
    SessionState,
    Venue,
    VenueOwner,
    VenueRole,
)
from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender, TenderStatus, VersionKind
from bidding.opening.models import OpeningBid, OpeningSession, Outcome, PartStatus, Stage
from certs.devpki.authority import Identity, Profile
from certs.devpki.names import person_name
from certs.devpki.pki import DevPki, make_uscc
from tests.bidding.evaluation.pool.factories import new_id_number, opened_tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.parties.models import (
    CertificateBinding,
    Organisation,
    OrganisationKind,
    PartyKind,
    Person,
    User,
)

EXPERT_NAMES = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊")
BIDDERS = (
    ("南京甲建设工程有限公司", "1180000.00"),
    ("苏州乙建筑有限公司", "1215000.00"),
    ("无锡丙工程有限公司", "1300000.00"),
)
CRITERIA = ("施工组织设计", "项目管理机构")


@dataclass(frozen=True)
class Signer:
    member_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    identity: Identity

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=ActorKind.USER,
            user_id=self.user_id,
            username=f"expert-{self.user_id.hex[:8]}",
            roles=frozenset({Role.EXPERT}),
        )


@dataclass(frozen=True)
class World:
    evaluation_id: uuid.UUID
    tender_id: uuid.UUID
    project_code: str
    signers: tuple[Signer, ...]
    bids: tuple[uuid.UUID, ...]
    outsider: Signer
    """An expert with an account and a bound certificate who is not on this committee."""


def _person_certificate(pki: DevPki, name: str, id_number: str) -> Identity:
    return pki.jiangsu_ca.issue(
        person_name(name, id_number, "江苏省"),
        profile=Profile.SIGN,
        not_before=pki.now - timedelta(days=30),
        not_after=pki.now + timedelta(days=365),
    )


async def _account(session: AsyncSession, pki: DevPki, name: str) -> tuple[Person, User, Identity]:
    now = await clock.now(session)
    id_number = new_id_number()
    person = Person(
        id=uuid7(), id_hash=secrets.token_hex(32), id_masked=id_number[:6] + "********" + id_number[-4:], name=name
    )
    session.add(person)
    await session.flush()
    user = User(
        id=uuid7(), username=f"expert-{secrets.token_hex(4)}", display_name=name, password_hash="!", person_id=person.id
    )
    session.add(user)
    await session.flush()
    identity = _person_certificate(pki, name, id_number)
    cert = identity.certificate
    session.add(
        CertificateBinding(
            id=uuid7(),
            user_id=user.id,
            certificate_sha256=cert.fingerprint(hashes.SHA256()).hex(),
            certificate=cert.public_bytes(serialization.Encoding.DER),
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial_number=format(cert.serial_number, "x"),
            not_after=cert.not_valid_after_utc,
            ca_name=pki.jiangsu_ca.name,
            party_kind=PartyKind.PERSON,
            person_id=person.id,
            bound_at=now,
        )
    )
    await session.flush()
    return person, user, identity


async def _organisation(session: AsyncSession, name: str, seed: int) -> Organisation:
    organisation = Organisation(
        id=uuid7(), uscc=make_uscc(seed, "320100"), name=name, kind=OrganisationKind.ENTERPRISE, region_code="320100"
    )
    session.add(organisation)
    await session.flush()
    return organisation


_SEEDS = iter(range(5000, 9000))


async def _opened_bids(
    session: AsyncSession, tender_id: uuid.UUID, tenderee: Organisation, user_id: uuid.UUID
) -> list[OpeningBid]:
    now = await clock.now(session)
    lot = Lot(id=uuid7(), tender_id=tender_id, code="01", name="第一标段", estimate=Decimal("1500000.00"), position=1)
    session.add(lot)
    opening = OpeningSession(
        id=uuid7(),
        tender_id=tender_id,
        host_organisation_id=tenderee.id,
        stage=Stage.CLOSED,
        stage_started_at=now,
        lots={"lots": []},
        timeline={"events": []},
        created_at=now,
        updated_at=now,
        closed_at=now,
    )
    session.add(opening)
    await session.flush()
    rows = []
    for name, price in BIDDERS:
        organisation = await _organisation(session, name, next(_SEEDS))
        bid = Bid(
            id=uuid7(),
            tender_id=tender_id,
            lot_id=lot.id,
            organisation_id=organisation.id,
            status=BidStatus.SUBMITTED,
            versions=1,
            created_at=now,
            updated_at=now,
        )
        session.add(bid)
        await session.flush()
        version = BidVersion(
            id=uuid7(),
            bid_id=bid.id,
            number=1,
            kind=VersionKind.SUBMISSION,
            receipt_no=f"R{secrets.token_hex(8)}",
            received_at=now,
            submitted_by=user_id,
            receipt=b"{}",
            receipt_signature=b"",
        )
        session.add(version)
        await session.flush()
        bid.current_version_id = version.id
        row = OpeningBid(
            id=uuid7(),
            session_id=opening.id,
            bid_id=bid.id,
            version_id=version.id,
            lot_id=lot.id,
            organisation_id=organisation.id,
            bidder_uscc=organisation.uscc,
            bidder_name=name,
            price_status=PartStatus.OPENED,
            price_summary={"totalPrice": price},
            package_status=PartStatus.OPENED,
            outcome=Outcome.DECRYPTED,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


async def build_world(
    session_maker: async_sessionmaker[AsyncSession],
    pki: DevPki,
    *,
    members: int = 7,
    state: SessionState = SessionState.REPORT_SIGNING,
    over: tuple[uuid.UUID, list[OpeningBid]] | None = None,
) -> World:
    """The evaluation at ``report-signing`` (committed in the test's outer transaction). ``over``:
    (tender id, its opening's bids) of a tender really opened, instead of the tables' own tender."""
    async with session_maker() as session:
        now = await clock.now(session)
        _, host_user, _ = await _account(session, pki, "代理主持人")
        if over is None:
            tenderee = await _organisation(session, "南京市测试招标人", next(_SEEDS))
            tender = await opened_tender(
                session, tenderee_id=tenderee.id, created_by=host_user.id, status=TenderStatus.OPENING
            )
            bids = await _opened_bids(session, tender.id, tenderee, host_user.id)
            prices = [price for _, price in BIDDERS]
        else:
            tender = await session.get_one(Tender, over[0])
            tenderee = await session.get_one(Organisation, tender.tenderee_organisation_id)
            bids = list(over[1])
            prices = [str((bid.price_summary or {}).get("totalPrice", "")) for bid in bids]
        evaluation = Evaluation(
            id=uuid7(),
            tender_id=tender.id,
            lot_group="all",
            lot_ids={"lots": []},
            host_organisation_id=tenderee.id,
            method="gp-comprehensive-scoring",
            method_version="1",
            settings={"price_weight": "30", "candidates": 3, "criteria": list(CRITERIA)},
            committee_spec={"size": members},
            state=state,
            state_entered_at=now,
            created_by=host_user.id,
            created_at=now,
            updated_at=now,
        )
        session.add(evaluation)
        main = Venue(
            id=uuid7(),
            code=f"NJ-{secrets.token_hex(3)}",
            name="南京市公共资源交易中心评标室一",
            region_code="320100",
            owner=VenueOwner.OWN,
            created_at=now,
            updated_at=now,
        )
        sub = Venue(
            id=uuid7(),
            code=f"HA-{secrets.token_hex(3)}",
            name="淮安市公共资源交易中心评标室二",
            region_code="320800",
            owner=VenueOwner.PEER,
            platform="淮安市平台",
            created_at=now,
            updated_at=now,
        )
        session.add_all([main, sub])
        await session.flush()
        session.add_all(
            [
                EvaluationVenue(evaluation_id=evaluation.id, venue_id=main.id, role=VenueRole.MAIN),
                EvaluationVenue(evaluation_id=evaluation.id, venue_id=sub.id, role=VenueRole.SUB),
            ]
        )
        draw = CommitteeDraw(
            id=uuid7(),
            evaluation_id=evaluation.id,
            operator_id=host_user.id,
            spec={},
            rules_version="1",
            seed_commitment="0" * 64,
            committed_at=now,
            drawn_at=now,
        )
        session.add(draw)
        await session.flush()
        signers = []
        for index, name in enumerate(EXPERT_NAMES[:members]):
            person, user, identity = await _account(session, pki, name)
            venue = main if index < 4 else sub
            seat = Seat(id=uuid7(), venue_id=venue.id, label=f"{index + 1:02d}号席")
            session.add(seat)
            await session.flush()
            member = Member(
                id=uuid7(),
                evaluation_id=evaluation.id,
                kind=MemberKind.EXPERT,
                person_id=person.id,
                user_id=user.id,
                name=name,
                draw_id=draw.id,
                draw_position=index + 1,
                status=MemberStatus.SIGNED_IN,
                seat_id=seat.id,
                signed_in_at=now,
                created_at=now,
            )
            session.add(member)
            await session.flush()
            signers.append(Signer(member.id, user.id, name, identity))
        evaluation.chair_member_id = signers[0].member_id
        _, outsider_user, outsider_identity = await _account(session, pki, "局外专家")
        # Scores: every member, every bid, both criteria; totals in the result are their means.
        totals = {}
        for rank_index, bid in enumerate(bids):
            base = Decimal(28 - 3 * rank_index)
            for m_index, signer in enumerate(signers):
                for c_index, criterion in enumerate(CRITERIA):
                    session.add(
                        Score(
                            id=uuid7(),
                            evaluation_id=evaluation.id,
                            member_id=signer.member_id,
                            opening_bid_id=bid.id,
                            criterion=criterion,
                            points=base - c_index * 5 + Decimal(m_index % 3) / 2,
                            updated_at=now,
                        )
                    )
            totals[bid.id] = Decimal("90.50") - 7 * rank_index
        session.add(
            ReviewDecision(
                id=uuid7(),
                evaluation_id=evaluation.id,
                member_id=signers[0].member_id,
                opening_bid_id=bids[2].id,
                stage=ReviewStage.QUALIFICATION,
                item="",
                passed=True,
                reason="",
                decided_at=now,
            )
        )
        session.add(
            Finding(
                id=uuid7(),
                evaluation_id=evaluation.id,
                source=FindingSource.ART64,
                rule="outlier",
                member_id=signers[1].member_id,
                opening_bid_id=bids[1].id,
                criterion=CRITERIA[0],
                evidence={"z": "3.9"},
                found_at=now,
                resolution=Resolution.JUSTIFIED,
                justification="该投标人施工组织设计确有突出之处",
                resolved_by=signers[1].user_id,
                resolved_at=now,
            )
        )
        session.add(
            Clarification(
                id=uuid7(),
                evaluation_id=evaluation.id,
                opening_bid_id=bids[0].id,
                organisation_id=bids[0].organisation_id,
                asked_by_member_id=signers[0].member_id,
                question="请澄清项目经理的在建工程情况",
                asked_at=now,
                due_at=now + timedelta(hours=1),
                status=ClarificationStatus.ANSWERED,
                answer="项目经理无在建工程",
                answered_at=now,
            )
        )
        session.add(
            SessionEvent(
                id=uuid7(),
                evaluation_id=evaluation.id,
                kind=EventKind.INCIDENT,
                note="副场网络中断 3 分钟后恢复",
                details={},
                at=now,
            )
        )
        evaluation.result = {
            "method": "gp-comprehensive-scoring",
            "method_version": "1",
            "computed_at": now.isoformat(),
            "bids": [
                {
                    "opening_bid_id": str(bid.id),
                    "bidder_name": bid.bidder_name,
                    "bidder_uscc": bid.bidder_uscc,
                    "price": price,
                    "valid": True,
                    "invalid_reason": "",
                    "total": str(totals[bid.id]),
                    "rank": index + 1,
                    "by_member": {str(s.member_id): str(totals[bid.id]) for s in signers},
                    "by_criterion": {CRITERIA[0]: "20.00", CRITERIA[1]: "15.00"},
                }
                for index, (bid, price) in enumerate(zip(bids, prices, strict=True))
            ],
            "candidates": [str(bid.id) for bid in bids],
            "recommended": [],
        }
        await session.commit()
    return World(
        evaluation_id=evaluation.id,
        tender_id=tender.id,
        project_code=tender.project_code,
        signers=tuple(signers),
        bids=tuple(b.id for b in bids),
        outsider=Signer(uuid.uuid4(), outsider_user.id, "局外专家", outsider_identity),
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
