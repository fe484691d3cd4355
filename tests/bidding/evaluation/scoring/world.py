"""An opened tender ready to evaluate, built the way the platform builds it.

Three bidders (A, B, C; prices from `hall_support.PRICES`) seal real packages (real signatures,
`certs.devpki`; each holds 技术标.txt and a real PDF, 技术方案.pdf, rendered by WeasyPrint),
upload them, the deadline sweep starts the opening, they sign in and decrypt: all
three packages are opened. Then, until the committee and session parts land, an `Evaluation` and
its `Member` rows are created directly (state set directly): five experts of the pool, each with a
user account, under 综合评分法 with one price, one objective and one subjective criterion.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import weasyprint
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.fingerprint import DeviceFingerprint
from bidding.client.hall import decrypt_bid
from bidding.client.sdk import BuiltBid, PriceSummary, build_container_async
from bidding.evaluation.methods.common import Criterion, CriterionKind, MethodCode, Sector
from bidding.evaluation.methods.serialise import settings_to_data
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import Evaluation, Member, MemberKind, MemberStatus, SessionState
from bidding.evaluation.pool.service import ExpertPool
from bidding.evaluation.scoring.documents import PackageSource
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.evaluation.scoring.service import Scoring
from bidding.models import Tender
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.service import OpeningService
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.evaluation.pool.factories import admin_actor, facts
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from tests.bidding.opening.hall_support import PRICES, ThreeBids, host_transition, sign_in_hall
from tests.trading.parties.factories import Account, create_account
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

PRICE, QUALITY, TECH = "price", "quality", "tech"
"""The criteria: the price (computed, weight 0.30), an objective one decided by vote (0.10, 0-100),
a subjective one each member scores alone (0.60, 0-100)."""


def gp_settings() -> MethodSettings:
    return MethodSettings(
        method=MethodCode.GP_COMPREHENSIVE,
        sector=Sector.GOODS,
        criteria=(
            Criterion(PRICE, CriterionKind.PRICE, Decimal("0.30")),
            Criterion(QUALITY, CriterionKind.OBJECTIVE, Decimal("0.10")),
            Criterion(TECH, CriterionKind.SUBJECTIVE, Decimal("0.60")),
        ),
        candidates=3,
    )


@dataclass
class Expert:
    account: Account
    member_id: uuid.UUID
    expert_id: uuid.UUID
    name: str

    def actor(self) -> Actor:
        return Actor(
            kind=ActorKind.USER,
            user_id=self.account.user_id,
            username=self.account.username,
            organisation_id=self.account.organisation_id,
            roles=frozenset({Role.EXPERT}),
        )


@dataclass
class World:
    setup: ThreeBids
    evaluation_id: uuid.UUID
    experts: list[Expert]
    bids: dict[str, uuid.UUID]
    """bidder letter → opening bid id."""
    source: PackageSource
    store: FileStore
    session_maker: async_sessionmaker[AsyncSession]

    @property
    def code(self) -> str:
        return self.setup.code

    @property
    def bidders(self) -> dict[str, Party]:
        return self.setup.bidders

    def scoring(self, session: AsyncSession) -> Scoring:
        return Scoring(ScoringRepository(session), self.store, self.source)

    async def set_state(self, state: SessionState, *, chair: int | None = None) -> None:
        """The session part's transition, set directly until it lands."""
        async with self.session_maker() as session:
            evaluation = await session.get_one(Evaluation, self.evaluation_id)
            evaluation.state = state
            evaluation.state_entered_at = await clock.now(session)
            if chair is not None:
                evaluation.chair_member_id = self.experts[chair].member_id
            await session.commit()


PDF_NAME = "技术方案.pdf"


def proposal_pdf(bidder: str) -> bytes:
    """A real, small PDF (WeasyPrint) naming the bidder."""
    html = f"<h1>Technical proposal</h1><p>Bidder {bidder}: construction method, schedule, quality plan.</p>"
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def structured_response(code: str, bidder: str, *, stars: tuple[str, ...] = ("S1", "S2")) -> dict[str, Any]:
    """A ``ggzy-response/1`` (the assistance tests' shape) for this tender; a correct bill:
    120.5 × 356.80 = 42,994.40; 80 × 25.50 = 2,040.00; sum 45,034.40.
    """
    return {
        "format": "ggzy-response/1",
        "tender": code,
        "lot": "L1",
        "bidder": bidder,
        "qualifications": [],
        "evidence": [],
        "starResponses": [{"item": s, "response": "complies"} for s in stars],
        "bill": [
            {"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"},
            {"code": "010103001001", "quantity": "80", "unitPrice": "25.50", "lineTotal": "2040.00"},
        ],
        "total": "45034.40",
        "totalInWords": "肆万伍仟零叁拾肆元肆角整",
    }


def requirement_set(code: str) -> dict[str, Any]:
    """The tender's requirement set: two ★ items and the bill the responses price."""
    return {
        "format": "ggzy-requirements/1",
        "tender": code,
        "lot": "L1",
        "sector": "engineering",
        "deadline": "2027-03-15T09:30:00+08:00",
        "starItems": [{"code": "S1", "text": "工期不超过 180 日历天"}, {"code": "S2", "text": "质量合格"}],
        "bill": [
            {"code": "010101001001", "description": "挖一般土方", "unit": "m³", "quantity": "120.5"},
            {"code": "010103001001", "description": "回填方", "unit": "m³", "quantity": "80"},
        ],
    }


async def _seal(
    directory: Path, bidder: Party, *, code: str, deadline: Any, price: str, device: DeviceFingerprint | None = None
) -> BuiltBid:
    """`hall_support.seal_bid` with a PDF beside the text file and a structured response (bidder
    A's answers ★ S1 only)."""
    directory.mkdir(parents=True, exist_ok=True)
    answer = directory / "response.json"
    stars = ("S1",) if price == PRICES["A"] else ("S1", "S2")
    answer.write_text(json.dumps(structured_response(code, bidder.uscc, stars=stars), ensure_ascii=False))
    text = directory / "技术标.txt"
    text.write_bytes(f"技术标 {bidder.name}\n".encode() * 100)
    pdf = directory / PDF_NAME
    pdf.write_bytes(proposal_pdf(bidder.uscc))
    assert bidder.encrypt is not None
    return await build_container_async(
        directory / "bid.zip",
        tender=code,
        lot="L1",
        bidder_uscc=bidder.uscc,
        deadline=deadline,
        files=[text, pdf],
        price_summary=PriceSummary(
            tender=code, lot="L1", bidder=bidder.uscc, total_price=Decimal(price), duration_days=180
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=bidder.sign.signing(),
        bidder_encryption=bidder.encrypt.certificate,
        key_holders=[],
        threshold=3,
        backup_dir=directory / "backup",
        response=answer,
        device=device,
    )


async def _three_bids(  # as hall_support.three_bids_at_sign_in, with the PDF in each package
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    letters: str = "ABC",
    prices: Mapping[str, str] | None = None,
    devices: Mapping[str, DeviceFingerprint | None] | None = None,
) -> ThreeBids:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in letters}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await _seal(
            tmp_path / name,
            bidder,
            code=code,
            deadline=tender.deadline,
            price=(prices or PRICES)[name],
            device=(devices or {}).get(name),
        )
        await clients[name].upload(code, "L1", built.path)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
    return ThreeBids(code, bidders, clients, await tenderee.headers(client), shifted, tenderee)


async def opened_world(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    members: int = 5,
    state: SessionState = SessionState.SCORING,
    method: MethodSettings | None = None,
    letters: str = "ABC",
    prices: Mapping[str, str] | None = None,
    devices: Mapping[str, DeviceFingerprint | None] | None = None,
) -> World:
    """The opened tender and its evaluation; ``letters`` names the bidders (prices: `PRICES` unless
    ``prices`` are given; ``devices``: the device fingerprint each bidder's client seals with)."""
    setup = await _three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        letters=letters,
        prices=prices,
        devices=devices,
    )
    with clock.use_clock(setup.shifted):
        for name in letters:
            await sign_in_hall(setup.clients[name], setup.code, setup.bidders[name])
        moved = await host_transition(client, setup, "decryption")
        assert moved.status_code == 200, moved.text
        for name, bidder in setup.bidders.items():
            assert bidder.encrypt is not None
            await decrypt_bid(setup.clients[name], setup.code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
    accounts = [await create_account(session_maker, settings, Role.EXPERT) for _ in range(members)]
    opening = OpeningService(session_maker, settings, store)
    async with session_maker() as session:
        tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == setup.code))).one()
        now = await clock.now(session)
        evaluation = Evaluation(
            id=uuid7(),
            tender_id=tender.id,
            lot_group="all",
            lot_ids={"lots": []},
            host_organisation_id=setup.tenderee.organisation_id,
            method=(method or gp_settings()).method.value,
            method_version="1",
            settings=settings_to_data(method or gp_settings()),
            committee_spec={"size": members},
            state=state,
            state_entered_at=now,
            created_by=setup.tenderee.account.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(evaluation)
        await session.flush()
        pool = ExpertPool(session, settings)
        await pool.sync_specialties(actor=Actor.system())
        experts = []
        for i, account in enumerate(accounts):
            name = f"评标专家{i + 1}{uuid.uuid4().hex[:4]}"
            expert, _ = await pool.register(facts(name=name), actor=admin_actor(), user_id=account.user_id)
            member = Member(
                id=uuid7(),
                evaluation_id=evaluation.id,
                kind=MemberKind.EXPERT,
                expert_id=expert.id,
                person_id=expert.person_id,
                user_id=account.user_id,
                name=name,
                status=MemberStatus.CONFIRMED,
                created_at=now,
            )
            session.add(member)
            await session.flush()
            experts.append(Expert(account, member.id, expert.id, name))
        repo = ScoringRepository(session)
        bids = {
            name: next(b.id for b in await repo.bids(evaluation) if b.bidder_uscc == bidder.uscc)
            for name, bidder in setup.bidders.items()
        }
        await session.commit()
    return World(setup, evaluation.id, experts, bids, opening.hall.opened_package, store, session_maker)


async def run(world: World, work: Any) -> Any:
    """Run ``work(scoring)`` in one transaction, committed when it returns (as a request would)."""
    async with world.session_maker() as session:
        result = await work(world.scoring(session))
        await session.commit()
        return result
