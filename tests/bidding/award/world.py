"""The award tests' world: an evaluation whose report every member signed (the award started by
the server's hook), and the signed acts the stories take it through.

* fixtures: the certificate suite's (`dev_pki`, `dev_ca`, `dev_tsa`, `dev_lists`, its `settings`),
  `store`, and `award_hook` (autouse: publishing results starts the award, as the server wires it).
  A test module imports the ones it uses and lists them in ``__all__`` (pytest finds fixtures by the
  module's names);
* `signed_report`: a three-member evaluation of an engineering tender (or, ``category=GOODS``, a
  government procurement: `gp_report`) whose tenderee is the given party, its report signed by
  every member; `make_bidder` gives a party one of its bids, `supervisor_party` a supervisor;
* the acts, each signed by a real certificate over the statement the service makes:
  `open_publicity`, `confirm_winner`, `pass_over`, `file_objection` (`objection_signature`),
  `answer_objection`;
* what the stories read: `award_of`, `count_rows`, `db_now`, `notices_to`, `assert_replays`.

Real parts throughout (PostgreSQL, the dev PKI, the TSA); every helper goes through the service.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import award as decisions
from bidding.award import objections, publicity
from bidding.award.models import Award, AwardObjection, AwardStep, Publicity
from bidding.award.states import Step, replay
from bidding.evaluation import results as evaluation_results
from bidding.evaluation.report.service import publish_report
from bidding.models import Bid, Tender, TenderCategory
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.report.test_report_signing import sign_as
from tests.bidding.evaluation.report.world import World, build_world
from tests.bidding.factories import Party, party, sign_document
from tests.trading.parties.certificates import conftest as certificate_fixtures
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import WorkingCalendar
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.notifications.models import Notice
from trading.parties.models import Organisation, OrganisationKind
from trading.server import wiring

dev_pki = certificate_fixtures.dev_pki
dev_ca = certificate_fixtures.dev_ca
dev_tsa = certificate_fixtures.dev_tsa
settings = certificate_fixtures.settings
dev_lists = certificate_fixtures.dev_lists

GROUNDS = "第一中标候选人的项目经理有在建工程，不满足招标文件第三章资格要求。"
"""An objection's grounds (the bidder's text)."""


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore(settings.storage_dir)


@pytest.fixture(autouse=True)
def award_hook() -> Iterator[None]:
    """The server's wiring: publishing results starts the award (restored afterwards)."""
    previous = evaluation_results.use_published_hook(None)
    wiring.register_evaluation_hooks()
    yield
    evaluation_results.use_published_hook(previous)


# --- the world ----------------------------------------------------------------------------------


async def signed_report(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    pki: DevPki,
    tenderee: Party,
    *,
    category: TenderCategory | None = None,
) -> World:
    """A three-member evaluation of a tender whose tenderee (GP: purchaser) is ``tenderee``, its
    report rendered and signed by every member: the results are published, the award started.
    ``category`` changes the tender's (``GOODS``: government procurement); engineering otherwise.
    """
    world = await build_world(session_maker, pki, members=3)
    async with session_maker() as session:
        tender = await session.get_one(Tender, world.tender_id)
        tender.tenderee_organisation_id = tenderee.organisation_id
        if category is not None:
            tender.category = category
        await session.commit()
    assert await publish_report(session_maker, settings, store, world.evaluation_id) is not None
    for signer in world.signers:
        answer = await sign_as(session_maker, settings, store, tsa, world, signer)
    assert answer["completed"] is True
    return world


async def gp_report(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    pki: DevPki,
    purchaser: Party,
) -> World:
    """`signed_report` of a goods procurement (GP) whose purchaser is ``purchaser``."""
    return await signed_report(session_maker, settings, store, tsa, pki, purchaser, category=TenderCategory.GOODS)


async def award_of(session_maker: async_sessionmaker[AsyncSession], world: World) -> Award:
    """The award the published report started."""
    async with session_maker() as session:
        award = await publicity.award_for_evaluation(session, world.evaluation_id)
        assert award is not None
        return award


async def make_bidder(session_maker: async_sessionmaker[AsyncSession], tender_id: object, bidder: Party) -> None:
    """The bidder party takes over one submitted bid of the tender (the world's bidders have no users)."""
    async with session_maker() as session:
        bid = await session.scalar(sa.select(Bid).where(Bid.tender_id == tender_id).order_by(Bid.id.desc()).limit(1))
        assert bid is not None
        bid.organisation_id = bidder.organisation_id
        await session.commit()


async def supervisor_party(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki, *, name: str = "测试监督局"
) -> Party:
    """A supervisory department's user with its certificate."""
    department = OrganisationKind.SUPERVISORY_DEPARTMENT
    return await party(session_maker, settings, pki, Role.SUPERVISOR, kind=department, name=name)


# --- the signed acts ----------------------------------------------------------------------------


def _b64(signature: bytes) -> str:
    return base64.b64encode(signature).decode()


async def open_publicity(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, award: Award, actor: Party, signer: Party
) -> Publicity:
    """``actor`` opens the candidates' publicity with ``signer``'s signature over its statement."""
    async with session_maker() as session:
        statement, _ = await publicity.statement_for(session, await session.get_one(Award, award.id))
    signature = _b64(await sign_document(signer.sign, statement))
    async with transaction(session_maker, lock=True) as session:
        return await publicity.open_publicity(session, settings, actor.actor(), award.id, signature)


async def sign_decision(
    session_maker: async_sessionmaker[AsyncSession],
    award: Award,
    signer: Party,
    decision: decisions.Decision,
    *,
    bid: str = "",
    reason: str = "",
) -> str:
    """``signer``'s signature (base64) over the decision's statement."""
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        statement = await decisions.decision_statement(session, row, decision, bid, reason)
    return _b64(await sign_document(signer.sign, statement))


async def confirm_winner(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, award: Award, owner: Party, bid: str
) -> Award:
    """The tenderee confirms ``bid`` (定标), signed."""
    signature = await sign_decision(session_maker, award, owner, decisions.Decision.CONFIRM, bid=bid)
    async with transaction(session_maker, lock=True) as session:
        return await decisions.confirm_award(session, settings, owner.actor(), award.id, bid=bid, signature=signature)


async def pass_over(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, award: Award, owner: Party, reason: str
) -> Award:
    """The tenderee passes the awarded candidate over with ``reason``, signed."""
    async with session_maker() as session:
        chosen = str((await session.get_one(Award, award.id)).chosen_bid_id)
    signature = await sign_decision(
        session_maker, award, owner, decisions.Decision.PASS_OVER, bid=chosen, reason=reason
    )
    async with transaction(session_maker, lock=True) as session:
        return await decisions.pass_over(
            session, settings, owner.actor(), award.id, reason=reason, note="放弃中标", signature=signature
        )


async def objection_signature(
    session_maker: async_sessionmaker[AsyncSession], award: Award, filer: Party, signer: Party, text: str
) -> str:
    """``signer``'s signature (base64) over the statement of ``filer``'s objection with ``text``."""
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        organisation = await session.get_one(Organisation, filer.organisation_id)
        statement = await objections.objection_statement(session, row, organisation, text)
    return _b64(await sign_document(signer.sign, statement))


async def file_objection(  # noqa: PLR0917 - who files, who signs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    award: Award,
    filer: Party,
    signer: Party | None = None,
    text: str = GROUNDS,
) -> AwardObjection:
    """``filer`` files an objection, signed by ``signer`` (the filer by default) over its statement."""
    signature = await objection_signature(session_maker, award, filer, signer or filer, text or "x")
    async with transaction(session_maker, lock=True) as session:
        return await objections.file_objection(
            session, settings, filer.actor(), award.id, text=text, signature=signature
        )


async def answer_objection(  # noqa: PLR0917 - who answers what
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    award: Award,
    objection: AwardObjection,
    owner: Party,
    answer: str = "经核查，项目经理的在建工程已于投标截止前竣工验收，异议不成立。",
) -> AwardObjection:
    """The tenderee answers the objection, signed."""
    async with session_maker() as session:
        row = await session.get_one(AwardObjection, objection.id)
        statement = await objections.answer_statement(session, row, answer)
    signature = _b64(await sign_document(owner.sign, statement))
    async with transaction(session_maker, lock=True) as session:
        return await objections.answer_objection(
            session, settings, owner.actor(), award.id, objection_id=objection.id, answer=answer, signature=signature
        )


# --- what the stories read ----------------------------------------------------------------------


async def count_rows(session: AsyncSession, model: type[object], award_id: uuid.UUID) -> int:
    """How many rows of ``model`` the award has (what a refused act must not have added)."""
    column = model.award_id  # type: ignore[attr-defined]
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model).where(column == award_id)) or 0)


async def db_now(session_maker: async_sessionmaker[AsyncSession]) -> datetime:
    """The platform's time (the database's, shifted by the test's clock)."""
    async with session_maker() as session:
        return await clock.now(session)


async def db_calendar(session_maker: async_sessionmaker[AsyncSession]) -> WorkingCalendar:
    """The working-day calendar the platform counts on (shipped years, and those loaded, which in
    the tests include the next years' test editions: tests/calendar_editions.py)."""
    async with session_maker() as session:
        return await load_calendar(session)


async def notices_to(session_maker: async_sessionmaker[AsyncSession], recipient: object, template: str) -> int:
    """How many inbox notices of ``template`` went to ``recipient`` (an organisation's id)."""
    async with session_maker() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Notice)
            .where(Notice.recipient_id == recipient, Notice.template == template)
        )
    return int(count or 0)


async def assert_replays(session_maker: async_sessionmaker[AsyncSession], award: Award) -> None:
    """The award's journal replays to the stored position."""
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        steps = await session.scalars(
            sa.select(AwardStep).where(AwardStep.award_id == award.id).order_by(AwardStep.seq)
        )
        position = replay([Step(s.event) for s in steps], row.sector, publicity.rules_of(row))
        assert position == publicity.position_of(row)
