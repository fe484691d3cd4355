"""Demo data for procurement requirements (采购需求): one requirement with two findings to fix.

The demo school's purchaser (user ``tenderee``) has one goods requirement whose package carries two
blocking negative-list findings, ready to fix on its package form. Nothing twice. The demo has one
purchaser per unit and the author never reviews: a reviewer is another ``tenderee`` of the school,
which an administrator adds.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from procurement.requirements.service import RequirementService
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.parties.models import User
from trading.parties.service import PartiesService

TITLE = "示范实验中学物理实验室设备采购"


def _actor(user: User, organisation_id: object) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=organisation_id,  # type: ignore[arg-type]
        roles=frozenset({Role.TENDEREE}),
    )


async def seed_demo_requirement(session: AsyncSession, parties: PartiesService, usccs: dict[str, str]) -> list[str]:
    """The school's requirement with two findings; lines for the start-up summary."""
    school = await parties.organisations.by_uscc(usccs["school"])
    author = await parties.users.by_username("tenderee")
    if school is None or author is None:
        return []
    service = RequirementService(session)
    actor = _actor(author, school.id)
    if any(row.title == TITLE for row in await service.mine(actor)):
        return []
    row = await service.create(actor, "goods", TITLE)
    await service.save_part(
        actor,
        row.id,
        "overview",
        {
            "project_name": TITLE,
            "requesting_department": "物理教研组",
            "year": "2027",
            "compiled_on": "2027-01-10",
            "item_code": "A021702",  # 实验室设备
            "budget": "680000",
            "summary": "采购物理实验室教学设备一批，满足新课标分组实验教学需要。",
            "prior_services": "no",
        },
    )
    await service.save_part(
        actor,
        row.id,
        "package",
        {
            "name": "物理实验教学设备",
            "budget": "680000",
            "max_price": "680000",
            "evaluation_method": "comprehensive",
            "price_weight": "30",
            "technical": (
                "★数字化传感器测量精度不低于±1%。\n配套实验软件支持中文界面。\n"
                "数据采集器采样频率不低于100kHz。\n实验台面耐酸碱、耐高温。\n提供教师演示用投屏接口。"
            ),
            "commercial": "合同签订后30日内交货，质保期三年。",
            "qualifications": (
                "具有独立承担民事责任的能力。\n投标人注册地须在本市行政区域内。\n投标人注册资本不低于500万元。"
            ),
            "delivery": "交货至淮安市示范实验中学物理实验室。",
            "payment": "验收合格后一次性支付合同款。",
            "acceptance": "由采购人组织验收，按合同约定的技术和商务要求逐项验收。",
        },
        0,
    )
    return [f"Procurement requirement with two findings to fix: {TITLE} (user tenderee)"]
