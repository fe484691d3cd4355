"""Demo data of the intermediary-services marketplace (网上中介超市): a service-item list (事项清单)
of common approval-related services, and the demo intermediaries' reviewed qualifications, so a
state-funded random draw (which needs at least three eligible registrants) can run out of the box.

Everything goes through ``MarketService`` (the same rules and ledger entries as the centre's own
input). Idempotent: an item already on the list and a qualification already recorded are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.schemas import QualificationRecord, ServiceItemCreate
from intermediary_market.service import MarketService
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.parties.service import PartiesService

SERVICE_ITEMS = (
    ServiceItemCreate(
        code="GCZJ",
        name="工程造价咨询",
        legal_basis="《工程造价咨询企业管理办法》(建设部令第149号)",
        approval="政府投资项目概算审批",
        required_qualification="工程造价咨询企业",
        fee_basis="市场调节价",
        standard_days=30,
    ),
    ServiceItemCreate(
        code="GCJL",
        name="工程监理",
        legal_basis="《建设工程质量管理条例》第十二条",
        approval="建筑工程施工许可",
        required_qualification="工程监理企业资质",
        fee_basis="市场调节价",
        standard_days=60,
    ),
    ServiceItemCreate(
        code="HJYX",
        name="环境影响评价",
        legal_basis="《中华人民共和国环境影响评价法》第十六条",
        approval="建设项目环境影响评价文件审批",
        required_qualification="环评单位能力",
        fee_basis="市场调节价",
        standard_days=30,
    ),
    ServiceItemCreate(
        code="ZCPG",
        name="资产评估",
        legal_basis="《中华人民共和国资产评估法》第三条",
        approval="国有资产转让审批",
        required_qualification="资产评估机构备案",
        fee_basis="市场调节价",
        standard_days=20,
    ),
    ServiceItemCreate(
        code="CHFW",
        name="测绘",
        legal_basis="《中华人民共和国测绘法》第二十七条",
        approval="建设工程规划许可",
        required_qualification="测绘资质",
        fee_basis="市场调节价",
        standard_days=15,
    ),
)


@dataclass(frozen=True, slots=True)
class DemoQualification:
    organisation: str
    """The key of the demo organisation (``demo.ORGANISATIONS``)."""
    item_code: str
    level: int
    certificate_no: str


QUALIFICATIONS = (
    # Three intermediaries for 工程造价咨询 and 测绘: enough for a state-funded draw of either.
    DemoQualification("consultancy", "GCZJ", 1, "ZJ-3208-0007"),
    DemoQualification("consultancy", "GCJL", 2, "JL-3208-0007"),
    DemoQualification("consultancy", "CHFW", 2, "CH-3208-0007"),
    DemoQualification("consultancy2", "GCZJ", 1, "ZJ-3208-0009"),
    DemoQualification("consultancy2", "ZCPG", 1, "PG-3208-0009"),
    DemoQualification("consultancy2", "CHFW", 2, "CH-3208-0009"),
    DemoQualification("consultancy3", "GCZJ", 2, "ZJ-3208-0010"),
    DemoQualification("consultancy3", "HJYX", 1, "HP-3208-0010"),
    DemoQualification("consultancy3", "CHFW", 1, "CH-3208-0010"),
)
VALID_FOR = timedelta(days=3 * 365)


async def seed_demo_market(session: AsyncSession, parties: PartiesService, usccs: dict[str, str]) -> list[str]:
    """Publish the items not yet on the list and record the qualifications not yet recorded;
    ``usccs`` maps demo organisation keys to their USCC. Returns what it did, for the start-up text.
    """
    market = MarketService(session)
    actor = Actor.system()
    listed = {item.code for item in await market.items()}
    items = 0
    for item in SERVICE_ITEMS:
        if item.code not in listed:
            await market.publish_item(item, actor=actor)
            items += 1
    now = await clock.now(session)
    qualifications = 0
    for entry in QUALIFICATIONS:
        organisation = await parties.organisations.by_uscc(usccs[entry.organisation])
        if organisation is None or await market.repo.qualification(organisation.id, entry.item_code) is not None:
            continue
        await market.record_qualification(
            QualificationRecord(
                organisation_id=organisation.id,
                item_code=entry.item_code,
                level=entry.level,
                certificate_no=entry.certificate_no,
                valid_until=now + VALID_FOR,
            ),
            actor=actor,
        )
        qualifications += 1
    if not items and not qualifications:
        return []
    return [f"  intermediary marketplace: {items} service items, {qualifications} qualifications"]
