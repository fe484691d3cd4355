"""Clarification requests (澄清) on PostgreSQL with real signatures (`certs.devpki`).

A real opening (three sealed bids, the deadline sweep) gives the bids; until the committee and
session parts land, the `Evaluation` and its `Member` rows are created directly (an expert of the
pool with a user account, state set directly). Checked: a member asks, the bidder is notified and
answers signed by the client path ``ggzy bid clarification answer`` uses; the stored signature
verifies over the statement and names the bidder; the committee and the host read it, another
bidder does not; a late answer, an answer by another bidder, one signed with another bidder's
certificate, a question by a non-member or outside the states are refused with the rule named and
nothing stored; the sweep marks an unanswered request overdue once.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.hall import answer_clarification_signed
from bidding.client.sdk import sign_statement_async
from bidding.client.transport import BidRejected
from bidding.evaluation.clarifications.jobs import ClarificationDue
from bidding.evaluation.models import (
    Clarification,
    ClarificationStatus,
    Evaluation,
    Member,
    MemberKind,
    MemberStatus,
    SessionState,
)
from bidding.evaluation.pool.service import ExpertPool
from bidding.models import Tender
from certs.devpki.pki import DevPki
from certs.sign.cades import verify_detached
from certs.trustlist.model import fingerprint
from tests.bidding.evaluation.pool.factories import admin_actor, facts
from tests.bidding.opening.hall_support import ThreeBids, ledger_actions, three_bids_at_sign_in
from tests.trading.parties.factories import Account, api_token, bearer, create_account, csrf_token
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.notifications.models import Notice

pytestmark = pytest.mark.usefixtures("dev_lists")

QUESTION = "请澄清投标文件第 3.2 节所列主要设备的品牌及产地。"
ANSWER = "主要设备均为国产，品牌见投标文件附件二第 5 页。\n本澄清不改变投标文件的实质性内容。"


@dataclass
class World:
    setup: ThreeBids
    evaluation_id: uuid.UUID
    expert: Account
    outsider: Account
    """An expert who is not on this committee."""
    bids: dict[str, uuid.UUID]
    """Opening bid id per bidder (A, B, C)."""


async def make_world(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    state: SessionState = SessionState.DETAILED,
) -> World:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    expert = await create_account(session_maker, settings, Role.EXPERT)
    outsider = await create_account(session_maker, settings, Role.EXPERT)
    async with session_maker() as session:
        tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == setup.code))).one()
        now = await clock.now(session)
        evaluation = Evaluation(
            id=uuid7(),
            tender_id=tender.id,
            lot_group="all",
            lot_ids={"lots": []},
            host_organisation_id=setup.tenderee.organisation_id,
            method="gp-comprehensive",
            method_version="1",
            settings={},
            committee_spec={"size": 5},
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
        registered, _ = await pool.register(facts(name="评标专家甲"), actor=admin_actor(), user_id=expert.user_id)
        session.add(
            Member(
                id=uuid7(),
                evaluation_id=evaluation.id,
                kind=MemberKind.EXPERT,
                expert_id=registered.id,
                person_id=registered.person_id,
                user_id=expert.user_id,
                name="评标专家甲",
                status=MemberStatus.CONFIRMED,
                created_at=now,
            )
        )
        rows = await session.execute(
            sa.text(
                "SELECT b.id, b.bidder_uscc FROM bidding_opening_bids b"
                " JOIN bidding_opening_sessions s ON s.id = b.session_id WHERE s.tender_id = :tender"
            ),
            {"tender": tender.id},
        )
        by_uscc = {uscc: bid_id for bid_id, uscc in rows}
        await session.commit()
    bids = {name: by_uscc[party.uscc] for name, party in setup.bidders.items()}
    return World(setup, evaluation.id, expert, outsider, bids)


@pytest.fixture
async def world(  # noqa: PLR0917 - the fixtures it needs
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> World:
    return await make_world(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )


async def ask(
    client: httpx.AsyncClient, world: World, account: Account, bidder: str = "A", **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/evaluation/e/{world.evaluation_id}/clarifications",
        json={"openingBidId": str(world.bids[bidder]), "question": QUESTION, **extra},
        headers=bearer(await api_token(client, account)),
    )


def rule_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["rule"])


async def stored(session_maker: async_sessionmaker[AsyncSession], clarification_id: str) -> Clarification:
    async with session_maker() as session:
        return await session.get_one(Clarification, uuid.UUID(clarification_id))


async def test_asked_answered_signed_by_the_client_path_and_verified(
    world: World, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    setup = world.setup
    with clock.use_clock(setup.shifted):
        asked = await ask(client, world, world.expert, minutes=30)
        assert asked.status_code == 201, asked.text
        request = asked.json()
        assert request["status"] == "open"
        assert request["bidder"] == setup.bidders["A"].uscc
        # The bidder's organisation is told in its inbox; the notice names the page to answer on.
        async with session_maker() as session:
            notice = await session.scalar(
                sa.select(Notice).where(Notice.recipient_id == setup.bidders["A"].organisation_id)
            )
        assert notice is not None
        assert notice.template == "evaluation.clarification_requested"
        assert notice.params["path"] == f"/evaluation/clarifications/{request['id']}"
        # B sees nothing of A's request.
        assert await setup.clients["B"].clarifications() == []
        # A answers, signed on its machine (what `ggzy bid clarification answer` runs).
        signer = setup.bidders["A"].sign.signing()
        answered = await answer_clarification_signed(setup.clients["A"], request["id"], ANSWER, signer)
        assert answered["status"] == "answered"
        committee = await client.get(
            f"/api/v1/evaluation/e/{world.evaluation_id}/clarifications",
            headers=bearer(await api_token(client, world.expert)),
        )
        host = await client.get(f"/api/v1/evaluation/e/{world.evaluation_id}/clarifications", headers=setup.host)
    row = await stored(session_maker, request["id"])
    assert row.status is ClarificationStatus.ANSWERED
    assert row.answer == ANSWER
    assert row.statement == fmt.clarification_answer_statement(
        setup.code, setup.bidders["A"].uscc, request["id"], QUESTION, ANSWER
    )
    assert row.signature is not None
    verified = verify_detached(row.statement, row.signature)
    assert row.signer_sha256 == fingerprint(verified.signer_certificate)
    assert row.signer_sha256 == fingerprint(setup.bidders["A"].sign.certificate)
    assert answered["statementSha256"] == hashlib.sha256(row.statement).hexdigest()
    # The committee and the host read the question and the answer.
    for reader in (committee, host):
        assert reader.status_code == 200, reader.text
        [seen] = reader.json()
        assert seen["answer"] == ANSWER
        assert seen["question"] == QUESTION
    async with session_maker() as session:
        actions = [a for a, _ in await ledger_actions(session, setup.code, "evaluation.clarification")]
    assert actions == ["evaluation.clarification_asked", "evaluation.clarification_answered"]


async def test_a_late_answer_is_refused_and_the_sweep_marks_it_overdue(
    world: World, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    setup = world.setup
    with clock.use_clock(setup.shifted):
        asked = await ask(client, world, world.expert, minutes=10)
        assert asked.status_code == 201, asked.text
    request = asked.json()
    late = clock.ShiftedClock(setup.shifted.offset + timedelta(minutes=11))
    with clock.use_clock(late):
        with pytest.raises(BidRejected) as refused:
            await answer_clarification_signed(
                setup.clients["A"], request["id"], ANSWER, setup.bidders["A"].sign.signing()
            )
        assert refused.value.rule == "answer-due"
        row = await stored(session_maker, request["id"])
        assert row.answer is None
        assert row.signature is None
        assert row.status is ClarificationStatus.OPEN
        # Read on the database clock, it is already overdue; the sweep records it once.
        [mine] = await setup.clients["A"].clarifications()
        assert mine["status"] == "overdue"
        await run_sweep(session_maker, [ClarificationDue()])
        await run_sweep(session_maker, [ClarificationDue()])
    row = await stored(session_maker, request["id"])
    assert row.status is ClarificationStatus.OVERDUE
    assert row.next_check is None
    async with session_maker() as session:
        actions = [a for a, _ in await ledger_actions(session, setup.code, "evaluation.clarification")]
    assert actions == ["evaluation.clarification_asked", "evaluation.clarification_overdue"]


async def test_another_bidder_cannot_answer_nor_sign_and_nothing_is_stored(
    world: World, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    setup = world.setup
    with clock.use_clock(setup.shifted):
        asked = await ask(client, world, world.expert)
        assert asked.status_code == 201, asked.text
        request = asked.json()
        # B answers A's request: refused, it is addressed to A.
        with pytest.raises(BidRejected) as other:
            await answer_clarification_signed(
                setup.clients["B"], request["id"], ANSWER, setup.bidders["B"].sign.signing()
            )
        assert other.value.rule == "addressee"
        assert other.value.status == 403
        # A's account sends an answer signed with B's certificate: refused, the signer is not A.
        statement = fmt.clarification_answer_statement(
            setup.code, setup.bidders["A"].uscc, request["id"], QUESTION, ANSWER
        )
        with pytest.raises(BidRejected) as foreign:
            await setup.clients["A"].answer_clarification(
                request["id"], ANSWER, await sign_statement_async(statement, setup.bidders["B"].sign.signing())
            )
        assert foreign.value.rule == "signer-not-bidder"
        # A signature over another answer than the one sent does not verify.
        with pytest.raises(BidRejected) as swapped:
            await setup.clients["A"].answer_clarification(
                request["id"],
                ANSWER + "（补充）",
                await sign_statement_async(statement, setup.bidders["A"].sign.signing()),
            )
        assert swapped.value.status == 422
    row = await stored(session_maker, request["id"])
    assert row.status is ClarificationStatus.OPEN
    assert row.answer is None
    assert row.statement is None
    async with session_maker() as session:
        actions = [a for a, _ in await ledger_actions(session, setup.code, "evaluation.clarification")]
    assert actions == ["evaluation.clarification_asked"]


async def test_only_a_current_member_asks_and_only_in_the_review_and_scoring_states(
    world: World, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    setup = world.setup
    with clock.use_clock(setup.shifted):
        outsider = await ask(client, world, world.outsider)
        assert outsider.status_code == 403, outsider.text
        assert rule_of(outsider) == "committee-member"
        too_long = await ask(client, world, world.expert, minutes=100_000)
        assert rule_of(too_long) == "answer-minutes"
        not_ours = await client.post(
            f"/api/v1/evaluation/e/{world.evaluation_id}/clarifications",
            json={"openingBidId": str(uuid.uuid4()), "question": QUESTION},
            headers=bearer(await api_token(client, world.expert)),
        )
        assert rule_of(not_ours) == "bid-of-evaluation"
        async with session_maker() as session:
            evaluation = await session.get_one(Evaluation, world.evaluation_id)
            evaluation.state = SessionState.REPORT_SIGNING
            await session.commit()
        closed = await ask(client, world, world.expert)
        assert closed.status_code == 409, closed.text
        assert rule_of(closed) == "clarification-state"
        # Bidders and outsiders do not read the committee's list.
        listing = await client.get(
            f"/api/v1/evaluation/e/{world.evaluation_id}/clarifications",
            headers=bearer(await api_token(client, world.outsider)),
        )
        assert listing.status_code == 403
    async with session_maker() as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(Clarification))
    assert count == 0


async def test_the_pages_ask_and_answer_signed(
    world: World, app: Litestar, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """The committee's page asks; the bidder's list links the request; the answer form's statement
    endpoint gives the bytes to sign, and the signed form is accepted (303) and shown.
    """
    with clock.use_clock(world.setup.shifted):
        async with browser(app) as expert:
            await ask_through_page(expert, world)
        async with browser(app) as bidder:
            await answer_through_page(bidder, world)
    async with session_maker() as session:
        row = await session.scalar(sa.select(Clarification))
    assert row is not None
    assert row.status is ClarificationStatus.ANSWERED
    assert row.answer == ANSWER


def browser(app: Litestar) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def ask_through_page(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.expert)
    page = await client.get(f"/evaluation/e/{world.evaluation_id}/clarifications")
    assert page.status_code == 200, page.text
    assert 'id="ask-form"' in page.text
    token = csrf_token(page.text)
    form = {"_csrf_token": token, "opening_bid_id": str(world.bids["A"]), "question": QUESTION, "minutes": "30"}
    sent = await client.post(f"/evaluation/e/{world.evaluation_id}/clarifications", data=form)
    assert sent.status_code == 303, sent.text
    refused = await client.post(f"/evaluation/e/{world.evaluation_id}/clarifications", data={**form, "question": ""})
    assert refused.status_code == 422
    assert 'data-rule="length"' in refused.text


async def answer_through_page(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, world.setup.bidders["A"].account)
    mine = await client.get("/evaluation/clarifications")
    assert mine.status_code == 200
    match = re.search(r'href="(/evaluation/clarifications/[0-9a-f-]{36})"', mine.text)
    assert match is not None
    one = await client.get(match.group(1))
    assert 'id="answer-form"' in one.text
    token = csrf_token(one.text)
    statement = await client.post(f"{match.group(1)}/statement", data={"_csrf_token": token, "answer": ANSWER})
    assert statement.status_code == 200, statement.text
    signature = await sign_statement_async(statement.content, world.setup.bidders["A"].sign.signing())
    answered = await client.post(
        f"{match.group(1)}/answer",
        data={"_csrf_token": token, "answer": ANSWER, "signature": base64.b64encode(signature).decode()},
    )
    assert answered.status_code == 303, answered.text
    shown = await client.get(match.group(1))
    assert 'id="answered"' in shown.text


async def log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": account.password},
    )
    assert response.status_code == 303, response.text
