"""The workspace in a browser (httpx over the app): an expert reads a bid's PDF beside the sheet
(framed same-origin, checked, recorded), scores (a refusal names its rule), a changed file is caught
and not shown, outsiders are refused and recorded, and the pages read in English with the switch.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import DocumentRead, Score, SessionState
from bidding.evaluation.scoring.documents import OPENED_NAMESPACE
from bidding.evaluation.scoring.repository import ScoringRepository
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import PDF_NAME, QUALITY, TECH, World, opened_world
from tests.bidding.factories import ledger_entries
from tests.trading.parties.factories import PASSWORD, Account, create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
async def world(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> World:
    return await opened_world(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )


async def log_in(browser: httpx.AsyncClient, account: Account) -> str:
    browser.cookies.clear()
    form = await browser.get("/login")
    response = await browser.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    return str(browser.cookies["ggzy_csrf"])


async def refusals(world: World) -> int:
    async with world.session_maker() as session:
        return len(await ledger_entries(session, f"project:{world.code}", "evaluation.access_refused"))


async def test_an_expert_reads_the_pdf_beside_the_sheet_and_scores(world: World, browser: httpx.AsyncClient) -> None:
    expert = world.experts[0]
    csrf = await log_in(browser, expert.account)
    mine = await browser.get("/evaluation/workspaces")
    workspace_url = f"/evaluation/e/{world.evaluation_id}/workspace"
    assert workspace_url in mine.text
    workspace = await browser.get(workspace_url)
    assert workspace.status_code == 200, workspace.text
    # Issue 17: the bid list shows each bid's security, judged again at the evaluation.
    assert 'data-security="cash"' in workspace.text
    assert "现金保证金" in workspace.text
    bid_url = f"/evaluation/e/{world.evaluation_id}/bids/{world.bids['A']}"
    assert bid_url in workspace.text
    assert "评标工作台" in workspace.text  # Chinese by default

    page = await browser.get(bid_url)
    assert page.status_code == 200, page.text
    assert 'id="document-frame"' in page.text  # the PDF is framed beside the sheet
    document_url = f"{bid_url}/files/{PDF_NAME}"
    pdf = await browser.get(document_url)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    assert pdf.content.startswith(b"%PDF")
    text = await browser.get(f"{bid_url}/files/技术标.txt", params={"download": "true"})
    assert text.headers["content-disposition"].startswith("attachment")
    assert text.headers["x-frame-options"] == "DENY"
    async with world.session_maker() as session:
        reads = (await session.scalars(sa.select(DocumentRead).order_by(DocumentRead.read_at))).all()
        entries = await ledger_entries(session, f"project:{world.code}", "evaluation.document_read")
    assert [(r.file_name, r.matches_manifest, r.member_id) for r in reads] == [
        (PDF_NAME, True, expert.member_id),
        ("技术标.txt", True, expert.member_id),
    ]
    assert len(entries) == 2
    assert sorted(e.summary["file"] for e in entries) == sorted([PDF_NAME, "技术标.txt"])

    scores = f"{bid_url}/scores"
    refused = await browser.post(scores, data={"criterion": TECH, "points": "100.5"}, headers={"x-csrftoken": csrf})
    assert refused.status_code == 422, refused.text
    assert 'data-rule="score_range"' in refused.text
    saved = await browser.post(scores, data={"criterion": TECH, "points": "88.5"}, headers={"x-csrftoken": csrf})
    assert saved.status_code == 303, saved.text
    async with world.session_maker() as session:
        assert [str(s.points) for s in await session.scalars(sa.select(Score))] == ["88.5000"]

    await browser.get("/locale/en", params={"next": workspace_url})
    english = await browser.get(workspace_url)
    assert "Evaluation workspace" in english.text


async def test_a_changed_file_is_caught_recorded_and_not_shown(world: World, browser: httpx.AsyncClient) -> None:
    expert = world.experts[1]
    await log_in(browser, expert.account)
    bid_url = f"/evaluation/e/{world.evaluation_id}/bids/{world.bids['B']}"
    assert (await browser.get(f"{bid_url}/files/技术标.txt")).status_code == 200  # kept in the store
    async with world.session_maker() as session:
        evaluation_bids = await ScoringRepository(session).bids(
            await ScoringRepository(session).evaluation(world.evaluation_id)  # type: ignore[arg-type]
        )
    bid = next(b for b in evaluation_bids if b.id == world.bids["B"])
    assert bid.package_sha256 is not None
    path = world.store.path(world.store.key_for(OPENED_NAMESPACE, bid.package_sha256))
    # Someone changes the kept copy: the same file name and size, other bytes.
    original = path.read_bytes()
    changed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(changed, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "技术标.txt":
                data = data.replace("技术标".encode(), "改过的".encode(), 1)
            target.writestr(info, data)
    path.write_bytes(changed.getvalue())

    refused = await browser.get(f"{bid_url}/files/技术标.txt")
    assert refused.status_code == 409, refused.text
    assert 'data-rule="manifest_mismatch"' in refused.text
    assert "改过的".encode() not in refused.content
    async with world.session_maker() as session:
        reads = (await session.scalars(sa.select(DocumentRead).order_by(DocumentRead.read_at))).all()
        entries = await ledger_entries(session, f"project:{world.code}", "evaluation.document_read")
    assert [r.matches_manifest for r in reads] == [True, False]
    assert sorted(e.summary["matches_manifest"] for e in entries) == [False, True]
    page = await browser.get(bid_url)
    assert 'data-rule="manifest_mismatch"' in page.text  # the member's readings show it


async def test_outsiders_are_refused_and_recorded(
    world: World, browser: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    document = f"/evaluation/e/{world.evaluation_id}/bids/{world.bids['A']}/files/{PDF_NAME}"
    outsider = await create_account(session_maker, settings, Role.EXPERT)  # an expert not on this committee
    csrf = await log_in(browser, outsider)
    refused = await browser.get(document)
    assert refused.status_code == 403
    assert 'data-rule="member"' in refused.text
    assert b"%PDF" not in refused.content
    posted = await browser.post(
        f"/evaluation/e/{world.evaluation_id}/bids/{world.bids['A']}/scores",
        data={"criterion": TECH, "points": "90"},
        headers={"x-csrftoken": csrf},
    )
    assert posted.status_code == 403
    await log_in(browser, world.bidders["A"].account)  # a bidder
    assert (await browser.get(document)).status_code == 403
    await log_in(browser, world.setup.tenderee.account)  # the tenderee (not a representative here)
    assert (await browser.get(f"/evaluation/e/{world.evaluation_id}/workspace")).status_code == 403
    assert await refusals(world) == 4
    async with world.session_maker() as session:
        assert (await session.scalar(sa.select(sa.func.count()).select_from(DocumentRead))) == 0
        assert (await session.scalar(sa.select(sa.func.count()).select_from(Score))) == 0


async def test_the_chair_sees_counts_and_others_do_not(world: World, browser: httpx.AsyncClient) -> None:
    await world.set_state(SessionState.SCORING, chair=0)
    progress = f"/evaluation/e/{world.evaluation_id}/progress"
    await log_in(browser, world.experts[0].account)
    workspace = await browser.get(f"/evaluation/e/{world.evaluation_id}/workspace")
    assert 'id="progress-link"' in workspace.text
    page = await browser.get(progress)
    assert page.status_code == 200, page.text
    assert "(0/5)" in page.text
    assert 'id="totals"' not in page.text
    await log_in(browser, world.experts[1].account)
    refused = await browser.get(progress)
    assert refused.status_code == 403
    assert 'data-rule="chair"' in refused.text


async def test_the_whole_sheet_through_the_pages(world: World, browser: httpx.AsyncClient) -> None:
    """Review, vote, score, submit, the Art. 64 prompt, its justification, the chair's subtotals."""
    ev = world.evaluation_id
    workspace_url = f"/evaluation/e/{ev}/workspace"
    await world.set_state(SessionState.QUALIFICATION, chair=0)
    for i, expert in enumerate(world.experts):
        csrf = await log_in(browser, expert.account)
        headers = {"x-csrftoken": csrf}
        for name in "ABC":
            bid_url = f"/evaluation/e/{ev}/bids/{world.bids[name]}"
            page = await browser.get(bid_url)
            assert 'id="review"' in page.text, page.text
            if i == 0 and name == "A":
                bare = await browser.post(f"{bid_url}/reviews", data={"passed": "no", "reason": ""}, headers=headers)
                assert bare.status_code == 422
                assert 'data-rule="reason_required"' in bare.text
            moved = await browser.post(f"{bid_url}/reviews", data={"passed": "yes", "reason": ""}, headers=headers)
            assert moved.status_code == 303, moved.text
        submitted = await browser.post(f"/evaluation/e/{ev}/submit", headers=headers)
        assert submitted.status_code == 303, submitted.text
    await world.set_state(SessionState.SCORING)
    for i, expert in enumerate(world.experts):
        csrf = await log_in(browser, expert.account)
        headers = {"x-csrftoken": csrf}
        early = await browser.post(f"/evaluation/e/{ev}/submit", headers=headers)
        assert early.status_code == 422
        assert 'data-rule="sheet_incomplete"' in early.text
        for name in "ABC":
            bid_url = f"/evaluation/e/{ev}/bids/{world.bids[name]}"
            tech = "99" if (i, name) == (4, "C") else "70"
            for path, criterion, points in (("scores", TECH, tech), ("votes", QUALITY, "80")):
                posted = await browser.post(
                    f"{bid_url}/{path}", data={"criterion": criterion, "points": points}, headers=headers
                )
                assert posted.status_code == 303, posted.text
        page = await browser.get(f"/evaluation/e/{ev}/bids/{world.bids['A']}")
        assert 'id="subtotal">50.00<' in page.text  # 70 × 0.60 + 80 × 0.10, the member's own
        assert (await browser.post(f"/evaluation/e/{ev}/submit", headers=headers)).status_code == 303
    # The last member's 99 on C stands out against four 70s: the prompt is on their workspace.
    csrf = await log_in(browser, world.experts[4].account)
    workspace = await browser.get(workspace_url)
    assert 'data-rule="outlier_high"' in workspace.text, workspace.text
    finding = re.search(r'id="finding-([0-9a-f-]{36})" data-rule="outlier_high"', workspace.text)
    assert finding is not None
    resolve = f"/evaluation/e/{ev}/findings/{finding[1]}/resolve"
    bare = await browser.post(resolve, data={"points": "", "justification": ""}, headers={"x-csrftoken": csrf})
    assert bare.status_code == 422
    assert 'data-rule="justification_required"' in bare.text
    done = await browser.post(
        resolve, data={"points": "", "justification": "C 的方案确有创新。"}, headers={"x-csrftoken": csrf}
    )
    assert done.status_code == 303, done.text
    assert 'data-resolution="justified"' in (await browser.get(workspace_url)).text
    await log_in(browser, world.experts[0].account)
    progress = await browser.get(f"/evaluation/e/{ev}/progress")
    assert progress.status_code == 200
    assert "(5/5)" in progress.text
    assert 'id="totals"' in progress.text
