"""Demo data for the embedded default: a trading centre and an organisation and user per role.

Everything goes through the parties service, so the demo is validated like real input and its
creation is on the audit ledger. Idempotent: what exists (by USCC, by username) is left alone,
so running it at every start creates nothing the second time.

Every demo user has the password ``ggzy-demo-2026`` (README.md says so). The organisations are
fictitious but their 统一社会信用代码 are well-formed: region codes of 淮安 (3208xx), a GB 11714
organisation code with its check character, and the GB 32100 check character computed here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.deps import file_store
from bidding.integrity import service as integrity_service
from bidding.models import DocumentKind, EvaluationMethod, TenderCategory
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders.service import TenderService
from certs.cms import SigningIdentity
from certs.sign.cades import sign_detached
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.parties.identifiers import uscc_check_char
from trading.parties.mandates import MandateService
from trading.parties.models import Organisation, OrganisationKind
from trading.parties.repository import OrganisationRepository, UserRepository
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService
from trading.server import (
    demo_evaluation,
    demo_integrity,
    demo_market,
    demo_opening,
    demo_pki,
    demo_pool,
    demo_session,
)
from trading.server.demo_guarantees import seed_demo_guarantor
from trading.server.demo_requirements import seed_demo_requirement

DEMO_PASSWORD = "ggzy-demo-2026"  # noqa: S105 - published in README.md on purpose

# GB 11714-1997: weights of the 8 body characters of an organisation code.
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(body: str) -> str:
    """A 9-character GB 11714 organisation code: ``body`` (8 digits/capitals) and its check."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def demo_uscc(authority_and_category: str, region: str, org_body: str) -> str:
    """A valid 统一社会信用代码 from its parts (GB 32100-2015 §4)."""
    first17 = authority_and_category + region + organisation_code(org_body)
    return first17 + uscc_check_char(first17)


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    key: str
    name: str
    kind: OrganisationKind
    uscc: str


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    display_name: str
    organisation: str
    role: Role


# 12 = 机构编制 / 事业单位, 11 = 机构编制 / 机关, 91 = 市场监管 / 企业 (GB 32100-2015 Table 1).
ORGANISATIONS = (
    DemoOrganisation(
        "centre", "淮安市公共资源交易中心", OrganisationKind.TRADING_CENTRE, demo_uscc("12", "320800", "46680001")
    ),
    DemoOrganisation(
        "bureau",
        "淮安市住房和城乡建设局",
        OrganisationKind.SUPERVISORY_DEPARTMENT,
        demo_uscc("11", "320800", "01400002"),
    ),
    DemoOrganisation(
        "builder1", "淮安示范建设工程有限公司", OrganisationKind.ENTERPRISE, demo_uscc("91", "320812", "MA1X0003")
    ),
    DemoOrganisation(
        "builder2", "淮安清江路桥工程有限公司", OrganisationKind.ENTERPRISE, demo_uscc("91", "320804", "MA1Y0004")
    ),
    DemoOrganisation(
        "school", "淮安市示范实验中学", OrganisationKind.PURCHASER_UNIT, demo_uscc("12", "320812", "46690005")
    ),
    DemoOrganisation(
        "agency", "淮安公信招标代理有限公司", OrganisationKind.AGENCY, demo_uscc("91", "320803", "MA200006")
    ),
    DemoOrganisation(
        "consultancy", "淮安天衡工程咨询有限公司", OrganisationKind.INTERMEDIARY, demo_uscc("91", "320813", "MA210007")
    ),
    DemoOrganisation(
        "consultancy2",
        "淮安正衡工程造价咨询有限公司",
        OrganisationKind.INTERMEDIARY,
        demo_uscc("91", "320803", "MA230009"),
    ),
    DemoOrganisation(
        "consultancy3",
        "淮安华测测绘地理信息有限公司",
        OrganisationKind.INTERMEDIARY,
        demo_uscc("91", "320804", "MA240010"),
    ),
    DemoOrganisation("bank", "淮安示范银行清江浦支行", OrganisationKind.BANK, demo_uscc("91", "320812", "MA220008")),
)

USERS = (
    DemoUser("admin", "交易中心管理员", "centre", Role.ADMIN),
    DemoUser("bidder1", "王建华", "builder1", Role.BIDDER),
    DemoUser("bidder2", "李明", "builder2", Role.BIDDER),
    DemoUser("tenderee", "陈静", "school", Role.TENDEREE),
    DemoUser("agency", "刘洋", "agency", Role.AGENCY),
    DemoUser("expert", "赵立新", "centre", Role.EXPERT),
    DemoUser("expert2", "钱建国", "centre", Role.EXPERT),
    DemoUser("expert3", "李志强", "centre", Role.EXPERT),
    DemoUser("expert4", "吴海波", "centre", Role.EXPERT),
    DemoUser("intermediary", "孙伟", "consultancy", Role.INTERMEDIARY),
    DemoUser("intermediary2", "钱芳", "consultancy2", Role.INTERMEDIARY),
    DemoUser("intermediary3", "郑凯", "consultancy3", Role.INTERMEDIARY),
    DemoUser("guarantor", "周敏", "bank", Role.GUARANTOR),
    DemoUser("supervisor", "吴刚", "bureau", Role.SUPERVISOR),
)


async def seed(service: PartiesService) -> tuple[int, int]:
    """Create what is missing; returns how many organisations and users were created."""
    actor = Actor.system()
    by_key: dict[str, Organisation] = {}
    created_organisations = created_users = 0
    for item in ORGANISATIONS:
        organisation = await service.organisations.by_uscc(item.uscc)
        if organisation is None:
            organisation = await service.create_organisation(
                OrganisationCreate(uscc=item.uscc, name=item.name, kind=item.kind), actor=actor
            )
            created_organisations += 1
        by_key[item.key] = organisation
    for user in USERS:
        if await service.users.username_taken(user.username):
            continue
        await service.create_user(
            UserCreate(
                username=user.username,
                display_name=user.display_name,
                password=DEMO_PASSWORD,
                organisation_id=by_key[user.organisation].id,
                role=user.role,
            ),
            actor=actor,
        )
        created_users += 1
    return created_organisations, created_users


DEMO_MANDATE_SCOPE = "本单位全部招标项目(演示)"


async def seed_demo_mandate(session: AsyncSession) -> list[str]:
    """The demo tenderee (school) mandates the demo agency (委托代理) with no end date, granted by
    the demo tenderee's user through `MandateService` (on the ledger like a page's grant). Nothing if
    an active mandate exists (also a revoked one is left as it is: the demo honours a revocation).
    """
    organisations = OrganisationRepository(session)
    by_key = {item.key: item for item in ORGANISATIONS}
    school = await organisations.by_uscc(by_key["school"].uscc)
    agency = await organisations.by_uscc(by_key["agency"].uscc)
    user = await UserRepository(session).by_username("tenderee")
    if school is None or agency is None or user is None:
        return []
    mandates = MandateService(session)
    if await mandates.repo.of_organisation(school.id, side="tenderee"):
        return []
    actor = Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        organisation_id=school.id,
        organisation_name=school.name,
        roles=frozenset({Role.TENDEREE}),
    )
    await mandates.grant(actor, agency.id, scope=DEMO_MANDATE_SCOPE)
    return [f"  {school.name} mandated {agency.name} (委托代理)"]


DEMO_TENDER_CODE = "E3208000001000001001"
"""统一交易标识码 of the demo tender (E = engineering; 320800 = 淮安)."""
DEMO_TENDER_DOCUMENT = (
    "淮安市示范实验中学实验楼改造工程施工招标文件(演示)\n\n"
    "第一章 招标公告\n第二章 投标人须知\n第三章 评标办法(综合评估法)\n第四章 合同条款\n"
    "第五章 工程量清单\n第六章 图纸\n第七章 技术标准和要求\n第八章 投标文件格式\n"
).encode()


async def seed_demo_tender(session: AsyncSession, settings: Settings, manifest: dict[str, Any]) -> list[str]:
    """A published demo tender of the demo tenderee: two lots, deadline 21 days from now, a tender
    document signed with the development PKI's ``tenderee_sign`` certificate. Nothing if it exists.

    It goes through `TenderService` (draft, signed document, publication), so it passes the same
    rules and lands on the ledger like a tenderee's own.
    """
    service = TenderService(session, settings, file_store(settings))
    if await service.repo.by_code(DEMO_TENDER_CODE) is not None:
        return []
    school = next(item for item in ORGANISATIONS if item.key == "school")
    if manifest["identifiers"].get("tenderee") != school.uscc:
        # A development PKI written before the tenderee certificate existed: nothing signs for it.
        return ["  demo tender skipped: the development PKI has no certificate of the demo tenderee"]
    parties = PartiesService(session, settings)
    organisation = await parties.organisations.by_uscc(school.uscc)
    user = await parties.users.by_username("tenderee")
    if organisation is None or user is None:
        return []
    actor = Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        roles=frozenset({Role.TENDEREE}),
    )
    # Whole seconds: the deadline is sealed into every envelope as an ISO string and compared exactly.
    now = (await clock.now(session)).replace(microsecond=0)
    tender = await service.create_draft(
        actor,
        TenderCreate(
            project_code=DEMO_TENDER_CODE,
            title="淮安市示范实验中学实验楼改造工程施工招标",
            category=TenderCategory.ENGINEERING,
            tender_type="engineering-mandatory",
            estimate=Decimal("12000000.00"),
            evaluation_method=EvaluationMethod.COMPREHENSIVE,
            evaluation_criteria=[Criterion("投标报价", 60), Criterion("施工组织设计", 30), Criterion("信用", 10)],
            lots=[
                # Bid security per lot, each 2 % of its lot's estimate (实施条例 Art. 26), given as
                # an electronic guarantee (保函) or cash, valid through the bid validity period.
                LotCreate(
                    "001",
                    "第一标段:土建工程",
                    Decimal("8000000.00"),
                    Decimal("160000.00"),
                    bid_security_required=True,
                    bid_security_forms=["guarantee", "cash"],
                ),
                LotCreate(
                    "002",
                    "第二标段:安装工程",
                    Decimal("4000000.00"),
                    Decimal("80000.00"),
                    bid_security_required=True,
                    bid_security_forms=["guarantee", "cash"],
                ),
            ],
            bid_security_amount=Decimal("80000.00"),
            bid_security_forms=["cash", "guarantee"],
            documents_from=now,
            documents_until=now + timedelta(days=20),
            deadline=now + timedelta(days=21),
            max_package_bytes=64 * 1024 * 1024,
        ),
    )
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (out / manifest["leaves"]["tenderee_sign"]["p12"]).read_bytes(), str(manifest["password"]).encode()
    )
    assert key is not None  # noqa: S101 - written by dev_ca with key and certificate
    assert certificate is not None  # noqa: S101
    signer = SigningIdentity.from_key(key, certificate, chain)  # type: ignore[arg-type]
    await service.add_document(
        actor,
        tender,
        DocumentKind.TENDER_DOCUMENT,
        "招标文件",
        "招标文件.txt",
        "text/plain; charset=utf-8",
        DEMO_TENDER_DOCUMENT,
        await sign_detached(DEMO_TENDER_DOCUMENT, signer),
    )
    await service.publish(actor, tender)
    return [f"  published demo tender {DEMO_TENDER_CODE} (deadline {tender.deadline:%Y-%m-%d %H:%M} UTC)"]


async def _seed(settings: Settings, manifest: dict[str, Any] | None = None) -> tuple[int, int, list[str]]:
    engine = create_engine(settings.db.url, pool_size=2, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        session_maker = create_session_maker(engine)
        async with transaction(session_maker, lock=True) as session:
            organisations, users = await seed(PartiesService(session, settings))
            mandate = await seed_demo_mandate(session)
        async with transaction(session_maker, lock=True) as session:
            mandate += await demo_pool.seed_demo_pool(
                session,
                settings,
                {item.key: item.uscc for item in ORGANISATIONS},
                {item.key: item.name for item in ORGANISATIONS},
            )
            mandate += await demo_session.seed_demo_venues(session)
        async with transaction(session_maker, lock=True) as session:
            usccs = {item.key: item.uscc for item in ORGANISATIONS}
            certificates = mandate + await demo_market.seed_demo_market(
                session, PartiesService(session, settings), usccs
            )
            certificates += await seed_demo_requirement(session, PartiesService(session, settings), usccs)
            await integrity_service.ensure_rules_seeded(session)  # stored before any page reads them
        async with transaction(session_maker, lock=True) as session:
            certificates += await demo_integrity.seed_demo_alerts(session)
        if manifest is not None:
            async with transaction(session_maker, lock=True) as session:
                certificates += await demo_pki.seed_demo_certificates(
                    session, settings, manifest, centre_uscc=ORGANISATIONS[0].uscc, password=DEMO_PASSWORD
                )
            async with transaction(session_maker, lock=True) as session:
                bank = next(item.uscc for item in ORGANISATIONS if item.key == "bank")
                certificates += await seed_demo_guarantor(session, settings, manifest, bank_uscc=bank)
            async with transaction(session_maker, lock=True) as session:
                certificates += await seed_demo_tender(session, settings, manifest)
            certificates += await demo_opening.seed_demo_opening(session_maker, settings, manifest)
            certificates += await demo_evaluation.seed_demo_evaluation(
                session_maker, settings, manifest, centre_uscc=ORGANISATIONS[0].uscc
            )
        return organisations, users, certificates
    finally:
        await engine.dispose()


def describe() -> str:
    names = {item.key: item.name for item in ORGANISATIONS}
    width = max(len(user.username) for user in USERS)
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    lines += [
        f"  {user.username:<{width}}  {user.role.value:<12}  {user.display_name}  {names[user.organisation]}"
        for user in USERS
    ]
    return "\n".join(lines)


def seed_demo_data(settings: Settings) -> str:
    """Seed the demo (idempotent) and return a short text listing the accounts."""
    # The development PKI is written before the event loop starts (certs' writer runs its own).
    manifest = demo_pki.ensure_dev_ca(settings)
    organisations, users, certificates = asyncio.run(_seed(settings, manifest))
    created = (
        f"Demo data: created {organisations} organisations and {users} users."
        if organisations or users
        else "Demo data: already present, nothing created."
    )
    return "\n".join([created, describe(), *certificates, demo_pki.describe(settings)])
