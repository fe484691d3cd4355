"""The evaluation demo: an opened tender whose committee is in the scoring state at start-up.

A newcomer logging in as the demo expert (``expert`` / 赵立新, or ``zhangsan`` / 张三 with the
personal certificate) finds the session on 我的评标 at once: the workspace, the opened bids'
documents (a real PDF among them) and the scoring sheet. It is built the way the platform builds
one, through the services, on the five-minute demo's short rule set (`demo_opening.demo_settings`):

1. a tender marked 演示 (``DEMO_EVALUATION_CODE``) is published and the demo bidders seal and submit
   bids (with a PDF) through intake, then the deadline sweep opens its hall, the bidders sign in and
   decrypt their bids with their own keys (what ``ggzy bid decrypt`` does, in process);
2. the demo venues of `demo_session` (a main and a peer sub venue, with seats), the evaluation set up by
   the host (the demo tenderee) under 综合评估法 with the tender's criteria;
3. the committee drawn by the centre's operator (``admin``) with the seeded draw: the spec splits it
   by specialty so that each group has exactly as many eligible experts as it needs, so the draw
   always seats 赵立新 and 张三 (A0102), 钱建国 (A0601), 李志强 (A0202) and 吴海波 (A0502), each of
   whom has a demo account and confirms;
4. seats assigned, sign-in at the seats, the chair (赵立新) elected by the members' votes, and the
   session moved to ``scoring`` by the platform (a system actor).

All of it runs on a clock moved back by ``BACKDATE`` (records are dated in the past, in order: the
deadline, the opening, the draw, the session), which the development PKI allows (its trust list is
issued an hour before it is generated, its leaves a day before).

**One demo shortcut, recorded.** Only 张三 holds a personal certificate in the development PKI; he
signs in at his seat with it (`Seating.sign_in`, verified as any member's). The other demo experts
hold none, so their sign-in is marked by this module, each with a ledger entry
``evaluation.demo_seat_marked`` saying so: no signature is claimed for them.

Idempotent: nothing is done when the demo tender exists.
"""

from __future__ import annotations

import base64
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import weasyprint
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.hall import decrypt_bid, sign_in_signed
from bidding.client.sdk import PriceSummary, build_container_async
from bidding.deps import file_store
from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput, default_settings
from bidding.evaluation.models import Evaluation, Member, MemberStatus, SessionState
from bidding.evaluation.pool.service import ExpertFacts, ExpertPool
from bidding.evaluation.session import machine
from bidding.evaluation.session.journal import ledger
from bidding.evaluation.session.repository import SessionRepository
from bidding.evaluation.session.seating import Seating
from bidding.evaluation.venues.service import VenueCatalogue
from bidding.intake.service import IntakeService
from bidding.models import DocumentKind, EvaluationMethod, Tender, TenderCategory
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.service import OpeningService
from bidding.policies import BiddingPermission
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders.service import TenderService
from certs.auth.challenge import LoginResponse
from certs.cms import SigningIdentity
from certs.sign.cades import sign_detached
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import DroppingPublisher, RecordingPublisher, set_publisher
from trading.parties.service import PartiesService
from trading.server import demo_session
from trading.server.demo_opening import DEMO_BIDDERS, DEMO_TENDER_TYPE, DemoBidder, demo_settings

DEMO_EVALUATION_CODE: Final = "E3208000001000003001"
"""统一交易标识码 of the evaluation demo's tender."""
DEMO_EVALUATION_TITLE: Final = "【演示】淮安市示范实验中学食堂改造工程施工招标(评标演示)"
DEMO_LOT: Final = "001"
BACKDATE: Final = timedelta(minutes=40)
"""How far back the demo's clock starts: the deadline 38 minutes ago, the session 30 minutes ago."""
PROPOSAL_PDF: Final = "施工组织设计.pdf"

SPECIALTIES: Final = {"A0102": 2, "A0601": 1, "A0202": 1, "A0502": 1}
"""The committee spec's groups: each has exactly as many eligible demo experts as its count."""
CHAIR: Final = "expert"


@dataclass(frozen=True, slots=True)
class _Hall:
    """The bidder's side of the hall in process: what `bidding.client.transport.BidClient` sends."""

    opening: OpeningService
    actor: Actor

    async def sign_in(self, tender: str, signature: bytes) -> Any:
        return await self.opening.attendance.sign_in(self.actor, tender, base64.b64encode(signature).decode())

    async def envelopes(self, tender: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.opening.decryption.envelopes(self.actor, tender)
        return found

    async def send_content_key(self, tender: str, lot: str, part: str, content_key: bytes) -> Any:
        return await self.opening.decryption.decrypt(
            self.actor, tender, lot, part, base64.b64encode(content_key).decode()
        )


def _p12(out: Path, manifest: dict[str, Any], leaf: str) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (out / manifest["leaves"][leaf]["p12"]).read_bytes(), str(manifest["password"]).encode()
    )
    assert key is not None  # noqa: S101 - written by dev_ca with key and certificate
    assert certificate is not None  # noqa: S101
    return key, certificate, list(chain)


def _identity(out: Path, manifest: dict[str, Any], leaf: str) -> SigningIdentity:
    key, certificate, chain = _p12(out, manifest, leaf)
    return SigningIdentity.from_key(key, certificate, chain)


async def _actor(session: AsyncSession, settings: Settings, username: str, role: Role, uscc: str = "") -> Actor | None:
    parties = PartiesService(session, settings)
    user = await parties.users.by_username(username)
    if user is None:
        return None
    organisation = await parties.organisations.by_uscc(uscc or _CENTRE[0])
    if organisation is None:
        return None
    return Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        roles=frozenset({role}),
        permissions=frozenset({BiddingPermission.BID_SUBMIT}) if role is Role.BIDDER else frozenset(),
    )


def proposal_pdf(name: str) -> bytes:
    html = (
        "<html><head><meta charset='utf-8'><style>body{font-family:'Noto Sans CJK SC',sans-serif}</style></head>"
        f"<body><h1>施工组织设计(演示)</h1><p>投标人: {name}</p>"
        "<h2>一、施工部署</h2><p>分区流水施工, 总工期 120 日历天。</p>"
        "<h2>二、质量保证措施</h2><p>质量目标: 合格。</p>"
        "<h2>三、安全文明施工</h2><p>按淮安市标准化工地要求实施。</p></body></html>"
    )
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


async def seed_demo_evaluation(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, manifest: dict[str, Any], *, centre_uscc: str
) -> list[str]:
    """Build the evaluation demo once (see the module docstring); lines for the start-up summary."""
    settings = demo_settings(settings)
    _CENTRE[0] = centre_uscc
    async with session_maker() as session:
        if await TenderService(session, settings, file_store(settings)).repo.by_code(DEMO_EVALUATION_CODE):
            return []
        start = (await clock.now(session)).replace(microsecond=0) - BACKDATE
        real_now = await clock.now(session)
    offset = start - real_now
    # The seeding runs before the worker starts (no publisher installed): keep what the services
    # enqueue (the deadline's ledger checkpoint, notices) and hand it on if a publisher is there.
    recorder = RecordingPublisher()
    previous = set_publisher(recorder)
    try:
        lines = await _seed(session_maker, settings, manifest, offset, start)
    finally:
        set_publisher(previous)
    if recorder.published and not isinstance(previous, DroppingPublisher):
        previous.publish(recorder.published)
    elif recorder.published:
        names = sorted({message.name for message in recorder.published})
        lines.append(f"  evaluation demo: left to the worker's schedule: {', '.join(names)}")
    return lines


async def _seed(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    manifest: dict[str, Any],
    offset: timedelta,
    start: datetime,
) -> list[str]:
    store = file_store(settings)

    def at(minutes: int) -> clock.ShiftedClock:
        return clock.ShiftedClock(offset + timedelta(minutes=minutes))

    with clock.use_clock(at(0)):
        deadline = await _tender(session_maker, settings, manifest)
        if deadline is None:
            return ["  evaluation demo skipped: no demo tenderee or its certificate"]
        lines = [f"  published evaluation demo tender {DEMO_EVALUATION_CODE}"]
        lines += [
            await _submit(session_maker, settings, store, manifest, bidder, deadline=deadline)
            for bidder in DEMO_BIDDERS
        ]
    with clock.use_clock(at(3)):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        opening = OpeningService(session_maker, settings, store)
        halls = await _halls(session_maker, settings, manifest, opening)
        for bidder, hall in halls:
            await sign_in_signed(
                hall,  # type: ignore[arg-type]
                DEMO_EVALUATION_CODE,
                manifest["identifiers"][bidder.identifier],
                _identity(_out(settings), manifest, bidder.sign_leaf),
            )
    with clock.use_clock(at(5)):
        await run_sweep(session_maker, [OpeningClock()])
        for bidder, hall in halls:
            key, _, _ = _p12(_out(settings), manifest, bidder.enc_leaf)
            await decrypt_bid(
                hall,  # type: ignore[arg-type]
                DEMO_EVALUATION_CODE,
                DEMO_LOT,
                manifest["identifiers"][bidder.identifier],
                key,
            )
    lines.append(f"  opened the bids of {DEMO_EVALUATION_CODE} (decrypted by the demo bidders)")
    with clock.use_clock(at(6)):
        evaluation_id = await _set_up(session_maker, settings, manifest, scheduled=start + timedelta(minutes=10))
    with clock.use_clock(at(7)):
        await _draw_and_confirm(session_maker, settings, evaluation_id)
    with clock.use_clock(at(10)):
        await _seat_and_sign_in(session_maker, settings, manifest, evaluation_id)
        await _start(session_maker, settings, evaluation_id)
    lines.append(f"  evaluation of {DEMO_EVALUATION_CODE} in scoring: log in as expert or zhangsan, 我的评标")
    return lines


_CENTRE: list[str] = [""]
"""The demo centre's USCC (the organisation the admin and the demo experts act for)."""


def _out(settings: Settings) -> Path:
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    return out


async def _tender(session_maker: async_sessionmaker[AsyncSession], settings: Settings, manifest: dict[str, Any]) -> Any:
    async with transaction(session_maker, lock=True) as session:
        service = TenderService(session, settings, file_store(settings))
        tenderee = await _actor(
            session, settings, "tenderee", Role.TENDEREE, manifest["identifiers"].get("tenderee", "")
        )
        if tenderee is None or "tenderee_sign" not in manifest["leaves"]:
            return None
        now = (await clock.now(session)).replace(microsecond=0)
        deadline = now + timedelta(minutes=2)
        tender = await service.create_draft(
            tenderee,
            TenderCreate(
                project_code=DEMO_EVALUATION_CODE,
                title=DEMO_EVALUATION_TITLE,
                category=TenderCategory.ENGINEERING,
                tender_type=DEMO_TENDER_TYPE,
                estimate=Decimal("2000000.00"),
                evaluation_method=EvaluationMethod.COMPREHENSIVE,
                evaluation_criteria=[Criterion("投标报价", 60), Criterion("施工组织设计", 30), Criterion("信用", 10)],
                lots=[LotCreate(DEMO_LOT, "食堂改造(演示)", Decimal("2000000.00"), Decimal("40000.00"))],
                bid_security_amount=Decimal("40000.00"),
                bid_security_forms=["cash", "guarantee"],
                documents_from=now,
                documents_until=deadline,
                deadline=deadline,
                max_package_bytes=16 * 1024 * 1024,
            ),
        )
        document = f"{DEMO_EVALUATION_TITLE} 招标文件\n\n第三章 评标办法(综合评估法)\n".encode()
        await service.add_document(
            tenderee,
            tender,
            DocumentKind.TENDER_DOCUMENT,
            "招标文件",
            "招标文件.txt",
            "text/plain; charset=utf-8",
            document,
            await sign_detached(document, _identity(_out(settings), manifest, "tenderee_sign")),
        )
        await service.publish(tenderee, tender)
        return deadline


async def _submit(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    manifest: dict[str, Any],
    bidder: DemoBidder,
    *,
    deadline: Any,
) -> str:
    out = _out(settings)
    uscc = manifest["identifiers"][bidder.identifier]
    async with session_maker() as session:
        actor = await _actor(session, settings, bidder.username, Role.BIDDER, uscc)
    if actor is None:
        return f"  {bidder.username}: no demo account, no demo bid"
    intake = IntakeService(session_maker, settings, store)
    encryption = x509.load_pem_x509_certificates((out / manifest["leaves"][bidder.enc_leaf]["pem"]).read_bytes())[0]
    with tempfile.TemporaryDirectory(prefix="ggzy-demo-bid-") as work:
        text = Path(work) / "投标函.txt"
        text.write_text(f"{actor.organisation_name} 投标函(演示)\n", encoding="utf-8")
        pdf = Path(work) / PROPOSAL_PDF
        pdf.write_bytes(proposal_pdf(actor.organisation_name or uscc))
        built = await build_container_async(
            Path(work) / "bid.zip",
            tender=DEMO_EVALUATION_CODE,
            lot=DEMO_LOT,
            bidder_uscc=uscc,
            deadline=deadline,
            files=[text, pdf],
            price_summary=PriceSummary(
                tender=DEMO_EVALUATION_CODE,
                lot=DEMO_LOT,
                bidder=uscc,
                total_price=bidder.total_price,
                duration_days=120,
            ),
            guarantee={"form": "cash", "reference": ""},
            signer=_identity(out, manifest, bidder.sign_leaf),
            bidder_encryption=encryption,
        )
        upload = await intake.start_upload(actor, DEMO_EVALUATION_CODE, DEMO_LOT, size=built.size, sha256=built.sha256)

        async def chunks() -> AsyncIterator[bytes]:
            yield built.path.read_bytes()

        await intake.receive(actor, upload.id, 0, chunks())
        await intake.submit(actor, upload.id)
    return f"  {bidder.username} submitted a sealed bid to {DEMO_EVALUATION_CODE}"


async def _halls(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    manifest: dict[str, Any],
    opening: OpeningService,
) -> list[tuple[DemoBidder, _Hall]]:
    found = []
    async with session_maker() as session:
        for bidder in DEMO_BIDDERS:
            actor = await _actor(
                session, settings, bidder.username, Role.BIDDER, manifest["identifiers"][bidder.identifier]
            )
            if actor is not None:
                found.append((bidder, _Hall(opening, actor)))
    return found


async def _venues(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """The demo venues of `demo_session` (seeded before, added here if they are missing)."""
    await demo_session.seed_demo_venues(session)
    catalogue = VenueCatalogue(session)
    found = []
    for item in demo_session.VENUES:
        venue = await catalogue.repo.venue_by_code(item.venue.code)
        assert venue is not None  # noqa: S101 - seeded just above
        found.append(venue.id)
    return found[0], found[1]


async def _set_up(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, manifest: dict[str, Any], *, scheduled: Any
) -> uuid.UUID:
    async with transaction(session_maker, lock=True) as session:
        admin = await _actor(session, settings, "admin", Role.ADMIN)
        tenderee = await _actor(session, settings, "tenderee", Role.TENDEREE, manifest["identifiers"]["tenderee"])
        assert admin is not None  # noqa: S101 - seeded before
        assert tenderee is not None  # noqa: S101
        await _zhangsan_in_pool(session, settings, manifest, admin)
        main, sub = await _venues(session)
        setup = EvaluationSetup(session)
        tender = await setup.repo.tender_by_code(DEMO_EVALUATION_CODE)
        assert tender is not None  # noqa: S101 - published above
        data = default_settings(tender)
        data["price_base"] = "F1"
        data["criteria"] = [
            {**criterion, "high": "100"} if criterion["kind"] == "price" else criterion
            for criterion in data["criteria"]
        ]
        data["committee"] = {**data["committee"], "size": 5, "specialties": dict(SPECIALTIES), "reserves": 0}
        evaluation = await setup.create(
            tenderee,
            tender.id,
            SetupInput(settings=data, main_venue_id=main, sub_venue_ids=(sub,), scheduled_at=scheduled),
        )
        return evaluation.id


async def _zhangsan_in_pool(session: AsyncSession, settings: Settings, manifest: dict[str, Any], admin: Actor) -> None:
    """张三 (the personal certificate's holder, account ``zhangsan``) joins the pool in A0102."""
    user = await PartiesService(session, settings).users.by_username("zhangsan")
    if user is None:
        return
    centre = await PartiesService(session, settings).organisations.by_uscc(_CENTRE[0])
    await ExpertPool(session, settings).register(
        ExpertFacts(
            name=user.display_name,
            id_number=manifest["identifiers"]["person"],
            specialties=("A0102",),
            region_code="320802",
            employer_uscc=centre.uscc if centre is not None else "",
            employer_name=centre.name if centre is not None else "",
            title="高级工程师",
        ),
        actor=admin,
        user_id=user.id,
    )


async def _draw_and_confirm(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, evaluation_id: uuid.UUID
) -> None:
    async with transaction(session_maker, lock=True) as session:
        admin = await _actor(session, settings, "admin", Role.ADMIN)
        assert admin is not None  # noqa: S101
        draws = CommitteeDraws(session)
        await draws.prepare(admin, evaluation_id)
        await draws.run(admin, evaluation_id)
    async with transaction(session_maker, lock=True) as session:
        memberships = Memberships(session)
        for member in await SessionRepository(session).members(evaluation_id):
            if member.user_id is None or member.status is not MemberStatus.NOTIFIED:
                continue
            actor = await _member_actor(session, settings, member)
            if actor is not None:
                await memberships.confirm(actor, member.id)


async def _member_actor(session: AsyncSession, settings: Settings, member: Member) -> Actor | None:
    user = await PartiesService(session, settings).users.get(member.user_id) if member.user_id else None
    if user is None:
        return None
    return await _actor(session, settings, user.username, Role.EXPERT)


async def _seat_and_sign_in(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    manifest: dict[str, Any],
    evaluation_id: uuid.UUID,
) -> None:
    async with transaction(session_maker, lock=True) as session:
        repo = SessionRepository(session)
        evaluation = await session.get_one(Evaluation, evaluation_id)
        tenderee = await _actor(session, settings, "tenderee", Role.TENDEREE, manifest["identifiers"]["tenderee"])
        assert tenderee is not None  # noqa: S101
        seats = await repo.seats([venue.id for _, venue in await repo.evaluation_venues(evaluation.id)])
        seating = Seating(session, settings)
        members = [m for m in await repo.members(evaluation.id) if m.voided_at is None]
        for member, seat in zip(members, seats, strict=False):
            await seating.assign_seat(tenderee, evaluation.id, member.id, seat.id)
    async with transaction(session_maker, lock=True) as session:
        repo = SessionRepository(session)
        for member in [m for m in await repo.members(evaluation_id) if m.voided_at is None]:
            actor = await _member_actor(session, settings, member)
            if actor is not None and actor.username == "zhangsan":
                seating = Seating(session, settings)
                issued = await seating.challenge(actor, evaluation_id)
                key, certificate, chain = _p12(_out(settings), manifest, "person_sign")
                signer = SigningIdentity.from_key(key, certificate, chain).signer
                response = LoginResponse(
                    issued.challenge.nonce, certificate, signer.sign(issued.statement), tuple(chain)
                )
                await seating.sign_in(actor, evaluation_id, {**response.to_dict(), "seat": str(issued.seat_id)})
    async with transaction(session_maker, lock=True) as session:
        await _mark_signed_in(session, evaluation_id)


async def _mark_signed_in(session: AsyncSession, evaluation_id: uuid.UUID) -> None:
    """The demo shortcut (module docstring): members without a certificate marked at their seat."""
    repo = SessionRepository(session)
    evaluation = await session.get_one(Evaluation, evaluation_id)
    tender = await session.get_one(Tender, evaluation.tender_id)
    now = await clock.now(session)
    for member in await repo.members(evaluation_id, lock=True):
        if member.voided_at is not None or member.signed_in_at is not None or member.seat_id is None:
            continue
        member.status = MemberStatus.SIGNED_IN
        member.signed_in_at = now
        await session.flush()
        await ledger(
            session,
            Actor.system(),
            "evaluation.demo_seat_marked",
            evaluation,
            tender,
            summary={
                "member": str(member.id),
                "seat": str(member.seat_id),
                "demo": "no certificate: marked by the demo",
            },
        )


async def _start(session_maker: async_sessionmaker[AsyncSession], settings: Settings, evaluation_id: uuid.UUID) -> None:
    async with transaction(session_maker, lock=True) as session:
        repo = SessionRepository(session)
        members = [m for m in await repo.members(evaluation_id) if m.voided_at is None]
        chair = None
        for member in members:
            actor = await _member_actor(session, settings, member)
            if actor is not None and actor.username == CHAIR:
                chair = member
        chair = chair or members[0]
        seating = Seating(session, settings)
        for member in members:
            actor = await _member_actor(session, settings, member)
            if actor is not None and (await session.get_one(Evaluation, evaluation_id)).chair_member_id is None:
                await seating.vote(actor, evaluation_id, chair.id)
    for target in (
        SessionState.SIGNED_IN,
        SessionState.QUALIFICATION,
        SessionState.DETAILED,
        SessionState.SCORING,
    ):
        async with transaction(session_maker, lock=True) as session:
            evaluation = await session.get_one(Evaluation, evaluation_id)
            await machine.enter(session, evaluation, target, actor=Actor.system())
