"""The committee through the real application on PostgreSQL: the host sets up the evaluation on its
page (a spec breaking the 2/3 rule refused naming it, nothing stored), the operator prepares and runs
the draw on the draw page (the excluded shown with their reasons), an expert declines on
/evaluation/my and the reserve is called; the tenderee, the agency and a bidder asking for the
committee's names (API and page) are refused and each attempt recorded; the published draw is
re-derived by scripts/recompute_committee.py, a changed seed fails the commitment and a different
candidate list gives a different committee."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.draw.candidates import Candidate
from bidding.evaluation.draw.committee import DrawRefused, DrawSpec, GroupSpec, draw_committee
from bidding.evaluation.models import Evaluation, Member, MemberStatus
from tests.bidding.evaluation.committee.support import Scene, scene, set_up
from tests.trading.parties.factories import Account, api_token, bearer, csrf_token
from trading.kernel import clock, draws
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "recompute_committee.py"


@pytest.fixture
async def clients(app: Litestar) -> AsyncIterator[Any]:
    opened: list[httpx.AsyncClient] = []

    async def open_as(account: Account) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")  # type: ignore[arg-type]
        opened.append(client)
        form = await client.get("/login")
        response = await client.post(
            "/login",
            data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": account.password},
        )
        assert response.status_code == 303, response.text
        return client

    yield open_as
    for client in opened:
        await client.aclose()


async def _post(client: httpx.AsyncClient, page: str, url: str, data: dict[str, Any]) -> httpx.Response:
    form = await client.get(page)
    assert form.status_code == 200, form.text
    return await client.post(url, data={"_csrf_token": csrf_token(form.text), **data})


async def _refusals(session: AsyncSession, evaluation: Evaluation) -> list[str]:
    rows = await session.scalars(
        sa.select(LedgerEntry.summary_json).where(
            LedgerEntry.action == "evaluation.access_refused", LedgerEntry.subject_id == str(evaluation.id)
        )
    )
    return [json.loads(row)["roles"][0] for row in rows]


async def test_host_operator_and_expert_walk_their_pages(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clients: Any,
) -> None:
    s = await scene(session, session_maker, settings)
    await session.commit()
    host = await clients(s.agency)
    setup_page = f"/evaluation/tenders/{s.tender.id}/setup"
    start = (await clock.now(session) + timedelta(days=1)).astimezone(clock_tz()).strftime("%Y-%m-%dT%H:%M")
    fields = {
        "method": "eng-reviewed-lowest-price",
        "size": "5",
        "representatives": "2",
        "reserves": "2",
        "main_venue": str(s.main_venue.id),
        "sub_venues": str(s.sub_venue.id),
        "scheduled_at": start,
    }
    refused = await _post(host, setup_page, setup_page, fields)
    assert refused.status_code == 422
    assert 'data-rule="committee_experts_two_thirds"' in refused.text
    assert "评审专家不得少于成员总数的三分之二" in refused.text
    assert await session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0

    created = await _post(host, setup_page, setup_page, {**fields, "size": "7", "representatives": "0"})
    assert created.status_code == 303, created.text
    evaluation = await session.scalar(sa.select(Evaluation).where(Evaluation.tender_id == s.tender.id))
    assert evaluation is not None
    assert created.headers["location"] == f"/evaluation/e/{evaluation.id}/setup"
    shown = await host.get(created.headers["location"])
    assert "评标准备" in shown.text
    assert (await host.get(setup_page)).status_code == 302  # the tender's link leads to the setup

    operator = await clients(s.admin)
    draw_page = f"/evaluation/e/{evaluation.id}/draw"
    waiting = await operator.get("/evaluation/draws")
    assert f'href="{draw_page}"' in waiting.text  # the operator finds the evaluation waiting for its draw
    assert (await _post(operator, draw_page, f"{draw_page}/prepare", {})).status_code == 303
    assert (await _post(operator, draw_page, f"{draw_page}/run", {})).status_code == 303
    page = await operator.get(draw_page)
    assert page.status_code == 200
    assert f'data-expert="{s.employee.id}"' in page.text if s.employee else False
    assert 'data-reason="employer_bidder"' in page.text
    assert 'data-reason="conflict_tenderee"' in page.text
    assert "在投标人处任职" in page.text
    assert "投标人员工" in page.text  # the operator sees the excluded by name
    listing = await operator.get("/evaluation/draws")
    assert draw_page in listing.text

    await _experts_answer(session, s, evaluation, clients, host)


async def _experts_answer(
    session: AsyncSession, s: Scene, evaluation: Evaluation, clients: Any, host: httpx.AsyncClient
) -> None:
    """One drawn expert declines on /evaluation/my (the reserve is called), another confirms and
    finds the session linked; neither the expert nor the host opens the operator's draw page."""
    draw_page = f"/evaluation/e/{evaluation.id}/draw"
    members = list(await session.scalars(sa.select(Member).where(Member.evaluation_id == evaluation.id)))
    leaving = members[0]
    assert leaving.expert_id is not None
    expert = await clients(s.accounts[leaving.expert_id])
    mine = await expert.get("/evaluation/my")
    assert f'data-member="{leaving.id}"' in mine.text
    declined = await _post(expert, "/evaluation/my", f"/evaluation/my/{leaving.id}/decline", {"reason": "身体不适"})
    assert declined.status_code == 303
    await session.refresh(leaving)
    assert leaving.status is MemberStatus.DECLINED
    seated = await session.scalar(sa.select(Member).where(Member.replaces_member_id == leaving.id))
    assert seated is not None
    assert seated.status is MemberStatus.NOTIFIED

    staying = members[1]
    assert staying.expert_id is not None
    colleague = await clients(s.accounts[staying.expert_id])
    confirmed = await _post(colleague, "/evaluation/my", f"/evaluation/my/{staying.id}/confirm", {})
    assert confirmed.status_code == 303
    sessions = await colleague.get("/evaluation/my")
    assert f'href="/evaluation/e/{evaluation.id}/session"' in sessions.text

    # The expert cannot open the operator's pages, the host cannot run the draw.
    assert (await expert.get(draw_page)).status_code == 403
    assert (await host.get(draw_page)).status_code == 403


def clock_tz() -> Any:
    from trading.kernel.web.templating import DISPLAY_TZ

    return DISPLAY_TZ


async def test_the_tenderee_the_agency_and_bidders_are_refused_the_names_and_each_attempt_is_recorded(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    clients: Any,
) -> None:
    s = await scene(session, session_maker, settings)
    evaluation = await set_up(session, s)
    service = CommitteeDraws(session)
    await service.prepare(s.operator, evaluation.id)
    await service.run(s.operator, evaluation.id)
    await session.commit()

    for account in (s.tenderee, s.agency, s.bidders[0]):
        headers = bearer(await api_token(client, account))
        names = await client.get(f"/api/v1/evaluation/{evaluation.id}/committee", headers=headers)
        assert names.status_code == 403, names.text
        assert names.json()["errors"][0]["rule"] == "confidential_until_results"
        published = await client.get(f"/api/v1/evaluation/{evaluation.id}/draw/published.json", headers=headers)
        assert published.status_code == 403
        draw = await client.get(f"/api/v1/evaluation/{evaluation.id}/draw", headers=headers)
        assert draw.status_code == 200
        assert draw.json()["seed_sha256"]
        assert draw.json()["result"] is None
        assert draw.json()["seed"] is None
    bidder_page = await (await clients(s.bidders[1])).get(f"/evaluation/e/{evaluation.id}/committee")
    assert bidder_page.status_code == 403
    assert sorted(await _refusals(session, evaluation)) == sorted(
        ["tenderee", "tenderee", "agency", "agency", "bidder", "bidder", "bidder"]
    )

    supervisor = bearer(await api_token(client, s.supervisor))
    names = await client.get(f"/api/v1/evaluation/{evaluation.id}/committee", headers=supervisor)
    assert names.status_code == 200
    assert len(names.json()) == 7
    assert all(m["name"] for m in names.json())
    assert len(await _refusals(session, evaluation)) == 7  # allowed: nothing recorded


async def test_the_published_draw_is_rederived_by_the_script_and_tampering_fails(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    s = await scene(session, session_maker, settings)
    evaluation = await set_up(session, s)
    service = CommitteeDraws(session)
    await service.prepare(s.operator, evaluation.id)
    row = await service.run(s.operator, evaluation.id)
    await session.commit()
    members = list(
        await session.scalars(
            sa.select(Member).where(Member.evaluation_id == evaluation.id).order_by(Member.draw_position)
        )
    )

    response = await client.get(
        f"/api/v1/evaluation/{evaluation.id}/draw/published.json", headers=bearer(await api_token(client, s.admin))
    )
    assert response.status_code == 200
    document = response.json()
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    verified = _script(path, "--before", path)
    assert verified.returncode == 0, verified.stdout
    summary = json.loads(verified.stdout)
    assert summary["committee"] == [str(m.expert_id) for m in members]
    assert summary["candidate_list_sha256"] == row.candidate_list_sha256

    # A changed seed fails the commitment check (script and the draw itself).
    forged = copy.deepcopy(document)
    forged["computation"]["seed"] = draws.new_secret()
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged), encoding="utf-8")
    result = _script(forged_path, "--commitment", document["seed_sha256"], "--before", path)
    assert result.returncode == 1
    assert "does not match the commitment" in result.stdout
    candidates = [
        Candidate(c["expert_id"], tuple(c["specialties"]), "320802", None)
        for c in document["computation"]["candidate_list"]
    ]
    spec = DrawSpec(
        tuple(
            GroupSpec(g["key"], frozenset(g["specialties"]), g["count"], g["reserves"])
            for g in document["spec"]["groups"]
        )
    )
    with pytest.raises(DrawRefused) as wrong_seed:
        draw_committee(forged["computation"]["seed"], document["seed_sha256"], candidates, spec)
    assert wrong_seed.value.rule == "seed_commitment"

    # The same seed over a different candidate list gives a different committee (and the script
    # sees the list is not the one frozen before).
    seed = document["computation"]["seed"]
    assert draw_committee(seed, document["seed_sha256"], candidates, spec).members() == summary["committee"]
    other = [c for c in candidates if c.expert_id != summary["committee"][0]]
    assert draw_committee(seed, document["seed_sha256"], other, spec).members() != summary["committee"]
    shortened = copy.deepcopy(document)
    shortened["computation"]["candidate_list"] = [
        c for c in document["computation"]["candidate_list"] if c["expert_id"] != summary["committee"][0]
    ]
    shortened_path = tmp_path / "shortened.json"
    shortened_path.write_text(json.dumps(shortened), encoding="utf-8")
    assert _script(shortened_path, "--before", path).returncode == 1


def _script(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )
