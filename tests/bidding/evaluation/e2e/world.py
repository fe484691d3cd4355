"""The evaluation stage end to end, driven through the parts' public services and the HTTP API.

`Story` holds everything one evaluation needs, built the way the platform builds it:

- parties: a tenderee, an agency it mandates (the agency runs the tender and hosts the evaluation),
  three bidders A, B, C with signing and encryption certificates (`certs.devpki`);
- a published tender (GP goods, or engineering with coefficients), three sealed packages uploaded,
  the deadline sweep, the hall (sign-in, decryption, and for engineering 唱标 → 抽取系数 → 确认):
  all three packages opened;
- a centre admin (the draw operator), a supervisor, a pool of experts with accounts, ID numbers and
  personal certificates bound to their accounts (`BindingService.register_binding`), one employed
  by bidder B, one declaring a conflict with the tenderee through their own profile;
- a main and a sub venue from the catalogue service, with seats.

The steps (each its own transaction, as a request or a job would run it) follow in `Story`'s
methods; every one runs under the clock shifted past the bid deadline.
"""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.hall import decrypt_bid
from bidding.client.sdk import sign_report as client_sign
from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput
from bidding.evaluation.methods.common import Criterion, CriterionKind, MethodCode, Sector
from bidding.evaluation.methods.serialise import settings_to_data
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import CommitteeDraw, Evaluation, Member, MemberStatus, SessionState
from bidding.evaluation.pool.models import RelationType
from bidding.evaluation.pool.profile import ConflictInput, ExpertProfile
from bidding.evaluation.pool.service import ExpertPool
from bidding.evaluation.report.service import RENDER_TASK, publish_report, report_pdf, sign_report
from bidding.evaluation.scoring.documents import PackageSource
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.evaluation.scoring.service import Scoring
from bidding.evaluation.session import machine
from bidding.evaluation.session.errors import SessionRefused
from bidding.evaluation.session.seating import Seating
from bidding.evaluation.venues.service import VenueCatalogue, VenueInput
from bidding.models import Tender, TenderCategory
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.service import OpeningService
from bidding.schemas import CoefficientCreate
from certs.devpki.authority import Identity
from certs.devpki.names import make_id_number
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.containers import bid_client
from tests.bidding.evaluation.pool.factories import admin_actor, facts
from tests.bidding.evaluation.scoring.world import _seal
from tests.bidding.evaluation.session.support import answer, personal_identity
from tests.bidding.factories import Party, agency_party, bidder_party, mandate, published_tender, tenderee_party
from tests.bidding.opening.hall_support import PRICES, sign_in_hall
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, create_account, new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.parties.certificates.bindings import BindingService
from trading.parties.models import OrganisationKind, User
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

T = TypeVar("T")
PRICE, TECH, SERVICE = "price", "tech", "service"
"""The criteria: the price (computed by the method), two subjective ones each member scores alone."""
_ID_SEEDS = iter(range(3000, 9000))


def gp_method() -> MethodSettings:
    """GP 综合评分法 (低价优先): price 30 %, technical 50 %, service 20 %, three candidates."""
    return MethodSettings(
        method=MethodCode.GP_COMPREHENSIVE,
        sector=Sector.GOODS,
        criteria=(
            Criterion(PRICE, CriterionKind.PRICE, Decimal("0.30")),
            Criterion(TECH, CriterionKind.SUBJECTIVE, Decimal("0.50")),
            Criterion(SERVICE, CriterionKind.SUBJECTIVE, Decimal("0.20")),
        ),
        candidates=3,
    )


def committee_spec(size: int = 7, reserves: int = 2) -> dict[str, Any]:
    return {"size": size, "representatives": 0, "specialties": {}, "reserves": reserves}


@dataclass
class ExpertPerson:
    account: Account
    identity: Identity
    expert_id: uuid.UUID
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


def account_actor(account: Account, role: Role) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=account.user_id,
        username=account.username,
        organisation_id=account.organisation_id,
        roles=frozenset({role}),
    )


@dataclass
class Story:
    client: httpx.AsyncClient
    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    store: FileStore
    pki: DevPki
    tsa: LocalTsa
    publisher: RecordingPublisher
    tmp_path: Path
    tenderee: Party
    agency: Party
    bidders: dict[str, Party]
    clients: dict[str, Any]
    """bidder letter → the bidder's `ggzy bid` client (BidClient)."""
    code: str
    tender_id: uuid.UUID
    shifted: clock.ShiftedClock
    admin: Account
    supervisor: Account
    experts: list[ExpertPerson]
    employee: ExpertPerson
    conflicted: ExpertPerson
    venues: dict[str, uuid.UUID] = field(default_factory=dict)
    seats: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    evaluation_id: uuid.UUID | None = None
    bids: dict[str, uuid.UUID] = field(default_factory=dict)
    """bidder letter → opening bid id."""
    source: PackageSource | None = None

    # --- plumbing ---------------------------------------------------------------------------------

    @property
    def ev(self) -> uuid.UUID:
        assert self.evaluation_id is not None
        return self.evaluation_id

    @property
    def operator(self) -> Actor:
        return account_actor(self.admin, Role.ADMIN)

    @property
    def host(self) -> Actor:
        return self.agency.actor()

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One transaction under the shifted clock, committed when ``work`` returns."""
        with clock.use_clock(self.shifted):
            async with self.maker() as session:
                result = await work(session)
                await session.commit()
                return result

    def scoring(self, session: AsyncSession) -> Scoring:
        assert self.source is not None
        return Scoring(ScoringRepository(session), self.store, self.source)

    async def evaluation(self) -> Evaluation:
        async with self.maker() as session:
            return await session.get_one(Evaluation, self.ev)

    async def members(self) -> list[Member]:
        async with self.maker() as session:
            rows = await session.scalars(
                sa.select(Member)
                .where(Member.evaluation_id == self.ev)
                .order_by(Member.draw_position, Member.created_at)
            )
            return list(rows)

    async def current(self) -> list[Member]:
        return [
            m
            for m in await self.members()
            if m.voided_at is None and m.status in {MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN}
        ]

    def person_of(self, member: Member) -> ExpertPerson:
        return next(e for e in self.experts if e.expert_id == member.expert_id)

    async def token(self, account: Account) -> dict[str, str]:
        with clock.use_clock(self.shifted):
            return bearer(await api_token(self.client, account))

    # --- 1. setup and the draw --------------------------------------------------------------------

    async def set_up(self, method: MethodSettings) -> Evaluation:
        data = {**settings_to_data(method), "committee": committee_spec()}

        async def work(session: AsyncSession) -> Evaluation:
            start = await clock.now(session) + timedelta(days=1)
            return await EvaluationSetup(session).create(
                self.host,
                self.tender_id,
                SetupInput(
                    settings=data,
                    main_venue_id=self.venues["main"],
                    sub_venue_ids=(self.venues["sub"],),
                    scheduled_at=start,
                ),
            )

        evaluation = await self.run(work)
        self.evaluation_id = evaluation.id
        return evaluation

    async def draw(self) -> CommitteeDraw:
        await self.run(lambda s: CommitteeDraws(s).prepare(self.operator, self.ev))
        return await self.run(lambda s: CommitteeDraws(s).run(self.operator, self.ev))

    async def answer_draw(self, *, decline: int) -> tuple[Member, Member]:
        """Every drawn member confirms except the one at ``decline``, who declines; the reserve seated
        in their place (automatically, by the decline) confirms. Returns (declined, reserve)."""
        drawn = await self.members()
        leaving = drawn[decline]
        await self.run(lambda s: Memberships(s).decline(self.person_of(leaving).actor, leaving.id, "当天另有评标任务"))
        for member in await self.members():
            if member.status is MemberStatus.NOTIFIED:
                person = self.person_of(member)

                async def confirm(s: AsyncSession, m: Member = member, p: ExpertPerson = person) -> Member:
                    return await Memberships(s).confirm(p.actor, m.id)

                await self.run(confirm)
        after = await self.members()
        reserve = next(m for m in after if m.replaces_member_id == leaving.id)
        return next(m for m in after if m.id == leaving.id), reserve

    # --- 2. the session ---------------------------------------------------------------------------

    async def seat_everyone(self) -> None:
        """The host gives the first four current members seats in the main venue, the rest in the sub."""
        current = await self.current()
        seats = [*self.seats["main"], *self.seats["sub"]]

        async def work(session: AsyncSession) -> None:
            seating = Seating(session, self.settings)
            for member, seat_id in zip(current, seats, strict=False):
                await seating.assign_seat(self.host, self.ev, member.id, seat_id)

        await self.run(work)

    async def sign_in(self, member: Member, *, seat_id: uuid.UUID | None = None) -> Member:
        """The certificate sign-in at the seat: a challenge, the seat's statement signed with the
        expert's certificate."""
        person = self.person_of(member)
        issued = await self.run(lambda s: Seating(s, self.settings).challenge(person.actor, self.ev))
        payload = answer(issued.challenge, person.identity, seat_id or issued.seat_id, issued.statement)
        return await self.run(lambda s: Seating(s, self.settings).sign_in(person.actor, self.ev, payload))

    async def elect(self, chair: Member) -> int:
        """Members vote for ``chair`` until a majority elects them; returns the number of votes cast."""
        for count, member in enumerate(await self.current(), start=1):
            person = self.person_of(member)

            async def vote(s: AsyncSession, p: ExpertPerson = person) -> Member | None:
                return await Seating(s, self.settings).vote(p.actor, self.ev, chair.id)

            elected = await self.run(vote)
            if elected is not None:
                return count
        raise AssertionError("no chair elected")

    async def enter(self, state: SessionState, actor: Actor) -> None:
        async def work(session: AsyncSession) -> None:
            evaluation = await session.get_one(Evaluation, self.ev)
            await machine.enter(session, evaluation, state, actor=actor)

        await self.run(work)

    async def chair(self) -> ExpertPerson:
        evaluation = await self.evaluation()
        member = next(m for m in await self.members() if m.id == evaluation.chair_member_id)
        return self.person_of(member)

    # --- 3. the report ----------------------------------------------------------------------------

    async def render(self) -> str:
        """The render job the session's entry into ``report-signing`` enqueued, run as the worker would."""
        queued = [t for t in self.publisher.published if t.name == RENDER_TASK]
        assert queued, "entering report-signing enqueues the report's rendering"
        assert queued[-1].kwargs["evaluation_id"] == str(self.ev)
        with clock.use_clock(self.shifted):
            digest = await publish_report(self.maker, self.settings, self.store, self.ev)
        assert digest is not None
        return digest

    async def current_pdf(self, reader: ExpertPerson) -> bytes:
        return await self.run(lambda s: report_pdf(s, self.store, reader.actor, self.ev))

    async def sign(self, person: ExpertPerson) -> dict[str, object]:
        """Download the current revision, sign it as ``ggzy bid sign-report`` does, upload it."""
        pdf = await self.current_pdf(person)
        signed = await client_sign(pdf, person.identity.signing(), tsa=self.tsa)
        with clock.use_clock(self.shifted):
            async with transaction(self.maker, lock=True) as session:
                return await sign_report(
                    session, self.settings, store=self.store, actor=person.actor, evaluation_id=self.ev, pdf=signed
                )


# --- building the world ---------------------------------------------------------------------------------


async def _expert_account(
    maker: async_sessionmaker[AsyncSession], settings: Settings, centre: str, name: str, id_number: str
) -> Account:
    async with maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.organisations.by_uscc(centre)
        if organisation is None:
            organisation = await service.create_organisation(
                OrganisationCreate(uscc=centre, name="测试交易中心", kind=OrganisationKind.TRADING_CENTRE),
                actor=Actor.system(),
            )
        user, membership = await service.create_user(
            UserCreate(
                username=f"expert-{uuid.uuid4().hex[:10]}",
                display_name=name,
                password=PASSWORD,
                organisation_id=organisation.id,
                role=Role.EXPERT,
                id_number=id_number,
                person_name=name,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, organisation.id, membership.id, user.username)


async def _expert(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    pki: DevPki,
    centre: str,
    name: str,
    **given: Any,
) -> ExpertPerson:
    """An expert of the pool with an account and a personal certificate bound to it."""
    id_number = make_id_number(next(_ID_SEEDS))
    account = await _expert_account(maker, settings, centre, name, id_number)
    identity = personal_identity(pki, name, id_number)
    async with maker() as session:
        pool = ExpertPool(session, settings)
        expert, _ = await pool.register(
            facts(name=name, id_number=id_number, **given), actor=admin_actor(), user_id=account.user_id
        )
        user = await session.get_one(User, account.user_id)
        await BindingService(session, settings).register_binding(
            user, identity.certificate, tuple(identity.chain[:-1]), actor=Actor.system()
        )
        await session.commit()
    return ExpertPerson(account, identity, expert.id, name)


async def _venue(
    session: AsyncSession, name: str, region: str, owner: str, seats: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    catalogue = VenueCatalogue(session)
    admin = Actor.system()
    venue = await catalogue.create(
        VenueInput(f"V{uuid.uuid4().hex[:8]}", name, region, owner, platform="" if owner == "own" else "淮安市平台"),
        actor=admin,
    )
    return venue.id, [(await catalogue.add_seat(venue.id, f"{k + 1:02d}号席", actor=admin)).id for k in range(seats)]


async def build(  # noqa: PLR0915 - the whole opened tender
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    publisher: RecordingPublisher,
    tmp_path: Path,
    engineering: bool = False,
    plain_experts: int = 10,
) -> Story:
    maker = session_maker
    tenderee = await tenderee_party(maker, settings, dev_pki)
    agency = await agency_party(maker, settings, dev_pki)
    await mandate(maker, tenderee, agency)
    create: dict[str, Any] = {"lots": 1, "tenderee_organisation_id": tenderee.organisation_id}
    if engineering:
        create["coefficients"] = [CoefficientCreate("K", "0.90", "0.99", "0.01")]
    else:
        create |= {"tender_type": "goods", "category": TenderCategory.GOODS}
    tender = await published_tender(maker, settings, store, agency, **create)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await _seal(tmp_path / name, bidder, code=code, deadline=tender.deadline, price=PRICES[name])
        await clients[name].upload(code, "L1", built.path)
    async with maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    host_headers = await agency.headers(client)

    async def hall(action: str) -> None:
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": action}, headers=host_headers
        )
        assert moved.status_code == 200, moved.text

    with clock.use_clock(shifted):
        await run_sweep(maker, [TenderDeadline(store), OpeningClock()])
        for name in "ABC":
            await sign_in_hall(clients[name], code, bidders[name])
        await hall("decryption")
        for name, bidder in bidders.items():
            assert bidder.encrypt is not None
            await decrypt_bid(clients[name], code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
        if engineering:
            await hall("coefficient-draw")
            drawn = await client.post(f"/api/v1/bidding/opening/{code}/coefficients/draw", headers=host_headers)
            assert drawn.status_code == 200, drawn.text
            await hall("confirmation")

    async with maker() as session:
        await ExpertPool(session, settings).sync_specialties(actor=Actor.system())
        await session.commit()
    admin = await create_account(maker, settings, Role.ADMIN)
    supervisor = await create_account(maker, settings, Role.SUPERVISOR)
    centre = new_uscc()
    with clock.use_clock(shifted):
        employee = await _expert(
            maker,
            settings,
            dev_pki,
            centre,
            "投标人员工",
            employer_uscc=bidders["B"].uscc,
            employer_name=bidders["B"].name,
        )
        conflicted = await _expert(maker, settings, dev_pki, centre, "利害关系人")
        plain = [await _expert(maker, settings, dev_pki, centre, f"评标专家{i + 1:02d}") for i in range(plain_experts)]
        async with maker() as session:
            await ExpertProfile(session, settings).declare_conflict(
                conflicted.actor,
                ConflictInput(
                    organisation_uscc=tenderee.uscc,
                    organisation_name=tenderee.name,
                    relation=RelationType.ADVISER,
                    period_from=date(2024, 1, 1),
                    period_until=None,
                ),
            )
            main = await _venue(session, "南京市公共资源交易中心评标室一", "320100", "own", 4)
            sub = await _venue(session, "淮安市公共资源交易中心评标室二", "320800", "peer", 4)
            tender_row = (await session.scalars(sa.select(Tender).where(Tender.project_code == code))).one()
            await session.commit()
    story = Story(
        client=client,
        maker=maker,
        settings=settings,
        store=store,
        pki=dev_pki,
        tsa=dev_tsa,
        publisher=publisher,
        tmp_path=tmp_path,
        tenderee=tenderee,
        agency=agency,
        bidders=bidders,
        clients=clients,
        code=code,
        tender_id=tender_row.id,
        shifted=shifted,
        admin=admin,
        supervisor=supervisor,
        experts=[employee, conflicted, *plain],
        employee=employee,
        conflicted=conflicted,
        venues={"main": main[0], "sub": sub[0]},
        seats={"main": main[1], "sub": sub[1]},
    )
    story.source = OpeningService(maker, settings, store).hall.opened_package
    return story


async def opening_bids(story: Story) -> dict[str, uuid.UUID]:
    async def work(session: AsyncSession) -> dict[str, uuid.UUID]:
        evaluation = await session.get_one(Evaluation, story.ev)
        found = await ScoringRepository(session).bids(evaluation)
        return {name: next(b.id for b in found if b.bidder_uscc == p.uscc) for name, p in story.bidders.items()}

    story.bids = await story.run(work)
    return story.bids


# --- the committee, drawn, seated and signed in ---------------------------------------------------------


async def drawn_and_seated(story: Story, method: MethodSettings) -> None:
    """Setup, the draw, the answers (one decline), seats, certificate sign-in, the chair: the
    session at ``signed-in``. Checks the draw's record on the way."""
    await story.set_up(method)
    row = await story.draw()
    drawn = await story.members()
    assert len(drawn) == 7
    drawn_experts = {m.expert_id for m in drawn}
    assert story.employee.expert_id not in drawn_experts
    assert story.conflicted.expert_id not in drawn_experts
    assert row.excluded is not None
    reasons = {item["expert_id"]: [r["reason"] for r in item["reasons"]] for item in row.excluded["excluded"]}
    assert reasons[str(story.employee.expert_id)] == ["employer_bidder"]
    assert reasons[str(story.conflicted.expert_id)] == ["conflict_tenderee"]
    assert row.result is not None
    first_reserve = row.result["groups"][0]["reserves"][0]

    declined, reserve = await story.answer_draw(decline=2)
    assert declined.status is MemberStatus.DECLINED
    assert str(reserve.expert_id) == first_reserve
    current = await story.current()
    assert len(current) == 7
    assert all(m.status is MemberStatus.CONFIRMED for m in current)
    assert declined.id not in {m.id for m in current}

    await story.seat_everyone()
    current = await story.current()
    # A member may not sign in at another member's seat (the seat in the signed statement is checked).
    other_seat = current[1].seat_id
    assert other_seat is not None
    with pytest.raises(SessionRefused) as wrong_seat:
        await story.sign_in(current[0], seat_id=other_seat)
    assert wrong_seat.value.rule == "own_seat"
    for member in current:
        signed_in = await story.sign_in(member)
        assert signed_in.status is MemberStatus.SIGNED_IN
        assert (
            signed_in.sign_in_certificate_sha256
            == story.person_of(member).identity.certificate.fingerprint(hashes.SHA256()).hex()
        )
    venues = {m.seat_id for m in await story.current()}
    assert len(venues) == 7
    assert set(story.seats["main"]) & venues
    assert set(story.seats["sub"]) & venues
    assert await story.elect(current[0]) == 4  # a majority of seven
    evaluation = await story.evaluation()
    assert evaluation.chair_member_id == current[0].id


# --- checking the signed report ---------------------------------------------------------------------------


def pdfsig(pdf: bytes, tmp_path: Path, pki: DevPki) -> str:
    """poppler's ``pdfsig`` over the PDF with the development roots trusted (an NSS database)."""
    nss = tmp_path / "nss"
    nss.mkdir(exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    for name, root in (("jiangsu", pki.jiangsu_root.certificate), ("platform", pki.platform_root.certificate)):
        pem = tmp_path / f"{name}.pem"
        pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", name, "-t", "CT,C,C", "-i", str(pem)],
            check=True,
            capture_output=True,
        )
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(path)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def signature_count(pdf: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(text.split())
