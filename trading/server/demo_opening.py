"""The five-minute demo: a tender marked 演示 whose opening hall opens a few minutes after start-up.

The first demo tender (`demo.seed_demo_tender`) keeps the legal periods, so its deadline is weeks
away. A newcomer should see sealed bids decrypted and read out (唱标) within ten minutes, so
`seed_demo_opening` publishes a second tender, ``DEMO_OPENING_CODE``, with its deadline
``DEMO_OPENING_DELAY`` after the seeding, and seals and submits a bid for each demo bidder that holds
certificates (``bidder-js``, ``bidder-ah``). At the deadline the sweep that ``ggzy run``'s worker
and beat already run closes it and opens the hall; nothing else is special about it.

**Short periods for demo data only.** The legal minimum periods are not weakened: publication still
checks every rule, against ``DEMO_RULES``, a rule set with short periods that exists only inside
`demo_settings`, a copy of the settings this module builds for its own `TenderService`. No request,
job or configuration of a running platform reaches it, production mode refuses it, and the tender
keeps the rule set it was published under (``Tender.rules``: ``legal_edition`` says 演示), so
anyone can see which rules it ran on. Its title says 演示 on every page.

The bids are built as a bidder's machine builds them (`bidding.client.sdk.build_container`, with
the development PKI's certificates) and go through `IntakeService` like an upload: checked,
receipted and on the ledger. Idempotent: an existing demo tender is left alone, even when its
deadline has passed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.parties import id_check_character
from bidding.client.sdk import PriceSummary, build_container_async
from bidding.deps import file_store
from bidding.evaluation.response.capitals import to_capitals
from bidding.intake.service import IntakeService
from bidding.models import DocumentKind, EvaluationMethod, TenderCategory
from bidding.policies import BiddingPermission
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders.service import TenderService
from certs.cms import SigningIdentity
from certs.sign.cades import sign_detached
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.errors import DomainError
from trading.kernel.settings import Mode, Settings
from trading.parties.service import PartiesService

DEMO_OPENING_CODE: Final = "E3208000001000002001"
"""统一交易标识码 of the five-minute demo tender."""
DEMO_OPENING_TITLE: Final = "【演示】淮安市示范实验中学操场改造工程施工招标(五分钟开标演示)"
DEMO_OPENING_DELAY: Final = timedelta(minutes=5)
"""From the seeding to the bid deadline (the hall opens at the next sweep after it)."""
DEMO_TENDER_TYPE: Final = "engineering"
DEMO_LOT: Final = "001"

DEMO_RULES: Final[dict[str, Any]] = {
    "legal_edition": "演示数据, 非法定规则 (demo data only: not a legal rule set)",
    "document_days_min": 0,
    "publication_to_deadline_days_min": 0,
    "clarification_days_before_deadline": 0,
    "document_objection_days_before_deadline": 0,
    "min_bidders": 2,  # two demo bidders hold certificates; with the legal three the lot would fail
    "opening_sign_in_minutes": 1,
    "opening_objection_minutes": 5,
    "opening_confirmation_minutes": 5,
}
"""Overrides of ``DEMO_TENDER_TYPE``'s rule set for the demo tender alone (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class DemoBidder:
    username: str
    identifier: str  # the manifest's identifiers key (the organisation's USCC)
    sign_leaf: str
    enc_leaf: str
    total_price: Decimal


DEMO_BIDDERS: Final = (
    DemoBidder("bidder-js", "org", "org_sign", "org_enc", Decimal("1968000.00")),
    DemoBidder("bidder-ah", "anhuiOrg", "anhui_org_sign", "anhui_org_enc", Decimal("1987500.00")),
)

_DOCUMENT = (
    f"{DEMO_OPENING_TITLE} 招标文件\n\n"
    "本项目为演示数据, 投标截止时间为平台启动后五分钟, 仅用于演示不见面开标。\n"
    "第一章 招标公告\n第二章 投标人须知\n第三章 评标办法(综合评估法)\n"
).encode()


def demo_settings(settings: Settings) -> Settings:
    """A copy of ``settings`` whose ``DEMO_TENDER_TYPE`` rule set has the demo's short periods.

    Only the demo seeding uses the copy; production mode refuses to make it.
    """
    if settings.mode is Mode.PRODUCTION:
        raise RuntimeError("demo rules exist for the embedded demo only, never in production mode")
    rules = dict(settings.bidding.rules)
    rules[DEMO_TENDER_TYPE] = {**rules.get(DEMO_TENDER_TYPE, {}), **DEMO_RULES}
    return settings.model_copy(update={"bidding": settings.bidding.model_copy(update={"rules": rules})})


def _identity(out: Path, manifest: dict[str, Any], leaf: str) -> SigningIdentity:
    key, certificate, chain = pkcs12.load_key_and_certificates(
        (out / manifest["leaves"][leaf]["p12"]).read_bytes(), str(manifest["password"]).encode()
    )
    assert key is not None  # noqa: S101 - written by dev_ca with key and certificate
    assert certificate is not None  # noqa: S101
    return SigningIdentity.from_key(key, certificate, chain)  # type: ignore[arg-type]


async def _user_actor(session: AsyncSession, settings: Settings, username: str, uscc: str, role: Role) -> Actor | None:
    """The actor ``username`` acting for the organisation ``uscc`` (as its request would carry)."""
    parties = PartiesService(session, settings)
    user = await parties.users.by_username(username)
    organisation = await parties.organisations.by_uscc(uscc)
    if user is None or organisation is None:
        return None
    return Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        roles=frozenset({role}),
        permissions=frozenset({BiddingPermission.BID_SUBMIT}) if role is Role.BIDDER else frozenset(),
    )


async def seed_demo_opening(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, manifest: dict[str, Any]
) -> list[str]:
    """Publish the five-minute demo tender and submit the demo bidders' sealed bids (once).

    Returns lines for the start-up summary.
    """
    settings = demo_settings(settings)
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    async with transaction(session_maker, lock=True) as session:
        service = TenderService(session, settings, file_store(settings))
        if await service.repo.by_code(DEMO_OPENING_CODE) is not None:
            return []
        tenderee_uscc = manifest["identifiers"].get("tenderee", "")
        tenderee = await _user_actor(session, settings, "tenderee", tenderee_uscc, Role.TENDEREE)
        if tenderee is None or "tenderee_sign" not in manifest["leaves"]:
            return ["  five-minute demo tender skipped: no demo tenderee or its certificate"]
        # Whole seconds: the deadline is sealed into every envelope as an ISO string and compared exactly.
        now = (await clock.now(session)).replace(microsecond=0)
        deadline = now + DEMO_OPENING_DELAY
        tender = await service.create_draft(
            tenderee,
            TenderCreate(
                project_code=DEMO_OPENING_CODE,
                title=DEMO_OPENING_TITLE,
                category=TenderCategory.ENGINEERING,
                tender_type=DEMO_TENDER_TYPE,
                estimate=Decimal("2000000.00"),
                evaluation_method=EvaluationMethod.COMPREHENSIVE,
                evaluation_criteria=[Criterion("投标报价", 60), Criterion("施工组织设计", 30), Criterion("信用", 10)],
                lots=[LotCreate(DEMO_LOT, "操场改造(演示)", Decimal("2000000.00"), Decimal("40000.00"))],
                bid_security_amount=Decimal("40000.00"),
                bid_security_forms=["cash", "guarantee"],
                documents_from=now,
                documents_until=deadline,
                deadline=deadline,
                max_package_bytes=16 * 1024 * 1024,
            ),
        )
        signer = _identity(out, manifest, "tenderee_sign")
        await service.add_document(
            tenderee,
            tender,
            DocumentKind.TENDER_DOCUMENT,
            "招标文件",
            "招标文件.txt",
            "text/plain; charset=utf-8",
            _DOCUMENT,
            await sign_detached(_DOCUMENT, signer),
        )
        await service.publish(tenderee, tender)
    lines = [f"  published five-minute demo tender {DEMO_OPENING_CODE} (deadline {deadline:%Y-%m-%d %H:%M:%S} UTC)"]
    intake = IntakeService(session_maker, settings, file_store(settings))
    for bidder in DEMO_BIDDERS:
        try:
            lines.append(await _submit(session_maker, intake, manifest, bidder, deadline=deadline))
        except DomainError as refused:  # the platform refused the demo bid: say why, keep starting
            lines.append(f"  {bidder.username}: demo bid refused: {refused}")
    return lines


async def _submit(
    session_maker: async_sessionmaker[AsyncSession],
    intake: IntakeService,
    manifest: dict[str, Any],
    bidder: DemoBidder,
    *,
    deadline: datetime,
) -> str:
    """Seal ``bidder``'s demo bid as its own machine would and submit it through intake."""
    settings = intake.settings
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    uscc = manifest["identifiers"][bidder.identifier]
    async with session_maker() as session:
        actor = await _user_actor(session, settings, bidder.username, uscc, Role.BIDDER)
    if actor is None:
        return f"  {bidder.username}: no demo account, no demo bid"
    encryption = x509.load_pem_x509_certificates((out / manifest["leaves"][bidder.enc_leaf]["pem"]).read_bytes())[0]
    with tempfile.TemporaryDirectory(prefix="ggzy-demo-bid-") as work:
        proposal = Path(work) / "投标文件.txt"
        proposal.write_text(f"{uscc} 的投标文件(演示)\n施工组织设计: 略。\n", encoding="utf-8")
        response = Path(work) / "response.json"
        response.write_text(json.dumps(_demo_response(uscc, bidder)), encoding="utf-8")
        built = await build_container_async(
            Path(work) / "bid.zip",
            tender=DEMO_OPENING_CODE,
            lot=DEMO_LOT,
            bidder_uscc=uscc,
            deadline=deadline,
            files=[proposal],
            price_summary=PriceSummary(
                tender=DEMO_OPENING_CODE, lot=DEMO_LOT, bidder=uscc, total_price=bidder.total_price, duration_days=120
            ),
            guarantee={"form": "cash", "reference": ""},
            signer=_identity(out, manifest, bidder.sign_leaf),
            bidder_encryption=encryption,
            response=response,
        )
        upload = await intake.start_upload(actor, DEMO_OPENING_CODE, DEMO_LOT, size=built.size, sha256=built.sha256)

        async def chunks() -> AsyncIterator[bytes]:  # a few kilobytes: one chunk
            yield built.path.read_bytes()

        await intake.receive(actor, upload.id, 0, chunks())
        receipt = await intake.submit(actor, upload.id)
    return f"  {bidder.username} submitted a sealed bid to {DEMO_OPENING_CODE} (receipt {receipt.receipt_no})"


def _demo_response(uscc: str, bidder: DemoBidder) -> dict[str, Any]:
    """The demo bid's structured response: the total and, issue 19, its own project manager,
    contact and cash bond account (distinct per bidder: the demo's opening raises no party evidence).
    """
    number = DEMO_BIDDERS.index(bidder) + 1
    first17 = f"11010519800101{number:03d}"
    return {
        "format": "ggzy-response/1",
        "tender": DEMO_OPENING_CODE,
        "lot": DEMO_LOT,
        "bidder": uscc,
        "total": str(bidder.total_price),
        "totalInWords": to_capitals(bidder.total_price),
        "projectManager": {
            "name": f"演示项目经理{number}",
            "idNumber": first17 + id_check_character(first17),
            "registrationNo": f"京1110608{number:05d}",
        },
        "contacts": [
            {"name": f"演示联系人{number}", "phone": f"1380013{number:04d}", "email": f"bid{number}@demo.example.com"}
        ],
        "bidSecurityPayer": {"accountNo": f"62220210011234{number:05d}", "bank": "中国工商银行北京海淀支行"},
    }
