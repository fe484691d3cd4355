"""Drafting roles and the supplementary draw (补抽) against PostgreSQL.

- A pool expert the host declared as a drafter of the tender is never drawn, and the published
  exclusion record names ``drafting_role``; declaring drafters once the seed is committed is refused
  naming the rule, with nothing stored.
- A committee whose reserves are used up by declines has an open place: the operator is told in the
  inbox, a supplementary draw with its own committed seed fills exactly the open places, never draws
  an expert drawn before for the evaluation, seats and notifies the drawn like the first draw, and
  ``scripts/recompute_committee.py`` re-derives it (a changed seed fails).
- A reserve seated mid-session is notified and must confirm in time like anyone drawn.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.drafting import DrafterInput, Drafting
from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.errors import DrawStateConflict, SetupRefused
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.supplement import Supplements
from bidding.evaluation.models import CommitteeDraw, Drafter, Evaluation, Member, MemberStatus
from bidding.evaluation.pool.models import Expert
from bidding.evaluation.pool.service import ExpertPool
from tests.bidding.evaluation.committee.support import Scene, scene, set_up
from tests.bidding.evaluation.pool.factories import admin_actor, facts, new_id_number
from tests.trading.parties.factories import create_account
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "recompute_committee.py"


async def _drafter(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings, s: Scene, name: str
) -> tuple[Expert, str]:
    number = new_id_number()
    account = await create_account(session_maker, settings, Role.EXPERT)
    expert, _ = await ExpertPool(session, settings).register(
        facts(name=name, id_number=number), actor=admin_actor(), user_id=account.user_id
    )
    s.accounts[expert.id] = account
    return expert, number


async def _members(session: AsyncSession, evaluation: Evaluation) -> list[Member]:
    rows = await session.scalars(
        sa.select(Member).where(Member.evaluation_id == evaluation.id).order_by(Member.created_at, Member.id)
    )
    return list(rows)


async def _count(session: AsyncSession, action: str) -> int:
    found = await session.scalar(sa.select(sa.func.count()).where(LedgerEntry.action == action))
    return int(found or 0)


async def test_a_declared_drafter_is_never_drawn_and_the_record_names_the_drafting_role(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=8)
    by_number, number = await _drafter(session, session_maker, settings, s, "编制招标文件的专家")
    by_name, _ = await _drafter(session, session_maker, settings, s, "编制清单的专家")
    evaluation = await set_up(session, s)
    drafting = Drafting(session, settings)

    # Bad entries are refused naming the field and the rule; nothing is stored.
    with pytest.raises(SetupRefused) as unknown:
        await drafting.declare(s.host, evaluation.id, [DrafterInput("无此专家", "documents")])
    assert (unknown.value.field, unknown.value.rule) == ("drafters[0].expert", "pool_expert")
    with pytest.raises(SetupRefused) as role:
        await drafting.declare(s.host, evaluation.id, [DrafterInput(number, "author")])
    assert (role.value.field, role.value.rule) == ("drafters[0].role", "drafting_role_kind")
    with pytest.raises(SetupRefused) as twice:
        await drafting.declare(
            s.host, evaluation.id, [DrafterInput(number, "documents"), DrafterInput(by_number.name, "requirement")]
        )
    assert (twice.value.field, twice.value.rule) == ("drafters[1].expert", "drafter_twice")
    assert await session.scalar(sa.select(sa.func.count()).select_from(Drafter)) == 0
    with pytest.raises(Exception) as not_host:  # noqa: PT011 - the permission error of the setup
        await drafting.declare(s.operator, evaluation.id, [DrafterInput(number, "documents")])
    assert getattr(not_host.value, "rule", None) == "host"

    declared = await drafting.declare(
        s.host,
        evaluation.id,
        [DrafterInput(number, "documents", "编制商务部分"), DrafterInput(by_name.name, "bill-of-quantities")],
    )
    assert {d.expert_id for d in declared} == {by_number.id, by_name.id}
    entry = await session.scalar(
        sa.select(LedgerEntry)
        .where(LedgerEntry.action == "evaluation.drafters_declared")
        .order_by(LedgerEntry.seq.desc())
    )
    assert entry is not None
    assert json.loads(entry.summary_json) == {"evaluation": str(evaluation.id), "drafters": 2}
    assert number not in entry.summary_json  # the ID number is never stored

    # 10 experts fit, 2 drafted: 8 left for 7 members and 1 reserve; the drafters are never drawn.
    service = CommitteeDraws(session)
    await service.prepare(s.operator, evaluation.id)
    row = await service.run(s.operator, evaluation.id)
    assert row.result is not None
    assert row.excluded is not None
    drawn = {e for g in row.result["groups"] for e in (*g["members"], *g["reserves"])}
    assert str(by_number.id) not in drawn
    assert str(by_name.id) not in drawn
    listed = {c["expert_id"] for c in (row.candidates or {})["candidates"]}
    assert {str(by_number.id), str(by_name.id)}.isdisjoint(listed)
    reasons = {item["expert_id"]: item["reasons"] for item in row.excluded["excluded"]}
    assert reasons[str(by_number.id)] == [
        {"reason": "drafting_role", "evidence": {"tender_id": str(s.tender.id), "role": "documents"}}
    ]
    assert [r["reason"] for r in reasons[str(by_name.id)]] == ["drafting_role"]
    published = CommitteeDraws.published_document(evaluation, row)
    assert {"expert_id": str(by_number.id), "reasons": ["drafting_role"]} in published["computation"]["excluded"]


async def test_declaring_drafters_after_the_seed_is_committed_is_refused_and_nothing_stored(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=9)
    late, number = await _drafter(session, session_maker, settings, s, "迟报的编制人员")
    evaluation = await set_up(session, s)
    await CommitteeDraws(session).prepare(s.operator, evaluation.id)
    before = await _count(session, "evaluation.drafters_declared")

    with pytest.raises(DrawStateConflict) as refused:
        await Drafting(session, settings).declare(s.host, evaluation.id, [DrafterInput(number, "requirement")])
    assert (refused.value.field, refused.value.rule) == ("drafters", "seed_committed")
    assert await session.scalar(sa.select(sa.func.count()).select_from(Drafter)) == 0
    assert await _count(session, "evaluation.drafters_declared") == before
    assert late.id is not None


def _script(tmp_path: Path, name: str, document: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(path), "--before", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
    )


async def test_exhausted_reserves_leave_an_open_place_that_a_supplementary_draw_fills(  # noqa: PLR0915
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=14)  # 14 candidates after avoidance
    evaluation = await set_up(session, s)
    draws = CommitteeDraws(session)
    await draws.prepare(s.operator, evaluation.id)
    first = await draws.run(s.operator, evaluation.id)
    assert first.result is not None
    first_drawn = {e for g in first.result["groups"] for e in (*g["members"], *g["reserves"])}
    assert len(first_drawn) == 9  # 7 members, 2 reserves
    memberships = Memberships(session)
    supplements = Supplements(session)

    # Nothing is open yet: a supplementary draw is refused naming the rule.
    with pytest.raises(DrawStateConflict) as nothing_open:
        await supplements.prepare(s.operator, evaluation.id)
    assert nothing_open.value.rule == "no_open_places"

    # Three members decline: two reserves are seated, the third seat is left open.
    for _ in range(3):
        member = next(m for m in await _members(session, evaluation) if m.status is MemberStatus.NOTIFIED)
        assert member.expert_id is not None
        await memberships.decline(s.expert_actor(member.expert_id), member.id, "另有安排")
    assert first.result is not None
    assert len(first.result["declined"]) == 2
    assert len(first.result["vacated"]) == 1
    vacated = first.result["vacated"][0]["expert"]
    assert await _count(session, "evaluation.reserves_exhausted") == 1
    notice = await session.scalar(sa.select(Notice).where(Notice.template == "evaluation.places_open"))
    assert notice is not None
    assert notice.recipient_id == s.admin.user_id
    assert notice.params["places"] == 1
    assert vacated not in json.dumps(notice.params)  # the notice names no expert
    state = await supplements.state(evaluation.id)
    assert state.open == {"experts": 1}
    published_first = CommitteeDraws.published_document(evaluation, first)
    assert vacated not in published_first["computation"]["committee"]
    assert len(published_first["computation"]["committee"]) == 6
    checked = _script(tmp_path, "first", published_first)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the open seat re-derives too

    # Only the operator prepares; the spec is exactly the open places; a run before prepare is refused.
    with pytest.raises(Exception) as not_operator:  # noqa: PT011 - the permission error of the draw
        await supplements.prepare(s.host, evaluation.id)
    assert getattr(not_operator.value, "rule", None) == "draw_operator"
    prepared = await supplements.prepare(s.operator, evaluation.id)
    assert prepared.supplements_draw_id == first.id
    assert [(g["key"], g["count"]) for g in prepared.spec["groups"]] == [("experts", 1)]
    assert prepared.drawn_at is None
    with pytest.raises(DrawStateConflict) as pending:
        await supplements.prepare(s.operator, evaluation.id)
    assert pending.value.rule == "supplement_pending"
    assert (await supplements.state(evaluation.id)).open == {}  # the prepared draw covers the place

    row = await supplements.run(s.operator, evaluation.id)
    assert row.result is not None
    assert row.excluded is not None
    members = row.result["groups"][0]["members"]
    assert len(members) == 1  # exactly the open place
    assert not (set(members) | set(row.result["groups"][0]["reserves"])) & first_drawn  # nobody drawn twice
    listed = {c["expert_id"] for c in (row.candidates or {})["candidates"]}
    assert not listed & first_drawn
    assert len(listed) == 14 - 9
    again = {item["expert_id"] for item in row.excluded["excluded"] if item["reasons"][0]["reason"] == "already_drawn"}
    assert again == first_drawn
    assert row.result["already_drawn"] == sorted(first_drawn)

    # The drawn expert is seated, notified and must confirm in time, like the first draw's.
    joined = next(m for m in await _members(session, evaluation) if m.draw_id == row.id)
    assert str(joined.expert_id) == members[0]
    assert joined.status is MemberStatus.NOTIFIED
    assert joined.answer_due_at is not None
    assert joined.next_check == joined.answer_due_at
    drawn_notice = await session.scalar(sa.select(Notice).where(Notice.event_key == f"evaluation.drawn:{joined.id}"))
    assert drawn_notice is not None
    assert drawn_notice.recipient_id == joined.user_id
    assert await _count(session, "evaluation.committee_supplemented") == 1

    # The script re-derives the supplementary draw (and checks it against the first); a changed seed fails.
    document = CommitteeDraws.published_document(evaluation, row)
    assert document["supplements_draw_id"] == str(first.id)
    first_file = tmp_path / "first.json"
    verified = _script(tmp_path, "supplement", document, "--first", str(first_file))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["committee"] == members
    tampered = copy.deepcopy(document)
    tampered["computation"]["seed"] = "0" * 64
    failed = _script(tmp_path, "tampered", tampered)
    assert failed.returncode == 1
    assert "the seed was replaced" in failed.stdout
    # A list that re-admits an expert drawn before is caught, even made consistent with itself.
    sneaky = copy.deepcopy(document)
    sneaky["already_drawn"] = sneaky["computation"]["already_drawn"] = sorted(first_drawn)
    sneaky["computation"]["candidate_list"].append({"expert_id": min(first_drawn), "specialties": []})
    caught = _script(tmp_path, "sneaky", sneaky)
    assert caught.returncode == 1
    assert "was drawn before for this evaluation" in caught.stdout

    # A supplementary member who declines is replaced from the supplementary draw's own reserves.
    assert joined.expert_id is not None
    await memberships.decline(s.expert_actor(joined.expert_id), joined.id, "身体原因")
    replacement = next(m for m in await _members(session, evaluation) if m.replaces_member_id == joined.id)
    assert str(replacement.expert_id) == row.result["groups"][0]["reserves"][0]
    assert replacement.status is MemberStatus.NOTIFIED
    stored = await session.get(CommitteeDraw, row.id)
    assert stored is not None
    assert stored.result is not None
    assert stored.result["declined"] == [str(joined.expert_id)]
