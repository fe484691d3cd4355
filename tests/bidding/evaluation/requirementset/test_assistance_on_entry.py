"""The tender publishes its requirement set; entering qualification-review runs the assistance.

Three bidders seal structured responses (`scoring.world`, with the responses replaced here): A
answers ★ S1 only (S2 missing); B's bill has a unit-price error (80 × 25.50 written 2,400.00), a
sum error (the total in capitals, 45,400.00, against lines summing 45,394.40) and figures
(45,000.00) disagreeing with the capitals;
C prices the bill far below the others (abnormally low); D is correct. A's missing ★ answer is
serious, so the mean for "abnormally low" counts B, C and D (at least three prices, the default).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, Finding, FindingSource, Member, RequirementSetRecord, SessionState
from bidding.evaluation.requirementset import service as requirementset
from bidding.evaluation.requirementset.service import RequirementSetRefused
from bidding.evaluation.session import hooks, machine
from bidding.models import Tender
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from tests.bidding import factories
from tests.bidding.evaluation.scoring import world as world_module
from tests.bidding.evaluation.scoring.test_pages import log_in
from tests.bidding.evaluation.scoring.world import World, opened_world, requirement_set
from tests.bidding.factories import Party
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.server import wiring

pytestmark = pytest.mark.usefixtures("dev_lists")

BILLS: dict[str, dict[str, Any]] = {
    "A": {
        "bill": [
            {"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"},
            {"code": "010103001001", "quantity": "80", "unitPrice": "25.50", "lineTotal": "2040.00"},
        ],
        "total": "45034.40",
        "totalInWords": "肆万伍仟零叁拾肆元肆角整",
    },
    "B": {
        "bill": [
            {"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"},
            {"code": "010103001001", "quantity": "80", "unitPrice": "25.50", "lineTotal": "2400.00"},
        ],
        "total": "45000.00",
        "totalInWords": "肆万伍仟肆佰元整",
    },
    "C": {
        "bill": [
            {"code": "010101001001", "quantity": "120.5", "unitPrice": "100.00", "lineTotal": "12050.00"},
            {"code": "010103001001", "quantity": "80", "unitPrice": "10.00", "lineTotal": "800.00"},
        ],
        "total": "12850.00",
        "totalInWords": "壹万贰仟捌佰伍拾元整",
    },
}
BILLS["D"] = BILLS["A"]


def published_set(tender: Tender) -> dict[str, Any]:
    assert tender.deadline is not None
    document = requirement_set(tender.project_code)
    document["deadline"] = tender.deadline.isoformat()
    document["criteria"] = [
        {"code": "quality", "name": "质量认证", "minimum": "0", "maximum": "100", "objective": True},
        {"code": "tech", "name": "技术方案", "minimum": "0", "maximum": "100", "objective": False},
    ]
    return document


@pytest.fixture
async def world(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    """`opened_world` whose tender had its requirement set uploaded (and checked) before publication."""

    async def published_with_set(
        maker: async_sessionmaker[AsyncSession], cfg: Settings, files: FileStore, owner: Party, **create: Any
    ) -> Tender:
        tender = await factories.draft_tender(maker, cfg, files, owner, **create)
        async with maker() as session:
            bad = json.dumps({**published_set(tender), "tender": "OTHER-1"}).encode()
            with pytest.raises(RequirementSetRefused) as refused:
                await requirementset.upload(session, tender, bad, actor=owner.actor())
            assert (refused.value.field, refused.value.rule) == ("$.tender", "tender_match")
            content = json.dumps(published_set(tender), ensure_ascii=False).encode()
            await requirementset.upload(session, tender, content, actor=owner.actor())
            published = await TenderService(session, cfg, files).publish(owner.actor(), tender)
            await session.commit()
        return published

    sealed: list[str] = []

    def response(code: str, bidder: str, *, stars: tuple[str, ...] = ("S1", "S2")) -> dict[str, Any]:
        letter = "ABCD"[len(sealed)]
        sealed.append(bidder)
        return {
            "format": "ggzy-response/1",
            "tender": code,
            "lot": "L1",
            "bidder": bidder,
            "qualifications": [],
            "evidence": [],
            "starResponses": [{"item": s, "response": "complies"} for s in (("S1",) if letter == "A" else stars)],
            **BILLS[letter],
        }

    monkeypatch.setattr(world_module, "published_tender", published_with_set)
    monkeypatch.setattr(world_module, "structured_response", response)
    return await opened_world(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        state=SessionState.SIGNED_IN,
        letters="ABCD",
    )


@pytest.fixture
def assistance_hook(settings: Settings) -> Any:
    previous = hooks.use_entry_hook(SessionState.QUALIFICATION, None)
    wiring.register_evaluation_hooks(settings)
    yield
    hooks.use_entry_hook(SessionState.QUALIFICATION, previous)


async def enter_qualification(world: World) -> list[Finding]:
    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, world.evaluation_id)
        now = await clock.now(session)
        for member in await session.scalars(sa.select(Member).where(Member.evaluation_id == evaluation.id)):
            member.signed_in_at = now
        evaluation.chair_member_id = world.experts[0].member_id
        await session.flush()
        await machine.enter(session, evaluation, SessionState.QUALIFICATION, actor=Actor.system())
        await session.commit()
    async with world.session_maker() as session:
        query = sa.select(Finding).where(
            Finding.evaluation_id == world.evaluation_id, Finding.source == FindingSource.ASSISTANCE
        )
        return list((await session.scalars(query)).all())


@pytest.mark.usefixtures("assistance_hook")
async def test_entering_qualification_review_writes_the_assistance_findings(world: World) -> None:
    async with world.session_maker() as session:
        tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == world.code))).one()
        record = await session.get_one(RequirementSetRecord, tender.id)
        public = await requirementset.published(session, tender)
    assert public is not None
    assert public.sha256 == record.sha256
    assert len(record.sha256) == 64
    findings = await enter_qualification(world)
    by_bid: dict[str, dict[str, Finding]] = {}
    for f in findings:
        by_bid.setdefault(letter_of(world, f), {})[f.rule] = f
    # B: the unit price prevails over the line total; the capitals over the figures; then the
    # corrected lines over the total (12号令 Art. 19): each finding carries the corrected amount
    b = by_bid["B"]
    assert {"line-total-mismatch", "total-sum-mismatch", "words-figures-mismatch", "corrected-price"} <= set(b), b
    assert corrected(b["line-total-mismatch"]) == Decimal("2040.00")
    assert corrected(b["words-figures-mismatch"]) == Decimal("45400.00")
    assert corrected(b["total-sum-mismatch"]) == Decimal("45034.40")
    assert corrected(b["corrected-price"]) == Decimal("45034.40")
    # C: abnormally low against the mean of the valid prices → ask for an explanation
    assert "abnormally-low-price" in by_bid["C"], by_bid["C"]
    # A: ★ S2 not answered
    a_rules = by_bid["A"]
    assert any("S2" in json.dumps(f.evidence, ensure_ascii=False) for f in a_rules.values()), a_rules
    assert "abnormally-low-price" not in by_bid["A"]
    again = await enter_hook_again(world)
    assert again == []  # idempotent: a second run writes nothing


async def enter_hook_again(world: World) -> object:
    hook = hooks.entry_hook(SessionState.QUALIFICATION)
    assert hook is not None
    async with world.session_maker() as session:
        evaluation = await session.get_one(Evaluation, world.evaluation_id)
        written = await hook(session, evaluation)
        await session.commit()
    return written


def corrected(finding: Finding) -> Decimal:
    return Decimal(finding.evidence["corrected"])


def letter_of(world: World, finding: Finding) -> str:
    return next(name for name, bid in world.bids.items() if bid == finding.opening_bid_id)


@pytest.mark.usefixtures("assistance_hook")
async def test_the_pages_show_the_findings_in_chinese(world: World, app: Litestar) -> None:
    """The workspace words each finding in Chinese with its evidence; the abnormally low price links
    to the clarification page; the public pages show the set's SHA-256 and serve its exact bytes."""
    await enter_qualification(world)
    async with world.session_maker() as session:
        tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == world.code))).one()
        record = await session.get_one(RequirementSetRecord, tender.id)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, world.experts[1].account)
        page = await browser.get(f"/evaluation/e/{world.evaluation_id}/workspace")
        assert page.status_code == 200, page.text
        assert 'data-rule="abnormally-low-price"' in page.text
        assert "应要求投标人作出书面说明" in page.text
        assert 'data-rule="line-total-mismatch"' in page.text
        assert "单价" in page.text
        clarifications = f"/evaluation/e/{world.evaluation_id}/clarifications"
        assert f'href="{clarifications}" class="button" data-prompt="clarification"' in page.text
        detail = await browser.get(f"/bidding/tenders/{world.code}")
        assert record.sha256 in detail.text
        public = await browser.get(f"/bidding/tenders/{world.code}/requirements")
        assert public.status_code == 200, public.text
        assert record.sha256 in public.text
        assert "需求" in public.text or "要求" in public.text
        download = await browser.get(f"/bidding/tenders/{world.code}/requirements.json")
        assert download.status_code == 200, download.text
        assert download.content == record.document
        api = await browser.get(f"/api/v1/bidding/tenders/{world.code}/requirements")
        assert api.status_code == 200, api.text
        assert api.headers["X-Content-SHA256"] == record.sha256
        assert api.content == record.document
