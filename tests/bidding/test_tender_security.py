"""Bid security per lot (issue 17 point 2): the terms a tender states for each lot, refused with a
named rule at drafting (API and page) and again at publication, shown on the public page, read by
the guarantees part through `required_security`, and enforced at bid intake.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.errors import TenderRuleViolated
from bidding.models import Bid, BidVersion, Lot, Tender, TenderCategory
from bidding.schemas import LotCreate
from bidding.tenders.security import SecurityTerms, required_security
from bidding.tenders.service import TenderService
from tests.bidding.containers import build
from tests.bidding.factories import Party, draft_tender, published_tender
from tests.bidding.test_web import log_in, upload_in_pages
from tests.trading.parties.factories import csrf_token
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import Organisation

pytestmark = pytest.mark.usefixtures("dev_lists")

GP = {"category": "goods", "tenderType": "goods"}
ENGINEERING = {"category": "engineering", "tenderType": "engineering-mandatory"}

# (what the draft says, field, rule): each rule refused on its own.
BROKEN: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
    # 2 % of a 500 000 lot is 10 000.00: one cent more is refused (实施条例 Art. 26), on the lot's line.
    (ENGINEERING, {"amount": "10000.01", "forms": None, "required": True}, "lots", "security_amount_over_cap"),
    # The tender's default amount is what the lot inherits: the refusal names that field.
    (
        ENGINEERING,
        {"amount": None, "tenderAmount": "0", "forms": None, "required": True},
        "bidSecurityAmount",
        "security_amount_required",
    ),
    (ENGINEERING, {"amount": "5000", "forms": [], "required": True}, "lots", "security_forms_required"),
    # GP 实施条例 Art. 33: government procurement must accept non-cash security.
    (GP, {"amount": "5000", "forms": ["cash"], "required": True}, "lots", "gp_security_must_accept_non_cash"),
]


def api_body(now: Any, code: str, kind: dict[str, Any], lot: dict[str, Any]) -> dict[str, Any]:
    lot_json: dict[str, Any] = {"code": "L1", "name": "一标段", "estimate": "500000.00"}
    if lot["amount"] is not None:
        lot_json["bidSecurityAmount"] = lot["amount"]
    if lot["forms"] is not None:
        lot_json["bidSecurityForms"] = lot["forms"]
    lot_json["bidSecurityRequired"] = lot["required"]
    return {
        "projectCode": code,
        "title": "某学校设备采购",
        **kind,
        "estimate": "500000.00",
        "evaluationMethod": "lowest-evaluated-price",
        "lots": [lot_json],
        "bidSecurityAmount": lot.get("tenderAmount", "10000.00"),
        "bidSecurityForms": ["cash", "guarantee"],
        "documentsFrom": now.isoformat(),
        "documentsUntil": (now + timedelta(days=10)).isoformat(),
        "deadline": (now + timedelta(days=21)).isoformat(),
    }


async def stored(session_maker: async_sessionmaker[AsyncSession], code: str) -> Tender | None:
    async with session_maker() as session:
        return await session.scalar(sa.select(Tender).where(Tender.project_code == code))


@pytest.mark.parametrize(("kind", "lot", "field", "rule"), BROKEN, ids=[case[3] for case in BROKEN])
async def test_each_security_rule_is_refused_by_the_api_naming_field_and_rule(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    kind: dict[str, Any],
    lot: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    headers = await owner.headers(client)
    async with session_maker() as session:
        now = await clock.now(session)
    code = f"SEC-API-{rule.replace('_', '-')}"[:64]
    refused = await client.post("/api/v1/bidding/tenders", json=api_body(now, code, kind, lot), headers=headers)
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {(field, rule)}
    assert await stored(session_maker, code) is None  # nothing half-written


@pytest.mark.parametrize(("kind", "lot", "field", "rule"), BROKEN, ids=[case[3] for case in BROKEN])
async def test_each_security_rule_is_refused_by_the_page_next_to_its_field(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    kind: dict[str, Any],
    lot: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    await log_in(client, owner)
    form_page = await client.get("/bidding/manage/new")
    assert 'name="bidSecurityRequired" value="yes" checked' in form_page.text  # required by default
    async with session_maker() as session:
        now = await clock.now(session)
    code = f"SEC-WEB-{rule.replace('_', '-')}"[:64]
    cells = ["L1", "一标段", "500000.00", lot["amount"] or ""]
    tender_forms = ["cash", "guarantee"]
    if lot["forms"] == []:
        # An empty cell means "the tender's forms" on the page: no form at all is said there.
        tender_forms, field = [], "bidSecurityForms"
    elif lot["forms"] is not None:
        cells.append(" ".join(lot["forms"]))
    local = "%Y-%m-%dT%H:%M"
    china = timedelta(hours=8)  # the form's times are UTC+08:00
    data = {
        "_csrf_token": csrf_token(form_page.text),
        "projectCode": code,
        "title": "某学校设备采购",
        **kind,
        "estimate": "500000.00",
        "lots": " | ".join(cells),
        "evaluationMethod": "lowest-evaluated-price",
        "bidSecurityRequired": "yes",
        "bidSecurityAmount": lot.get("tenderAmount", "10000.00"),
        "bidSecurityForms": tender_forms,
        "documentsFrom": (now + china).strftime(local),
        "documentsUntil": (now + china + timedelta(days=10)).strftime(local),
        "deadline": (now + china + timedelta(days=21)).strftime(local),
        "bidValidityDays": "90",
    }
    refused = await client.post("/bidding/manage/new", data=data)
    assert refused.status_code == 422, refused.text
    assert f'id="error-{field}"' in refused.text
    assert f'data-rule="{rule}"' in refused.text
    assert rule not in refused.text.replace(f'data-rule="{rule}"', "")  # the code rides along only
    assert await stored(session_maker, code) is None


async def test_a_gp_lot_accepting_only_cash_is_refused_when_changed_and_at_publication(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    """A government-procurement tender (rule set ``goods``) must accept a guarantee: a draft changed
    to cash only is refused and stays as it was; a row that got so anyway is refused at publication.
    """
    lots = [LotCreate("L1", "一标段", Decimal("500000.00"), bid_security_forms=["cash", "guarantee"])]
    tender = await draft_tender(
        session_maker,
        settings,
        store,
        owner,
        tender_type="goods",
        category=TenderCategory.GOODS,
        estimate=Decimal("500000.00"),
        lots=lots,
    )
    headers = await owner.headers(client)
    cash_only = {"lots": [{"code": "L1", "name": "一标段", "estimate": "500000.00", "bidSecurityForms": ["cash"]}]}
    refused = await client.patch(f"/api/v1/bidding/tenders/{tender.project_code}", json=cash_only, headers=headers)
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {("lots", "gp_security_must_accept_non_cash")}
    async with session_maker() as session:
        [lot] = (await session.scalars(sa.select(Lot).where(Lot.tender_id == tender.id))).all()
        assert lot.bid_security_forms == {"forms": ["cash", "guarantee"]}
        lot.bid_security_forms = {"forms": ["cash"]}  # slipped in (edited in the database)
        await session.commit()
    async with session_maker() as session:
        with pytest.raises(TenderRuleViolated) as raised:
            await TenderService(session, settings, store).publish(owner.actor(), tender)
        await session.rollback()
    assert ("lots", "gp_security_must_accept_non_cash") in {
        (e["field"], e["rule"]) for e in raised.value.extra["errors"]
    }


async def test_a_valid_tender_publishes_its_security_terms_per_lot(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    lots = [
        LotCreate("L1", "一标段", Decimal("800000.00"), Decimal("16000.00"), bid_security_forms=["guarantee"]),
        LotCreate("L2", "二标段", Decimal("200000.00"), bid_security_required=False),
    ]
    tender = await published_tender(
        session_maker,
        settings,
        store,
        owner,
        lots=lots,
        estimate=Decimal("1000000.00"),
        bid_security_amount=Decimal("4000.00"),
        bid_validity_days=120,
    )
    assert tender.deadline is not None
    until = tender.deadline + timedelta(days=120)

    detail = (await client.get(f"/api/v1/bidding/tenders/{tender.project_code}")).json()
    by_code = {lot["code"]: lot["security"] for lot in detail["lots"]}
    assert by_code["L1"]["required"] is True
    assert Decimal(by_code["L1"]["amount"]) == Decimal("16000.00")
    assert by_code["L1"]["forms"] == ["guarantee"]
    assert by_code["L1"]["currency"] == "CNY"
    assert by_code["L1"]["validUntil"].startswith(until.strftime("%Y-%m-%dT%H:%M"))
    assert by_code["L2"]["required"] is False

    page = await client.get(f"/bidding/tenders/{tender.project_code}")
    assert page.status_code == 200
    text = page.text
    assert 'data-lot="L1" data-security-required="yes"' in text
    assert "16,000.00" in text
    assert "壹万陆仟元整" in text  # 大写
    assert 'data-security-forms="guarantee">保函<' in text
    assert f'datetime="{until.isoformat()}"' in text
    assert 'data-lot="L2" data-security-required="no"' in text
    assert "不要求提交投标保证金" in text


async def test_required_security_gives_the_guarantees_part_its_terms(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    lots = [
        LotCreate("L1", "一标段", Decimal("500000.00"), Decimal("10000.00")),
        LotCreate("L2", "二标段", Decimal("500000.00"), bid_security_required=False),
    ]
    draft = await draft_tender(session_maker, settings, store, owner, lots=lots, bid_validity_days=60)
    async with session_maker() as session:
        assert await required_security(session, draft.project_code, "L1") is None  # a draft is private
    tender = await published_tender(session_maker, settings, store, owner, lots=lots, bid_validity_days=60)
    assert tender.deadline is not None
    async with session_maker() as session:
        tenderee = await session.get_one(Organisation, owner.organisation_id)
        terms = await required_security(session, tender.project_code, "L1")
        assert terms == SecurityTerms(
            project_code=tender.project_code,
            lot_code="L1",
            lot_name="一标段",
            amount=Decimal("10000.00"),
            currency="CNY",
            forms=frozenset({"cash", "guarantee"}),
            valid_from=tender.deadline,
            valid_until=tender.deadline + timedelta(days=60),
            beneficiary_name=tenderee.name,
            beneficiary_uscc=tenderee.uscc,
        )
        assert terms is not None
        # What a guarantee's 受益人 and 标段 must say (domain-rules §6.4).
        assert (terms.beneficiary_name, terms.beneficiary_uscc, terms.lot_name) == (
            tenderee.name,
            tenderee.uscc,
            "一标段",
        )
        assert await required_security(session, tender.project_code, "L2") is None  # none required
        assert await required_security(session, tender.project_code, "L9") is None


async def test_a_bid_naming_a_form_the_lot_does_not_accept_is_refused_at_intake(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
    tmp_path: Path,
) -> None:
    """The signed manifest names a guarantee (保函); the lot takes cash only: refused, no bid."""
    lots = [LotCreate("L1", "一标段", Decimal("500000.00"), Decimal("10000.00"), bid_security_forms=["cash"])]
    tender = await published_tender(session_maker, settings, store, owner, lots=lots)
    assert tender.deadline is not None
    token = await log_in(client, bidder)
    upload_page = await client.get(f"/bidding/tenders/{tender.project_code}/lots/L1/bid")
    assert upload_page.status_code == 200
    assert '<option value="cash">' in upload_page.text
    assert '<option value="guarantee">' not in upload_page.text  # the page offers what the lot takes
    built = await build(
        tmp_path,
        bidder,
        tender=tender.project_code,
        lot="L1",
        deadline=tender.deadline,
        guarantee={"form": "guarantee", "reference": "BH-2026-0001"},
    )
    refused = await upload_in_pages(client, token, tender.project_code, "L1", built.path.read_bytes())
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["field"], body["rule"]) == ("manifest.guarantee.form", "security_form_not_accepted")
    assert body["text"] == "该标段不接受投标文件所载的投标保证金形式。"
    async with session_maker() as session:
        versions = sa.select(sa.func.count()).select_from(BidVersion).join(Bid).where(Bid.tender_id == tender.id)
        assert await session.scalar(versions) == 0
