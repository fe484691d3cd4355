"""Demo data of the expert pool (专家库): a dozen experts in several specialties from two regions
(淮安 and, shared from another library, 南京), the demo expert account 赵立新 among them with a
declared conflict, and one expert employed by a demo bidder, so the draw's avoidance has something
to avoid.

Everything goes through ``ExpertPool`` and ``ExpertProfile`` (the same rules and ledger entries as a
centre's import and an expert's own declaration). Idempotent: an expert already in the pool (by ID
number) is left as it is, and the conflict is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.models import RelationType
from bidding.evaluation.pool.profile import ConflictInput, ExpertProfile
from bidding.evaluation.pool.service import ExpertFacts, ExpertPool
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.identifiers import resident_id_check_digit, uscc_check_char
from trading.parties.repository import UserRepository

NANJING_LIBRARY = "南京市综合评标专家库"
DEMO_EXPERT_ACCOUNTS = ("expert", "expert2", "expert3", "expert4")
"""Demo accounts (`demo.USERS`) linked to the pool's expert of the same name (赵立新, 钱建国, 李志强, 吴海波)."""
NANJING_FEE = "每半天 800 元,超过 4 小时按全天 1500 元(南京市标准)"


def employer_uscc(first17: str) -> str:
    """A fictitious employer's 统一社会信用代码: the 17 characters given and their check character."""
    return first17 + uscc_check_char(first17)


def demo_id_number(region: str, born: str, sequence: int) -> str:
    """A well-formed, fictitious 公民身份号码 (GB 11643 check digit computed)."""
    first17 = f"{region}{born}{sequence:03d}"
    return first17 + resident_id_check_digit(first17)


@dataclass(frozen=True, slots=True)
class DemoExpert:
    name: str
    id_number: str
    specialties: tuple[str, ...]
    region: str
    employer: str
    """A demo organisation key (`demo.ORGANISATIONS`) or a USCC of an employer off the platform."""
    employer_name: str
    title: str
    shared: bool = False


EXPERTS = (
    DemoExpert(
        "赵立新", demo_id_number("320802", "19750312", 101), ("A0101", "A0102"), "320802", "centre", "", "高级工程师"
    ),
    DemoExpert(
        "钱建国",
        demo_id_number("320803", "19680705", 112),
        ("A0101", "A0601"),
        "320803",
        employer_uscc("91320803MA1XB0001"),
        "淮安市建筑设计研究院有限公司",
        "正高级工程师",
    ),
    DemoExpert(
        "孙丽华",
        demo_id_number("320804", "19790921", 124),
        ("A0501",),
        "320804",
        employer_uscc("91320804MA1XB0002"),
        "淮安华信工程造价咨询有限公司",
        "高级经济师",
    ),
    DemoExpert(
        "李志强",
        demo_id_number("320812", "19720118", 135),
        ("A0201", "A0202"),
        "320812",
        employer_uscc("91320812MA1XB0003"),
        "淮安市市政设计院有限公司",
        "高级工程师",
    ),
    DemoExpert(
        "周文静",
        demo_id_number("320802", "19810503", 146),
        ("A0104", "A0105"),
        "320802",
        employer_uscc("91320802MA1XB0004"),
        "淮安安装工程有限公司",
        "高级工程师",
    ),
    DemoExpert(
        "吴海波",
        demo_id_number("320803", "19770829", 157),
        ("A0501", "A0502"),
        "320803",
        employer_uscc("91320803MA1XB0005"),
        "淮安正信会计师事务所有限公司",
        "注册会计师",
    ),
    DemoExpert(
        "郑秀英",
        demo_id_number("320804", "19830214", 168),
        ("B0101", "C0101"),
        "320804",
        employer_uscc("91320804MA1XB0006"),
        "淮安市信息中心",
        "高级工程师",
    ),
    DemoExpert(
        "王永刚", demo_id_number("320812", "19700610", 179), ("A0101", "A0106"), "320812", "builder2", "", "高级工程师"
    ),
    DemoExpert(
        "冯玉梅",
        demo_id_number("320106", "19740422", 181),
        ("A0101", "A0103"),
        "320106",
        employer_uscc("91320106MA1XB0008"),
        "南京市建筑工程质量检测中心",
        "正高级工程师",
        shared=True,
    ),
    DemoExpert(
        "陈国平",
        demo_id_number("320102", "19690817", 192),
        ("A0201", "A0301"),
        "320102",
        employer_uscc("91320102MA1XB0009"),
        "南京交通规划设计院有限公司",
        "高级工程师",
        shared=True,
    ),
    DemoExpert(
        "褚晓燕",
        demo_id_number("320104", "19820126", 203),
        ("A0501",),
        "320104",
        employer_uscc("91320104MA1XB0010"),
        "南京天华工程造价咨询有限公司",
        "高级经济师",
        shared=True,
    ),
    DemoExpert(
        "卫东升",
        demo_id_number("320105", "19760930", 214),
        ("C03", "C0401"),
        "320105",
        employer_uscc("91320105MA1XB0011"),
        "南京金陵律师事务所",
        "律师",
        shared=True,
    ),
)


async def seed_demo_pool(
    session: AsyncSession, settings: Settings, usccs: dict[str, str], names: dict[str, str]
) -> list[str]:
    """Register the demo experts (and link 赵立新 to the ``expert`` account); returns summary lines."""
    pool = ExpertPool(session, settings)
    system = Actor.system()
    await pool.sync_specialties(actor=system)
    users = UserRepository(session)
    account = await users.by_username("expert")
    accounts = {}
    for username in DEMO_EXPERT_ACCOUNTS:
        user = await users.by_username(username)
        if user is not None:
            accounts[user.display_name] = user.id
    created = 0
    for item in EXPERTS:
        uscc = usccs.get(item.employer, item.employer)
        employer_name = names.get(item.employer, item.employer_name)
        facts = ExpertFacts(
            name=item.name,
            id_number=item.id_number,
            specialties=item.specialties,
            region_code=item.region,
            employer_uscc=uscc,
            employer_name=employer_name,
            title=item.title,
            home_library=NANJING_LIBRARY if item.shared else "",
            fee_standard=NANJING_FEE if item.shared else "",
        )
        link = accounts.get(item.name)
        _, status = await pool.register(facts, actor=system, user_id=link)
        created += status is None
    lines = [f"  expert pool: {created} demo experts added"] if created else []
    if account is not None:
        lines += await _declare_conflict(session, settings, account.id, usccs, names)
    return lines


async def _declare_conflict(
    session: AsyncSession, settings: Settings, user_id: Any, usccs: dict[str, str], names: dict[str, str]
) -> list[str]:
    """赵立新 advised the demo builder 淮安示范建设工程有限公司 until last year: a declared conflict."""
    profile = ExpertProfile(session, settings)
    actor = Actor(kind=ActorKind.USER, user_id=user_id, username="expert", roles=frozenset({Role.EXPERT}))
    expert = await profile.mine(actor)
    if expert is None or await profile.repo.conflicts(expert.id):
        return []
    conflict = ConflictInput(
        usccs["builder1"],
        names["builder1"],
        RelationType.ADVISER,
        date(2023, 3, 1),
        date(2025, 6, 30),
        "技术顾问(演示)",
    )
    await profile.declare_conflict(actor, conflict)
    return [f"  expert pool: {expert.name} declared a conflict with {names['builder1']}"]
