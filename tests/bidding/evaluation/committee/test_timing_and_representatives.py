"""The GP draw respects "not earlier than 2 working days before the evaluation" (and runs within
it); the host appoints the tenderee's representatives as members, counted in the 2/3 rule, and a
representative from outside the tenderee or beyond the spec's number is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.errors import SetupRefused
from bidding.evaluation.committee.setup import EvaluationSetup
from bidding.evaluation.draw.committee import DrawRefused
from bidding.evaluation.models import Member, MemberKind, MemberStatus
from bidding.models import TenderCategory
from tests.bidding.evaluation.committee.support import scene, set_up
from tests.bidding.evaluation.pool.factories import new_id_number
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.parties.models import User
from trading.parties.service import PartiesService

GP_LOWEST = {"method": "gp-lowest-evaluated-price", "sector": "goods"}


async def test_a_gp_draw_is_not_earlier_than_two_working_days_before_the_evaluation(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=6)
    s.tender.category = TenderCategory.GOODS
    s.tender.tender_type = "goods"
    await session.flush()
    now = await clock.now(session)
    committee = {"size": 5, "reserves": 1}
    evaluation = await set_up(
        session, s, data={**GP_LOWEST, "committee": committee}, scheduled_at=now + timedelta(days=20)
    )
    service = CommitteeDraws(session)
    await service.prepare(s.operator, evaluation.id)
    with pytest.raises(DrawRefused) as early:
        await service.run(s.operator, evaluation.id)
    assert early.value.rule == "draw_working_days_before"
    assert await session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0

    evaluation.scheduled_at = now + timedelta(days=1)
    await session.flush()
    row = await service.run(s.operator, evaluation.id)
    assert row.drawn_at is not None
    assert await session.scalar(sa.select(sa.func.count()).select_from(Member)) == 5


async def test_the_host_appoints_the_tenderees_representatives_within_the_spec(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    s = await scene(session, session_maker, settings, plain_experts=0)
    evaluation = await set_up(
        session,
        s,
        data={
            "method": "eng-reviewed-lowest-price",
            "sector": "engineering",
            "committee": {"size": 7, "representatives": 2},
        },
    )
    user = await session.get_one(User, s.tenderee.user_id)
    person = await PartiesService(session, settings).identify_person(new_id_number(), "招标人代表")
    user.person_id = person.id
    await session.flush()
    setup = EvaluationSetup(session)

    member = await setup.add_representative(s.host, evaluation.id, s.tenderee.username)
    assert member.kind is MemberKind.REPRESENTATIVE
    assert member.status is MemberStatus.CONFIRMED
    assert member.person_id == person.id
    with pytest.raises(SetupRefused) as twice:
        await setup.add_representative(s.host, evaluation.id, s.tenderee.username)
    assert twice.value.rule == "representative_twice"
    with pytest.raises(SetupRefused) as outsider:
        await setup.add_representative(s.host, evaluation.id, s.bidders[0].username)
    assert outsider.value.rule == "tenderee_person"
    with pytest.raises(Exception) as not_host:  # noqa: PT011 - NotTheHost, a PermissionDenied
        await setup.add_representative(s.expert_actor(s.experts[0].id), evaluation.id, s.tenderee.username)
    assert getattr(not_host.value, "rule", "") == "host"
