"""The evaluation demo on the embedded SQLite default: after ``ggzy run``'s seeding a newcomer walks
into an evaluation at once. The demo tender's bids are opened (decrypted by the demo bidders), its
evaluation is in ``scoring`` with a drawn, confirmed and seated committee (赵立新 the chair, 张三
signed in with his certificate), two venues with seats; the demo expert finds the session on
我的评标, the workspace, a bid's PDF framed beside the scoring sheet. Seeding again adds nothing.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    CommitteeDraw,
    DocumentRead,
    Evaluation,
    EvaluationVenue,
    Member,
    MemberStatus,
    Seat,
    SessionState,
)
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.models import Tender
from tests.trading.parties.factories import csrf_token
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.tasks import RecordingPublisher
from trading.ledger.models import LedgerEntry
from trading.parties.models import User
from trading.server import demo_session
from trading.server.cli import alembic_config
from trading.server.demo import DEMO_PASSWORD, seed_demo_data
from trading.server.demo_evaluation import DEMO_EVALUATION_CODE, PROPOSAL_PDF

pytestmark = pytest.mark.sqlite


async def _check_the_evaluation(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """The seeded evaluation as the module docstring says; its id and an opened bid's."""
    tender = (await session.scalars(select(Tender).where(Tender.project_code == DEMO_EVALUATION_CODE))).one()
    assert "演示" in tender.title
    evaluation = (await session.scalars(select(Evaluation).where(Evaluation.tender_id == tender.id))).one()
    assert evaluation.state is SessionState.SCORING
    assert evaluation.settings["method"] == "eng-comprehensive-evaluation"  # 综合评估法
    opened = await ScoringRepository(session).bids(evaluation)
    assert len(opened) == 2
    assert all(bid.package_opened for bid in opened)  # decrypted by the demo bidders
    draw = (await session.scalars(select(CommitteeDraw).where(CommitteeDraw.evaluation_id == evaluation.id))).one()
    assert draw.drawn_at is not None
    assert draw.candidate_list_sha256
    members = (await session.scalars(select(Member).where(Member.evaluation_id == evaluation.id))).all()
    users = {u.id: u.username for u in (await session.scalars(select(User))).all()}
    by_name = {users[m.user_id]: m for m in members if m.user_id is not None}
    assert set(by_name) == {"expert", "zhangsan", "expert2", "expert3", "expert4"}
    assert all(m.status is MemberStatus.SIGNED_IN and m.seat_id is not None for m in members)
    assert by_name["zhangsan"].sign_in_certificate_sha256  # a real certificate sign-in
    assert evaluation.chair_member_id == by_name["expert"].id
    venues = (
        await session.scalars(select(EvaluationVenue).where(EvaluationVenue.evaluation_id == evaluation.id))
    ).all()
    assert len(venues) == 2
    seats = await session.scalar(
        select(func.count()).select_from(Seat).where(Seat.venue_id.in_([v.venue_id for v in venues]))
    )
    assert seats == sum(item.seats for item in demo_session.VENUES)
    marked = await session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.action == "evaluation.demo_seat_marked")
    )
    assert marked == 4  # the four without a certificate, each recorded as the demo's shortcut
    return evaluation.id, opened[0].id


async def _walk_in(client: httpx.AsyncClient, evaluation_id: uuid.UUID, bid_id: uuid.UUID) -> None:
    """The demo expert logs in and follows links: 我的评标 → the workspace → a bid with its PDF."""
    login = await client.get("/login")
    answer = await client.post(
        "/login", data={"_csrf_token": csrf_token(login.text), "username": "expert", "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 303, answer.text
    dashboard = await client.get("/dashboard")
    assert 'href="/evaluation/my"' in dashboard.text
    mine = await client.get("/evaluation/my")
    assert mine.status_code == 200
    assert f'href="/evaluation/e/{evaluation_id}/workspace"' in mine.text
    workspace = await client.get(f"/evaluation/e/{evaluation_id}/workspace")
    assert workspace.status_code == 200
    assert f"/evaluation/e/{evaluation_id}/bids/{bid_id}" in workspace.text
    assert 'id="progress-link"' in workspace.text  # 赵立新 chairs
    bid = await client.get(f"/evaluation/e/{evaluation_id}/bids/{bid_id}", params={"file": PROPOSAL_PDF})
    assert bid.status_code == 200
    frame = re.search(r'<iframe id="document-frame"[^>]* src="([^"]+)"', bid.text)
    assert frame is not None, bid.text
    pdf = await client.get(frame.group(1).replace("&amp;", "&"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")
    # Each reading is recorded by the GET: several at once on SQLite wait for the write lock in turn
    # (the route asks for it at BEGIN) instead of failing with "database is locked".
    readings = await asyncio.gather(*(client.get(frame.group(1).replace("&amp;", "&")) for _ in range(4)))
    assert [r.status_code for r in readings] == [200] * 4


async def test_the_demo_expert_walks_into_an_evaluation_at_first_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(db={"url": url}, var_dir=tmp_path)  # type: ignore[arg-type]
    summary = await asyncio.to_thread(seed_demo_data, settings)
    assert f"evaluation of {DEMO_EVALUATION_CODE} in scoring" in summary, summary

    engine = create_engine(url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session:
            evaluation_id, bid_id = await _check_the_evaluation(session)
        # Seeding again adds nothing (and does not fail on the existing evaluation).
        assert DEMO_EVALUATION_CODE not in await asyncio.to_thread(seed_demo_data, settings)
        async with session_maker() as session:
            assert await session.scalar(select(func.count()).select_from(Evaluation)) == 1

        from trading.server.app import create_app

        app = create_app(settings, session_maker=session_maker, publisher=RecordingPublisher())
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            await _walk_in(client, evaluation_id, bid_id)
        async with session_maker() as session:
            reads = await session.scalar(select(func.count()).select_from(DocumentRead))
        assert reads == 5  # the framed PDF once, then four at once: every one recorded
    finally:
        await engine.dispose()
