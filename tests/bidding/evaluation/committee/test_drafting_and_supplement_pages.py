"""Drafters and the supplementary draw (补抽) through the real application on PostgreSQL: the host
declares drafters on the setup page and the API (a bad line refused naming the rule; after the seed
is committed refused with ``seed_committed``, nothing stored); the operator finds the open places on
``/evaluation/draws``, prepares and runs the supplementary draw on the draw page; the published
supplementary draw is re-derived by the script against the first; the tenderee, the agency and
bidders are refused the supplementary draw's identities (page, API, JSON) and each attempt recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.models import CommitteeDraw, Drafter, Evaluation, Member, MemberStatus
from bidding.evaluation.pool.service import ExpertPool
from tests.bidding.evaluation.committee.support import Scene, scene, set_up
from tests.bidding.evaluation.committee.test_pages_and_access import _post, _refusals, clients  # noqa: F401
from tests.bidding.evaluation.pool.factories import admin_actor, facts, new_id_number
from tests.trading.parties.factories import api_token, bearer
from trading.kernel.settings import Settings

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "recompute_committee.py"


async def test_the_host_declares_drafters_on_the_page_and_the_api_until_the_seed(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    clients: Any,  # noqa: F811 - the fixture of test_pages_and_access
) -> None:
    s = await scene(session, session_maker, settings)
    number = new_id_number()
    drafter, _ = await ExpertPool(session, settings).register(
        facts(name="编制文件的专家", id_number=number), actor=admin_actor()
    )
    evaluation = await set_up(session, s)
    await session.commit()
    host = await clients(s.agency)
    setup_page = f"/evaluation/e/{evaluation.id}/setup"
    action = f"/evaluation/e/{evaluation.id}/drafters"

    bad = await _post(host, setup_page, action, {"drafters": "无此专家 | 需求编制"})
    assert bad.status_code == 422
    assert 'data-rule="pool_expert"' in bad.text
    assert "专家库中没有相符的专家" in bad.text
    assert await session.scalar(sa.select(sa.func.count()).select_from(Drafter)) == 0

    declared = await _post(host, setup_page, action, {"drafters": f"{number} | 招标文件编制 | 编制商务部分"})
    assert declared.status_code == 303, declared.text
    shown = await host.get(setup_page)
    assert "编制文件的专家" in shown.text
    assert 'data-role="documents"' in shown.text

    headers = bearer(await api_token(client, s.agency))
    api = await client.put(
        f"/api/v1/evaluation/{evaluation.id}/drafters",
        json={"drafters": [{"expert": "编制文件的专家", "role": "requirement", "note": "需求论证"}]},
        headers=headers,
    )
    assert api.status_code == 200, api.text
    assert api.json()[0]["expert_id"] == str(drafter.id)
    assert api.json()[0]["role"] == "requirement"
    wrong = await client.put(
        f"/api/v1/evaluation/{evaluation.id}/drafters",
        json={"drafters": [{"expert": number, "role": "author"}]},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["rule"] == "drafting_role_kind"
    assert wrong.json()["errors"][0]["field"] == "drafters[0].role"

    # Once the operator commits the seed, the drafters are fixed: page and API refuse, nothing stored.
    operator = await clients(s.admin)
    draw_page = f"/evaluation/e/{evaluation.id}/draw"
    assert (await _post(operator, draw_page, f"{draw_page}/prepare", {})).status_code == 303
    late = await _post(host, setup_page, action, {"drafters": ""})
    assert late.status_code in {409, 422}
    assert 'data-rule="seed_committed"' in late.text
    late_api = await client.put(f"/api/v1/evaluation/{evaluation.id}/drafters", json={"drafters": []}, headers=headers)
    assert late_api.status_code == 409
    assert late_api.json()["errors"][0]["rule"] == "seed_committed"
    rows = list(await session.scalars(sa.select(Drafter).where(Drafter.evaluation_id == evaluation.id)))
    assert [(r.expert_id, r.role.value) for r in rows] == [(drafter.id, "requirement")]

    # The draw excludes the drafter with the reason, shown on the operator's page.
    assert (await _post(operator, draw_page, f"{draw_page}/run", {})).status_code == 303
    page = await operator.get(draw_page)
    assert f'data-expert="{drafter.id}"' in page.text
    assert 'data-reason="drafting_role"' in page.text


async def _exhausted(session: AsyncSession, s: Scene, settings: Settings) -> tuple[Evaluation, CommitteeDraw]:
    """A drawn committee (7 + 2 reserves) whose reserves three declines used up: one place open."""
    evaluation = await set_up(session, s)
    draws = CommitteeDraws(session)
    await draws.prepare(s.operator, evaluation.id)
    first = await draws.run(s.operator, evaluation.id)
    memberships = Memberships(session)
    for _ in range(3):
        member = await session.scalar(
            sa.select(Member)
            .where(Member.evaluation_id == evaluation.id, Member.status == MemberStatus.NOTIFIED)
            .order_by(Member.created_at, Member.id)
            .limit(1)
        )
        assert member is not None
        assert member.expert_id is not None
        await memberships.decline(s.expert_actor(member.expert_id), member.id, "另有安排")
    return evaluation, first


async def test_the_operator_fills_open_places_on_the_pages_and_others_are_refused_the_names(  # noqa: PLR0915, PLR0917
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    clients: Any,  # noqa: F811 - the fixture of test_pages_and_access
    tmp_path: Path,
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=14)
    evaluation, first = await _exhausted(session, s, settings)
    await session.commit()

    operator = await clients(s.admin)
    draw_page = f"/evaluation/e/{evaluation.id}/draw"
    listing = await operator.get("/evaluation/draws")
    assert 'id="open-places"' in listing.text
    assert 'data-open="1"' in listing.text
    assert "需补抽的空缺席位" in listing.text
    page = await operator.get(draw_page)
    assert 'id="prepare-supplement"' in page.text
    assert (await _post(operator, draw_page, f"{draw_page}/supplement/prepare", {})).status_code == 303
    page = await operator.get(draw_page)
    assert 'id="run-supplement"' in page.text
    assert (await _post(operator, draw_page, f"{draw_page}/supplement/run", {})).status_code == 303
    supplement = await session.scalar(sa.select(CommitteeDraw).where(CommitteeDraw.supplements_draw_id == first.id))
    assert supplement is not None
    assert supplement.result is not None
    drawn_name = (
        await session.scalar(
            sa.select(Member.name).where(
                Member.draw_id == supplement.id,
                Member.expert_id == sa.cast(supplement.result["groups"][0]["members"][0], sa.Uuid),
            )
        )
        or ""
    )
    page = await operator.get(draw_page)
    assert f'data-draw="{supplement.id}"' in page.text
    assert drawn_name
    assert drawn_name in page.text
    assert 'data-reason="already_drawn"' in page.text
    assert 'data-open="1"' not in (await operator.get("/evaluation/draws")).text  # filled

    # The operator's published documents re-derive, the supplementary one checked against the first.
    admin = bearer(await api_token(client, s.admin))
    first_doc = (await client.get(f"/api/v1/evaluation/{evaluation.id}/draw/published.json", headers=admin)).json()
    url = f"/api/v1/evaluation/{evaluation.id}/draw/supplements/{supplement.id}/published.json"
    response = await client.get(url, headers=admin)
    assert response.status_code == 200, response.text
    first_path, supplement_path = tmp_path / "first.json", tmp_path / "supplement.json"
    first_path.write_text(json.dumps(first_doc), encoding="utf-8")
    supplement_path.write_text(json.dumps(response.json()), encoding="utf-8")
    verified = subprocess.run(
        [
            sys.executable,
            "-I",
            str(SCRIPT),
            str(supplement_path),
            *("--before", str(supplement_path), "--first", str(first_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    page_json = await operator.get(f"/evaluation/e/{evaluation.id}/supplements/{supplement.id}/draw.json")
    assert page_json.status_code == 200
    assert page_json.json() == response.json()

    # Before the results the tenderee, the agency and bidders see the commitment and the open
    # places, never the seed, the list or the names; asking for the published draw is refused and
    # recorded.
    before = len(await _refusals(session, evaluation))
    for account in (s.tenderee, s.agency, s.bidders[0]):
        headers = bearer(await api_token(client, account))
        shown = await client.get(f"/api/v1/evaluation/{evaluation.id}/draw/supplements", headers=headers)
        assert shown.status_code == 200, shown.text
        listed = shown.json()["draws"]
        assert listed[0]["seed_sha256"] == supplement.seed_commitment
        assert listed[0]["seed"] is None
        assert listed[0]["result"] is None
        assert listed[0]["candidates"] is None
        assert listed[0]["excluded"] is None
        assert drawn_name not in shown.text
        refused = await client.get(url, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["rule"] == "confidential_until_results"
    bidder = await clients(s.bidders[1])
    assert (await bidder.get(f"/evaluation/e/{evaluation.id}/supplements/{supplement.id}/draw.json")).status_code == 403
    assert (await bidder.get(draw_page)).status_code == 403
    host = await clients(s.agency)
    assert (await host.get(draw_page)).status_code == 403
    assert (await host.post(f"{draw_page}/supplement/prepare")).status_code == 403
    refusals = await _refusals(session, evaluation)
    assert sorted(refusals[before:]) == sorted(["tenderee", "agency", "bidder", "bidder", "bidder", "agency", "agency"])

    supervisor = bearer(await api_token(client, s.supervisor))
    shown = await client.get(f"/api/v1/evaluation/{evaluation.id}/draw/supplements", headers=supervisor)
    assert shown.json()["draws"][0]["result"]["groups"][0]["members"] == supplement.result["groups"][0]["members"]
